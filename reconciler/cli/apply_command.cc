#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>

#include "reconciler/apply/executor.h"
#include "reconciler/apply/metrics.h"
#include "reconciler/apply/progress.h"
#include "reconciler/apply/run_log.h"
#include "reconciler/apply/stale.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/commands.h"
#include "reconciler/host/posix_host.h"
#include "reconciler/host/recording_host.h"
#include "reconciler/plan/plan_json.h"
#include "reconciler/plan/plan_text.h"
#include "reconciler/storage/destination_factory.h"
#include "reconciler/storage/recording_destination.h"
#include "reconciler/util/files.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

std::string MachineName() {
  Policy none;
  return HostNameFor(none);
}

// "web01, db01" for the zones of the plan whose outcome is `outcome`.
std::vector<std::string> ZonesWith(const Plan& plan, const ApplyReport& report, Outcome outcome) {
  std::vector<std::string> out;
  for (const PlanZoneRef& z : ZonesOf(plan)) {
    if (ZoneOutcome(plan, report, z.uuid) != outcome) continue;
    out.push_back(z.alias.empty() ? z.uuid : Printable(z.alias));
  }
  return out;
}

void PrintReport(const Plan& plan, const ApplyReport& report) {
  size_t done = report.Count(Outcome::kDone);
  size_t failed = report.Count(Outcome::kFailed);
  size_t skipped = report.Count(Outcome::kSkipped);
  size_t not_attempted = report.Count(Outcome::kNotAttempted);
  if (report.ok()) {
    std::cout << "\nApply complete: " << done << " of " << plan.actions.size() << " actions done. "
              << plan.Summary().ToString() << "\n";
    return;
  }
  std::cout << "\nApply "
            << (report.interrupted.empty() ? "FAILED" : "STOPPED, " + report.interrupted) << ": "
            << done << " done, " << failed << " failed, " << skipped
            << " skipped (they depend on a failure), " << not_attempted << " not attempted.\n";
  for (size_t i = 0; i < report.results.size(); ++i) {
    const ActionResult& r = report.results[i];
    if (r.outcome != Outcome::kFailed) continue;
    const Action& a = plan.actions[i];
    std::cout << "  failed: [" << i + 1 << "] " << ActionLabel(a.kind) << " (zone " << a.zone
              << "): " << Printable(r.error) << "\n";
  }
  for (const std::string& d : report.failed_destinations) {
    std::cout << "  destination " << d << " failed: nothing more was written there\n";
  }
  for (Outcome o : {Outcome::kFailed, Outcome::kSkipped, Outcome::kDone}) {
    std::vector<std::string> zones = ZonesWith(plan, report, o);
    if (zones.empty()) continue;
    const char* what = o == Outcome::kFailed    ? "zones that failed: "
                       : o == Outcome::kSkipped ? "zones stopped by another failure: "
                                                : "zones done: ";
    std::cout << "  " << what << Join(zones, ", ") << "\n";
  }
  std::cout << "  run zrecon apply again"
            << (report.interrupted.empty() ? " once the cause is fixed" : "")
            << ": it plans from the current state and finishes the work.\n";
}

}  // namespace

Status CheckHost(const std::string& expected_host, const std::string& acknowledged) {
  std::string machine = MachineName();
  if (!acknowledged.empty() && !expected_host.empty() && acknowledged != expected_host) {
    return Status::Error("--host " + acknowledged + " does not match the host this is for (" +
                         expected_host + ")");
  }
  if (expected_host.empty() || expected_host == machine || acknowledged == expected_host) {
    return Status::Ok();
  }
  return Status::Error("this is for host " + expected_host + ", but this machine is " + machine +
                       "; nothing was changed. Pass --host " + expected_host +
                       " if acting for it here is intended.");
}

// What a dry run's destinations would have done, each introduced by
// `lead` + "on destination NAME:".
void PrintDestinationActions(const std::vector<const RecordingDestination*>& recorded,
                             const std::string& lead) {
  for (const RecordingDestination* d : recorded) {
    std::cout << lead << "on destination " << d->name() << ":\n";
    for (const std::string& line : d->actions()) std::cout << "  " << Printable(line) << "\n";
  }
}

