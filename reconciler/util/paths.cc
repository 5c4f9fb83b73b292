#include "reconciler/util/paths.h"

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "reconciler/util/strings.h"

namespace zrecon {

std::string JoinPath(const std::string& dir, const std::string& relative) {
  if (dir.empty()) return relative;
  return relative.empty() ? dir : dir + "/" + relative;
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string RelativeParent(const std::string& relative) {
  size_t slash = relative.find_last_of('/');
  return slash == std::string::npos ? "" : relative.substr(0, slash);
}

std::string StripTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

int RealPath(const std::string& path, std::string* out) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) return errno;
  *out = resolved;
  std::free(resolved);
  return 0;
}

bool IsInside(const std::string& target, const std::string& root) {
  if (root == "/") return true;
  return target == root || StartsWith(target, root + "/");
}

}  // namespace zrecon
