#include "reconciler/storage/atomic_file.h"

#include <algorithm>

#include <dirent.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace zrecon {

namespace {

Status SystemError(const std::string& what, const std::string& path, int err) {
  return Status::Error(what + " " + path + ": " + std::strerror(err));
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Closes fd on every path out; close() is not retried on EINTR because POSIX
// leaves the descriptor state unspecified then (illumos and Linux free it).
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  int get() const { return fd_; }
  // Closes now and reports the error: NFS and some FUSE filesystems report
  // delayed write errors only at close.
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

int OpenRetrying(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

int FsyncRetrying(int fd) {
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  return rc == 0 ? 0 : errno;
}

// Returns 0 or the errno of the failed write.
int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

Status WriteAndSync(const std::string& tmp, std::string_view content) {
  // O_EXCL after unlinking a leftover of a crashed run with the same pid:
  // never write through a symlink or a file someone else holds open.
  ::unlink(tmp.c_str());
  FileDescriptor fd(OpenRetrying(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return SystemError("cannot create", tmp, errno);
  if (int err = WriteAll(fd.get(), content)) return SystemError("cannot write", tmp, err);
  if (int err = FsyncRetrying(fd.get())) return SystemError("cannot fsync", tmp, err);
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
  FileDescriptor fd(OpenRetrying(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return SystemError("cannot open", path, errno);
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
  FileDescriptor fd(OpenRetrying(dir.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return SystemError("cannot open directory", dir, errno);
  int err = FsyncRetrying(fd.get());
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
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return SystemError("cannot list", dir, errno);
  Status st = ListDirectoryAt(fd, dir, names);
  ::close(fd);
  return st;
}

Status ListDirectoryAt(int dir_fd, const std::string& path, std::vector<std::string>* names) {
  int fd = ::dup(dir_fd);
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
