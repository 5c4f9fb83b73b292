#ifndef ZRECON_STORAGE_RECORDING_DESTINATION_H_
#define ZRECON_STORAGE_RECORDING_DESTINATION_H_

#include <memory>
#include <string>
#include <vector>

#include "reconciler/catalog/catalog.h"
#include "reconciler/storage/destination.h"
#include "reconciler/util/status.h"

namespace zrecon {

// The destination of `apply --dry-run`: writes nothing anywhere. It keeps a
// copy of the catalog and edits it as a real destination would, refusing
// the same calls (see the catalog edits in directory_destination.h), so
// later steps of a dry run see earlier ones. Each call that would change the
// destination adds a line to actions(), except JournalFile: its entry is
// bookkeeping that the "record" line of the same file undoes.
//
// Create returns a StreamFile that counts and discards its bytes; its
// Commit reports size 0 and the SHA-256 of empty input. It has no direct
// mode (BeginDirect returns -1), so a dry run streams every export to a
// sink, which RecordingHost records as such. StreamFiles must not outlive
// the destination.
class RecordingDestination : public Destination {
 public:
  RecordingDestination(std::string name, DestinationCatalog catalog);

  const std::string& name() const override { return name_; }
  const DestinationCatalog& catalog() const override { return catalog_; }

  Status Prepare() override;
  // Says which files a real one would delete (if they exist) and takes them
  // off the lists of its catalog copy; refuses what it would refuse.
  Status RemoveLooseFiles(const std::string& zone_uuid,
                          const std::vector<std::string>& files) override;
  Status Create(const std::string& file, const std::string& compression,
                std::unique_ptr<StreamFile>* out) override;
  // A zone manifest that does not exist yet takes its host from `zone`.
  Status JournalFile(const ZoneManifest& zone, const std::string& file) override;
  Status RecordImage(const ImageManifest& image) override;
  Status RecordImageRecord(const std::string& image_uuid, const StoredFile& record,
                           const std::string& imgadm_type) override;
  Status RecordConfig(const ZoneManifest& zone, const ConfigRecord& config) override;
  Status RecordLink(const ZoneManifest& zone, const Chain& chain, const ChainLink& link) override;
  Status RemoveChain(const std::string& zone_uuid, const std::string& chain_id,
                     const std::vector<std::string>& files) override;

  // What a real destination would have done, in order, e.g.
  // "write 8f6d.../root/20261115T020000Z/000-zrecon-daily-20261115T020000Z.zfs (zstd)",
  // "record link zones/8f6d...@zrecon-daily-20261115T020000Z in chain
  // root/20261115T020000Z of zone 8f6d...", "remove <file>",
  // "remove loose file <file> (if present)".
  const std::vector<std::string>& actions() const { return actions_; }

 private:
  std::string name_;
  DestinationCatalog catalog_;
  std::vector<std::string> actions_;
};

}  // namespace zrecon

#endif  // ZRECON_STORAGE_RECORDING_DESTINATION_H_
