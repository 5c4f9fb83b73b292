#ifndef ZRECON_UTIL_INTERRUPT_H_
#define ZRECON_UTIL_INTERRUPT_H_

#include <atomic>
#include <string>
#include <vector>

namespace zrecon {

// A request to end a run early: Ctrl-C, SIGTERM from a service manager or
// a `timeout` wrapper. The library never installs signal handlers; the CLI
// does, and its handler calls Raise, which is async-signal-safe.
//
// What waits watches it: PosixHost stops the command that is running when
// the interrupt is raised (SIGTERM to the child, SIGKILL after a grace
// period), and the executors start no further action or step. A command
// started after the interrupt runs normally, so the cleanup of a stopped
// restore (destroying a half-received dataset) still happens.
class Interrupt {
 public:
  // Creates the pipe that wakes poll(2). If that fails, fd() is -1 and only
  // raised() tells: a running command then finishes before the run stops.
  Interrupt();
  ~Interrupt();
  Interrupt(const Interrupt&) = delete;
  Interrupt& operator=(const Interrupt&) = delete;

  // Async-signal-safe. The first signal number is kept.
  void Raise(int signal_number);

  bool raised() const { return signal_.load(std::memory_order_acquire) != 0; }
  int signal_number() const { return signal_.load(std::memory_order_acquire); }
  // Readable once raised (level-triggered: nothing ever drains it).
  int fd() const { return read_fd_; }
  // "interrupted by SIGINT", "interrupted by signal 40", or "" before Raise.
  std::string Describe() const;

 private:
  std::atomic<int> signal_{0};
  int read_fd_ = -1;
  int write_fd_ = -1;
};

// Sleeps `ms` milliseconds, or less once `interrupt` (optional) is raised:
// false when it was (before or during the sleep).
bool SleepUnlessInterrupted(const Interrupt* interrupt, int ms);

// How long a transfer to or from a remote destination (ssh, S3) may wait,
// and what ends it early: what --stall-timeout and SIGINT/SIGTERM mean
// there, as they do for a local `zfs send` (host/posix_host.h).
struct TransferLimits {
  // A request that moves no byte for this long fails (an SFTP session is
  // given up; an HTTP request fails, and is retried like a dropped
  // connection). 0: no limit (ssh's keep-alives and TCP's still notice a
  // dead peer).
  int stall_seconds = 120;
  // Optional. Once raised, no retry or reconnect waits, and a request
  // still unanswered gets kInterruptGraceSeconds (so that the cleanup of a
  // stopped upload reaches a remote that answers) before it fails.
  const Interrupt* interrupt = nullptr;
};
constexpr int kInterruptGraceSeconds = 5;

// The waits before each attempt to reach a remote destination again once
// its transport gave up (Destination::Recover, the ssh tree's reconnect).
inline const std::vector<int>& ReconnectWaitsMs() {
  static const std::vector<int> waits = {2000, 4000, 8000};
  return waits;
}

}  // namespace zrecon

#endif  // ZRECON_UTIL_INTERRUPT_H_
