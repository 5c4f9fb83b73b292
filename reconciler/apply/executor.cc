#include "reconciler/apply/executor.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <utility>

#include "reconciler/catalog/imgadm_record.h"
#include "reconciler/host/zfs_dialect.h"
#include "reconciler/util/strings.h"

namespace zrecon {

bool ApplyReport::ok() const {
  return interrupted.empty() && Count(Outcome::kFailed) == 0 && Count(Outcome::kSkipped) == 0;
}

Outcome ZoneOutcome(const Plan& plan, const ApplyReport& report, const std::string& zone) {
  bool skipped = false, not_attempted = false;
  for (size_t i = 0; i < plan.actions.size() && i < report.results.size(); ++i) {
    if (plan.actions[i].zone != zone) continue;
    Outcome o = report.results[i].outcome;
    if (o == Outcome::kFailed) return Outcome::kFailed;
    skipped = skipped || o == Outcome::kSkipped;
    not_attempted = not_attempted || o == Outcome::kNotAttempted;
  }
  if (skipped) return Outcome::kSkipped;
  return not_attempted ? Outcome::kNotAttempted : Outcome::kDone;
}

size_t ApplyReport::Count(Outcome outcome) const {
  size_t n = 0;
  for (const ActionResult& r : results) n += r.outcome == outcome ? 1 : 0;
  return n;
}

namespace {

// Turns a growing byte count into a progress report every 16 MiB.
class ProgressThrottle {
 public:
  explicit ProgressThrottle(std::function<void(uint64_t)> report) : report_(std::move(report)) {}

  void Update(uint64_t bytes) {
    if (bytes < next_report_) return;
    next_report_ = bytes + kReportEvery;
    if (report_) report_(bytes);
  }

 private:
  static constexpr uint64_t kReportEvery = 16 << 20;
  std::function<void(uint64_t)> report_;
  uint64_t next_report_ = kReportEvery;
};

// Feeds a child's stdout into a destination file, counting bytes.
class ProgressSink : public ByteSink {
 public:
  ProgressSink(StreamFile* file, ProgressThrottle* progress) : file_(file), progress_(progress) {}

  Status Write(const char* data, size_t size) override {
    Status s = file_->Write(data, size);
    bytes_ += size;
    progress_->Update(bytes_);
    return s;
  }

  uint64_t bytes() const { return bytes_; }

 private:
  StreamFile* file_;
  ProgressThrottle* progress_;
  uint64_t bytes_ = 0;
};

bool StderrSays(const CommandResult& r, std::string_view text) {
  return r.err.find(text) != std::string::npos;
}

std::string ShortName(const std::string& full) {
  size_t at = full.find('@');
  return at == std::string::npos ? full : full.substr(at + 1);
}

class Executor {
 public:
  Executor(const Plan& plan, Host& host, const std::map<std::string, Destination*>& destinations,
           ApplyObserver* observer, const ExecutorOptions& options)
      : plan_(plan),
        host_(host),
        destinations_(destinations),
        observer_(observer),
        interrupt_(options.interrupt) {
    commands_.zfs = plan.zfs;
    commands_.vmadm = plan.vmadm;
    commands_.dialect = plan.dialect;
    clock_ = options.clock ? options.clock
                           : [] { return static_cast<EpochSeconds>(std::time(nullptr)); };
    monotonic_ = options.monotonic ? options.monotonic : [] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
    };
  }

  ApplyReport Run() {
    ApplyReport report;
    report.results.resize(plan_.actions.size());
    for (size_t i = 0; i < plan_.actions.size(); ++i) {
      // Between actions is a safe place to stop: each one is complete on
      // its own, as a kill between them shows (tests/integration/kill_test.sh).
      if (Interrupted()) break;
      const Action& a = plan_.actions[i];
      ActionResult& result = report.results[i];
      std::string blocked = BlockedBy(a);
      if (!blocked.empty()) {
        result.outcome = Outcome::kSkipped;
        result.error = blocked;
        NoteFailure(i, false);
        if (observer_) observer_->ActionSkipped(plan_, i, result);
        continue;
      }
      if (observer_) observer_->ActionStarted(plan_, i);
      double start = monotonic_();
      Status s = RunAction(i, &result);
      if (!s.ok() && Recovered(a, s)) {
        std::string first = s.message();
        result = ActionResult();
        result.retried_after = first;
        s = RunAction(i, &result);
      }
      result.seconds = monotonic_() - start;
      result.outcome = s.ok() ? Outcome::kDone : Outcome::kFailed;
      if (!s.ok()) {
        result.error = s.message();
        NoteFailure(i, !a.destination.empty() && MediumFailure(s.message()));
      }
      if (observer_) observer_->ActionFinished(plan_, i, result);
    }
    // Also an interrupt during the last action, or one that made it fail.
    if (Interrupted()) {
      report.interrupted = interrupt_->Describe();
      if (observer_) observer_->RunInterrupted(plan_, report.interrupted);
    }
    for (const auto& [name, index] : failed_destinations_) {
      (void)index;
      report.failed_destinations.push_back(name);
    }
    if (observer_) observer_->RunFinished(plan_, report);
    return report;
  }

