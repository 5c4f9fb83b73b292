#ifndef ZRECON_RESTORE_RESTORE_EXECUTOR_H_
#define ZRECON_RESTORE_RESTORE_EXECUTOR_H_

#include <functional>
#include <string>
#include <vector>

#include "reconciler/host/host.h"
#include "reconciler/restore/restore_plan.h"
#include "reconciler/storage/verify.h"
#include "reconciler/util/interrupt.h"

namespace zrecon {

struct RestoreStepResult {
  Outcome outcome = Outcome::kNotAttempted;
  std::string error;
  uint64_t bytes = 0;  // receives: bytes fed to zfs receive
  double seconds = 0;
};

struct RestoreReport {
  std::vector<RestoreStepResult> results;  // one per step
  std::vector<std::string> cleanup;        // what the failure cleanup did or could not do
  // Interrupt::Describe() when interrupted: no step started after that.
  std::string interrupted;
  // No failure and no interrupt.
  bool ok() const;
};

class RestoreObserver {
 public:
  virtual ~RestoreObserver() = default;
  virtual void StepStarted(const RestorePlan& /*plan*/, size_t /*index*/) {}
  virtual void StepFinished(const RestorePlan& /*plan*/, size_t /*index*/,
                            const RestoreStepResult& /*result*/) {}
};

struct RestoreOptions {
  std::function<void(int seconds)> sleep;  // between retries of a busy destroy
  std::function<double()> monotonic;
  int busy_retries = 10;
  // Optional: once raised, no further step starts and busy retries end.
  const Interrupt* interrupt = nullptr;
};

// Runs the steps in order through `host`, feeding receives from the export
// files of host directory `where` (decompressing zstd, and checking each file's
// SHA-256 and size again as it is read). Stops at the first failure; when a
// receive failed, runs the plan's cleanup so no half-received -partial
// dataset stays behind. Never throws.
RestoreReport ExecuteRestore(const RestorePlan& plan, Host& host, const HostDirectory& where,
                             RestoreObserver* observer, const RestoreOptions& options);

}  // namespace zrecon

#endif  // ZRECON_RESTORE_RESTORE_EXECUTOR_H_
