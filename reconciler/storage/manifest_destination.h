#ifndef ZRECON_STORAGE_MANIFEST_DESTINATION_H_
#define ZRECON_STORAGE_MANIFEST_DESTINATION_H_

#include <string>
#include <vector>

#include "reconciler/catalog/catalog.h"
#include "reconciler/storage/destination.h"
#include "reconciler/util/status.h"

namespace zrecon {

// The part of every destination type that is about manifests: each Record*,
// JournalFile and removal is an edit of catalog_edits.h, checked against
// the medium (the file was committed, of its size), persisted with the
// type's atomic manifest write, and only then applied to catalog(). A type
// provides the primitives below; the order of writes and deletions, which
// the crash guarantees of destination.h rest on, is here once.
class ManifestDestination : public Destination {
 public:
  ManifestDestination(std::string name, std::string host, DestinationCatalog catalog);

  const std::string& name() const override { return name_; }
  const DestinationCatalog& catalog() const override { return catalog_; }

  Status RemoveLooseFiles(const std::string& zone_uuid,
                          const std::vector<std::string>& files) override;
  Status JournalFile(const ZoneManifest& zone, const std::string& file) override;
  // Each Record* also checks that the stream (or config) file it names was
  // committed: a regular file of the recorded size. A file can be recorded
  // only once; so can an image. Nothing changes on failure.
  Status RecordImage(const ImageManifest& image) override;
  Status RecordImageRecord(const std::string& image_uuid, const StoredFile& record,
                           const std::string& imgadm_type) override;
  Status RecordConfig(const ZoneManifest& zone, const ConfigRecord& config) override;
  Status RecordLink(const ZoneManifest& zone, const Chain& chain, const ChainLink& link) override;
  // The manifest first (a crash leaves journaled files, never a manifest
  // naming missing ones), then the files, then the journal entries.
  Status RemoveChain(const std::string& zone_uuid, const std::string& chain_id,
                     const std::vector<std::string>& files) override;

 protected:
  const std::string& host() const { return host_; }
  // Whether the medium can be used now (prepared, session alive).
  virtual Status Ready() = 0;
  // `stored` is a committed regular file of its recorded size.
  virtual Status CheckCommitted(const StoredFile& stored) = 0;
  // Replace the manifest atomically (a reader sees the old or the new).
  virtual Status PutZoneManifest(const ZoneManifest& manifest) = 0;
  virtual Status PutImageManifest(const ImageManifest& manifest) = 0;
  // Delete `file` of zone `zone_uuid` if it exists, and the directories
  // below the zone's directory that leaves empty. With `regular_only`
  // anything but a regular file is refused.
  virtual Status RemoveFile(const std::string& file, const std::string& zone_uuid,
                            bool regular_only) = 0;

 private:
  Status WriteZone(const ZoneManifest& manifest);
  Status WriteImage(const ImageManifest& manifest);
  Status ForgetLooseFiles(const std::string& zone_uuid, const std::vector<std::string>& files);

  std::string name_;
  std::string host_;
  DestinationCatalog catalog_;
};

}  // namespace zrecon

#endif  // ZRECON_STORAGE_MANIFEST_DESTINATION_H_
