#include "reconciler/host/posix_host.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

#include "reconciler/util/strings.h"

extern char** environ;

namespace zrecon {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 64 * 1024;
// How long a child may take to exit after SIGTERM before it gets SIGKILL,
// and how long its pipes may stay open after SIGKILL before we stop reading.
constexpr std::chrono::seconds kKillGrace(2);

std::string ErrnoText(int error) { return std::strerror(error); }

// Owns one file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
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
  int Release() { return std::exchange(fd_, -1); }
  // close(2) is not retried on EINTR: Linux and illumos release the
  // descriptor even then, and a retry could close one another thread opened.
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// Moves *fd above the standard descriptors and marks it close-on-exec. When
// zrecon itself runs with stdin/stdout/stderr closed, pipe() and open() hand
// out 0..2; a dup2 onto the same number would then be a no-op that leaves
// FD_CLOEXEC set (older glibc), and the child would lose that stream. The
// flag is set with fcntl rather than pipe2/O_CLOEXEC-only calls that older
// illumos lacks.
Status PrepareParentFd(Fd* fd) {
  if (fd->get() <= STDERR_FILENO) {
    int moved = ::fcntl(fd->get(), F_DUPFD, STDERR_FILENO + 1);
    if (moved < 0) return Status::Error("cannot duplicate a descriptor: " + ErrnoText(errno));
    fd->Reset(moved);
  }
  int flags = ::fcntl(fd->get(), F_GETFD);
  if (flags < 0 || ::fcntl(fd->get(), F_SETFD, flags | FD_CLOEXEC) < 0) {
    return Status::Error("cannot set close-on-exec: " + ErrnoText(errno));
  }
  return Status::Ok();
}

Status MakePipe(Fd* read_end, Fd* write_end) {
  int fds[2];
  if (::pipe(fds) < 0) return Status::Error("cannot create a pipe: " + ErrnoText(errno));
  read_end->Reset(fds[0]);
  write_end->Reset(fds[1]);
  Status status = PrepareParentFd(read_end);
  return status.ok() ? PrepareParentFd(write_end) : status;
}

Status OpenDevNull(Fd* fd) {
  int raw;
  do {
    raw = ::open("/dev/null", O_RDONLY);
  } while (raw < 0 && errno == EINTR);
  if (raw < 0) return Status::Error("cannot open /dev/null: " + ErrnoText(errno));
  fd->Reset(raw);
  return PrepareParentFd(fd);
}

// The parent's descriptors that become the child's stdin, stdout and stderr;
// each must be above 2 (see PrepareParentFd).
struct ChildStdio {
  int in;
  int out;
  int err;
};

// posix_spawn attribute and file-action objects, destroyed on every path.
class SpawnSetup {
 public:
  SpawnSetup() {
    actions_ok_ = posix_spawn_file_actions_init(&actions_) == 0;
    attr_ok_ = posix_spawnattr_init(&attr_) == 0;
  }
  ~SpawnSetup() {
    if (actions_ok_) posix_spawn_file_actions_destroy(&actions_);
    if (attr_ok_) posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // Returns 0 or an errno value.
  int Configure(const ChildStdio& stdio) {
    if (!actions_ok_ || !attr_ok_) return ENOMEM;
    const int targets[] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
    const int sources[] = {stdio.in, stdio.out, stdio.err};
    for (int i = 0; i < 3; ++i) {
      if (int rc = posix_spawn_file_actions_adddup2(&actions_, sources[i], targets[i])) return rc;
    }
    std::vector<int> originals(std::begin(sources), std::end(sources));
    std::sort(originals.begin(), originals.end());
    originals.erase(std::unique(originals.begin(), originals.end()), originals.end());
    for (int fd : originals) {
      if (int rc = posix_spawn_file_actions_addclose(&actions_, fd)) return rc;
    }
    // An ignored SIGPIPE (as a CLI writing to pipes may set) would be
    // inherited across exec, and `zfs send` into a closed pipe would then
    // spin on EPIPE instead of dying. Blocked signals are inherited too.
    sigset_t none, pipe_only;
    sigemptyset(&none);
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    if (int rc = posix_spawnattr_setsigmask(&attr_, &none)) return rc;
    if (int rc = posix_spawnattr_setsigdefault(&attr_, &pipe_only)) return rc;
    return posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }

  const posix_spawn_file_actions_t* actions() const { return &actions_; }
  const posix_spawnattr_t* attr() const { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
  bool actions_ok_ = false;
  bool attr_ok_ = false;
};

Status Spawn(const Argv& argv, const ChildStdio& stdio, pid_t* pid) {
  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  for (const std::string& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);
  SpawnSetup setup;
  int rc = setup.Configure(stdio);
  if (rc == 0) {
    rc = posix_spawnp(pid, c_argv[0], setup.actions(), setup.attr(), c_argv.data(), environ);
  }
  if (rc != 0) return Status::Error("cannot run " + Printable(argv[0]) + ": " + ErrnoText(rc));
  return Status::Ok();
}

// Escalates against a child that overruns its time limit: SIGTERM at the
// deadline, SIGKILL a grace period later, and a further grace period later
// it tells the reader to stop waiting for EOF (a grandchild that inherited
// the pipes may keep them open after the child is gone).
class Watchdog {
 public:
  Watchdog(pid_t pid, int timeout_seconds) : pid_(pid), enabled_(timeout_seconds > 0) {
    if (enabled_) due_ = Clock::now() + std::chrono::seconds(timeout_seconds);
  }

  // How long poll(2) may sleep before the next step is due; -1: forever.
  int PollTimeoutMs() const {
    if (!enabled_) return -1;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(due_ - Clock::now()).count();
    return static_cast<int>(std::clamp<decltype(left)>(left, 0, INT_MAX));
  }

  // Takes the step that is due, if any. False once reading should stop.
  bool Tick() {
    if (!enabled_ || Clock::now() < due_) return stage_ != Stage::kAbandoned;
    switch (stage_) {
      case Stage::kRunning:
        ::kill(pid_, SIGTERM);
        stage_ = Stage::kTerminated;
        break;
      case Stage::kTerminated:
        ::kill(pid_, SIGKILL);
        stage_ = Stage::kKilled;
        break;
      case Stage::kKilled:
      case Stage::kAbandoned:
        stage_ = Stage::kAbandoned;
        return false;
    }
    due_ = Clock::now() + kKillGrace;
    return true;
  }

  bool fired() const { return stage_ != Stage::kRunning; }

 private:
  enum class Stage { kRunning, kTerminated, kKilled, kAbandoned };
  pid_t pid_;
  bool enabled_;
  Stage stage_ = Stage::kRunning;
  Clock::time_point due_;
};

// A pipe the parent reads until EOF, handing each chunk to sink.
struct Drain {
  Fd fd;
  std::function<void(std::string_view)> sink;
};

// Appends with explicit doubling: a 150 MB `zfs list` arrives in 64 KiB
// pieces and must not cost a reallocation per piece.
void AppendGrowing(std::string* out, std::string_view chunk) {
  if (out->capacity() - out->size() < chunk.size()) {
    out->reserve(std::max(2 * out->capacity(), out->size() + chunk.size()));
  }
  out->append(chunk);
}

// Reads one chunk from a drain that poll reported ready; closes it at EOF.
Status ReadOnce(Drain* drain, std::vector<char>* buffer) {
  ssize_t n = ::read(drain->fd.get(), buffer->data(), buffer->size());
  if (n > 0) {
    drain->sink(std::string_view(buffer->data(), static_cast<size_t>(n)));
  } else if (n == 0) {
    drain->fd.Reset();
  } else if (errno != EINTR && errno != EAGAIN) {
    return Status::Error(ErrnoText(errno));
  }
  return Status::Ok();
}

// Reads every drain concurrently until all reach EOF, so a child that fills
// one pipe while we wait on the other cannot deadlock. Sets *timed_out when
// the watchdog had to act.
Status PumpUntilEof(pid_t pid, int timeout_seconds, std::vector<Drain>* drains, bool* timed_out) {
  Watchdog watchdog(pid, timeout_seconds);
  std::vector<char> buffer(kReadChunk);
  std::vector<pollfd> fds;
  std::vector<Drain*> polled;
  for (;;) {
    fds.clear();
    polled.clear();
    for (Drain& drain : *drains) {
      if (!drain.fd.valid()) continue;
      fds.push_back(pollfd{drain.fd.get(), POLLIN, 0});
      polled.push_back(&drain);
    }
    if (fds.empty()) break;
    int ready = ::poll(fds.data(), static_cast<nfds_t>(fds.size()), watchdog.PollTimeoutMs());
    if (ready < 0 && errno != EINTR) return Status::Error("poll: " + ErrnoText(errno));
    if (!watchdog.Tick()) break;
    for (size_t i = 0; ready > 0 && i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Status status = ReadOnce(polled[i], &buffer);
      if (!status.ok()) return status;
    }
  }
  *timed_out = watchdog.fired();
  return Status::Ok();
}

Status Reap(pid_t pid, int* exit_code) {
  int wait_status = 0;
  pid_t got;
  do {
    got = ::waitpid(pid, &wait_status, 0);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return Status::Error(ErrnoText(errno));
  if (WIFEXITED(wait_status)) {
    *exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    *exit_code = 128 + WTERMSIG(wait_status);
  } else {
    *exit_code = -1;
  }
  return Status::Ok();
}

Status CheckArgv(const Argv& argv) {
  if (argv.empty() || argv[0].empty()) return Status::Error("cannot run an empty command");
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i].find('\0') != std::string::npos) {
      return Status::Error("cannot run " + Printable(argv[0]) + ": argument " + std::to_string(i) +
                           " contains a NUL byte: " + Printable(argv[i]));
    }
  }
  return Status::Ok();
}

}  // namespace

