#ifndef ZRECON_APPLY_LOCK_H_
#define ZRECON_APPLY_LOCK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "reconciler/util/status.h"
#include "reconciler/util/time.h"

namespace zrecon {

// One run that changes the host (apply, restore) at a time.
//
// The lock is an fcntl(F_SETLK) write lock on a file that persists, by
// default /var/run/zrecon.lock. Chosen over open(O_CREAT|O_EXCL) because the
// kernel drops an fcntl lock whenever its process ends, kill -9 included, and
// nothing survives a reboot (/var/run is tmpfs on SmartOS): there is no
// guessing whether a recorded pid is still ours (pids are reused) and no race
// between two runs that both decide an O_EXCL file is stale and replace it.
// fcntl record locks are POSIX and behave the same on illumos and Linux, on
// tmpfs and local file systems.
//
// The file's content only tells people who holds it, one "key value" line
// each:
//   pid 1234
//   started 2026-11-26T10:00:00Z
//   command zrecon apply -f /opt/zrecon/policy.yaml
// A holder that releases empties the file. Content found while the lock is
// free was therefore left by a run that ended without releasing (killed,
// crashed); it is taken over and reported.
//
// fcntl locks belong to a process, and closing any descriptor of the file
// drops them: a process holds at most one HostLock, and a second Acquire in
// the same process fails. The descriptor is close-on-exec, so the commands
// zrecon runs never hold the lock.

constexpr const char* kDefaultLockPath = "/var/run/zrecon.lock";

// Who holds (or held) a lock, as written in its file.
struct LockOwner {
  int64_t pid = 0;
  std::string started;  // RFC 3339 wall-clock time the run began
  std::string command;  // the command line, one line (Printable)

  // "pid 1234, `zrecon apply -f p.yaml`, started 2026-11-26T10:00:00Z";
  // parts that are empty are left out.
  std::string Describe() const;
};

// The file content for `owner` (the format above, newline-terminated).
std::string FormatLockOwner(const LockOwner& owner);

// Reads content written by FormatLockOwner. False when there is no valid
// "pid N" line (N > 0); unknown keys are ignored.
bool ParseLockOwner(std::string_view text, LockOwner* owner);

class HostLock {
 public:
  // Takes the lock at `path` for this process (its pid, `started` and
  // `command` are written into the file and fsynced), creating the file
  // (mode 0644) if needed. Never waits. Fails with
  //   "another zrecon (pid 1234, `zrecon apply ...`, started ...) holds PATH; ..."
  // when another process holds it, and with the path and the system error
  // when the file cannot be opened, locked or written (missing directory,
  // not a regular file, a symlink, no space). On success *note is empty, or
  // a sentence for the operator when the file named a previous holder that
  // ended without releasing, or held content that is not a lock record.
  static Status Acquire(const std::string& path, const std::string& command, EpochSeconds started,
                        std::unique_ptr<HostLock>* lock, std::string* note);

  // Releases: empties the file (which stays for the next run) and closes it.
  ~HostLock();
  HostLock(const HostLock&) = delete;
  HostLock& operator=(const HostLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  HostLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::string path_;
  int fd_;
};

}  // namespace zrecon

#endif  // ZRECON_APPLY_LOCK_H_
