#ifndef ZRECON_PLAN_UNPROTECT_H_
#define ZRECON_PLAN_UNPROTECT_H_

#include <string>
#include <vector>

#include "reconciler/host/zfs_dialect.h"
#include "reconciler/inventory/inventory.h"
#include "reconciler/plan/plan.h"
#include "reconciler/policy/naming.h"
#include "reconciler/policy/policy.h"
#include "reconciler/util/status.h"

namespace zrecon {

// zrecon's protection of a chain tip is a hold (tag "zrecon") and the
// zrecon:exported mark. On SmartOS a held snapshot makes `vmadm delete` hang
// (the brand's `zfs destroy -rF` retries EBUSY forever, smartos-live#292)
// and `vmadm reprovision` and `rollback-snapshot` fail. These build the
// actions that take that protection off again: for each snapshot of
// `datasets` whose name `naming` owns and that carries a mark, a release
// (when it has holds; "no such tag" is tolerated by the executor) then the
// mark cleared with `zfs inherit`. Appended to `out` in snapshot order.
// The mark goes too: holds of other tools count in `userrefs`, and only
// the cleared mark tells the next plan that zrecon's hold is gone (zfs list
// does not show hold tags). A zone that comes back into a policy while its
// medium is offline has its tips unprotected until that medium is read
// again; at worst a chain restarts.
void AppendUnprotectActions(const Zone& zone, const std::vector<const Dataset*>& datasets,
                            const NamingTemplate& naming, const ZfsCommands& commands,
                            const std::string& why, std::vector<Action>* out);

struct UnprotectInput {
  const Policy* policy = nullptr;
  const Inventory* inventory = nullptr;
  std::vector<std::string> zones;  // uuids or aliases, as given
  EpochSeconds now = 0;
  std::string host;
  ZfsCommands commands;
};

// `zrecon unprotect`: a plan of those actions over every dataset of the
// named zones (zone root and below, disks, cores). Fails, naming what is
// there, for a zone the host does not have or an alias several zones share.
// A zone the policy still protects gets a warning: the next apply holds its
// tips again.
Status PlanUnprotect(const UnprotectInput& in, Plan* plan);

}  // namespace zrecon

#endif  // ZRECON_PLAN_UNPROTECT_H_
