#ifndef ZRECON_INVENTORY_ZONE_DATASETS_H_
#define ZRECON_INVENTORY_ZONE_DATASETS_H_

#include <vector>

#include "reconciler/inventory/inventory.h"
#include "reconciler/policy/policy.h"

namespace zrecon {

// The datasets of a zone that exist in the inventory, for the given roles,
// per brand (see docs/policy.md and the SmartOS reference):
//   kZoneRoot: <zpool>/<zonename> and every descendant (delegated
//              <zonename>/data, docker volumes, bhyve <uuid>/diskN);
//   kDisks:    kvm <any pool>/<uuid>-diskN volumes, bhyve <zpool>/<uuid>/diskN;
//   kCores:    <zpool>/cores/<zonename>.
// The zonename is the uuid unless the zone was created with another one.
// A bhyve zone with its own zonename would have its volumes at
// <zpool>/<uuid>/diskN, outside its root (VM.js:3189 names them by uuid);
// whether vmadm can create such a zone was not established: they are not
// looked for there.
// Sorted by name, no duplicates. Empty when the zone root does not exist.
std::vector<const Dataset*> ZoneDatasets(const Inventory& inv, const Zone& zone,
                                         const std::vector<DatasetRole>& roles);

// The name of the zone root dataset, "<zpool>/<zonename>" ("zones" when the
// vmadm row has no zpool).
std::string ZoneRootName(const Zone& zone);

}  // namespace zrecon

#endif  // ZRECON_INVENTORY_ZONE_DATASETS_H_