 private:
  // Why action `a` must not run after the failures so far, or "".
  std::string BlockedBy(const Action& a) const {
    // A zone's post_snapshot hook undoes what its pre_snapshot hook did
    // (resumes a database): it runs whenever that one ran.
    if (a.kind == ActionKind::kHook && a.hook == "post_snapshot" &&
        pre_hooks_run_.count(a.zone) != 0) {
      return "";
    }
    auto zone = failed_zones_.find(a.zone);
    if (!a.zone.empty() && zone != failed_zones_.end()) {
      return "zone " + a.zone + " stopped: action [" + std::to_string(zone->second + 1) +
             "] of it did not complete";
    }
    auto dest = failed_destinations_.find(a.destination);
    if (!a.destination.empty() && dest != failed_destinations_.end()) {
      return "destination " + a.destination + " failed at action [" +
             std::to_string(dest->second + 1) + "]; nothing more is written there";
    }
    if (a.kind == ActionKind::kSend && a.stream.new_chain && !a.stream.image_uuid.empty()) {
      auto image = failed_images_.find({a.destination, a.stream.image_uuid});
      if (image != failed_images_.end()) {
        return "image " + a.stream.image_uuid + " was not saved to " + a.destination +
               " (action [" + std::to_string(image->second + 1) +
               "]): a new chain from it could not be restored without it";
      }
    }
    return "";
  }

  // Action `index` failed (or was skipped): what depends on it stops.
  void NoteFailure(size_t index, bool medium) {
    const Action& a = plan_.actions[index];
    if (!a.zone.empty()) failed_zones_.emplace(a.zone, index);
    if (medium) failed_destinations_.emplace(a.destination, index);
    if (a.kind == ActionKind::kSaveImage || a.kind == ActionKind::kSaveImageRecord) {
      failed_images_.emplace(std::make_pair(a.destination, a.stream.image_uuid), index);
    }
  }

  // Whether a failure is the medium's rather than the zone's: the errors a
  // full, failing, read-only or vanished medium gives, and the
  // destination's own refusals to go on. A zfs send that fails on an I/O
  // error of the pool is taken for one too: the error is on the safe side.
  static bool MediumFailure(const std::string& message) {
    for (int err : {ENOSPC, EDQUOT, EIO, EROFS, ESTALE, ENXIO, ENODEV, ENOTCONN}) {
      if (message.find(std::strerror(err)) != std::string::npos) return true;
    }
    // An ssh destination's SFTP server refusing a write (a full or
    // read-only remote disk reads "failure" there) or its session lost.
    return message.find(" is unreachable: ") != std::string::npos ||
           message.find(": SFTP ") != std::string::npos ||
           message.find(": the ssh session is lost: ") != std::string::npos ||
           message.find("is no longer the directory this run prepared") != std::string::npos ||
           message.find("is not available to this apply") != std::string::npos;
  }

  // Whether action `a`, which failed with `failure`, should run again: the
  // failure is its destination's, and the destination is back.
  bool Recovered(const Action& a, const Status& failure) {
    if (a.destination.empty() || Interrupted() || !MediumFailure(failure.message())) return false;
    Destination* dest = nullptr;
    if (!FindDestination(a.destination, &dest).ok()) return false;
    return dest->Recover(failure, interrupt_).ok();
  }

  bool Interrupted() const { return interrupt_ != nullptr && interrupt_->raised(); }

  Status RunAction(size_t index, ActionResult* result) {
    const Action& a = plan_.actions[index];
    switch (a.kind) {
      case ActionKind::kSnapshot:
      case ActionKind::kDestroy:
      case ActionKind::kMarkTip:
        return RunCommand(a.argv, {});
      case ActionKind::kHold:
        // A hold left by an apply that died before marking the tip.
        return RunCommand(a.argv, "tag already exists");
      case ActionKind::kRelease:
        return RunCommand(a.argv, "no such tag");
      case ActionKind::kSend:
      case ActionKind::kSaveImage:
      case ActionKind::kSaveConfig:
        return RunExport(index, result);
      case ActionKind::kSaveImageRecord:
        return SaveImageRecord(a, result);
      case ActionKind::kRemoveExport: {
        Destination* dest = nullptr;
        Status s = FindDestination(a.destination, &dest);
        if (!s.ok()) return s;
        return dest->RemoveChain(a.zone, a.chain_id, a.files);
      }
      case ActionKind::kRemoveLoose: {
        Destination* dest = nullptr;
        Status s = FindDestination(a.destination, &dest);
        if (!s.ok()) return s;
        return dest->RemoveLooseFiles(a.zone, a.files);
      }
      case ActionKind::kHook: {
        if (a.hook == "pre_snapshot") pre_hooks_run_.insert(a.zone);
        CommandResult r;
        Status s = host_.RunWithin(a.argv, a.timeout_seconds, &r);
        if (s.ok() && r.exit_code != 0) s = Status::Error(DescribeFailure(a.argv, r));
        return s.Prefixed(a.hook + " hook");
      }
    }
    return Status::Error("unknown action kind");
  }

