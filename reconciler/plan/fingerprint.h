#ifndef ZRECON_PLAN_FINGERPRINT_H_
#define ZRECON_PLAN_FINGERPRINT_H_

#include <string>

#include "reconciler/catalog/catalog.h"
#include "reconciler/inventory/inventory.h"

namespace zrecon {

// "sha256:<hex>" over the facts a plan is built from: every dataset
// (name, type, origin, guid, createtxg) and snapshot (name, guid, createtxg,
// userrefs, zrecon:exported) of the pools that hold zones (their zpool, and
// the pools of kvm disks), every zone (uuid, brand, image, zpool, alias, and
// zonename and flexible_disk_size where set) and
// the canonical encoding of every catalog. Deliberately excluded: other
// pools (a replication target, a scratch pool), `used`, `creation` and zone
// state, which change on a live host without changing what a plan should
// do. A saved plan is refused ("stale") when the fingerprint of the host at
// apply time differs.
std::string Fingerprint(const Inventory& inventory, const Catalogs& catalogs);

}  // namespace zrecon

#endif  // ZRECON_PLAN_FINGERPRINT_H_
