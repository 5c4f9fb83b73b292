#ifndef ZRECON_PLAN_PLANNER_H_
#define ZRECON_PLAN_PLANNER_H_

#include <string>

#include "reconciler/catalog/catalog.h"
#include "reconciler/host/zfs_dialect.h"
#include "reconciler/inventory/inventory.h"
#include "reconciler/plan/plan.h"
#include "reconciler/policy/policy.h"
#include "reconciler/util/status.h"

namespace zrecon {

struct PlannerInput {
  const Policy* policy = nullptr;
  const Inventory* inventory = nullptr;  // Index()ed
  // The catalog of every destination of the policy (unreachable ones with
  // reachable=false). A destination missing here counts as unreachable.
  const Catalogs* catalogs = nullptr;
  EpochSeconds now = 0;
  std::string host;      // names the per-host directory on destinations
  ZfsCommands commands;  // dialect and binaries the argv are built for
};

// Computes the plan: snapshots due, exports to bring every reachable
// destination's chain tips up to date, chain tip protection, retention
// prunes, and old chains beyond keep_chains. Pure and deterministic: the
// same input gives a byte-identical plan (the fingerprint is left empty; see
// fingerprint.h). Actions are in execution order: all snapshots; then per
// zone its exports (image streams, config, sends, tip protection); then all
// destroys; then chain removals.
//
// Safety invariants (tested by property tests): no destroy of a snapshot
// whose name is outside the naming template, of a held snapshot, of a clone
// origin, of an export chain tip, or of the newest managed snapshot of a
// dataset; no dataset, image or zone is ever destroyed.
//
// Fails only when no correct plan exists: a zone matched by two entries.
Status BuildPlan(const PlannerInput& input, Plan* plan);

}  // namespace zrecon

#endif  // ZRECON_PLAN_PLANNER_H_
