#ifndef ZRECON_UTIL_INTERRUPT_H_
#define ZRECON_UTIL_INTERRUPT_H_

#include <atomic>
#include <string>

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

}  // namespace zrecon

#endif  // ZRECON_UTIL_INTERRUPT_H_
