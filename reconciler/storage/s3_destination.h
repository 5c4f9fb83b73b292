#ifndef ZRECON_STORAGE_S3_DESTINATION_H_
#define ZRECON_STORAGE_S3_DESTINATION_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "reconciler/catalog/catalog.h"
#include "reconciler/storage/destination.h"
#include "reconciler/storage/destination_tree.h"
#include "reconciler/storage/manifest_destination.h"
#include "reconciler/storage/s3_client.h"
#include "reconciler/util/s3_location.h"
#include "reconciler/util/status.h"

namespace zrecon {

// A destination in an S3-compatible object store: the directory layout as
// keys, <prefix>/<host>/<file>, with the guarantees of a directory:
//
//  - A stream is uploaded to its final key, in parts (S3PartSize; a stream
//    smaller than one part is one PUT with If-None-Match: *), hashed (SHA-256 of the
//    bytes sent) as it goes; the digest goes into the object's metadata
//    (one PUT) or its tag "sha256" (parts: metadata is fixed at the start). It counts only once its
//    manifest records it: until then the manifest lists it in loose_files (the journal every type
//    keeps), and a crash leaves at most an object the next plan removes, or an unfinished upload
//    the next Prepare aborts. A key the catalog records is never uploaded to.
//  - Manifests are replaced by one PUT each, which S3 makes atomic,
//    conditionally: If-Match with the ETag this run last saw (If-None-Match:
//    * for a new one), so that two hosts writing one host prefix by mistake
//    fail instead of losing each other's records. Stores that compare
//    If-Match with the unquoted ETag only (Ceph RGW) are detected and
//    answered in kind. Where a store ignores the conditions altogether, the
//    ETag is also checked with a HEAD just before each write (a smaller
//    window, not none).
//
// Not thread-safe.
class S3Destination : public ManifestDestination {
 public:
  S3Destination(std::string name, S3Location location, std::string host, DestinationCatalog catalog,
                const TransferLimits& limits = {});
  ~S3Destination() override;

  // Reads the keys, checks the bucket can be reached with them, aborts the
  // unfinished uploads a crashed run left below <prefix>/<host>/, and notes
  // the ETags of the manifests there.
  Status Prepare() override;
  // A store that stopped answering (the client's retries spent): asks
  // again after 2, 4 and 8 s; once it answers, aborts the unfinished
  // uploads of this host left by the failure. The ETags this run saw are
  // kept: another writer's change still fails the next manifest write.
  Status Recover(const Status& failure, const Interrupt* interrupt) override;
  // Tests: the waits before each reconnect attempt.
  void set_recover_waits_ms(std::vector<int> waits) { recover_waits_ms_ = std::move(waits); }
  Status Create(const std::string& file, const std::string& compression,
                std::unique_ptr<StreamFile>* out) override;

 protected:
  Status Ready() override { return prepare_error_; }
  Status CheckCommitted(const StoredFile& stored) override;
  Status PutZoneManifest(const ZoneManifest& manifest) override;
  Status PutImageManifest(const ImageManifest& manifest) override;
  Status RemoveFile(const std::string& file, const std::string& zone_uuid,
                    bool regular_only) override;

 private:
  std::string Key(const std::string& file) const;
  Status PutManifest(const std::string& file, const std::string& data);
  Status AbortUploads();

  S3Location location_;
  TransferLimits limits_;
  std::vector<int> recover_waits_ms_ = ReconnectWaitsMs();
  std::unique_ptr<S3Client> client_;
  Status prepare_error_ = Status::Error("not prepared");
  // Key -> ETag of the manifests as this run last saw or wrote them.
  std::map<std::string, std::string> etags_;
  // Key -> MD5 of the manifest a failed write tried to put (it may have
  // landed all the same).
  std::map<std::string, std::string> attempted_;
  bool unquoted_if_match_ = false;
};

// The size of part `parts_done` + 1 of a stream expected to reach
// `expected` bytes (0: unknown), so that any stream fits in S3's 10,000
// parts: unknown, 8 MiB doubling every 1000 parts (up to 8 TB); known, the
// size that puts the estimate in 8000 parts (at least 8 MiB, whole MiB),
// the remaining 2000 doubling every 250 (a stream 16 times larger than the
// estimate still fits, as far as parts of S3's largest, 5 GiB, allow).
// Never above 5 GiB.
uint64_t S3PartSize(uint64_t expected, size_t parts_done);

// The tree of an S3 destination (DestinationTree): keys below the prefix
// seen as paths, one listing per host directory, ranged GETs to read.
std::unique_ptr<DestinationTree> S3DestinationTree(const S3Location& location,
                                                   const TransferLimits& limits = {});

}  // namespace zrecon

#endif  // ZRECON_STORAGE_S3_DESTINATION_H_