namespace {

// The plan to apply: the saved one, checked against the host and its
// destinations read again, or one made now.
// *notify is the policy's notify section as soon as the policy loaded, also
// when what follows fails.
Status LoadPlan(const ApplyFlags& flags, Plan* plan, Catalogs* catalogs, NotifySpec* notify) {
  if (!flags.plan_file.empty()) {
    std::string text;
    Status s = ReadFile(flags.plan_file, &text);
    if (s.ok()) s = DecodePlanJson(text, plan).Prefixed(flags.plan_file);
    if (s.ok()) s = CheckHost(plan->host, flags.planning.host);
    if (s.ok()) {
      const HostFlags& given = flags.planning.host_flags;
      PosixHost reader(given.timeout_seconds, given.interrupt);
      s = ReadAgainAndCheck(*plan, reader, catalogs);
    }
    return s;
  }
  Planned planned;
  Status s = MakePlan(flags.planning, &planned);
  *notify = planned.policy.notify;
  if (s.ok()) {
    s = CheckHost(planned.policy.host ? *planned.policy.host : std::string(), flags.planning.host);
  }
  if (!s.ok()) return s;
  *plan = std::move(planned.plan);
  *catalogs = std::move(planned.catalogs);
  return Status::Ok();
}

// The destinations the plan's actions write to, prepared: the directories
// themselves, or for a dry run recorders of what would be done there.
struct OpenedDestinations {
  std::map<std::string, std::unique_ptr<Destination>> owned;
  std::map<std::string, Destination*> by_name;
  std::vector<const RecordingDestination*> recorded;  // dry run only
};

Status OpenDestinations(const Plan& plan, Catalogs& catalogs, bool dry_run,
                        const TransferLimits& limits, OpenedDestinations* out) {
  std::vector<std::string> used;
  for (const Action& a : plan.actions) {
    if (!a.destination.empty() &&
        std::find(used.begin(), used.end(), a.destination) == used.end()) {
      used.push_back(a.destination);
    }
  }
  for (const std::string& name : used) {
    auto d = plan.destinations.find(name);
    if (d == plan.destinations.end()) {
      return Status::Error("the plan names destination " + name + " without declaring it");
    }
    std::unique_ptr<Destination> dest;
    if (dry_run) {
      auto r = std::make_unique<RecordingDestination>(name, catalogs[name]);
      out->recorded.push_back(r.get());
      dest = std::move(r);
    } else {
      const PlanDestination& pd = d->second;
      dest = NewDestination(name, DestinationAddress{pd.type, pd.path, pd.ssh, pd.s3, limits},
                            plan.host, catalogs[name]);
    }
    Status s = dest->Prepare();
    if (!s.ok()) return s.Prefixed("destination " + name);
    out->by_name[name] = dest.get();
    out->owned[name] = std::move(dest);
  }
  return Status::Ok();
}

}  // namespace

// What outlives a run: its line in the run log, and the metrics file with
// the run and (for a run that planned from a policy) the host's protection
// read again now. A failure to write either is reported, never a reason to
// fail the run.
// The policy's on_success or on_failure command, with the run's record on
// stdin and its gist in the environment. Not interruptible by the signal
// that ended the run: an interrupted run is worth a notification too; the
// command's own time limit bounds it. Its failure is reported only.
void Notify(const NotifySpec& notify, const RunMetrics& run, const std::string& record,
            const std::string& host) {
  const ApplyReport& report = *run.report;
  const bool ok = report.ok() && !run.failed_early;
  const std::vector<std::string>& argv = ok ? notify.on_success : notify.on_failure;
  if (argv.empty()) return;
  std::vector<std::string> failed;
  for (const PlanZoneRef& z : ZonesOf(*run.plan)) {
    Outcome o = ZoneOutcome(*run.plan, report, z.uuid);
    if (o == Outcome::kFailed || o == Outcome::kSkipped) failed.push_back(z.uuid);
  }
  const std::string outcome = !report.interrupted.empty() ? "interrupted" : (ok ? "ok" : "failed");
  const std::string summary =
      run.failed_early
          ? "failed before its first action"
          : std::to_string(report.Count(Outcome::kDone)) + " done, " +
                std::to_string(report.Count(Outcome::kFailed)) + " failed, " +
                std::to_string(report.Count(Outcome::kSkipped)) + " skipped, " +
                std::to_string(report.Count(Outcome::kNotAttempted)) + " not attempted";
  ::setenv("ZRECON_OUTCOME", outcome.c_str(), 1);
  ::setenv("ZRECON_HOST", host.c_str(), 1);
  ::setenv("ZRECON_FAILED_ZONES", Join(failed, " ").c_str(), 1);
  ::setenv("ZRECON_SUMMARY", summary.c_str(), 1);
  PosixHost runner(notify.timeout_seconds, nullptr);
  StringSource input(record + "\n");
  CommandResult r;
  Status s = runner.RunFromSource(argv, &input, &r);
  if (s.ok() && r.exit_code != 0) s = Status::Error(DescribeFailure(argv, r));
  if (!s.ok()) {
    std::cerr << "zrecon: notify " << (ok ? "on_success" : "on_failure") << ": "
              << Printable(s.message()) << "\n";
  }
}

