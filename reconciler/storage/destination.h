#ifndef ZRECON_STORAGE_DESTINATION_H_
#define ZRECON_STORAGE_DESTINATION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "reconciler/catalog/catalog.h"
#include "reconciler/util/command.h"
#include "reconciler/util/interrupt.h"
#include "reconciler/util/status.h"

namespace zrecon {

// A file being written to a destination. Bytes pass through Write (as the
// sink of `zfs send` or `vmadm get`), or in direct mode are written by a
// child process itself; nothing is visible under the final name until
// Commit succeeds. Destroying an uncommitted file removes everything it
// wrote.
class StreamFile : public ByteSink {
 public:
  // Writes `data` (compressed first when the file was opened with zstd),
  // hashing the bytes as they reach the destination. Fails in direct mode.
  Status Write(const char* data, size_t size) override = 0;

  // Direct mode: the file is written by someone else, typically a child
  // whose stdout it is (Host::RunToFile), so the bytes never pass through
  // this process. Returns a descriptor open for writing at offset 0, or -1
  // when this file cannot be written that way (compressed, already written
  // to, already direct, or a kind of file without the mode; the default):
  // then Write works as usual. The descriptor belongs to the file and stays
  // open until Commit or destruction; the caller must not close it.
  //
  // From then on the file hashes (SHA-256) what lands in it concurrently
  // with the writer, and calls `progress` (when set) with the bytes hashed
  // so far: on another thread, never two calls at once, none after Commit
  // or the destructor returned. Commit may only be called once the writer
  // is done (the child exited): it hashes up to the end of the file, then
  // commits as below, and fails if the file changed size meanwhile.
  // Destroying the file without Commit (the writer failed) stops the
  // hashing and removes the file.
  virtual int BeginDirect(std::function<void(uint64_t)> /*progress*/) { return -1; }

  // Makes the file durable and visible: flush, fsync, rename to the final
  // name (never replacing an existing file), fsync the directory. Fills
  // size, sha256 and compression of what is on the destination.
  virtual Status Commit(StoredFile* stored) = 0;
  // Bytes received so far (before compression), for progress: through
  // Write, or in direct mode the bytes hashed so far (all of them once
  // Commit succeeded). Safe to call while the direct-mode hashing runs.
  virtual uint64_t bytes_in() const = 0;
  // The size the stream is expected to reach (zfs send -nP's estimate),
  // told before the first Write when known. A hint only: the file still
  // takes a stream of any size. The default ignores it.
  virtual void ExpectBytes(uint64_t /*bytes*/) {}
};

// Where exports go. The catalog it holds is the one read before planning;
// every Record* call updates it and persists the affected manifest
// atomically, so a crash leaves either the old or the new manifest, and a
// manifest only ever names files that were committed before it was written.
// `file` arguments are relative to the destination's per-host directory,
// as in plans and manifests.
//
// A file of a zone is never on the destination without its manifest
// knowing: before it is committed, JournalFile adds it to the manifest's
// loose_files, and the Record* call that records it takes it off; a chain
// removal journals the files before deleting them. Whatever a crash leaves
// listed, the next plan removes (a remove_loose action: RemoveLooseFiles).
class Destination {
 public:
  virtual ~Destination() = default;
  virtual const std::string& name() const = 0;
  virtual const DestinationCatalog& catalog() const = 0;

  // Creates the per-host directory if needed and removes the temporary
  // files a crashed run left behind. Fails when the destination is
  // unreachable.
  virtual Status Prepare() = 0;

  // An action on this destination failed with `failure`, a failure of the
  // medium (apply/executor.h): whether the destination works again. A
  // transport that can come back (an ssh session lost, an object store
  // that stopped answering) reconnects, waiting with backoff, and returns
  // OK once it answers again and what the failure left is cleaned up (as
  // Prepare does); apply then runs the failed action once more. Otherwise
  // (the default: a full or failing disk does not heal within a run) it
  // returns why not. Waits no longer once `interrupt` (optional) is raised.
  virtual Status Recover(const Status& failure, const Interrupt* /*interrupt*/) { return failure; }

  // Deletes `files` of zone `zone_uuid` where they exist (and the
  // directories below the zone's directory that leaves empty), then takes
  // them off the manifest's loose_files. Every one must be listed there:
  // a recorded file, or one the manifest does not know, is refused and
  // nothing is deleted. A crash in between leaves listed names of missing
  // files, which a later call skips.
  virtual Status RemoveLooseFiles(const std::string& zone_uuid,
                                  const std::vector<std::string>& files) = 0;

  // Opens `file` for writing ("zstd" compresses). Fails if the catalog
  // records `file`; an unrecorded leftover of that name (a crash between a
  // commit and its Record* call) is replaced when the new file commits.
  virtual Status Create(const std::string& file, const std::string& compression,
                        std::unique_ptr<StreamFile>* out) = 0;

  // Adds `file`, which is about to be committed, to the loose_files of the
  // zone's manifest (creating the manifest with `zone`'s identity fields if
  // it does not exist yet); nothing to write when it is listed already.
  // Fails for a file outside the zone's directory or one the catalog
  // records. Images have no journal: a rerun writes an image's stream under
  // the same name, replacing what a crash left.
  virtual Status JournalFile(const ZoneManifest& zone, const std::string& file) = 0;

  virtual Status RecordImage(const ImageManifest& image) = 0;
  // Adds imgadm's record of an image the catalog records (its committed
  // file `record`, and the manifest type it names) to the image manifest.
  // Fails when the image is not recorded or already has a record.
  virtual Status RecordImageRecord(const std::string& image_uuid, const StoredFile& record,
                                   const std::string& imgadm_type) = 0;
  // Adds a config record to the zone's manifest (creating the manifest with
  // `zone`'s identity fields if it does not exist yet), taking its file off
  // loose_files in the same write.
  virtual Status RecordConfig(const ZoneManifest& zone, const ConfigRecord& config) = 0;
  // Appends `link` to chain `chain.id` of the zone's manifest, taking its
  // stream off loose_files in the same write; a chain that does not exist
  // yet is created from `chain` (id, dataset, origin, origin_guid,
  // image_uuid; its links are ignored).
  virtual Status RecordLink(const ZoneManifest& zone, const Chain& chain,
                            const ChainLink& link) = 0;
  // One manifest write removes the chain, drops config records whose file is
  // among `files` and adds `files` to loose_files; then `files` are deleted,
  // and another write takes them off the list. A crash in between leaves
  // listed files for the next plan's remove_loose action, never a manifest
  // naming missing ones.
  virtual Status RemoveChain(const std::string& zone_uuid, const std::string& chain_id,
                             const std::vector<std::string>& files) = 0;
};

}  // namespace zrecon

#endif  // ZRECON_STORAGE_DESTINATION_H_