Status PosixHost::Run(const Argv& argv, CommandResult* result) {
  *result = CommandResult();
  Status status = CheckArgv(argv);
  Fd in, out_read, out_write, err_read, err_write;
  if (status.ok()) status = OpenDevNull(&in);
  if (status.ok()) status = MakePipe(&out_read, &out_write);
  if (status.ok()) status = MakePipe(&err_read, &err_write);
  pid_t pid = -1;
  if (status.ok()) status = Spawn(argv, {in.get(), out_write.get(), err_write.get()}, &pid);
  if (!status.ok()) return status;
  // The parent must drop its write ends, or the pipes never reach EOF.
  in.Reset();
  out_write.Reset();
  err_write.Reset();

  std::vector<Drain> drains;
  drains.push_back({std::move(out_read),
                    [result](std::string_view chunk) { AppendGrowing(&result->out, chunk); }});
  drains.push_back({std::move(err_read),
                    [result](std::string_view chunk) { AppendGrowing(&result->err, chunk); }});
  Status pumped = PumpUntilEof(pid, timeout_seconds_, &drains, &result->timed_out);
  if (!pumped.ok()) ::kill(pid, SIGKILL);
  Status reaped = Reap(pid, &result->exit_code);
  if (!pumped.ok()) return pumped.Prefixed("cannot read the output of " + Printable(argv[0]));
  return reaped.Prefixed("cannot wait for " + Printable(argv[0]));
}

}  // namespace zrecon
