#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>

#include "reconciler/apply/progress.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/commands.h"
#include "reconciler/host/posix_host.h"
#include "reconciler/restore/restore_executor.h"
#include "reconciler/restore/restore_plan.h"
#include "reconciler/restore/restore_source.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

class RestoreProgress : public RestoreObserver {
 public:
  void StepStarted(const RestorePlan& plan, size_t index) override {
    const RestoreStep& s = plan.steps[index];
    std::cout << "[" << index + 1 << "/" << plan.steps.size() << "] " << RestoreStepLabel(s.kind);
    if (s.kind == RestoreStepKind::kRegisterImage) {
      std::cout << " write " << Printable(s.file) << "\n";
    } else {
      std::cout << " " << Printable(ShellJoin(s.argv))
                << (s.file.empty() ? "" : " < " + Printable(s.file)) << "\n";
    }
    std::cout.flush();
  }
  void StepFinished(const RestorePlan&, size_t, const RestoreStepResult& r) override {
    if (r.outcome == Outcome::kFailed) {
      std::cout << "      FAILED: " << Printable(r.error) << "\n";
    } else if (r.bytes > 0) {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.1f", r.seconds);
      std::cout << "      done: " << FormatBytes(r.bytes) << " in " << seconds << "s\n";
    }
    std::cout.flush();
  }
};

}  // namespace

int RunRestore(const RestoreFlags& flags) {
  std::unique_ptr<HostLock> lock;
  if (!flags.dry_run) {
    Status s = TakeHostLock(flags.lock, &lock);
    if (!s.ok()) return Fail(s);
  }
  RestoreRequest request;
  Status resolved = ResolveSource(flags.source, &request.source, &request.from);
  if (!resolved.ok()) return Fail(resolved);
  request.source.limits = {flags.host_flags.stall_seconds, flags.host_flags.interrupt};
  request.host = flags.host;
  request.zone = flags.zone;
  request.at = flags.at;
  request.pool = flags.pool;
  request.imgadm_db = flags.imgadm_db;
  RestoreSource source;
  Status s = LoadRestoreSource(request, &source);
  if (!s.ok()) return Fail(s);

  RestoreTarget target;
  target.observe = ObserveOptionsOf(flags.host_flags);
  target.check_space = !flags.no_space_check;
  PosixHost reader(flags.host_flags.timeout_seconds, flags.host_flags.interrupt);
  Inventory inventory;
  RestoreInput input;
  input.force = flags.force;
  input.start = flags.start;
  s = ObserveRestoreTarget(source, target, reader, &inventory, &input);
  RestorePlan plan;
  if (s.ok()) s = PlanRestore(input, &plan);
  if (!s.ok()) return Fail(s);
  std::cout << RenderRestorePlan(plan);

  // By default every file is read once: into zfs receive, its size and
  // SHA-256 checked on the way (the executor), the received data kept in
  // -partial datasets until all of it has been. --verify-first and
  // --dry-run read every file in full first (Ctrl-C stops that, nothing
  // changed yet). Every file is there and of its size in any case: a
  // missing or short file is refused before anything changes.
  const bool read_first = flags.verify_first || flags.dry_run;
  std::vector<std::string> problems;
  s = CheckRestoreFiles(plan, source.where, read_first, flags.host_flags.interrupt, &problems);
  if (!s.ok()) {
    Fail(s);
    for (const std::string& p : problems) std::cerr << "  " << Printable(p) << "\n";
    return kExitError;
  }
  if (read_first) {
    std::cout << "\nVerified " << plan.files_to_verify.size() << " files against the catalog.\n";
  } else {
    std::cout << "\n"
              << plan.files_to_verify.size()
              << " files are there with their recorded sizes; each is checked against the "
                 "catalog's SHA-256 as it is received, and nothing but -partial datasets changes "
                 "until all are.\n";
  }
  if (flags.dry_run) {
    std::cout << "Dry run: nothing was changed.\n";
    return kExitOk;
  }
  std::cout << "\n";
  std::unique_ptr<Host> host = MakeExecutionHost(flags.host_flags, flags.host_flags.zfs);
  RestoreProgress progress;
  RestoreOptions options;
  options.monotonic = Monotonic;
  options.interrupt = flags.host_flags.interrupt;
  RestoreReport report = ExecuteRestore(plan, *host, source.where, &progress, options);
  for (const std::string& c : report.cleanup) std::cout << "  cleanup: " << Printable(c) << "\n";
  if (!report.interrupted.empty()) {
    std::cout << "\nRestore STOPPED, " << report.interrupted
              << ". Run the same command again: it continues from what is on the host.\n";
    return kExitError;
  }
  if (!report.ok()) {
    std::cout << "\nRestore FAILED. Fix the cause and run the same command again: it continues "
                 "from what is on the host.\n";
    return kExitError;
  }
  std::cout << "\nRestored zone " << plan.zone
            << (plan.alias.empty() ? "" : " (" + Printable(plan.alias) + ")") << " to @"
            << plan.point.snapshot << (flags.start ? " and started it" : "") << ".\n";
  return kExitOk;
}

}  // namespace zrecon