void RecordRun(const ApplyFlags& flags, const NotifySpec& notify, const Plan& plan,
               const ApplyReport& report, EpochSeconds start, double duration,
               const std::string& early_error = "") {
  if (flags.dry_run) return;
  RunMetrics run;
  run.start = start;
  run.duration = duration;
  run.plan = &plan;
  run.report = &report;
  run.failed_early = !early_error.empty();
  const std::string record = RunRecord(run, early_error);
  if (!flags.run_log.empty()) {
    Status s = AppendRunRecord(flags.run_log, record);
    if (!s.ok()) std::cerr << "zrecon: " << s.message() << "\n";
  }
  Notify(notify, run, record, plan.host.empty() ? MachineName() : plan.host);
  if (flags.metrics_file.empty()) return;
  CarriedMetrics carried;
  Status s = ReadCarriedMetrics(flags.metrics_file, &carried);
  if (!s.ok()) std::cerr << "zrecon: --metrics-file: " << s.message() << " (counters restart)\n";
  HostHealth health;
  bool have_health = false;
  if (flags.plan_file.empty()) {
    Planned read;
    PlannerInput input;
    s = ReadPlanInputs(flags.planning, &read, &input);
    if (s.ok()) s = ComputeHealth(input, StatusThresholds(), &health);
    have_health = s.ok();
    if (!s.ok()) {
      std::cerr << "zrecon: --metrics-file: host not read again: " << s.message() << "\n";
    }
  }
  s = WriteMetricsFile(flags.metrics_file,
                       RenderMetrics(&run, have_health ? &health : nullptr, carried));
  if (!s.ok()) std::cerr << "zrecon: " << s.message() << "\n";
}

int RunApply(const ApplyFlags& flags) {
  const EpochSeconds start = static_cast<EpochSeconds>(std::time(nullptr));
  const double started = Monotonic();
  // Taken before planning: a plan made while another run changes the host
  // would be stale by the time it runs. A dry run changes nothing.
  std::unique_ptr<HostLock> lock;
  if (!flags.dry_run) {
    Status s = TakeHostLock(flags.lock, &lock);
    if (!s.ok()) return Fail(s);
  }
  Plan plan;
  Catalogs catalogs;
  NotifySpec notify;
  // A run that ends before its first action is a failed run, for the
  // metrics as for the exit code; one with nothing to do a successful one.
  auto ends_early = [&](const Status& failure) {
    ApplyReport none;
    none.results.resize(plan.actions.size());
    RecordRun(flags, notify, plan, none, start, Monotonic() - started,
              failure.ok() ? "" : failure.message());
  };
  Status s = LoadPlan(flags, &plan, &catalogs, &notify);
  if (!s.ok()) {
    int code = Fail(s);
    plan = Plan();
    ends_early(s);
    return code;
  }
  if (!flags.json) {
    PlanTextOptions options;
    options.verbose = flags.verbose;
    std::cout << RenderPlanText(plan, options);
  }
  if (plan.ExceedsDestroyLimit() && !flags.allow_destroy) {
    Status refused = Status::Error(
        "refusing to apply: the plan destroys " + std::to_string(plan.Summary().destroys) +
        " snapshots, more than limits.max_destroy (" + std::to_string(plan.max_destroy) +
        "); nothing was changed. Check the plan, then pass "
        "--allow-destroy or raise the limit.");
    ends_early(refused);
    return Fail(refused);
  }
  if (plan.actions.empty()) {
    ends_early(Status::Ok());
    return kExitOk;
  }

  // The one place where a dry run differs: which host and destinations.
  std::unique_ptr<Host> host;
  RecordingHost* recording = nullptr;
  if (flags.dry_run) {
    auto r = std::make_unique<RecordingHost>();
    recording = r.get();
    host = std::move(r);
  } else {
    host = MakeExecutionHost(flags.planning.host_flags, plan.zfs);
  }
  OpenedDestinations destinations;
  const HostFlags& host_flags = flags.planning.host_flags;
  s = OpenDestinations(plan, catalogs, flags.dry_run,
                       TransferLimits{host_flags.stall_seconds, host_flags.interrupt},
                       &destinations);
  if (!s.ok()) {
    ends_early(s);
    return Fail(s);
  }

  std::unique_ptr<ApplyObserver> observer;
  if (flags.json) {
    observer = std::make_unique<JsonLinesProgress>(std::cout, Monotonic);
  } else {
    std::cout << "\n";
    observer = std::make_unique<TextProgress>(std::cout, isatty(STDOUT_FILENO) != 0, Monotonic);
  }
  ExecutorOptions options;
  options.monotonic = Monotonic;
  options.interrupt = flags.planning.host_flags.interrupt;
  ApplyReport report = Execute(plan, *host, destinations.by_name, observer.get(), options);
  if (!flags.json) PrintReport(plan, report);
  RecordRun(flags, notify, plan, report, start, Monotonic() - started);
  if (recording != nullptr) {
    std::cout << "\nDry run: nothing was changed. These commands would run:\n";
    for (const RecordingHost::Call& c : recording->calls()) {
      std::cout << "  $ " << Printable(ShellJoin(c.argv))
                << (c.kind == RecordingHost::Call::kToSink ? "  > (export file)" : "") << "\n";
    }
    PrintDestinationActions(destinations.recorded, "and ");
  }
  return report.ok() ? kExitOk : kExitError;
}

}  // namespace zrecon
