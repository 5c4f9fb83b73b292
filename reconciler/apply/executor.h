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
  std::string error;    // kFailed: what went wrong, naming the command or file
  uint64_t bytes = 0;   // streams: bytes zfs/vmadm produced
  uint64_t stored = 0;  // streams: bytes written to the destination
  double seconds = 0;
};

struct ApplyReport {
  std::vector<ActionResult> results;  // one per plan action, same order
  // Interrupt::Describe() when the run was interrupted: no action started
  // after that, and the one in progress may have failed because of it.
  std::string interrupted;
  // No failure and no interrupt.
  bool ok() const;
  size_t Count(Outcome outcome) const;
};

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
// prepared). Stops at the first failure or interrupt; later actions are
// reported as not attempted. Each export is recorded in its destination's catalog only after
// its file is committed; a zone's stream or config is journaled
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
