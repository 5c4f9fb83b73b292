#ifndef ZRECON_HOST_HOST_H_
#define ZRECON_HOST_HOST_H_

#include <string>
#include <vector>

#include "reconciler/util/command.h"
#include "reconciler/util/status.h"

namespace zrecon {

struct CommandResult {
  int exit_code = -1;  // exit status; 128+N when killed by signal N
  std::string out;     // captured stdout
  std::string err;     // captured stderr
  bool timed_out = false;
};

// The one seam between zrecon and the system it manages: running commands.
// Implementations never involve a shell; argv[0] is looked up on PATH unless
// it contains a '/'. The Run* methods return a failed Status only when the
// command could not be started or waited for, or a sink/source failed; a
// command that ran and failed is an OK Status with a non-zero exit_code (the
// caller decides what that means).
class Host {
 public:
  virtual ~Host() = default;
  virtual Status Run(const Argv& argv, CommandResult* result) = 0;
  // Like Run, but the child's stdout goes to `sink` (result->out stays
  // empty); stderr is captured as usual.
  virtual Status RunToSink(const Argv& argv, ByteSink* sink, CommandResult* result) = 0;
  // Like Run, but the child's stdin is read from `source` (instead of
  // /dev/null); stdout and stderr are captured as usual.
  virtual Status RunFromSource(const Argv& argv, ByteSource* source, CommandResult* result) = 0;
  // Like Run, but the child's stdout is `fd` (a descriptor open for writing,
  // which the caller keeps and still owns: the child writes at its current
  // offset and the call never closes it); result->out stays empty, stderr is
  // captured as usual. A child that cannot write its output fails on its
  // own, with a non-zero exit code.
  virtual Status RunToFile(const Argv& argv, int fd, CommandResult* result) = 0;
  // Like Run, with a time limit of its own (`seconds`) instead of the
  // host's, for commands an operator supplies (snapshot hooks). A host that
  // puts no time limit on commands (a recording, a fake) just runs it.
  virtual Status RunWithin(const Argv& argv, int seconds, CommandResult* result) {
    (void)seconds;
    return Run(argv, result);
  }
};

// "zfs list ... exited 1: <first stderr line>" for error messages.
std::string DescribeFailure(const Argv& argv, const CommandResult& result);

}  // namespace zrecon

#endif  // ZRECON_HOST_HOST_H_
