#include "reconciler/restore/restore_executor.h"

#include <algorithm>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "reconciler/restore/zone_payload.h"
#include "reconciler/storage/stored_stream.h"
#include "reconciler/util/files.h"
#include "reconciler/util/strings.h"

namespace zrecon {

bool RestoreReport::ok() const {
  if (!interrupted.empty()) return false;
  for (const RestoreStepResult& r : results) {
    if (r.outcome == Outcome::kFailed) return false;
  }
  return true;
}

namespace {

constexpr int kInterruptedCleanupRetries = 3;

class RestoreRun {
 public:
  RestoreRun(const RestorePlan& plan, Host& host, HostDirectory where, RestoreObserver* observer,
             const RestoreOptions& options)
      : plan_(plan), host_(host), where_(std::move(where)), observer_(observer), options_(options) {
    if (!options_.sleep) {
      options_.sleep = [](int s) { std::this_thread::sleep_for(std::chrono::seconds(s)); };
    }
    if (!options_.monotonic) {
      options_.monotonic = [] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
      };
    }
  }

  RestoreReport Run() {
    RestoreReport report;
    report.results.resize(plan_.steps.size());
    size_t last_receive = 0;
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      if (plan_.steps[i].kind == RestoreStepKind::kReceive) last_receive = i + 1;
    }
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      // Stopping between steps leaves what a rerun continues from: every
      // receive so far is complete.
      if (Interrupted(&report)) break;
      if (observer_) observer_->StepStarted(plan_, i);
      double start = options_.monotonic();
      RestoreStepResult& r = report.results[i];
      Status s = RunStep(plan_.steps[i], &r, &report);
      r.seconds = options_.monotonic() - start;
      r.outcome = s.ok() ? Outcome::kDone : Outcome::kFailed;
      if (!s.ok()) r.error = s.message();
      if (observer_) observer_->StepFinished(plan_, i, r);
      if (s.ok()) continue;
      // Until every receive finished, the -partial datasets are incomplete:
      // remove them. Afterwards they are whole and a rerun continues.
      if (i < last_receive) Cleanup(&report);
      break;
    }
    Interrupted(&report);
    return report;
  }

 private:
  bool Interrupted(RestoreReport* report) const {
    if (options_.interrupt == nullptr || !options_.interrupt->raised()) return false;
    report->interrupted = options_.interrupt->Describe();
    return true;
  }

  // imgadm's database record, written as imgadm writes it: the whole file
  // replaced at once (WriteFileAtomically: temp file, fsync, rename).
  Status RegisterImage(const RestoreStep& step) {
    size_t slash = step.file.rfind('/');
    Status s =
        slash == std::string::npos ? Status::Ok() : MakeDirectories(step.file.substr(0, slash));
    if (s.ok()) s = WriteFileAtomically(step.file, step.input);
    return s;
  }

  // Reads the fresh dataset's local properties and sets each on the
  // received one; a fresh dataset that does not exist has none to give.
  Status CopyProperties(const RestoreStep& step) {
    CommandResult r;
    Status s = host_.Run(step.argv, &r);
    if (!s.ok()) return s;
    if (r.exit_code != 0) {
      for (const std::string& text : step.tolerate) {
        if (r.err.find(text) != std::string::npos) return Status::Ok();
      }
      return Status::Error(DescribeFailure(step.argv, r));
    }
    std::vector<std::pair<std::string, std::string>> properties;
    s = ParseLocalProperties(r.out, &properties);
    if (!s.ok()) return s.Prefixed(ShellJoin(step.argv));
    bool mountpoint = false;
    for (const auto& [name, value] : properties) {
      Argv set = plan_.commands.SetProperty(step.target, name, value);
      r = CommandResult();
      s = host_.Run(set, &r);
      if (!s.ok()) return s;
      if (r.exit_code != 0) return Status::Error(DescribeFailure(set, r));
      mountpoint = mountpoint || name == "mountpoint";
    }
    if (!mountpoint) return Status::Ok();
    // The received dataset stays unmounted until it has its final name.
    // illumos remounts after a mountpoint change only what was mounted
    // (libzfs_changelist.c); zfs-fuse mounts it anyway.
    Argv umount = plan_.commands.Unmount(step.target);
    r = CommandResult();
    s = host_.Run(umount, &r);
    if (!s.ok()) return s;
    if (r.exit_code != 0 && r.err.find("not currently mounted") == std::string::npos) {
      return Status::Error(DescribeFailure(umount, r));
    }
    return Status::Ok();
  }

  // The volumes vmadm created against the names the plan received the disks
  // for. On a difference the just-created zone is deleted again (its
  // volumes are fresh and empty) and the -partial datasets removed: the
  // host is as before the restore.
  Status CheckDisks(const RestoreStep& step, RestoreReport* report) {
    CommandResult r;
    Status s = host_.Run(step.argv, &r);
    if (!s.ok()) return s;
    if (r.exit_code != 0) return Status::Error(DescribeFailure(step.argv, r));
    std::vector<std::string> created;
    s = DiskVolumes(r.out, &created);
    if (!s.ok()) return s.Prefixed(ShellJoin(step.argv));
    std::vector<std::string> expected;
    for (std::string_view line : Split(step.input, '\n')) {
      if (!line.empty()) expected.emplace_back(line);
    }
    if (created == expected) return Status::Ok();
    Argv remove = plan_.commands.VmadmDelete(plan_.zone);
    r = CommandResult();
    s = host_.Run(remove, &r);
    std::string undone = s.ok() && r.exit_code == 0
                             ? "the zone was deleted again"
                             : "deleting the zone again failed (" +
                                   (s.ok() ? DescribeFailure(remove, r) : s.message()) + ")";
    Cleanup(report);
    return Status::Error("vmadm created the zone's disks as " +
                         (created.empty() ? std::string("none") : Join(created, ", ")) +
                         ", but the media's disks were received for " + Join(expected, ", ") +
                         "; " + undone + " and nothing of the restore is left");
  }

  Status RunStep(const RestoreStep& step, RestoreStepResult* result, RestoreReport* report) {
    if (step.kind == RestoreStepKind::kCheckDisks) return CheckDisks(step, report);
    if (step.kind == RestoreStepKind::kRegisterImage) return RegisterImage(step);
    if (step.kind == RestoreStepKind::kCopyProperties) return CopyProperties(step);
    CommandResult r;
    Status s;
    for (int attempt = 0;; ++attempt) {
      r = CommandResult();
      if (step.kind == RestoreStepKind::kReceive) {
        std::unique_ptr<StoredStream> source;
        s = OpenStoredStream(*where_.tree, where_.host, step.stored, &source);
        if (!s.ok()) return s;
        s = host_.RunFromSource(step.argv, source.get(), &r);
        result->bytes = source->raw_bytes();
        if (s.ok() && r.exit_code != 0) {
          Status file = source->CheckRest();
          if (!file.ok())
            return Status::Error(file.message() + " (" + DescribeFailure(step.argv, r) + ")");
        }
      } else if (step.kind == RestoreStepKind::kCreateZone) {
        StringSource source(step.input);
        s = host_.RunFromSource(step.argv, &source, &r);
      } else {
        s = host_.Run(step.argv, &r);
      }
      if (!s.ok()) return s;
      if (r.exit_code == 0) return Status::Ok();
      for (const std::string& text : step.tolerate) {
        if (r.err.find(text) != std::string::npos) return Status::Ok();
      }
      bool busy = r.err.find("busy") != std::string::npos;
      if (!step.retry_when_busy || !busy || attempt >= options_.busy_retries) break;
      if (options_.interrupt != nullptr && options_.interrupt->raised()) break;
      options_.sleep(1);
    }
    return Status::Error(DescribeFailure(step.argv, r));
  }

  // What a destroy says while a receive that was just stopped still lets
  // go of the dataset, on zfs-fuse as seen in CI: "dataset is busy", and
  // "cannot destroy '<ds>@<snap>': dataset already exists" (the receive's
  // own snapshot of the stream being torn down).
  static bool Transient(const std::string& err) {
    return err.find("busy") != std::string::npos ||
           err.find("dataset already exists") != std::string::npos;
  }

  // Removes the -partial datasets. A destroy that meets a stopped receive
  // still letting go (Transient) is tried again, busy_retries times, also
  // after an interrupt (then kInterruptedCleanupRetries times), since
  // leaving the dataset is what the cleanup is there to prevent.
  void Cleanup(RestoreReport* report) {
    const bool interrupted = options_.interrupt != nullptr && options_.interrupt->raised();
    const int retries = interrupted ? std::min(options_.busy_retries, kInterruptedCleanupRetries)
                                    : options_.busy_retries;
    for (const Argv& argv : plan_.cleanup) {
      CommandResult r;
      Status s = host_.Run(argv, &r);
      for (int attempt = 0; s.ok() && r.exit_code != 0 && attempt < retries && Transient(r.err);
           ++attempt) {
        options_.sleep(1);
        r = CommandResult();
        s = host_.Run(argv, &r);
      }
      if (!s.ok()) {
        report->cleanup.push_back(s.message());
      } else if (r.exit_code == 0) {
        report->cleanup.push_back("removed: " + ShellJoin(argv));
      } else if (r.err.find("does not exist") == std::string::npos) {
        report->cleanup.push_back("could not clean up: " + DescribeFailure(argv, r));
      }
    }
  }

  const RestorePlan& plan_;
  Host& host_;
  HostDirectory where_;
  RestoreObserver* observer_;
  RestoreOptions options_;
};

}  // namespace

RestoreReport ExecuteRestore(const RestorePlan& plan, Host& host, const HostDirectory& where,
                             RestoreObserver* observer, const RestoreOptions& options) {
  return RestoreRun(plan, host, where, observer, options).Run();
}

}  // namespace zrecon
