#include "reconciler/host/posix_host.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "reconciler/util/fd.h"
#include "reconciler/util/spawn.h"
#include "reconciler/util/strings.h"

extern char** environ;

namespace zrecon {

namespace {

using Clock = std::chrono::steady_clock;

// Every read from and write to a child moves at most this much. Large
// chunks keep the per-chunk costs (poll, system calls, the sink's own
// bookkeeping) negligible next to the bytes of a multi-GiB `zfs send`.
constexpr size_t kChunk = 1 << 20;
// How long a child may take to exit after SIGTERM before it gets SIGKILL,
// and how long its pipes may stay open after SIGKILL before we stop reading.
constexpr std::chrono::seconds kKillGrace(2);

std::string ErrnoText(int error) { return std::strerror(error); }

Status SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return Status::Error("cannot make a pipe non-blocking: " + ErrnoText(errno));
  }
  return Status::Ok();
}

// Linux pipes hold 64 KiB by default, so a 1 MiB chunk would cross in
// sixteen pieces, each a wakeup of the reader and the writer. Growing the
// pipe may fail (the per-user limit on pipe memory): that only costs speed.
// illumos has no such call.
void GrowPipe(int fd) {
#ifdef F_SETPIPE_SZ
  (void)::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(kChunk));
#else
  (void)fd;
#endif
}

// Which of the child's standard streams carries a ByteSink/ByteSource
// stream, or (kFile) goes straight to a caller's descriptor, rather than
// being captured text or /dev/null.
enum class Stream { kNone, kStdout, kStdin, kFile };

// A duplicate of the caller's `fd` for the child's stdout, so that the
// caller's descriptor keeps its flags and stays open whatever happens here.
// The access mode is checked first: a child handed a read-only stdout would
// fail with EBADF on its first write, far from the cause.
Status DuplicateOutput(int fd, Fd* out) {
  const std::string name = "descriptor " + std::to_string(fd);
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return Status::Error(name + " is not open");
  if ((flags & O_ACCMODE) == O_RDONLY) return Status::Error(name + " is not open for writing");
  int copy = ::fcntl(fd, F_DUPFD, STDERR_FILENO + 1);
  if (copy < 0) return Status::Error("cannot duplicate " + name + ": " + ErrnoText(errno));
  out->Reset(copy);
  return PrepareParentFd(out);
}

// The parent's ends of a started child's pipes.
struct Child {
  pid_t pid = -1;
  Fd in;   // write end of the stdin pipe; invalid when stdin is /dev/null
  Fd out;  // read end of the stdout pipe; invalid when stdout is a file
  Fd err;  // read end of the stderr pipe
};

// The parent's stdin end is non-blocking: a blocking write of a whole
// chunk into a pipe with less room would wait for the child to read, while
// the child may be waiting for us to drain its stdout or stderr. (The flag
// belongs to the parent's open file description; the child's end blocks.)
// `file` is the caller's descriptor for Stream::kFile, else unused.
Status StartChild(const Argv& argv, Stream stream, int file, Child* child) {
  Status status = CheckArgv(argv);
  Fd in, out, err;  // the child's ends, closed here once it has them
  if (status.ok()) {
    status = stream == Stream::kStdin ? MakePipe(&in, &child->in) : OpenDevNull(&in);
  }
  if (status.ok() && stream == Stream::kStdin) {
    GrowPipe(child->in.get());
    status = SetNonBlocking(child->in.get());
  }
  if (status.ok() && stream == Stream::kFile) {
    status = DuplicateOutput(file, &out).Prefixed("cannot run " + Printable(argv[0]));
  } else if (status.ok()) {
    status = MakePipe(&child->out, &out);
  }
  if (status.ok() && stream == Stream::kStdout) GrowPipe(child->out.get());
  if (status.ok()) status = MakePipe(&child->err, &err);
  if (status.ok()) status = SpawnChild(argv, {in.get(), out.get(), err.get()}, &child->pid);
  return status;
}

