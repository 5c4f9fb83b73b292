#ifndef ZRECON_STORAGE_STORED_STREAM_H_
#define ZRECON_STORAGE_STORED_STREAM_H_

#include <cstdint>
#include <memory>
#include <string>

#include "reconciler/catalog/catalog.h"
#include "reconciler/storage/destination_tree.h"
#include "reconciler/util/command.h"
#include "reconciler/util/status.h"

namespace zrecon {

// A stored stream read back, as `zfs receive`'s stdin: the other half of
// local_stream_file.h. Read gives the zfs stream's bytes (a zstd file
// decompressed); the stored bytes are hashed (SHA-256, on a thread of its
// own, so a restore goes at the pace of zfs receive) and at the end of the
// file its size and digest are compared with the catalog's record: the Read
// that meets the end fails, naming the file, when they differ, before the
// receiver sees EOF. A truncated zstd frame fails the same way.
class StoredStream : public ByteSource {
 public:
  // Stored bytes read so far.
  virtual uint64_t raw_bytes() const = 0;
  // After a receive that stopped early: reads the rest of the file, so that
  // a file that differs from the catalog is named as the cause (a corrupt
  // stream usually makes zfs receive fail before its end). Ok when the file
  // matches, or was read to its end already and did.
  virtual Status CheckRest() = 0;
};

// Opens `stored` in host directory `host` of `tree` as every reader of a
// destination does (DestinationTree::Open: no symlink followed). Fails,
// naming the file, when it cannot be opened or its compression is unknown.
Status OpenStoredStream(DestinationTree& tree, const std::string& host, const StoredFile& stored,
                        std::unique_ptr<StoredStream>* out);

}  // namespace zrecon

#endif  // ZRECON_STORAGE_STORED_STREAM_H_
