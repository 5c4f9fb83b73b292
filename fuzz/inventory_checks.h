#ifndef ZRECON_FUZZ_INVENTORY_CHECKS_H_
#define ZRECON_FUZZ_INVENTORY_CHECKS_H_

#include <string>

#include "fuzz/fuzz_check.h"
#include "reconciler/inventory/inventory.h"
#include "reconciler/inventory/parsers.h"
#include "reconciler/util/status.h"

namespace zrecon {
namespace fuzz {

// Properties shared by the listing parsers (inventory/parsers.h).

// A refused listing is reported by line and leaves the (empty) inventory
// untouched.
inline void CheckRefused(const Status& status, const Inventory& inv) {
  FUZZ_CHECK(status.message().rfind("line ", 0) == 0, "error without a line: " + status.message());
  FUZZ_CHECK(inv.datasets.empty() && inv.bookmarks.empty() && inv.zones.empty(),
             "a failed parse changed the inventory: " + status.message());
}

// What `inventory --save` writes for an accepted zfs listing parses back,
// and formats to the same bytes.
inline void CheckZfsListRoundTrip(const Inventory& inv) {
  const std::string saved = FormatZfsList(inv);
  Inventory again;
  Status status = ParseZfsList(saved, &again);
  FUZZ_CHECK(status.ok(), status.message() + "\nsaved listing:\n" + saved);
  FUZZ_CHECK(again.datasets.size() == inv.datasets.size() &&
                 again.bookmarks.size() == inv.bookmarks.size() &&
                 again.snapshot_count() == inv.snapshot_count(),
             "the saved listing has other rows:\n" + saved);
  FUZZ_CHECK(FormatZfsList(again) == saved, "saving again changes the listing:\n" + saved);
}

// Every field of a zone.
inline std::string ZoneFields(const Zone& z) {
  return z.uuid + '\x1f' + z.type + '\x1f' + z.brand + '\x1f' + z.state + '\x1f' + z.image_uuid +
         '\x1f' + z.zpool + '\x1f' + z.alias + '\x1f' + z.zonename + '\x1f' +
         std::to_string(z.flexible_disk_size);
}

// The zones of `inv`, read from `vmadm lookup -j`, saved as `inventory
// --save` writes them, load back with every field, and saving again gives
// the same text.
inline void CheckVmadmLookupRoundTrip(const Inventory& inv) {
  std::string saved = FormatVmadmLookup(inv);
  Inventory again;
  Status status = ParseVmadmLookup(saved, &again);
  FUZZ_CHECK(status.ok(), status.message() + "\nsaved zones:\n" + saved);
  FUZZ_CHECK(again.zones.size() == inv.zones.size(), "the saved zones are others:\n" + saved);
  for (const Zone& z : inv.zones) {
    const Zone* back = again.FindZone(z.uuid);
    FUZZ_CHECK(back != nullptr && ZoneFields(*back) == ZoneFields(z),
               "zone " + z.uuid + " changed through the saved zones:\n" + saved);
  }
  FUZZ_CHECK(FormatVmadmLookup(again) == saved, "saving again changes the zones:\n" + saved);
}

// Zones of the recorded line format carry neither a zonename nor a
// flexible_disk_size, and no field of theirs holds a newline (the row
// separator; a '\r' is just a byte).
inline void CheckVmadmListZones(const Inventory& inv) {
  for (const Zone& z : inv.zones) {
    FUZZ_CHECK(z.zonename.empty() && !z.flexible_disk_size_known && z.flexible_disk_size == 0,
               "zone " + z.uuid + " from the line format has a zonename or flexible_disk_size");
    FUZZ_CHECK(ZoneFields(z).find('\n') == std::string::npos,
               "zone " + z.uuid + " has a newline in a field");
  }
}

}  // namespace fuzz
}  // namespace zrecon

#endif  // ZRECON_FUZZ_INVENTORY_CHECKS_H_
