#ifndef ZRECON_STORAGE_LOCAL_STREAM_FILE_H_
#define ZRECON_STORAGE_LOCAL_STREAM_FILE_H_

#include <functional>
#include <memory>
#include <string>

#include "reconciler/storage/destination.h"
#include "reconciler/util/fd.h"
#include "reconciler/util/status.h"

namespace zrecon {

// The StreamFile of a destination whose files are local: a stream written
// under a temporary name in its final directory, hashed (SHA-256 of the
// bytes on disk) while written, compressed with zstd when asked, fsynced,
// linked to its final name (never replacing a file), and the directory
// fsynced. Uncompressed files support direct mode (StreamFile::BeginDirect):
// a thread hashes the file by reading it back as the writer fills it.

struct LocalStreamTarget {
  Fd dir;                   // the final directory, open
  std::string dir_path;     // its path, for messages and the directory fsync
  std::string file;         // the name recorded in StoredFile::file
  std::string compression;  // "none" or "zstd" (checked by the caller)
  // A name unique among this process' open stream files in `dir`: the
  // temporary file is ".tmp.<base name>.<pid>.<serial>".
  unsigned serial = 0;
  // Whether the catalog records the final name. Where link(2) cannot be
  // used (FAT, several FUSE filesystems) or finds the name taken (garbage of
  // a crash between a commit and its record), the file is renamed over it
  // only when this says false.
  std::function<bool()> recorded;
};

// Creates the temporary file (replacing only a leftover of a crashed run
// with the same pid, never through a symlink). Fails naming the file.
Status CreateLocalStreamFile(LocalStreamTarget target, std::unique_ptr<StreamFile>* out);

}  // namespace zrecon

#endif  // ZRECON_STORAGE_LOCAL_STREAM_FILE_H_