// Escalates against a child that overruns its time limit, or that the
// parent gives up on (Terminate): SIGTERM, SIGKILL a grace period later, and
// a further grace period later it tells the reader to stop waiting for EOF
// (a grandchild that inherited the pipes may keep them open after the child
// is gone).
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
        timed_out_ = true;
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

  // Sends SIGTERM now and starts the grace period, whatever the timeout.
  void Terminate() {
    if (stage_ != Stage::kRunning) return;
    ::kill(pid_, SIGTERM);
    stage_ = Stage::kTerminated;
    enabled_ = true;
    due_ = Clock::now() + kKillGrace;
  }

  // True while a signal is still to be sent: waiting for the child must
  // keep ticking rather than block.
  bool armed() const {
    return enabled_ && (stage_ == Stage::kRunning || stage_ == Stage::kTerminated);
  }
  bool timed_out() const { return timed_out_; }

 private:
  enum class Stage { kRunning, kTerminated, kKilled, kAbandoned };
  pid_t pid_;
  bool enabled_;
  bool timed_out_ = false;
  Stage stage_ = Stage::kRunning;
  Clock::time_point due_;
};

// Stops a stream transfer that moves no data for `seconds` (a hung disk or
// pool under `zfs send`, a receive that stopped reading): what the time
// limit is for other commands, measured from the last byte instead of the
// start. `moved` reports the bytes moved so far, in any unit that grows;
// `complete` (optional) says the stream has ended, after which the child may
// take its time (a receive committing what it got).
class StallGuard {
 public:
  StallGuard(int seconds, std::function<uint64_t()> moved, std::function<bool()> complete)
      : limit_(seconds),
        enabled_(seconds > 0 && moved),
        moved_(std::move(moved)),
        complete_(std::move(complete)) {
    if (enabled_) {
      last_ = moved_();
      since_ = Clock::now();
    }
  }

  // How long poll(2) may sleep before the next check; -1: no checks.
  int PollTimeoutMs() const { return enabled_ ? kCheckMs : -1; }

  // True (once) when nothing moved for the limit.
  bool Stalled() {
    if (enabled_ && complete_ && complete_()) enabled_ = false;
    if (!enabled_) return false;
    const uint64_t now_moved = moved_();
    const auto now = Clock::now();
    if (now_moved != last_) {
      last_ = now_moved;
      since_ = now;
      return false;
    }
    if (now - since_ < limit_) return false;
    enabled_ = false;
    return true;
  }

  std::string Describe() const {
    return "stalled: no data moved for " + std::to_string(limit_.count()) +
           (limit_.count() == 1 ? " second" : " seconds") + " (--stall-timeout)";
  }

 private:
  static constexpr int kCheckMs = 250;
  std::chrono::seconds limit_;
  bool enabled_;
  std::function<uint64_t()> moved_;
  std::function<bool()> complete_;
  uint64_t last_ = 0;
  Clock::time_point since_;
};

// The earlier of two poll(2) timeouts, -1 meaning none.
int EarlierTimeout(int a, int b) {
  if (a < 0) return b;
  if (b < 0) return a;
  return std::min(a, b);
}

// A pipe the parent reads until EOF, handing each chunk to `consume`; a
// failed Status from it stops the child.
struct Drain {
  Fd fd;
  std::function<Status(std::string_view)> consume;
};

// Appends with explicit doubling: a 150 MB `zfs list` arrives in pieces and
// must not cost a reallocation per piece.
void AppendGrowing(std::string* out, std::string_view chunk) {
  if (out->capacity() - out->size() < chunk.size()) {
    out->reserve(std::max(2 * out->capacity(), out->size() + chunk.size()));
  }
  out->append(chunk);
}

Drain Capture(Fd fd, std::string* into) {
  return {std::move(fd), [into](std::string_view chunk) {
            AppendGrowing(into, chunk);
            return Status::Ok();
          }};
}

