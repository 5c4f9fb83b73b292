#ifndef ZRECON_HOST_RECORDING_HOST_H_
#define ZRECON_HOST_RECORDING_HOST_H_

#include <vector>

#include "reconciler/host/host.h"

namespace zrecon {

// The dry-run host. Runs nothing: records every argv (and, for RunToSink,
// RunFromSource and RunToFile, that it streams) and answers exit 0 with
// empty output. RunToSink writes nothing to its sink, RunFromSource reads
// nothing from its source, RunToFile writes nothing to its descriptor. `apply --dry-run` uses it so
// that the executor's code path is exactly apply's, with no `if (dry_run)` anywhere.
class RecordingHost : public Host {
 public:
  struct Call {
    Argv argv;
    enum Kind { kRun, kToSink, kFromSource, kToFile } kind;
  };

  Status Run(const Argv& argv, CommandResult* result) override;
  Status RunToSink(const Argv& argv, ByteSink* sink, CommandResult* result) override;
  Status RunFromSource(const Argv& argv, ByteSource* source, CommandResult* result) override;
  Status RunToFile(const Argv& argv, int fd, CommandResult* result) override;

  // Every call so far, in the order they were made.
  const std::vector<Call>& calls() const { return calls_; }

 private:
  Status Record(const Argv& argv, Call::Kind kind, CommandResult* result);

  std::vector<Call> calls_;
};

}  // namespace zrecon

#endif  // ZRECON_HOST_RECORDING_HOST_H_
