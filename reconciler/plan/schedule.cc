#include "reconciler/plan/schedule.h"

#include <algorithm>

namespace zrecon {

std::vector<DueClass> DueClasses(const std::vector<SnapshotClass>& classes, const KeepCounts& keep,
                                 const std::vector<DatasetState>& datasets, EpochSeconds now) {
  std::vector<const SnapshotClass*> taken;
  for (const SnapshotClass& c : classes) {
    auto it = keep.find(c.name);
    if (it != keep.end() && it->second > 0) taken.push_back(&c);
  }
  std::sort(taken.begin(), taken.end(), [](const SnapshotClass* a, const SnapshotClass* b) {
    int64_t as = a->period.ApproxSeconds(), bs = b->period.ApproxSeconds();
    return as != bs ? as < bs : a->name < b->name;
  });

  std::vector<DueClass> due;
  if (datasets.empty()) return due;
  for (const SnapshotClass* c : taken) {
    int64_t current = c->period.PeriodIndex(now);
    // The dataset that lags most decides, and is named in the reason.
    const DatasetState* lagging = nullptr;
    const ManagedSnapshot* lagging_newest = nullptr;
    for (const DatasetState& d : datasets) {
      const ManagedSnapshot* newest = d.NewestOfClass(c->name);
      bool covered = false;
      // A snapshot dated in the future (clock moved back) does not cover the
      // current period; scan back for one inside it.
      for (auto it = d.managed.rbegin(); it != d.managed.rend() && !covered; ++it) {
        covered = it->snapshot_class == c->name && c->period.PeriodIndex(it->time) == current;
      }
      if (covered) continue;
      if (lagging == nullptr || (lagging_newest != nullptr &&
                                 (newest == nullptr || newest->time < lagging_newest->time))) {
        lagging = &d;
        lagging_newest = newest;
      }
    }
    if (lagging == nullptr) continue;
    std::string reason = c->name + " due: ";
    bool none_anywhere = std::all_of(datasets.begin(), datasets.end(), [&](const DatasetState& d) {
      return d.NewestOfClass(c->name) == nullptr;
    });
    if (lagging_newest == nullptr) {
      reason += none_anywhere ? "none yet" : "none yet on " + lagging->dataset->name;
    } else {
      reason += "newest " + c->name + " is " + FormatAge(now - lagging_newest->time) + " old";
      if (datasets.size() > 1) reason += " on " + lagging->dataset->name;
      reason += " (period " + c->period.ToString() + " since " +
                FormatRfc3339(c->period.PeriodStart(current)) + ")";
    }
    due.push_back({c, reason});
  }
  return due;
}

}  // namespace zrecon