  // Runs argv; a non-zero exit fails unless stderr contains `already_done`.
  Status RunCommand(const Argv& argv, std::string_view already_done) {
    CommandResult r;
    Status s = host_.Run(argv, &r);
    if (!s.ok()) return s;
    if (r.exit_code == 0) return Status::Ok();
    if (!already_done.empty() && StderrSays(r, already_done)) return Status::Ok();
    return Status::Error(DescribeFailure(argv, r));
  }

  Status FindDestination(const std::string& name, Destination** out) {
    auto it = destinations_.find(name);
    if (it == destinations_.end() || it->second == nullptr) {
      return Status::Error("destination " + name + " is not available to this apply");
    }
    *out = it->second;
    return Status::Ok();
  }

  ZoneManifest ZoneIdentity(const std::string& uuid) const {
    ZoneManifest z;
    z.host = plan_.host;
    z.uuid = uuid;
    auto it = plan_.zones.find(uuid);
    if (it != plan_.zones.end()) {
      z.alias = it->second.alias;
      z.brand = it->second.brand;
      z.image_uuid = it->second.image_uuid;
    }
    return z;
  }

  // guid, createtxg and creation of a snapshot this run created (the plan
  // could not know them). Left at 0 when zfs answers nothing (a dry run);
  // a destination refuses to record a link without a guid.
  Status LookUpSnapshot(const std::string& snapshot, StreamTarget* t) {
    Argv argv = commands_.SnapshotIdentity(snapshot);
    CommandResult r;
    Status s = host_.Run(argv, &r);
    if (!s.ok()) return s;
    if (r.exit_code != 0) return Status::Error(DescribeFailure(argv, r));
    return ParseSnapshotIdentity(r.out, snapshot, &t->guid, &t->createtxg, &t->creation)
        .Prefixed(ShellJoin(argv));
  }

  // Expected stream size for progress; 0 when the dialect cannot tell.
  uint64_t EstimateSize(const Action& a) {
    Argv argv = commands_.SendEstimate(a.snapshot, a.from);
    if (argv.empty()) return 0;
    CommandResult r;
    uint64_t bytes = 0;
    if (!host_.Run(argv, &r).ok() || r.exit_code != 0 || !ParseSendEstimate(r.out, &bytes)) {
      return 0;
    }
    return bytes;
  }

  // Runs the action's command with its stdout into a new file of `dest`,
  // and commits the file. The child writes the file itself when the file
  // allows it (direct mode: no pipe, no copy through zrecon); otherwise its
  // output streams through this process (compression happens here).
  // A zone's file is journaled in its manifest before the commit links it
  // into place, so that a crash before it is recorded leaves a file the
  // next apply deletes, not one no manifest knows.
  Status ExportToFile(size_t index, Destination* dest, const std::string& compression,
                      uint64_t expected, StoredFile* stored, ActionResult* result) {
    const Action& a = plan_.actions[index];
    // Declared before the file, whose hashing thread reports through it
    // until the file is committed or destroyed. In direct mode the observer
    // hears from that thread while this one waits for the child; the calls
    // never overlap with each other or with the other hooks.
    ProgressThrottle progress([this, index, expected](uint64_t bytes) {
      if (observer_) observer_->ActionProgress(plan_, index, bytes, expected);
    });
    std::unique_ptr<StreamFile> file;
    Status s = dest->Create(a.file, compression, &file);
    if (!s.ok()) return s;
    if (expected > 0) file->ExpectBytes(expected);
    ProgressSink sink(file.get(), &progress);
    const int direct = file->BeginDirect([&progress](uint64_t bytes) { progress.Update(bytes); });
    CommandResult r;
    s = direct >= 0 ? host_.RunToFile(a.argv, direct, &r) : host_.RunToSink(a.argv, &sink, &r);
    result->bytes = direct >= 0 ? file->bytes_in() : sink.bytes();
    const std::string where = a.destination + ":" + a.file;
    if (!s.ok()) return s.Prefixed(where);
    // In direct mode the child writes the destination itself, so its failure
    // may be the destination's (full, I/O error): name the file, as a
    // failed write through the sink does.
    if (r.exit_code != 0) {
      Status failed = Status::Error(DescribeFailure(a.argv, r));
      return direct >= 0 ? failed.Prefixed(where) : failed;
    }
    if (a.kind != ActionKind::kSaveImage) {
      s = dest->JournalFile(ZoneIdentity(a.zone), a.file);
      if (!s.ok()) return s;
    }
    s = file->Commit(stored);
    if (direct >= 0) result->bytes = file->bytes_in();
    return s;
  }

