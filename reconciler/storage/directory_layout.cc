#include "reconciler/storage/directory_layout.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

#include "reconciler/catalog/catalog.h"
#include "reconciler/catalog/catalog_json.h"
#include "reconciler/util/files.h"
#include "reconciler/util/paths.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

constexpr size_t kReadBlock = 64 << 10;

enum class Kind { kMissing, kDirectory, kRegular, kSymlink, kOther, kError };

Kind KindOf(mode_t mode) {
  if (S_ISDIR(mode)) return Kind::kDirectory;
  if (S_ISREG(mode)) return Kind::kRegular;
  if (S_ISLNK(mode)) return Kind::kSymlink;
  return Kind::kOther;
}

// Where the symlink `path` leads, for messages: its real path when it
// resolves, else what it says.
std::string LinkTarget(const std::string& path) {
  std::string real;
  if (RealPath(path, &real) == 0) return Printable(real);
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? "?" : Printable(std::string_view(buf, static_cast<size_t>(n)));
}

std::string SymlinkProblem(const std::string& path) {
  return "is a symlink to " + LinkTarget(path) + ": zrecon follows no symlink inside a destination";
}

// lstat of `path`; *what says why when it returns kError.
Kind Inspect(const std::string& path, std::string* what, off_t* size = nullptr) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Kind::kMissing;
    *what = std::string("cannot stat: ") + std::strerror(errno);
    return Kind::kError;
  }
  if (size != nullptr) *size = st.st_size;
  return KindOf(st.st_mode);
}

void AddProblem(HostLayout* out, const std::string& file, const std::string& what) {
  out->problems.push_back(LayoutProblem{file, what});
}

// Names in `dir` without unfinished ".tmp*" writes, sorted; false (with
// the problem added) when it cannot be listed.
bool ListEntries(const std::string& dir, const std::string& file, HostLayout* out,
                 std::vector<std::string>* names) {
  Status st = ListDirectory(dir, names);
  if (!st.ok()) {
    AddProblem(out, file, st.message());
    return false;
  }
  std::vector<std::string> kept;
  for (std::string& name : *names) {
    if (!StartsWith(name, kTempPrefix)) kept.push_back(std::move(name));
  }
  *names = std::move(kept);
  return true;
}

// A manifest: a regular file, never a symlink. Returns whether it exists.
bool CheckManifest(const std::string& host_dir, const std::string& file, HostLayout* out) {
  std::string path = JoinPath(host_dir, file);
  std::string what;
  switch (Inspect(path, &what)) {
    case Kind::kMissing:
      return false;
    case Kind::kRegular:
      return true;
    case Kind::kSymlink:
      what = SymlinkProblem(path);
      break;
    case Kind::kError:
      break;
    default:
      what = "not a regular file";
  }
  AddProblem(out, file, what);
  return true;
}

void ListImages(const std::string& host_dir, HostLayout* out) {
  std::string dir = JoinPath(host_dir, kImagesDir);
  std::vector<std::string> names;
  if (!ListEntries(dir, kImagesDir, out, &names)) return;
  for (const std::string& name : names) {
    if (!EndsWith(name, kJsonSuffix)) continue;
    std::string file = std::string(kImagesDir) + "/" + name;
    size_t before = out->problems.size();
    if (CheckManifest(host_dir, file, out) && out->problems.size() == before) {
      out->image_manifests.push_back(name);
    }
  }
}

// One entry of the host directory.
void ListEntry(const std::string& host_dir, const std::string& name, HostLayout* out) {
  std::string path = JoinPath(host_dir, name);
  std::string what;
  Kind kind = Inspect(path, &what);
  if (kind == Kind::kSymlink) {
    AddProblem(out, name, SymlinkProblem(path));
  } else if (kind == Kind::kError) {
    AddProblem(out, name, what);
  } else if (name == kImagesDir) {
    if (kind == Kind::kDirectory) {
      ListImages(host_dir, out);
    } else if (kind != Kind::kMissing) {
      AddProblem(out, name, "not a directory");
    }
  } else if (kind == Kind::kDirectory) {
    std::string manifest = name + "/" + kZoneManifestName;
    size_t before = out->problems.size();
    if (CheckManifest(host_dir, manifest, out) && out->problems.size() == before) {
      out->zones.push_back(name);
    }
  }
}

