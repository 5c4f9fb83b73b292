#ifndef ZRECON_PLAN_MANAGED_H_
#define ZRECON_PLAN_MANAGED_H_

#include <string>
#include <vector>

#include "reconciler/inventory/inventory.h"
#include "reconciler/policy/naming.h"
#include "reconciler/util/time.h"

namespace zrecon {

// A snapshot zrecon owns (its name matches the naming template), existing or
// about to be created by the plan being built.
// Views, not copies: a planner run holds a million of these. `name` points
// into the inventory's Snapshot (or, for planned ones, into storage the
// caller of AddPlanned keeps alive), `snapshot_class` into `name`.
struct ManagedSnapshot {
  std::string_view name;  // short name
  std::string_view snapshot_class;
  EpochSeconds time = 0;               // from the name, not `creation`
  const Snapshot* existing = nullptr;  // null: planned in this run

  bool planned() const { return existing == nullptr; }
};

// Orders by name time, then existing before planned, then createtxg: the
// last element of a sorted list is the newest.
bool OlderThan(const ManagedSnapshot& a, const ManagedSnapshot& b);

// A dataset of a managed zone with its managed snapshots, oldest first.
struct DatasetState {
  const Dataset* dataset = nullptr;
  std::vector<ManagedSnapshot> managed;

  // Newest managed snapshot of the class, or null.
  const ManagedSnapshot* NewestOfClass(std::string_view snapshot_class) const;
  // `name` must outlive this DatasetState.
  void AddPlanned(std::string_view name, std::string_view snapshot_class, EpochSeconds t);
};

// Collects the managed snapshots of `dataset` (those `naming` recognises).
DatasetState ReadDatasetState(const Dataset& dataset, const NamingTemplate& naming);

// "2h15m", "3d4h", "45m", "20s" (for reasons shown to people).
std::string FormatAge(int64_t seconds);

}  // namespace zrecon

#endif  // ZRECON_PLAN_MANAGED_H_