  // imgadm's record is small: it is read whole, checked, then written. A
  // dry run's host prints nothing; the directory destination refuses to
  // record an empty file, so only then is the check skipped.
  Status SaveImageRecord(const Action& a, ActionResult* result) {
    Destination* dest = nullptr;
    Status s = FindDestination(a.destination, &dest);
    if (!s.ok()) return s;
    CommandResult r;
    s = host_.Run(a.argv, &r);
    if (!s.ok()) return s;
    if (r.exit_code != 0) return Status::Error(DescribeFailure(a.argv, r));
    std::string type;
    if (!r.out.empty()) {
      s = ParseImgadmRecord(r.out, a.stream.image_uuid, &type);
      if (!s.ok()) return s.Prefixed(ShellJoin(a.argv));
    }
    std::unique_ptr<StreamFile> file;
    s = dest->Create(a.file, "none", &file);
    if (s.ok()) s = file->Write(r.out.data(), r.out.size());
    StoredFile stored;
    if (s.ok()) s = file->Commit(&stored);
    if (!s.ok()) return s.Prefixed(a.destination + ":" + a.file);
    result->bytes = r.out.size();
    result->stored = stored.size;
    return dest->RecordImageRecord(a.stream.image_uuid, stored, type);
  }

  Status RunExport(size_t index, ActionResult* result) {
    const Action& a = plan_.actions[index];
    Destination* dest = nullptr;
    Status s = FindDestination(a.destination, &dest);
    if (!s.ok()) return s;
    StreamTarget target = a.stream;
    uint64_t expected = 0;
    if (a.kind != ActionKind::kSaveConfig) {
      if (target.guid == 0) {
        s = LookUpSnapshot(a.snapshot, &target);
        if (!s.ok()) return s;
      }
      expected = EstimateSize(a);
    }
    std::string compression = "none";  // configs stay readable JSON
    auto d = plan_.destinations.find(a.destination);
    if (a.kind != ActionKind::kSaveConfig && d != plan_.destinations.end()) {
      compression = d->second.compression;
    }
    StoredFile stored;
    s = ExportToFile(index, dest, compression, expected, &stored, result);
    if (!s.ok()) return s;
    result->stored = stored.size;
    std::string written = FormatRfc3339(clock_());

    if (a.kind == ActionKind::kSaveConfig) {
      return dest->RecordConfig(ZoneIdentity(a.zone), ConfigRecord{stored, written});
    }
    if (a.kind == ActionKind::kSaveImage) {
      ImageManifest image;
      image.uuid = target.image_uuid;
      image.snapshot = a.snapshot;
      image.guid = target.guid;
      image.createtxg = target.createtxg;
      image.stream = stored;
      image.written = written;
      return dest->RecordImage(image);
    }
    Chain chain;
    chain.id = target.chain_id;
    chain.dataset = target.dataset;
    chain.origin = target.origin;
    chain.origin_guid = target.origin_guid;
    chain.image_uuid = target.image_uuid;
    ChainLink link;
    link.snapshot = ShortName(a.snapshot);
    link.guid = target.guid;
    link.createtxg = target.createtxg;
    link.creation = target.creation;
    link.from = a.from;
    link.from_guid = target.from_guid;
    link.stream = stored;
    link.config = target.config_file;
    link.written = written;
    return dest->RecordLink(ZoneIdentity(a.zone), chain, link);
  }

  const Plan& plan_;
  Host& host_;
  const std::map<std::string, Destination*>& destinations_;
  // What failed or was skipped, with the index of the first action that did.
  std::map<std::string, size_t> failed_zones_;
  std::map<std::string, size_t> failed_destinations_;
  std::map<std::pair<std::string, std::string>, size_t> failed_images_;  // (destination, image)
  std::set<std::string> pre_hooks_run_;  // zones whose pre_snapshot hook was attempted
  ApplyObserver* observer_;
  const Interrupt* interrupt_;
  ZfsCommands commands_;
  std::function<EpochSeconds()> clock_;
  std::function<double()> monotonic_;
};

}  // namespace

ApplyReport Execute(const Plan& plan, Host& host,
                    const std::map<std::string, Destination*>& destinations,
                    ApplyObserver* observer, const ExecutorOptions& options) {
  return Executor(plan, host, destinations, observer, options).Run();
}

}  // namespace zrecon