// Reads one chunk from a drain that poll reported ready and hands it on;
// closes the drain at EOF, or when the consumer fails (*rejected).
Status ReadOnce(Drain* drain, char* buffer, Status* rejected) {
  ssize_t n = ::read(drain->fd.get(), buffer, kChunk);
  if (n > 0) {
    *rejected = drain->consume(std::string_view(buffer, static_cast<size_t>(n)));
    if (!rejected->ok()) drain->fd.Reset();
  } else if (n == 0) {
    drain->fd.Reset();
  } else if (errno != EINTR && errno != EAGAIN) {
    return Status::Error("read: " + ErrnoText(errno));
  }
  return Status::Ok();
}

// The child's stdin, fed chunk by chunk from a ByteSource. A chunk is
// written from the buffer it was read into, in as many non-blocking writes
// as the pipe takes, before the next one is read.
class Feed {
 public:
  Feed(Fd fd, ByteSource* source)
      : fd_(std::move(fd)), source_(source), buffer_(new char[kChunk]) {}

  // Whether the loop should wait for room in the pipe.
  bool active() const { return fd_.valid() && !halted_; }
  int fd() const { return fd_.get(); }

  // Reads the next chunk once the previous one is all written. At the end of
  // the source it closes stdin: that EOF is how the child learns the stream
  // is complete.
  Status Refill() {
    if (begin_ < end_ || !active()) return Status::Ok();
    size_t got = 0;
    Status read = source_->Read(buffer_.get(), kChunk, &got);
    if (!read.ok()) return read;
    if (got > kChunk) return Status::Error("the input source returned more bytes than asked for");
    if (got == 0) fd_.Reset();
    begin_ = 0;
    end_ = got;
    return Status::Ok();
  }

  // Writes what the pipe takes now. EPIPE means the child exited or closed
  // its stdin: feeding stops, and its exit status tells why.
  Status WriteOnce() {
    ssize_t n = ::write(fd_.get(), buffer_.get() + begin_, end_ - begin_);
    if (n >= 0) {
      begin_ += static_cast<size_t>(n);
      delivered_ += static_cast<uint64_t>(n);
    } else if (errno == EPIPE) {
      refused_ = true;
      fd_.Reset();
    } else if (errno != EINTR && errno != EAGAIN) {
      return Status::Error("write: " + ErrnoText(errno));
    }
    return Status::Ok();
  }

  // Stops feeding but keeps stdin open, so that a child being terminated
  // does not first see a clean EOF.
  void Halt() { halted_ = true; }

  bool refused() const { return refused_; }
  uint64_t delivered() const { return delivered_; }

 private:
  Fd fd_;
  ByteSource* source_;
  std::unique_ptr<char[]> buffer_;  // not zeroed: written before it is read
  size_t begin_ = 0;
  size_t end_ = 0;
  uint64_t delivered_ = 0;
  bool halted_ = false;
  bool refused_ = false;
};

