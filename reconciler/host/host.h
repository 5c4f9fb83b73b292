#ifndef ZRECON_HOST_HOST_H_
#define ZRECON_HOST_HOST_H_

#include <string>
#include <vector>

#include "reconciler/util/status.h"

namespace zrecon {

using Argv = std::vector<std::string>;

struct CommandResult {
  int exit_code = -1;  // exit status; 128+N when killed by signal N
  std::string out;     // captured stdout
  std::string err;     // captured stderr
  bool timed_out = false;
};

// The one seam between zrecon and the system it manages: running commands.
// Implementations never involve a shell; argv[0] is looked up on PATH unless
// it contains a '/'. Run returns a failed Status only when the command could
// not be started or waited for; a command that ran and failed is an OK
// Status with a non-zero exit_code (the caller decides what that means).
class Host {
 public:
  virtual ~Host() = default;
  virtual Status Run(const Argv& argv, CommandResult* result) = 0;
};

// "zfs list ... exited 1: <first stderr line>" for error messages.
std::string DescribeFailure(const Argv& argv, const CommandResult& result);

}  // namespace zrecon

#endif  // ZRECON_HOST_HOST_H_
