#ifndef ZRECON_UTIL_FD_H_
#define ZRECON_UTIL_FD_H_

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "reconciler/util/status.h"

namespace zrecon {

// File descriptors, portable POSIX. Every descriptor these helpers open is
// close-on-exec (a child such as `zfs receive` must not inherit it), and
// every call is retried on EINTR.

// Owns one descriptor. close() is not retried on EINTR: POSIX leaves the
// descriptor state unspecified then, and illumos and Linux free it, so a
// retry could close one another thread just opened.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& other) noexcept : fd_(other.Release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1);
  // Closes now and returns 0 or the errno: NFS and some FUSE filesystems
  // report delayed write errors (ENOSPC, EDQUOT) only at close.
  int Close();

 private:
  int fd_ = -1;
};

// open(2) and openat(2) with O_CLOEXEC added; -1 with errno on failure.
int OpenPath(const std::string& path, int flags, mode_t mode = 0);
int OpenAt(int dir, const std::string& name, int flags, mode_t mode = 0);

// fsync(2); returns 0 or the errno.
int FsyncFd(int fd);

// Writes all of `data`; returns 0 or the errno of the failed write (EIO for
// a write that makes no progress).
int WriteFully(int fd, const char* data, size_t size);

// True when both descriptors are the same file (device and inode).
bool SameFile(int a, int b);

// "<what> <path>: <strerror(err)>".
Status SystemError(const std::string& what, const std::string& path, int err);

// Opens directory `name` in `dir` (`path` names it in messages) without
// following a symlink, creating it first (with `mode`, less the umask) when
// `create`. When it is absent and not `create`, returns OK with *out
// invalid. A symlink fails with "refusing to follow symlink <path>: ...",
// a non-directory with "<path> exists and is not a directory".
Status OpenSubdirectory(int dir, const std::string& name, const std::string& path, bool create,
                        Fd* out, mode_t mode = 0755);

// Walks `relative` ('/'-separated components, none "", "." or "..", or
// empty for `root` itself) down from directory `root` with
// OpenSubdirectory. *out is invalid when a component is absent and not
// `create`.
Status OpenBelow(Fd root, const std::string& root_path, const std::string& relative, bool create,
                 Fd* out, mode_t mode = 0755);

}  // namespace zrecon

#endif  // ZRECON_UTIL_FD_H_
