#include "reconciler/apply/stale.h"

#include <utility>

#include "reconciler/host/observe.h"
#include "reconciler/plan/fingerprint.h"
#include "reconciler/storage/destination_factory.h"

namespace zrecon {

Status CheckNotStale(const Plan& plan, const Inventory& inventory, const Catalogs& catalogs) {
  if (Fingerprint(inventory, catalogs) == plan.fingerprint) return Status::Ok();
  return Status::Error(
      "plan is stale: the host's snapshots, zones or export catalogs changed since it was made "
      "(fingerprint " +
      plan.fingerprint + "); nothing was changed. Run `zrecon plan` again.");
}

Status ReadAgainAndCheck(const Plan& plan, Host& host, Catalogs* catalogs) {
  ObserveOptions options;
  options.zfs = plan.zfs;
  options.vmadm = plan.vmadm;
  options.dialect =
      plan.dialect == ZfsDialect::kLegacy ? DialectChoice::kLegacy : DialectChoice::kIllumos;
  Inventory inventory;
  Status s = Observe(host, options, &inventory, nullptr);
  if (!s.ok()) return s;
  Catalogs read;
  for (const auto& [name, d] : plan.destinations) {
    DestinationCatalog cat;
    s = ReadDestinationCatalog(
        name, DestinationAddress{d.type, d.path, d.ssh, d.s3, TransferLimits{}}, plan.host, &cat);
    if (!s.ok()) return s.Prefixed("destination " + name);
    read[name] = std::move(cat);
  }
  s = CheckNotStale(plan, inventory, read);
  if (s.ok()) *catalogs = std::move(read);
  return s;
}

}  // namespace zrecon
