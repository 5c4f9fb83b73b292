#include "reconciler/plan/retention.h"

#include <map>

namespace zrecon {

RetentionDecision DecideRetention(const DatasetState& d, const KeepCounts& keep,
                                  const Protection& protect) {
  RetentionDecision out;
  if (d.managed.empty()) return out;
  const ManagedSnapshot* newest = &d.managed.back();
  std::map<std::string_view, int> kept_count;
  for (const auto& [cls, n] : keep) kept_count[cls] = n;
  // Walk newest first so that the first keep[class] of each class are kept.
  std::map<std::string_view, int> seen;
  std::vector<RetentionVerdict> destroy_newest_first;
  for (auto it = d.managed.rbegin(); it != d.managed.rend(); ++it) {
    const ManagedSnapshot& m = *it;
    int rank = ++seen[m.snapshot_class];
    auto k = kept_count.find(m.snapshot_class);
    int kept = k == kept_count.end() ? 0 : k->second;
    if (rank <= kept || m.planned()) continue;
    std::string cls(m.snapshot_class);
    std::string why_over =
        kept == 0 ? cls + " is not kept by the policy (keep 0)"
                  : cls + " #" + std::to_string(rank) + ", policy keeps " + std::to_string(kept);
    std::string protection = &m == newest ? "newest zrecon snapshot of the dataset" : protect(m);
    if (!protection.empty()) {
      out.spared.push_back({&m, why_over + "; kept: " + protection});
    } else {
      destroy_newest_first.push_back({&m, why_over});
    }
  }
  out.destroy.assign(destroy_newest_first.rbegin(), destroy_newest_first.rend());
  return out;
}

}  // namespace zrecon
