#include <unistd.h>

#include <iostream>
#include <memory>

#include "reconciler/apply/executor.h"
#include "reconciler/apply/progress.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/commands.h"
#include "reconciler/host/posix_host.h"
#include "reconciler/plan/plan_text.h"
#include "reconciler/plan/unprotect.h"

namespace zrecon {

int RunUnprotect(const UnprotectFlags& flags) {
  std::unique_ptr<HostLock> lock;
  if (!flags.dry_run) {
    Status s = TakeHostLock(flags.lock, &lock);
    if (!s.ok()) return Fail(s);
  }
  Policy policy;
  Status s = LoadPolicyOrExplain(flags.policy, &policy);
  if (!s.ok()) return Fail(s);
  EpochSeconds now;
  s = ParseNow("", &now);
  if (!s.ok()) return Fail(s);
  PosixHost reader(flags.host_flags.timeout_seconds, flags.host_flags.interrupt);
  Inventory inventory;
  ZfsDialect dialect;
  s = ObserveLiveHost(reader, flags.host_flags, &inventory, &dialect);
  if (!s.ok()) return Fail(s);

  UnprotectInput input;
  input.policy = &policy;
  input.inventory = &inventory;
  input.zones = flags.zones;
  input.now = now;
  input.host = HostNameFor(policy);
  input.commands.zfs = flags.host_flags.zfs;
  input.commands.vmadm = flags.host_flags.vmadm;
  input.commands.dialect = dialect;
  Plan plan;
  s = PlanUnprotect(input, &plan);
  if (!s.ok()) return Fail(s);
  std::cout << RenderPlanText(plan, PlanTextOptions());
  if (plan.actions.empty() || flags.dry_run) {
    if (flags.dry_run) std::cout << "Dry run: nothing was changed.\n";
    return kExitOk;
  }
  std::cout << "\n";
  std::unique_ptr<Host> host = MakeExecutionHost(flags.host_flags, plan.zfs);
  TextProgress progress(std::cout, isatty(STDOUT_FILENO) != 0, Monotonic);
  ExecutorOptions options;
  options.monotonic = Monotonic;
  options.interrupt = flags.host_flags.interrupt;
  ApplyReport report = Execute(plan, *host, {}, &progress, options);
  if (!report.ok()) {
    std::cout << "\nUnprotect FAILED"
              << (report.interrupted.empty() ? "" : ", " + report.interrupted)
              << "; run it again: it starts from what is on the host.\n";
    return kExitError;
  }
  std::cout << "\nUnprotected: " << plan.actions.size()
            << " actions done. vmadm delete, reprovision and rollback-snapshot no longer meet "
               "zrecon's holds on these zones.\n";
  return kExitOk;
}

}  // namespace zrecon
