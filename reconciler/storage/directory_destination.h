#ifndef ZRECON_STORAGE_DIRECTORY_DESTINATION_H_
#define ZRECON_STORAGE_DIRECTORY_DESTINATION_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "reconciler/catalog/catalog.h"
#include "reconciler/storage/destination.h"
#include "reconciler/storage/manifest_destination.h"
#include "reconciler/util/fd.h"
#include "reconciler/util/status.h"

namespace zrecon {

// A destination that is a mounted directory (USB disk, NFS share):
// everything goes to <path>/<host> in the layout of catalog/catalog.h.
//
// Writes never leave <path>/<host>: `file` arguments must pass
// IsSafeRelativePath, and no symlink is followed below <path> (the host
// directory included); <path> itself may be a symlink (a mount point alias).
// Intermediate directories are created with mode 0755 (less the umask).
//
// A stream is written to ".tmp.<name>.<pid>.<n>" in its final directory,
// hashed (SHA-256 of the bytes on disk) while written, fsynced, linked to
// its final name (never replacing a recorded file), and the directory
// fsynced. Uncompressed files support direct mode (StreamFile::BeginDirect):
// the writer gets the temporary file's descriptor and a thread hashes the
// file by reading it back as it grows. Manifests are replaced with WriteFileAtomically, and only
// after the result was checked to decode, so the reader never meets a manifest it rejects. Every
// failed Status names the file and the system error.
//
// StreamFiles returned by Create must not outlive the destination. Not
// thread-safe: one caller at a time.
class DirectoryDestination : public ManifestDestination {
 public:
  // `catalog` is what ReadDirectoryCatalog returned for (name, path, host)
  // when the plan was made; catalog() starts from it and follows Record*.
  DirectoryDestination(std::string name, std::string path, std::string host,
                       DestinationCatalog catalog);

  // Fails when <path> is not a directory (an unmounted disk must not turn
  // into writes on the root filesystem). Creates <path>/<host> (0755) if
  // missing, and removes every ".tmp*" non-directory below it, without
  // following symlinks. From then on every call fails, writing nothing,
  // when <path>/<host> is gone or is another directory (the medium was
  // unmounted or replaced mid-run).
  Status Prepare() override;

  // Fails for an unsafe `file` (or one with a component starting with
  // ".tmp", reserved for temporary files), a compression other than "none" or "zstd",
  // a file the catalog records, or a path below <path>/<host> that crosses
  // a symlink or a non-directory.
  Status Create(const std::string& file, const std::string& compression,
                std::unique_ptr<StreamFile>* out) override;

  // (A loose file listed that is not a regular file, or is reached through
  // a symlink, fails RemoveLooseFiles, naming it; the list then stays.)

 protected:
  Status Ready() override { return Status::Ok(); }
  Status CheckCommitted(const StoredFile& stored) override;
  Status PutZoneManifest(const ZoneManifest& manifest) override;
  Status PutImageManifest(const ImageManifest& manifest) override;
  // Idempotent: missing files are fine. Directories left empty below the
  // zone directory are removed; the zone directory and its manifest stay.
  Status RemoveFile(const std::string& file, const std::string& zone_uuid,
                    bool regular_only) override;

 private:
  std::string HostDir() const;
  Status OpenHostDir(const std::string& relative, bool create, Fd* out) const;

  std::string path_;
  unsigned next_temp_ = 0;
  // Set by Prepare: the host directory every later call must find.
  bool prepared_ = false;
  dev_t host_dev_ = 0;
  ino_t host_ino_ = 0;
};

}  // namespace zrecon

#endif  // ZRECON_STORAGE_DIRECTORY_DESTINATION_H_
