#ifndef ZRECON_UTIL_PATHS_H_
#define ZRECON_UTIL_PATHS_H_

#include <string>

namespace zrecon {

// Path strings, no I/O except RealPath.

// "dir/relative"; either side may be empty (then the other is returned).
std::string JoinPath(const std::string& dir, const std::string& relative);

// POSIX dirname and basename of a path without trailing slashes:
// "a/b" -> "a" and "b"; "b" -> "." and "b"; "/b" -> "/" and "b".
std::string DirName(const std::string& path);
std::string BaseName(const std::string& path);

// The directory part of a relative path below some directory:
// "a/b/c.zfs" -> "a/b"; "c.zfs" -> "" (the directory itself).
std::string RelativeParent(const std::string& relative);

// "/a/b//" -> "/a/b"; "/" stays "/".
std::string StripTrailingSlashes(std::string path);

// realpath(3): 0 with *out set, or the errno.
int RealPath(const std::string& path, std::string* out);

// True when the real path `target` is `root` or lies below it.
bool IsInside(const std::string& target, const std::string& root);

}  // namespace zrecon

#endif  // ZRECON_UTIL_PATHS_H_
