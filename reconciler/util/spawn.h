#ifndef ZRECON_UTIL_SPAWN_H_
#define ZRECON_UTIL_SPAWN_H_

#include <sys/types.h>

#include <string>

#include "reconciler/util/command.h"
#include "reconciler/util/fd.h"
#include "reconciler/util/status.h"

namespace zrecon {

// Starting children with posix_spawn, portable POSIX: the pieces the host's
// command runner (host/posix_host.cc) and the ssh transport of a remote
// destination (storage/sftp_client.h) share. Never a shell.

// Moves *fd above the standard descriptors and marks it close-on-exec.
Status PrepareParentFd(Fd* fd);
// pipe(2), both ends prepared as above.
Status MakePipe(Fd* read_end, Fd* write_end);
// /dev/null for reading, prepared as above.
Status OpenDevNull(Fd* fd);

// The parent's descriptors that become the child's stdin, stdout and stderr;
// each must be above 2 (see PrepareParentFd).
struct ChildStdio {
  int in;
  int out;
  int err;
};

// Fails for an empty argv or an argument holding a NUL byte.
Status CheckArgv(const Argv& argv);

// posix_spawnp(argv) with `stdio`, SIGPIPE at its default and no signal
// blocked in the child (an ignored SIGPIPE or a blocked signal would be
// inherited across exec). With `own_group`, the child leads a process group
// of its own, so the terminal's Ctrl-C reaches zrecon only, which then ends
// the child when it is done with it.
Status SpawnChild(const Argv& argv, const ChildStdio& stdio, pid_t* pid, bool own_group = false);

// A long-running child spoken to over two pipes (its stdin and stdout), its
// stderr kept in an unlinked temporary file so that what it says about a
// failure (ssh: "Permission denied", "Connection refused") can be quoted.
// The destructor closes both pipes, then waits for the child, sending it
// SIGTERM and then SIGKILL when it does not exit within a few seconds. The
// child has a process group of its own (SpawnChild's own_group): an ssh
// session outlives a Ctrl-C long enough to remove what the stopped upload
// left on the remote.
class PipedChild {
 public:
  PipedChild() = default;
  ~PipedChild();
  PipedChild(const PipedChild&) = delete;
  PipedChild& operator=(const PipedChild&) = delete;

  Status Start(const Argv& argv);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Our ends: write to the child's stdin, read its stdout.
  int to_child() const { return to_child_.get(); }
  int from_child() const { return from_child_.get(); }
  // Closes both pipes and reaps the child: "exited with status N",
  // "killed by signal N" (empty when it exited 0 or was never started).
  // With `now`, a child still running gets SIGTERM at once (a session
  // given up on), else after 5 s.
  std::string Stop(bool now = false);
  // What the child wrote on stderr so far, its last 4 KiB, trimmed.
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  Fd to_child_;
  Fd from_child_;
  Fd stderr_file_;
};

}  // namespace zrecon

#endif  // ZRECON_UTIL_SPAWN_H_
