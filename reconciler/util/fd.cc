#include "reconciler/util/fd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "reconciler/util/strings.h"

namespace zrecon {

void Fd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

int Fd::Close() {
  int rc = ::close(fd_);
  fd_ = -1;
  return rc == 0 ? 0 : errno;
}

int OpenPath(const std::string& path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

int OpenAt(int dir, const std::string& name, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::openat(dir, name.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

int FsyncFd(int fd) {
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  return rc == 0 ? 0 : errno;
}

int WriteFully(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    // write(2) of a non-zero size returning 0 is no progress; never spin.
    if (n == 0) return EIO;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

bool SameFile(int a, int b) {
  struct stat sa, sb;
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

Status SystemError(const std::string& what, const std::string& path, int err) {
  return Status::Error(what + " " + path + ": " + std::strerror(err));
}

namespace {

// Why opening directory `name` in `dir` failed. O_NOFOLLOW reports a
// symlink as ELOOP on Linux and illumos but EMLINK on FreeBSD, and
// O_DIRECTORY may win with ENOTDIR; lstat says what is really there.
Status DirectoryOpenError(int dir, const std::string& name, const std::string& path, int err) {
  struct stat st;
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) {
      return Status::Error("refusing to follow symlink " + path +
                           ": destinations are written without following symlinks");
    }
    if (!S_ISDIR(st.st_mode)) return Status::Error(path + " exists and is not a directory");
  }
  return SystemError("cannot open directory", path, err);
}

}  // namespace

Status OpenSubdirectory(int dir, const std::string& name, const std::string& path, bool create,
                        Fd* out, mode_t mode) {
  const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
  int fd = OpenAt(dir, name, flags);
  if (fd < 0 && errno == ENOENT) {
    if (!create) {
      *out = Fd();
      return Status::Ok();
    }
    // EEXIST: someone created it since; the open below decides what it is.
    if (::mkdirat(dir, name.c_str(), mode) != 0 && errno != EEXIST) {
      return SystemError("cannot create directory", path, errno);
    }
    fd = OpenAt(dir, name, flags);
  }
  if (fd < 0) return DirectoryOpenError(dir, name, path, errno);
  *out = Fd(fd);
  return Status::Ok();
}

Status OpenBelow(Fd root, const std::string& root_path, const std::string& relative, bool create,
                 Fd* out, mode_t mode) {
  Fd current = std::move(root);
  std::string path = root_path;
  for (std::string_view part :
       relative.empty() ? std::vector<std::string_view>() : Split(relative, '/')) {
    std::string name(part);
    path += "/" + name;
    Fd next;
    Status st = OpenSubdirectory(current.get(), name, path, create, &next, mode);
    if (!st.ok() || !next.valid()) {
      *out = Fd();
      return st;
    }
    current = std::move(next);
  }
  *out = std::move(current);
  return Status::Ok();
}

}  // namespace zrecon
