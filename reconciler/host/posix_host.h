#ifndef ZRECON_HOST_POSIX_HOST_H_
#define ZRECON_HOST_POSIX_HOST_H_

#include "reconciler/host/host.h"

namespace zrecon {

// Runs commands with posix_spawnp and poll(2): no shell, stdin from
// /dev/null, stdout and stderr captured concurrently (no pipe deadlock).
// Portable POSIX: works on illumos and Linux.
class PosixHost : public Host {
 public:
  // timeout_seconds <= 0: wait forever. On timeout the child gets SIGTERM,
  // then SIGKILL after a grace period, and timed_out is set.
  explicit PosixHost(int timeout_seconds = 0) : timeout_seconds_(timeout_seconds) {}
  Status Run(const Argv& argv, CommandResult* result) override;

 private:
  int timeout_seconds_;
};

}  // namespace zrecon

#endif  // ZRECON_HOST_POSIX_HOST_H_
