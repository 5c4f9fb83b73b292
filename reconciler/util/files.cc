#include "reconciler/util/files.h"

#include <algorithm>

#include <dirent.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "reconciler/util/fd.h"
#include "reconciler/util/paths.h"

namespace zrecon {

namespace {

Status WriteAndSync(const std::string& tmp, std::string_view content) {
  // O_EXCL after unlinking a leftover of a crashed run with the same pid:
  // never write through a symlink or a file someone else holds open.
  ::unlink(tmp.c_str());
  Fd fd(OpenPath(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644));
  if (!fd.valid()) return SystemError("cannot create", tmp, errno);
  if (int err = WriteFully(fd.get(), content.data(), content.size())) {
    return SystemError("cannot write", tmp, err);
  }
  if (int err = FsyncFd(fd.get())) return SystemError("cannot fsync", tmp, err);
  if (int err = fd.Close()) return SystemError("cannot close", tmp, err);
  return Status::Ok();
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view content) {
  if (path.empty() || path.back() == '/') {
    return Status::Error("cannot write \"" + path + "\": not a file path");
  }
  std::string dir = DirName(path);
  std::string tmp = dir + "/.tmp." + BaseName(path) + "." + std::to_string(::getpid());
  Status st = WriteAndSync(tmp, content);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    st = Status::Error("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  }
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return FsyncDirectory(dir).Prefixed(path + " was replaced but may not be durable");
}

Status ReadFile(const std::string& path, std::string* out) {
  // O_NONBLOCK: a FIFO in place of a manifest must not hang the open; it is
  // then refused as not a regular file. Regular files ignore the flag.
  Fd fd(OpenPath(path, O_RDONLY | O_NONBLOCK));
  if (!fd.valid()) return SystemError("cannot open", path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return SystemError("cannot stat", path, errno);
  if (!S_ISREG(st.st_mode)) return Status::Error("cannot read " + path + ": not a regular file");
  std::string data;
  data.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return SystemError("cannot read", path, errno);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  *out = std::move(data);
  return Status::Ok();
}

Status FsyncDirectory(const std::string& dir) {
  Fd fd(OpenPath(dir, O_RDONLY));
  if (!fd.valid()) return SystemError("cannot open directory", dir, errno);
  int err = FsyncFd(fd.get());
  // Some filesystems (certain FUSE and network ones) cannot fsync a
  // directory and say EINVAL; there is no stronger guarantee to be had on
  // them, and refusing would make such destinations unusable.
  if (err != 0 && err != EINVAL) return SystemError("cannot fsync directory", dir, err);
  return Status::Ok();
}

Status MakeDirectories(const std::string& path, mode_t mode) {
  if (path.empty()) return Status::Error("cannot create directory \"\": empty path");
  size_t pos = 0;
  for (;;) {
    pos = path.find('/', pos + 1);
    std::string prefix = path.substr(0, pos);
    bool last = pos == std::string::npos;
    if (!prefix.empty() && prefix.back() != '/' && ::mkdir(prefix.c_str(), mode) != 0) {
      int err = errno;
      // EEXIST covers both a directory (fine) and anything else (not fine);
      // some systems report EACCES or EROFS for existing parents they could
      // not have created, so existence is what decides.
      if (!IsDirectory(prefix)) {
        if (err == EEXIST) return Status::Error(prefix + " exists and is not a directory");
        return SystemError("cannot create directory", prefix, err);
      }
    }
    if (last) return Status::Ok();
  }
}

Status ListDirectory(const std::string& dir, std::vector<std::string>* names) {
  Fd fd(OpenPath(dir, O_RDONLY | O_DIRECTORY));
  if (!fd.valid()) return SystemError("cannot list", dir, errno);
  return ListDirectoryAt(fd.get(), dir, names);
}

Status ListDirectoryAt(int dir_fd, const std::string& path, std::vector<std::string>* names) {
  int fd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
  if (d == nullptr) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    return SystemError("cannot list", path, err);
  }
  // The dup shares the offset of `dir_fd`, which may have been read before.
  ::rewinddir(d);
  names->clear();
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(d);
    if (e == nullptr) break;
    std::string name = e->d_name;
    if (name != "." && name != "..") names->push_back(std::move(name));
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return SystemError("cannot list", path, err);
  std::sort(names->begin(), names->end());
  return Status::Ok();
}

}  // namespace zrecon
