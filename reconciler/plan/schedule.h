#ifndef ZRECON_PLAN_SCHEDULE_H_
#define ZRECON_PLAN_SCHEDULE_H_

#include <string>
#include <vector>

#include "reconciler/plan/managed.h"
#include "reconciler/policy/policy.h"

namespace zrecon {

struct DueClass {
  const SnapshotClass* snapshot_class = nullptr;
  std::string reason;  // "hourly due: newest is 2h ago" (for people)
};

// The classes a zone must snapshot now. A class is taken when keep[class] > 0.
// It is due when some dataset of the zone has no managed snapshot of that
// class whose name time lies in the UTC period that contains `now` (see
// Duration::PeriodIndex). The zone's datasets are snapshotted as one group, so
// one lagging dataset makes the class due for the zone. Result ordered by
// period length (frequent first), then name.
std::vector<DueClass> DueClasses(const std::vector<SnapshotClass>& classes, const KeepCounts& keep,
                                 const std::vector<DatasetState>& datasets, EpochSeconds now);

}  // namespace zrecon

#endif  // ZRECON_PLAN_SCHEDULE_H_
