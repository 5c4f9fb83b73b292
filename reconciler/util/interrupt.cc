#include "reconciler/util/interrupt.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <thread>

namespace zrecon {

namespace {

bool SetFlags(int fd) {
  int fd_flags = ::fcntl(fd, F_GETFD);
  int fl_flags = ::fcntl(fd, F_GETFL);
  return fd_flags >= 0 && fl_flags >= 0 && ::fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) == 0 &&
         ::fcntl(fd, F_SETFL, fl_flags | O_NONBLOCK) == 0;
}

}  // namespace

static_assert(std::atomic<int>::is_always_lock_free, "Raise must be async-signal-safe");

// pipe(2) and fcntl(2) rather than pipe2(2): the close-on-exec and
// non-blocking flags are set before any child can be spawned, and both
// calls are POSIX (illumos has pipe2 too, but older releases do not).
Interrupt::Interrupt() {
  int fds[2];
  if (::pipe(fds) != 0) return;
  if (!SetFlags(fds[0]) || !SetFlags(fds[1])) {
    ::close(fds[0]);
    ::close(fds[1]);
    return;
  }
  read_fd_ = fds[0];
  write_fd_ = fds[1];
}

Interrupt::~Interrupt() {
  if (read_fd_ >= 0) ::close(read_fd_);
  if (write_fd_ >= 0) ::close(write_fd_);
}

void Interrupt::Raise(int signal_number) {
  int expected = 0;
  if (!signal_.compare_exchange_strong(expected, signal_number, std::memory_order_acq_rel)) return;
  if (write_fd_ >= 0) {
    const char byte = 1;
    // Nothing to do on failure: a full pipe is readable already.
    ssize_t ignored = ::write(write_fd_, &byte, 1);
    (void)ignored;
  }
}

std::string Interrupt::Describe() const {
  switch (int s = signal_number()) {
    case 0:
      return "";
    case SIGINT:
      return "interrupted by SIGINT";
    case SIGTERM:
      return "interrupted by SIGTERM";
    case SIGHUP:
      return "interrupted by SIGHUP";
    default:
      return "interrupted by signal " + std::to_string(s);
  }
}

bool SleepUnlessInterrupted(const Interrupt* interrupt, int ms) {
  if (interrupt == nullptr || interrupt->fd() < 0) {
    if (interrupt != nullptr && interrupt->raised()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return interrupt == nullptr || !interrupt->raised();
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!interrupt->raised()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return true;
    struct pollfd p = {interrupt->fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) < 0 && errno != EINTR) {
      std::this_thread::sleep_for(std::chrono::milliseconds(left));
    }
  }
  return false;
}

}  // namespace zrecon