// Moves data between the parent and the child until every pipe is closed:
// all drains are read and the feed (if any) is written concurrently, so a
// child that fills one pipe while we wait on another cannot deadlock.
// Returns a failed Status only for a poll, read or write error. A failing
// drain consumer or source, `interrupt` being raised, or a stall is
// recorded in *stopped (the first one wins) and terminates the child, whose
// stderr is still read to its end.
Status Pump(Watchdog* watchdog, StallGuard* stall, std::vector<Drain>* drains, Feed* feed,
            const Interrupt* interrupt, Status* stopped) {
  std::unique_ptr<char[]> buffer(new char[kChunk]);
  std::vector<pollfd> fds;
  std::vector<Drain*> polled;
  auto stop = [&](const Status& why) {
    if (stopped->ok()) *stopped = why;
    watchdog->Terminate();
  };
  for (;;) {
    // Checked on every pass, so an interrupt without a pipe (fd -1) is
    // still seen at the next chunk; once acted on, no longer watched.
    if (interrupt != nullptr && interrupt->raised()) {
      stop(Status::Error(interrupt->Describe()));
      interrupt = nullptr;
    }
    if (feed != nullptr) {
      Status refilled = feed->Refill();
      if (!refilled.ok()) {
        stop(refilled);
        feed->Halt();
      }
    }
    fds.clear();
    polled.clear();
    for (Drain& drain : *drains) {
      if (!drain.fd.valid()) continue;
      fds.push_back(pollfd{drain.fd.get(), POLLIN, 0});
      polled.push_back(&drain);
    }
    const bool feeding = feed != nullptr && feed->active();
    if (feeding) fds.push_back(pollfd{feed->fd(), POLLOUT, 0});
    if (fds.empty()) break;
    // Last, after the feed: only wakes the loop, which checks raised().
    if (interrupt != nullptr && interrupt->fd() >= 0) {
      fds.push_back(pollfd{interrupt->fd(), POLLIN, 0});
    }
    int ready = ::poll(fds.data(), static_cast<nfds_t>(fds.size()),
                       EarlierTimeout(watchdog->PollTimeoutMs(), stall->PollTimeoutMs()));
    if (ready < 0 && errno != EINTR) return Status::Error("poll: " + ErrnoText(errno));
    if (!watchdog->Tick()) break;
    if (stall->Stalled()) stop(Status::Error(stall->Describe()));
    if (ready <= 0) continue;
    for (size_t i = 0; i < polled.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Status rejected;
      Status read = ReadOnce(polled[i], buffer.get(), &rejected);
      if (!read.ok()) return read;
      if (!rejected.ok()) stop(rejected);
    }
    if (feeding && fds[polled.size()].revents != 0) {
      Status written = feed->WriteOnce();
      if (!written.ok()) return written;
    }
  }
  return Status::Ok();
}

int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

// Waits for the child. While the watchdog still has a signal to send (a
// child that closed its pipes but has not exited, or ignores SIGTERM), it
// polls instead of blocking so that the signal still goes out on time.
Status Reap(pid_t pid, Watchdog* watchdog, int* exit_code) {
  constexpr int kReapPollMs = 10;
  int wait_status = 0;
  pid_t got;
  for (;;) {
    const bool armed = watchdog->armed();
    got = ::waitpid(pid, &wait_status, armed ? WNOHANG : 0);
    if (got != 0 && !(got < 0 && errno == EINTR)) break;
    if (got == 0) {
      ::poll(nullptr, 0, std::min(kReapPollMs, watchdog->PollTimeoutMs()));
      watchdog->Tick();
    }
  }
  if (got < 0) return Status::Error(ErrnoText(errno));
  *exit_code = ExitCode(wait_status);
  return Status::Ok();
}

std::string CommandLine(const Argv& argv) { return Printable(ShellJoin(argv)); }

// Pumps until the child has closed its pipes, then reaps it. Returns, in this
// order of precedence: an I/O failure (the child is killed at once), a wait
// failure, or the sink or source failure that stopped the child, prefixed
// with the command line.
Status Finish(const Argv& argv, pid_t pid, int timeout_seconds, const Interrupt* interrupt,
              StallGuard* stall, std::vector<Drain>* drains, Feed* feed, CommandResult* result) {
  Watchdog watchdog(pid, timeout_seconds);
  Status stopped;
  Status pumped = Pump(&watchdog, stall, drains, feed, interrupt, &stopped);
  if (!pumped.ok()) ::kill(pid, SIGKILL);
  Status reaped = Reap(pid, &watchdog, &result->exit_code);
  result->timed_out = watchdog.timed_out();
  if (!pumped.ok()) return pumped.Prefixed("cannot exchange data with " + Printable(argv[0]));
  if (!reaped.ok()) return reaped.Prefixed("cannot wait for " + Printable(argv[0]));
  return stopped.Prefixed(CommandLine(argv));
}

// Where a child's stdout goes and where its stdin comes from. kNone:
// stdout into result->out, stdin from /dev/null.
struct Streams {
  Stream kind = Stream::kNone;
  ByteSink* sink = nullptr;      // kStdout
  ByteSource* source = nullptr;  // kStdin
  int file = -1;                 // kFile: the caller's descriptor
};

