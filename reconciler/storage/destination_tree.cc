#include "reconciler/storage/destination_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

#include "reconciler/catalog/catalog_json.h"
#include "reconciler/util/fd.h"
#include "reconciler/util/files.h"
#include "reconciler/util/paths.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

constexpr size_t kReadBlock = 64 << 10;

EntryKind KindOf(mode_t mode) {
  if (S_ISDIR(mode)) return EntryKind::kDirectory;
  if (S_ISREG(mode)) return EntryKind::kRegular;
  if (S_ISLNK(mode)) return EntryKind::kSymlink;
  return EntryKind::kOther;
}

// A file of the destination, read with read(2).
class FdSource : public ByteSource {
 public:
  FdSource(Fd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  Status Read(char* buffer, size_t capacity, size_t* got) override {
    for (;;) {
      ssize_t n = ::read(fd_.get(), buffer, capacity);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return SystemError("cannot read", path_, errno);
      *got = static_cast<size_t>(n);
      return Status::Ok();
    }
  }

 private:
  Fd fd_;
  std::string path_;
};

class LocalTree : public DestinationTree {
 public:
  explicit LocalTree(std::string path) : path_(std::move(path)) {}

  std::string PathOf(const std::string& relative) const override {
    return JoinPath(path_, relative);
  }

  // Stat failures of the destination itself (absent mount point, EIO from
  // a pulled disk, EACCES) all mean "not reachable now".
  std::string CheckRoot() override {
    struct stat st;
    if (::stat(path_.c_str(), &st) != 0) {
      int err = errno;
      return err == ENOENT ? path_ + " does not exist" : path_ + ": " + std::strerror(err);
    }
    if (!S_ISDIR(st.st_mode)) return path_ + " is not a directory";
    return "";
  }

  EntryKind Inspect(const std::string& relative, std::string* what, uint64_t* size) override {
    struct stat st;
    if (::lstat(PathOf(relative).c_str(), &st) != 0) {
      if (errno == ENOENT) return EntryKind::kMissing;
      *what = std::string("cannot stat: ") + std::strerror(errno);
      return EntryKind::kError;
    }
    if (size != nullptr) *size = static_cast<uint64_t>(st.st_size);
    return KindOf(st.st_mode);
  }

  Status List(const std::string& relative, std::vector<std::string>* names) override {
    return ListDirectory(PathOf(relative), names);
  }

  // Its real path when it resolves, else what it says.
  std::string LinkTarget(const std::string& relative) override {
    std::string path = PathOf(relative);
    std::string real;
    if (RealPath(path, &real) == 0) return Printable(real);
    char buf[4096];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    return n < 0 ? "?" : Printable(std::string_view(buf, static_cast<size_t>(n)));
  }

  std::string Open(const std::string& relative, std::unique_ptr<ByteSource>* out,
                   uint64_t* size) override;

 private:
  // Why opening `name` in `dir` (`shown` names it, relative to the host
  // directory) failed, by lstat.
  std::string OpenProblem(int dir, const std::string& name, const std::string& below,
                          const std::string& shown, bool last, int err) {
    struct stat st;
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return "missing";
      return std::string("cannot stat ") + shown + ": " + std::strerror(errno);
    }
    if (S_ISLNK(st.st_mode)) {
      std::string where = LinkTarget(below) + ": zrecon follows no symlink inside a destination";
      return last ? "is a symlink to " + where
                  : "reached through " + shown + ", a symlink to " + where;
    }
    if (!last && !S_ISDIR(st.st_mode)) return shown + " is not a directory";
    if (last && !S_ISREG(st.st_mode)) return "not a regular file";
    return std::string("cannot open") + (last ? "" : " " + shown) + ": " + std::strerror(err);
  }

  std::string path_;
};

std::string LocalTree::Open(const std::string& relative, std::unique_ptr<ByteSource>* out,
                            uint64_t* size) {
  if (!IsSafeRelativePath(relative) || relative.find('/') == std::string::npos) {
    return "not a relative path of ordinary components";
  }
  Fd dir(OpenPath(path_, O_RDONLY | O_DIRECTORY));
  if (!dir.valid()) return "cannot open " + Printable(path_) + ": " + std::strerror(errno);
  std::vector<std::string> parts;
  for (std::string_view part : Split(relative, '/')) parts.emplace_back(part);
  std::string walked;  // the components walked so far, from the root
  std::string below;   // the same below the host directory
  for (size_t i = 0; i < parts.size(); ++i) {
    bool last = i + 1 == parts.size();
    walked = JoinPath(walked, parts[i]);
    if (i > 0) below = JoinPath(below, parts[i]);
    const std::string shown = i == 0 ? "the host directory" : below;
    struct stat st;
    if (last) {
      // Inspected before it is opened: a fifo must not be opened at all.
      if (::fstatat(dir.get(), parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          !S_ISREG(st.st_mode)) {
        return OpenProblem(dir.get(), parts[i], walked, shown, true, errno);
      }
      *size = static_cast<uint64_t>(st.st_size);
      if (out == nullptr) return "";
    }
    int flags = last ? O_RDONLY | O_NOFOLLOW | O_NONBLOCK : O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
    Fd next(OpenAt(dir.get(), parts[i], flags));
    if (!next.valid()) return OpenProblem(dir.get(), parts[i], walked, shown, last, errno);
    if (last) {
      // Replaced between the fstatat and the open: judge what was opened.
      if (::fstat(next.get(), &st) != 0 || !S_ISREG(st.st_mode)) return "not a regular file";
      *size = static_cast<uint64_t>(st.st_size);
      // Reads block from here on (O_NONBLOCK only kept a fifo from hanging
      // the open).
      int fl = ::fcntl(next.get(), F_GETFL);
      if (fl >= 0) ::fcntl(next.get(), F_SETFL, fl & ~O_NONBLOCK);
      *out = std::make_unique<FdSource>(std::move(next), PathOf(relative));
      return "";
    }
    dir = std::move(next);
  }
  return "";  // not reached: `relative` has at least two components
}

}  // namespace

std::string DestinationTree::ReadFile(const std::string& relative, std::string* text) {
  std::unique_ptr<ByteSource> in;
  uint64_t size = 0;
  std::string what = Open(relative, &in, &size);
  if (!what.empty()) return what;
  std::string data;
  data.reserve(static_cast<size_t>(std::min<uint64_t>(size, 64 << 20)));
  char buf[kReadBlock];
  for (;;) {
    size_t got = 0;
    Status st = in->Read(buf, sizeof buf, &got);
    if (!st.ok()) return st.message();
    if (got == 0) break;
    data.append(buf, got);
  }
  *text = std::move(data);
  return "";
}

std::unique_ptr<DestinationTree> LocalDestinationTree(const std::string& path) {
  return std::make_unique<LocalTree>(path);
}

std::string SymlinkProblem(DestinationTree& tree, const std::string& relative) {
  return "is a symlink to " + tree.LinkTarget(relative) +
         ": zrecon follows no symlink inside a destination";
}

}  // namespace zrecon
