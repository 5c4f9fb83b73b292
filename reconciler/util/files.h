#ifndef ZRECON_UTIL_FILES_H_
#define ZRECON_UTIL_FILES_H_

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "reconciler/util/status.h"

namespace zrecon {

// Small-file I/O for destinations (manifests, configs), portable POSIX.
// Every failed Status names the path and the system error (strerror).

// Replaces `path` with `content` durably: write to "<dir>/.tmp.<name>.<pid>",
// fsync the file, rename over `path`, fsync the directory. On any failure
// before the rename the temp file is removed and `path` is unchanged; if only
// the final directory fsync fails, `path` already holds the new content but
// its durability is not guaranteed, and the Status says so. New files get
// mode 0644 (less the umask). Readers skip names starting with ".tmp".
Status WriteFileAtomically(const std::string& path, std::string_view content);

// Reads the whole of a regular file into *out (unchanged on failure).
Status ReadFile(const std::string& path, std::string* out);

// Makes a completed rename or create in `dir` durable.
Status FsyncDirectory(const std::string& dir);

// mkdir -p: creates `path` and missing parents with `mode` (less the umask).
// Existing directories are fine; an existing non-directory is an error.
Status MakeDirectories(const std::string& path, mode_t mode = 0755);

// The names in directory `dir`, without "." and "..", sorted (so nothing
// depends on readdir order).
Status ListDirectory(const std::string& dir, std::vector<std::string>* names);

// The same for a directory open as `dir_fd` (which stays open and whose
// offset does not matter); `path` names it in errors.
Status ListDirectoryAt(int dir_fd, const std::string& path, std::vector<std::string>* names);

}  // namespace zrecon

#endif  // ZRECON_UTIL_FILES_H_
