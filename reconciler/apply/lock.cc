#include "reconciler/apply/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

// A lock record is three short lines: more than this is not one, and only
// its beginning is worth showing in a message.
constexpr size_t kMaxContent = 4096;
constexpr size_t kShownContent = 120;

// A second lock in the same process would be released by the first close of
// either descriptor (fcntl semantics), so it is refused instead.
std::atomic<bool> held_in_process{false};

Status FileError(const std::string& what, const std::string& path, int err) {
  return Status::Error(what + " lock file " + path + ": " + std::strerror(err));
}

std::string Shown(std::string_view content) {
  std::string_view cut = content.substr(0, kShownContent);
  return Printable(cut) + (cut.size() < content.size() ? " ..." : "");
}

struct flock WholeFile(short type) {
  struct flock lk = {};
  lk.l_type = type;
  lk.l_whence = SEEK_SET;
  lk.l_start = 0;
  lk.l_len = 0;
  return lk;
}

// O_NONBLOCK: opening a FIFO planted at the path must not hang the run.
// O_NOFOLLOW: the lock directory is shared; never write through a symlink.
Status OpenLockFile(const std::string& path, int* fd) {
  int flags = O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  do {
    *fd = ::open(path.c_str(), flags, 0644);
  } while (*fd < 0 && errno == EINTR);
  if (*fd < 0) {
    if (errno == ELOOP) {
      return Status::Error("lock file " + path + " is a symbolic link; refusing to follow it");
    }
    return FileError("cannot open", path, errno);
  }
  struct stat st;
  if (::fstat(*fd, &st) != 0) {
    int err = errno;
    ::close(*fd);
    return FileError("cannot stat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(*fd);
    return Status::Error("lock file " + path + " is not a regular file");
  }
  return Status::Ok();
}

Status ReadContent(int fd, const std::string& path, std::string* out) {
  std::string buffer(kMaxContent, '\0');
  ssize_t n;
  do {
    n = ::pread(fd, buffer.data(), buffer.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return FileError("cannot read", path, errno);
  buffer.resize(static_cast<size_t>(n));
  *out = std::move(buffer);
  return Status::Ok();
}

Status WriteContent(int fd, const std::string& path, const std::string& content) {
  if (::ftruncate(fd, 0) != 0) return FileError("cannot truncate", path, errno);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n =
        ::pwrite(fd, content.data() + done, content.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileError("cannot write", path, errno);
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return FileError("cannot fsync", path, errno);
  return Status::Ok();
}

// Who holds the lock, from the file and from the kernel (F_GETLK's pid, 0
// when the kernel cannot tell). The file's details are trusted only when
// its pid is the kernel's: a holder writes them right after locking, so for
// an instant the file may still show the previous run.
std::string Holder(const std::string& content, pid_t locker) {
  LockOwner owner;
  if (ParseLockOwner(content, &owner) && (locker <= 0 || owner.pid == locker)) {
    return "another zrecon (" + owner.Describe() + ")";
  }
  std::string who =
      locker > 0 ? "another process (pid " + std::to_string(locker) + ")" : "another process";
  if (content.empty()) return who + ", which has not written its details yet,";
  return who + ", whose lock file reads \"" + Shown(content) + "\",";
}

// What to tell the operator about content left in a lock nobody held.
std::string TakeOverNote(const std::string& path, const std::string& content) {
  if (content.empty()) return "";
  LockOwner owner;
  if (ParseLockOwner(content, &owner)) {
    return "took over lock file " + path + " from zrecon (" + owner.Describe() +
           "), which ended without releasing it (killed or crashed); its work may be "
           "unfinished, and this run starts from the host's current state";
  }
  return "lock file " + path + " held \"" + Shown(content) +
         "\", which is not a lock record, and no process held the lock; it was taken and "
         "overwritten";
}

// F_SETLK; on refusal, *locker is the holder's pid as the kernel reports it
// (0 when it cannot tell). A holder that lets go between the two calls is
// asked for again.
Status TryLock(int fd, const std::string& path, bool* got, pid_t* locker) {
  constexpr int kAttempts = 3;
  for (int i = 0; i < kAttempts; ++i) {
    struct flock lk = WholeFile(F_WRLCK);
    if (::fcntl(fd, F_SETLK, &lk) == 0) {
      *got = true;
      return Status::Ok();
    }
    if (errno == EINTR) continue;
    if (errno != EACCES && errno != EAGAIN) return FileError("cannot lock", path, errno);
    struct flock probe = WholeFile(F_WRLCK);
    if (::fcntl(fd, F_GETLK, &probe) != 0) return FileError("cannot query", path, errno);
    if (probe.l_type == F_UNLCK) continue;
    *got = false;
    *locker = probe.l_pid;
    return Status::Ok();
  }
  *got = false;
  *locker = 0;
  return Status::Ok();
}

// The part of Acquire that runs with the file open; closing the file on
// failure is the caller's.
Status LockOpenFile(int fd, const std::string& path, const std::string& command,
                    EpochSeconds started, std::string* note) {
  bool got = false;
  pid_t locker = 0;
  Status s = TryLock(fd, path, &got, &locker);
  if (!s.ok()) return s;
  std::string content;
  s = ReadContent(fd, path, &content);
  if (!s.ok()) return s;
  if (!got) {
    return Status::Error(Holder(content, locker) + " holds " + path +
                         "; nothing was changed. Run again once it has finished.");
  }
  LockOwner me;
  me.pid = static_cast<int64_t>(::getpid());
  me.started = FormatRfc3339(started);
  me.command = command;
  s = WriteContent(fd, path, FormatLockOwner(me));
  if (!s.ok()) {
    // Best effort: put back what was there (empty after a clean run), so
    // that the next run does not take this one, which changed nothing, for
    // a holder that crashed.
    (void)WriteContent(fd, path, content);
    return s;
  }
  *note = TakeOverNote(path, content);
  return Status::Ok();
}

}  // namespace

std::string LockOwner::Describe() const {
  std::string text = "pid " + std::to_string(pid);
  if (!command.empty()) text += ", `" + command + "`";
  if (!started.empty()) text += ", started " + started;
  return text;
}

std::string FormatLockOwner(const LockOwner& owner) {
  return "pid " + std::to_string(owner.pid) + "\nstarted " + Printable(owner.started) +
         "\ncommand " + Printable(owner.command) + "\n";
}

bool ParseLockOwner(std::string_view text, LockOwner* owner) {
  LockOwner parsed;
  bool have_pid = false;
  for (std::string_view line : Split(text, '\n')) {
    std::vector<std::string_view> kv = SplitN(line, ' ', 2);
    if (kv.size() != 2) continue;
    if (kv[0] == "pid") {
      have_pid = ParseInt64(kv[1], &parsed.pid) && parsed.pid > 0;
      if (!have_pid) return false;
    } else if (kv[0] == "started") {
      parsed.started = std::string(kv[1]);
    } else if (kv[0] == "command") {
      parsed.command = std::string(kv[1]);
    }
  }
  if (!have_pid) return false;
  *owner = std::move(parsed);
  return true;
}

Status HostLock::Acquire(const std::string& path, const std::string& command, EpochSeconds started,
                         std::unique_ptr<HostLock>* lock, std::string* note) {
  note->clear();
  if (held_in_process.load()) {
    return Status::Error("cannot lock " + path +
                         ": this process already holds a zrecon lock (one per process)");
  }
  int fd = -1;
  Status s = OpenLockFile(path, &fd);
  if (!s.ok()) return s;
  s = LockOpenFile(fd, path, command, started, note);
  if (!s.ok()) {
    ::close(fd);
    return s;
  }
  held_in_process.store(true);
  lock->reset(new HostLock(path, fd));
  return Status::Ok();
}

// Emptied before the close that drops the lock, so a run that finds content
// knows its writer did not get here. A failure is not reported: the run's
// work is done, and a record left behind only makes the next run take the
// lock over with a note.
HostLock::~HostLock() {
  if (::ftruncate(fd_, 0) == 0) ::fsync(fd_);
  ::close(fd_);
  held_in_process.store(false);
}

}  // namespace zrecon
