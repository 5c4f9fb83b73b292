#ifndef ZRECON_HOST_TIMEOUT_HOST_H_
#define ZRECON_HOST_TIMEOUT_HOST_H_

#include <memory>
#include <string>

#include "reconciler/host/host.h"

namespace zrecon {

// True for a command that moves a dataset's data: `zfs send`, `zfs receive`
// or `zfs recv` run through the binary `zfs` (argv[0] exactly), except their
// -n dry runs, which only read metadata. Such commands take as long as the
// data is large, so no fixed time limit fits them.
bool IsStreamTransfer(const Argv& argv, const std::string& zfs);

// Puts a time limit on every command except stream transfers: a hung
// `zfs snapshot`, `zfs list` or `vmadm get` fails the run with "timed out"
// instead of holding the host lock forever, while a day-long `zfs send`
// runs to its end. A Host's limit is fixed when it is made (PosixHost), so
// this one routes each call: transfers (IsStreamTransfer) to `transfers`, a
// host with no limit, everything else to `bounded`. The choice depends only
// on the argv, never on which Run* method carries it: `vmadm get` into a
// config file is bounded, `zfs receive` from an export file is not.
//
// Executors see a plain Host; only the CLI knows there are two.
class TimeoutHost : public Host {
 public:
  // `zfs` is the zfs binary as it appears in argv[0] of the commands run
  // (the plan's or the restore's `zfs`).
  TimeoutHost(std::unique_ptr<Host> bounded, std::unique_ptr<Host> transfers, std::string zfs)
      : bounded_(std::move(bounded)), transfers_(std::move(transfers)), zfs_(std::move(zfs)) {}

  Status Run(const Argv& argv, CommandResult* result) override;
  Status RunToSink(const Argv& argv, ByteSink* sink, CommandResult* result) override;
  Status RunFromSource(const Argv& argv, ByteSource* source, CommandResult* result) override;
  Status RunToFile(const Argv& argv, int fd, CommandResult* result) override;
  Status RunWithin(const Argv& argv, int seconds, CommandResult* result) override {
    return bounded_->RunWithin(argv, seconds, result);
  }

 private:
  Host& For(const Argv& argv) { return IsStreamTransfer(argv, zfs_) ? *transfers_ : *bounded_; }

  std::unique_ptr<Host> bounded_;
  std::unique_ptr<Host> transfers_;
  std::string zfs_;
};

}  // namespace zrecon

#endif  // ZRECON_HOST_TIMEOUT_HOST_H_
