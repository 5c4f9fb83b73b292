#ifndef ZRECON_PLAN_ZONE_SELECTION_H_
#define ZRECON_PLAN_ZONE_SELECTION_H_

#include <string>
#include <vector>

#include "reconciler/inventory/inventory.h"
#include "reconciler/policy/policy.h"

namespace zrecon {

// A zone the policy manages, with the entry that selected it.
struct SelectedZone {
  const Zone* zone = nullptr;
  const ZoneEntry* entry = nullptr;
  const PolicyDef* policy = nullptr;
  KeepCounts keep;  // EffectiveKeep(policy, entry)
};

struct ZoneSelection {
  std::vector<SelectedZone> selected;  // by zone uuid
  std::vector<std::string> errors;     // zones matched by two or more entries
  std::vector<std::string> warnings;   // entries that match no zone, skipped zones
  std::vector<std::string> notes;      // zones matched by nothing, excluded zones
};

// True when every key present in `match` matches the zone (see policy.h).
bool ZoneMatchesSpec(const ZoneMatch& match, const Zone& zone);

// Decides which zones the policy manages. A zone matched by any `exclude`
// entry is not managed; otherwise exactly one `zones` entry must match it
// (two or more is an error). Zones in a transient vmadm state
// (provisioning, receiving) are skipped with a warning.
ZoneSelection SelectZones(const Policy& policy, const Inventory& inventory);

}  // namespace zrecon

#endif  // ZRECON_PLAN_ZONE_SELECTION_H_
