#ifndef ZRECON_HOST_POSIX_HOST_H_
#define ZRECON_HOST_POSIX_HOST_H_

#include "reconciler/host/host.h"
#include "reconciler/util/interrupt.h"

namespace zrecon {

// Runs commands with posix_spawnp and poll(2): no shell, stdin from
// /dev/null (or fed from a ByteSource), stdout and stderr read concurrently
// (no pipe deadlock). Portable POSIX: works on illumos and Linux.
//
// Streams move in 1 MiB chunks with no per-chunk allocation or copy: each
// chunk read from the child goes straight to ByteSink::Write, and each chunk
// from ByteSource::Read is written to the child from the same buffer.
//
// RunToFile hands the child a duplicate of the caller's descriptor as its
// stdout, so the bytes never pass through zrecon (the fast path of an
// export: see StreamFile::BeginDirect); only stderr is read. It fails before
// starting anything when the descriptor is not open for writing. Unlike a
// pipe, a file does not stop a child whose parent died: if zrecon is killed
// mid-stream, the child writes on to the end of its stream.
//
// When a sink or source fails, the child gets SIGTERM (SIGKILL after a grace
// period), is reaped, and the Run* call returns that Status prefixed with
// the command line; result->exit_code and result->err describe the child.
//
// RunFromSource: a child that exits or closes its stdin before the source
// is exhausted stops the feeding (the write gets EPIPE) and the result is
// the child's own exit code and stderr, which explain why. If such a child
// nevertheless exits 0, the call fails: its input was not all consumed.
//
// The caller must ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)) before calling
// RunFromSource, or the EPIPE above kills the whole process; the library
// never changes process-wide signal state. Children start with SIGPIPE at
// its default and no signals blocked either way.
class PosixHost : public Host {
 public:
  // timeout_seconds <= 0: wait forever (what `zfs send` of a large dataset
  // needs). On timeout the child gets SIGTERM, then SIGKILL after a grace
  // period, and timed_out is set.
  //
  // `interrupt` (optional, must outlive the host): a command running when it
  // is raised is stopped the same way, and the call fails with
  // "interrupted by SIGINT" (Interrupt::Describe) prefixed with the command
  // line. Commands started after it was raised are not watched.
  //
  // `stall_seconds` > 0: a stream (RunToSink, RunFromSource, RunToFile; the
  // file's size for the latter) that moves no byte for that long is stopped
  // the same way, and the call fails with "stalled: no data moved for N
  // seconds (--stall-timeout)". It measures from the last byte, so it suits
  // transfers that may take hours; Run ignores it.
  explicit PosixHost(int timeout_seconds = 0, const Interrupt* interrupt = nullptr,
                     int stall_seconds = 0)
      : timeout_seconds_(timeout_seconds), interrupt_(interrupt), stall_seconds_(stall_seconds) {}
  Status Run(const Argv& argv, CommandResult* result) override;
  Status RunToSink(const Argv& argv, ByteSink* sink, CommandResult* result) override;
  Status RunFromSource(const Argv& argv, ByteSource* source, CommandResult* result) override;
  Status RunToFile(const Argv& argv, int fd, CommandResult* result) override;
  Status RunWithin(const Argv& argv, int seconds, CommandResult* result) override;

 private:
  int timeout_seconds_;
  const Interrupt* interrupt_;
  int stall_seconds_;
};

}  // namespace zrecon

#endif  // ZRECON_HOST_POSIX_HOST_H_
