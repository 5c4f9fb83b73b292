#ifndef ZRECON_PLAN_RETENTION_H_
#define ZRECON_PLAN_RETENTION_H_

#include <functional>
#include <string>
#include <vector>

#include "reconciler/plan/managed.h"
#include "reconciler/policy/policy.h"

namespace zrecon {

struct RetentionVerdict {
  const ManagedSnapshot* snapshot = nullptr;
  std::string reason;  // why destroyed, or why spared
};

struct RetentionDecision {
  std::vector<RetentionVerdict> destroy;  // oldest first
  std::vector<RetentionVerdict> spared;   // over the count but protected
};

// Returns "" when the snapshot may be destroyed, else why it must stay
// ("held", "origin of a clone", "export chain tip for usb").
using Protection = std::function<std::string(const ManagedSnapshot&)>;

// Per class, keeps the newest keep[class] managed snapshots of the dataset
// (planned ones count and are newest); a class without a keep entry keeps 0.
// Every other existing snapshot is destroyed unless `protect` names a reason
// or it is the newest managed snapshot of the dataset. Planned snapshots are
// never destroyed. Only snapshots in d.managed are ever considered: foreign
// snapshots cannot appear in the result.
RetentionDecision DecideRetention(const DatasetState& d, const KeepCounts& keep,
                                  const Protection& protect);

}  // namespace zrecon

#endif  // ZRECON_PLAN_RETENTION_H_
