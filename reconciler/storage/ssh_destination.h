#ifndef ZRECON_STORAGE_SSH_DESTINATION_H_
#define ZRECON_STORAGE_SSH_DESTINATION_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "reconciler/catalog/catalog.h"
#include "reconciler/storage/destination.h"
#include "reconciler/storage/manifest_destination.h"
#include "reconciler/storage/sftp_client.h"
#include "reconciler/storage/ssh_tree.h"
#include "reconciler/util/status.h"

namespace zrecon {

// A destination that is a directory on another host, written over SFTP
// (OpenSSH's ssh -s sftp): the layout, catalog and guarantees of a
// directory destination (directory_destination.h), at <path>/<host> on the
// remote host.
//
//  - A stream goes to ".tmp.<name>.<pid>.<n>" in its final directory,
//    hashed (SHA-256 of the bytes sent) as it is written, fsynced on the
//    remote (fsync@openssh.com), renamed to its final name with SFTP's
//    RENAME, which never replaces a file (an unrecorded leftover of a crash
//    is replaced with posix-rename@openssh.com once the catalog confirms it
//    is not recorded), and the directory fsynced.
//  - Manifests are written to a temporary file, fsynced, and renamed over
//    the old one with posix-rename@openssh.com (atomic), then the directory
//    fsynced. A server without both extensions is refused at Prepare.
//  - No symlink below <path> is followed or created: each directory on the
//    way is lstat'ed, and a symlink fails naming it.
//  - Names travel as SFTP strings, never through a shell.
//
// One SFTP session per destination, opened by Prepare; a session that dies
// fails the call in progress and every later one until Recover opens a new
// one (apply then runs the failed action again); when that fails too, the
// run ends the work for this destination only. Not thread-safe.
class SshDestination : public ManifestDestination {
 public:
  SshDestination(std::string name, SshLocation location, std::string host,
                 DestinationCatalog catalog, const TransferLimits& limits = {});
  ~SshDestination() override;

  // Connects, checks that <path> is a directory and the server has the
  // extensions durability needs, creates <path>/<host> if missing, and
  // removes every ".tmp*" file a crashed run left below it.
  Status Prepare() override;
  // A lost session (not a refusal of a server that answers, such as a full
  // disk): reconnects as Prepare does, after 2, 4 and 8 s, until one
  // attempt succeeds. The temporary file of the failed upload goes with
  // Prepare's cleanup.
  Status Recover(const Status& failure, const Interrupt* interrupt) override;
  // Tests: the waits before each reconnect attempt.
  void set_recover_waits_ms(std::vector<int> waits) { recover_waits_ms_ = std::move(waits); }
  Status Create(const std::string& file, const std::string& compression,
                std::unique_ptr<StreamFile>* out) override;

 protected:
  Status Ready() override;
  Status CheckCommitted(const StoredFile& stored) override;
  Status PutZoneManifest(const ZoneManifest& manifest) override;
  Status PutImageManifest(const ImageManifest& manifest) override;
  Status RemoveFile(const std::string& file, const std::string& zone_uuid,
                    bool regular_only) override;

 private:
  std::string Remote(const std::string& relative) const;
  std::string Shown(const std::string& relative) const;
  // Makes the directories of `relative` below the host directory (each
  // lstat'ed: a symlink or a non-directory on the way fails).
  Status EnsureDirectory(const std::string& relative);
  Status RemoveTemps(const std::string& relative, int depth);
  Status WriteAtomically(const std::string& relative, const std::string& data);

  SshLocation location_;
  TransferLimits limits_;
  std::vector<int> recover_waits_ms_ = ReconnectWaitsMs();
  std::unique_ptr<SftpClient> client_;
  Status prepare_error_ = Status::Error("not prepared");
  unsigned next_temp_ = 0;
};

}  // namespace zrecon

#endif  // ZRECON_STORAGE_SSH_DESTINATION_H_