// The size of the file behind `fd`: what a child writing into it has moved.
uint64_t FileSize(int fd) {
  struct stat info;
  return ::fstat(fd, &info) == 0 ? static_cast<uint64_t>(info.st_size) : 0;
}

// Runs argv to completion with the given streams. A command that starts
// after the interrupt was raised is not watched: it belongs to the cleanup
// of the interrupted run. `stall_seconds` > 0 applies to the stream (stdout
// into a sink or a file, stdin from a source), never to captured output.
Status RunChild(const Argv& argv, int timeout_seconds, const Interrupt* interrupt,
                int stall_seconds, const Streams& streams, CommandResult* result) {
  *result = CommandResult();
  if (interrupt != nullptr && interrupt->raised()) interrupt = nullptr;
  ByteSink* sink = streams.sink;
  ByteSource* source = streams.source;
  Child child;
  Status started = StartChild(argv, streams.kind, streams.file, &child);
  if (!started.ok()) return started;
  std::vector<Drain> drains;
  uint64_t sunk = 0;
  if (sink != nullptr) {
    drains.push_back({std::move(child.out), [sink, &sunk](std::string_view chunk) {
                        sunk += chunk.size();
                        return sink->Write(chunk.data(), chunk.size());
                      }});
  } else if (streams.kind != Stream::kFile) {
    drains.push_back(Capture(std::move(child.out), &result->out));
  }
  drains.push_back(Capture(std::move(child.err), &result->err));
  std::optional<Feed> feed;
  if (source != nullptr) feed.emplace(std::move(child.in), source);
  std::function<uint64_t()> moved;
  std::function<bool()> complete;
  if (streams.kind == Stream::kStdout) {
    moved = [&sunk] { return sunk; };
    complete = [&drains] { return !drains.front().fd.valid(); };  // stdout at EOF
  } else if (streams.kind == Stream::kStdin) {
    moved = [&feed] { return feed->delivered(); };
    complete = [&feed] { return !feed->active(); };  // the source is all fed
  } else if (streams.kind == Stream::kFile) {
    moved = [fd = streams.file] { return FileSize(fd); };
  }
  StallGuard stall(stall_seconds, std::move(moved), std::move(complete));
  Status status = Finish(argv, child.pid, timeout_seconds, interrupt, &stall, &drains,
                         feed ? &*feed : nullptr, result);
  // A receiver that stops reading normally fails, and its exit code says
  // why. One that exits 0 anyway has not seen the whole stream.
  if (status.ok() && feed && feed->refused() && result->exit_code == 0) {
    return Status::Error(CommandLine(argv) + " exited 0 but stopped reading its input after " +
                         std::to_string(feed->delivered()) + " bytes");
  }
  return status;
}

}  // namespace

Status PosixHost::Run(const Argv& argv, CommandResult* result) {
  return RunChild(argv, timeout_seconds_, interrupt_, stall_seconds_, Streams(), result);
}

Status PosixHost::RunWithin(const Argv& argv, int seconds, CommandResult* result) {
  return RunChild(argv, seconds, interrupt_, stall_seconds_, Streams(), result);
}

Status PosixHost::RunToSink(const Argv& argv, ByteSink* sink, CommandResult* result) {
  Streams streams;
  streams.kind = Stream::kStdout;
  streams.sink = sink;
  return RunChild(argv, timeout_seconds_, interrupt_, stall_seconds_, streams, result);
}

Status PosixHost::RunFromSource(const Argv& argv, ByteSource* source, CommandResult* result) {
  Streams streams;
  streams.kind = Stream::kStdin;
  streams.source = source;
  return RunChild(argv, timeout_seconds_, interrupt_, stall_seconds_, streams, result);
}

Status PosixHost::RunToFile(const Argv& argv, int fd, CommandResult* result) {
  Streams streams;
  streams.kind = Stream::kFile;
  streams.file = fd;
  return RunChild(argv, timeout_seconds_, interrupt_, stall_seconds_, streams, result);
}

}  // namespace zrecon