// Why opening `name` in `dir` (`shown` names it, relative to the host
// directory) failed, by lstat.
std::string OpenProblem(int dir, const std::string& name, const std::string& path,
                        const std::string& shown, bool last, int err) {
  struct stat st;
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return "missing";
    return std::string("cannot stat ") + shown + ": " + std::strerror(errno);
  }
  if (S_ISLNK(st.st_mode)) {
    std::string where = LinkTarget(path) + ": zrecon follows no symlink inside a destination";
    return last ? "is a symlink to " + where
                : "reached through " + shown + ", a symlink to " + where;
  }
  if (!last && !S_ISDIR(st.st_mode)) return shown + " is not a directory";
  if (last && !S_ISREG(st.st_mode)) return "not a regular file";
  return std::string("cannot open") + (last ? "" : " " + shown) + ": " + std::strerror(err);
}

}  // namespace

void ListHostLayout(const std::string& path, const std::string& host, HostLayout* out) {
  *out = HostLayout();
  std::string host_dir = JoinPath(path, host);
  std::string what;
  switch (Inspect(host_dir, &what)) {
    case Kind::kMissing:
      return;
    case Kind::kDirectory:
      break;
    case Kind::kSymlink:
      AddProblem(out, "", SymlinkProblem(host_dir));
      return;
    case Kind::kError:
      AddProblem(out, "", what);
      return;
    default:
      AddProblem(out, "", "not a directory");
      return;
  }
  out->present = true;
  std::vector<std::string> names;
  if (!ListEntries(host_dir, "", out, &names)) return;
  for (const std::string& name : names) ListEntry(host_dir, name, out);
}

std::string OpenStoredFile(const std::string& host_dir, const std::string& relative, Fd* out,
                           uint64_t* size) {
  if (!IsSafeRelativePath(relative)) return "not a relative path of ordinary components";
  std::string parent = DirName(StripTrailingSlashes(host_dir));
  std::string host = BaseName(StripTrailingSlashes(host_dir));
  Fd dir(OpenPath(parent, O_RDONLY | O_DIRECTORY));
  if (!dir.valid()) return "cannot open " + Printable(parent) + ": " + std::strerror(errno);
  // The host directory, then each directory of `relative`.
  std::vector<std::string> parts{host};
  for (std::string_view part : Split(relative, '/')) parts.emplace_back(part);
  std::string path = parent;
  std::string below;  // the part of `relative` walked so far
  for (size_t i = 0; i < parts.size(); ++i) {
    bool last = i + 1 == parts.size();
    path = JoinPath(path, parts[i]);
    if (i > 0) below = JoinPath(below, parts[i]);
    const std::string shown = i == 0 ? "the host directory" : below;
    struct stat st;
    if (last) {
      // Inspected before it is opened: a fifo must not be opened at all.
      if (::fstatat(dir.get(), parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          !S_ISREG(st.st_mode)) {
        return OpenProblem(dir.get(), parts[i], path, shown, true, errno);
      }
      *size = static_cast<uint64_t>(st.st_size);
      if (out == nullptr) return "";
    }
    int flags = last ? O_RDONLY | O_NOFOLLOW | O_NONBLOCK : O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
    Fd next(OpenAt(dir.get(), parts[i], flags));
    if (!next.valid()) return OpenProblem(dir.get(), parts[i], path, shown, last, errno);
    if (last) {
      // Replaced between the fstatat and the open: judge what was opened.
      if (::fstat(next.get(), &st) != 0 || !S_ISREG(st.st_mode)) return "not a regular file";
      *size = static_cast<uint64_t>(st.st_size);
      *out = std::move(next);
      return "";
    }
    dir = std::move(next);
  }
  return "";  // not reached: `relative` has at least one component
}

std::string ReadStoredFile(const std::string& host_dir, const std::string& relative,
                           std::string* text) {
  Fd fd;
  uint64_t size = 0;
  std::string what = OpenStoredFile(host_dir, relative, &fd, &size);
  if (!what.empty()) return what;
  std::string data;
  data.reserve(static_cast<size_t>(size));
  char buf[kReadBlock];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::string("cannot read: ") + std::strerror(errno);
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  *text = std::move(data);
  return "";
}

}  // namespace zrecon
