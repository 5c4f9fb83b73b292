#ifndef ZRECON_APPLY_EXECUTOR_H_
#define ZRECON_APPLY_EXECUTOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "reconciler/host/host.h"
#include "reconciler/plan/plan.h"
#include "reconciler/storage/destination.h"
#include "reconciler/util/interrupt.h"
#include "reconciler/util/status.h"
#include "reconciler/util/time.h"

namespace zrecon {

struct ActionResult {
  Outcome outcome = Outcome::kNotAttempted;
  // kFailed: what went wrong, naming the command or file; kSkipped: which
  // earlier failure it depends on.
  std::string error;
  uint64_t bytes = 0;   // streams: bytes zfs/vmadm produced
  uint64_t stored = 0;  // streams: bytes written to the destination
  double seconds = 0;
  // The first try's failure when the action ran twice: its destination
  // failed, then recovered (Destination::Recover). "" otherwise.
  std::string retried_after;
};

struct ApplyReport {
  std::vector<ActionResult> results;  // one per plan action, same order
  // Interrupt::Describe() when the run was interrupted: no action started
  // after that, and the one in progress may have failed because of it.
  std::string interrupted;
  // Destinations whose medium failed (full, I/O error, read-only, gone):
  // nothing more was written to them.
  std::vector<std::string> failed_destinations;
  // No failure and no interrupt.
  bool ok() const;
  size_t Count(Outcome outcome) const;
};

// The outcome of one zone's actions: kFailed when one failed, else
// kSkipped when one was skipped, else kNotAttempted when the run stopped
// (interrupted) before one, else kDone (also for a zone without actions).
Outcome ZoneOutcome(const Plan& plan, const ApplyReport& report, const std::string& zone);

// Hooks for progress output (text, JSON lines); all optional.
class ApplyObserver {
 public:
  virtual ~ApplyObserver() = default;
  virtual void ActionStarted(const Plan& /*plan*/, size_t /*index*/) {}
  // Streams only: bytes so far, and the expected total (0 when unknown).
  virtual void ActionProgress(const Plan& /*plan*/, size_t /*index*/, uint64_t /*bytes*/,
                              uint64_t /*expected*/) {}
  virtual void ActionFinished(const Plan& /*plan*/, size_t /*index*/,
                              const ActionResult& /*result*/) {}
  // An action not run because of an earlier failure (result.error says
  // which); no ActionStarted or ActionFinished for it.
  virtual void ActionSkipped(const Plan& /*plan*/, size_t /*index*/,
                             const ActionResult& /*result*/) {}
  // Once, after the last action (when interrupted, after RunInterrupted).
  virtual void RunFinished(const Plan& /*plan*/, const ApplyReport& /*report*/) {}
  // Once, after the last action that ran, when the run was interrupted.
  virtual void RunInterrupted(const Plan& /*plan*/, const std::string& /*reason*/) {}
};

struct ExecutorOptions {
  // Current time for `written` fields in manifests.
  std::function<EpochSeconds()> clock;
  // Monotonic seconds for durations and rates.
  std::function<double()> monotonic;
  // Optional: once raised, no further action starts (the host stops the
  // command in progress, if it watches the same interrupt).
  const Interrupt* interrupt = nullptr;
};

// Runs the plan's actions in order: every command through `host` (so a
// RecordingHost makes it a dry run), every export file through the named
// Destination (all destinations the plan's actions name must be present and
// prepared). A failure ends only what depends on it; every later action
// that does is skipped (kSkipped), the others run:
//  - a failed or skipped action ends its zone: the zone's later actions are
//    skipped (its prunes never run after its failed export or snapshot);
//  - a failure of the medium (its message names ENOSPC, EDQUOT, EIO, EROFS,
//    ESTALE, ENXIO, ENODEV or ENOTCONN, or the destination is unavailable
//    or was replaced) ends its destination: later actions on it are
//    skipped, and so, by the rule above, are their zones' later actions.
//    Unless the destination recovers (Destination::Recover: an ssh session
//    or an object store that comes back): then the action runs once more
//    (every action on a destination converges when rerun, as after a
//    crash), and only a second failure counts;
//  - an image stream or imgadm record that was not saved to a destination
//    ends the new chains from that image there (a chain whose image is not
//    on the medium cannot be restored where the image is gone).
// An interrupt stops the run; later actions are not attempted. Each export is recorded in its
// destination's catalog only after its file is committed; a zone's stream or config is journaled
// (Destination::JournalFile) after its command succeeded and before the
// commit. A failed export names "<destination>:<file>" when the failure may
// be the destination's: a failed write, or a child that wrote the file
// itself (direct mode) and failed. Idempotent steps tolerate their "already done"
// answers (a hold that exists, a release of a hold that is gone), so a rerun
// after a crash converges. Never throws.
ApplyReport Execute(const Plan& plan, Host& host,
                    const std::map<std::string, Destination*>& destinations,
                    ApplyObserver* observer, const ExecutorOptions& options);

}  // namespace zrecon

#endif  // ZRECON_APPLY_EXECUTOR_H_
