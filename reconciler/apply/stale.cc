#include "reconciler/apply/stale.h"

#include "reconciler/plan/fingerprint.h"

namespace zrecon {

Status CheckNotStale(const Plan& plan, const Inventory& inventory, const Catalogs& catalogs) {
  if (Fingerprint(inventory, catalogs) == plan.fingerprint) return Status::Ok();
  return Status::Error(
      "plan is stale: the host's snapshots, zones or export catalogs changed since it was made "
      "(fingerprint " +
      plan.fingerprint + "); nothing was changed. Run `zrecon plan` again.");
}

}  // namespace zrecon
