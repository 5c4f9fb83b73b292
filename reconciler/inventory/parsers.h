#ifndef ZRECON_INVENTORY_PARSERS_H_
#define ZRECON_INVENTORY_PARSERS_H_

#include <string>
#include <string_view>
#include <vector>

#include "reconciler/inventory/inventory.h"
#include "reconciler/util/status.h"

namespace zrecon {

// Pure parsers over captured command output. Each either fills its output
// completely or returns an error naming the line number and the offending
// text (printable-escaped); they never throw on any input.

// The columns zrecon asks `zfs list` for, in order (illumos dialect):
//   zfs list -H -p -t all -o name,type,origin,creation,guid,createtxg,userrefs,used,zrecon:exported
std::vector<std::string> IllumosZfsListArgv(const std::string& zfs);
// Parses that output (TAB-separated, 9 columns, '-' for unset). Rows of type
// bookmark are kept as bookmarks. Appends into inv (datasets and bookmarks).
Status ParseZfsList(std::string_view text, Inventory* inv);

// Legacy dialect (zfs-fuse: no `list -p`): one call reads every fact:
//   zfs get -H -p -r -o name,property,value
//       type,origin,creation,guid,createtxg,userrefs,used,zrecon:exported
std::vector<std::string> LegacyZfsGetArgv(const std::string& zfs);
Status ParseZfsGet(std::string_view text, Inventory* inv);

// vmadm list -p -o uuid,type,brand,state,image_uuid,zpool,alias
// Fields are ':'-joined without escaping; alias is last so that a ':' inside
// it survives (everything after the sixth ':' is the alias).
// `plan --inventory` still reads this line format (recorded hosts from
// before zrecon saved the JSON below); it has no zonename nor
// flexible_disk_size, so zones read from it have the zone root
// <zpool>/<uuid> and flexible_disk_size_known false.
std::vector<std::string> VmadmListArgv(const std::string& vmadm);
Status ParseVmadmList(std::string_view text, Inventory* inv);

// The live read of zones: JSON, so no alias can forge a row.
//   vmadm lookup -j -o uuid,brand,state,image_uuid,zpool,zonename,
//                      flexible_disk_size,alias
// `vmadm list -p` joins fields with ':' and rows with newlines without
// escaping; an alias containing a newline (settable by whoever names the
// zone) would inject a whole fake zone row. The JSON array carries the same
// facts unambiguously; `type` (a vmadm list column derived from the brand)
// is derived here the same way. Appends the zones; errors name the array
// index and the offending value.
std::vector<std::string> VmadmLookupArgv(const std::string& vmadm);
Status ParseVmadmLookup(std::string_view json, Inventory* inv);

// Write the files of `zrecon inventory --save` (illumos `zfs list` rows,
// whatever dialect the inventory was read with; the zones as `vmadm lookup
// -j` prints them). Parse(Format(x)) == x.
std::string FormatZfsList(const Inventory& inv);
std::string FormatVmadmLookup(const Inventory& inv);

}  // namespace zrecon

#endif  // ZRECON_INVENTORY_PARSERS_H_
