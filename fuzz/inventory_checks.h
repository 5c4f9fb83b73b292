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

// Fields of the zones, in the line format's order.
inline std::string ZoneFields(const Zone& z) {
  return z.uuid + '\x1f' + z.type + '\x1f' + z.brand + '\x1f' + z.state + '\x1f' + z.image_uuid +
         '\x1f' + z.zpool + '\x1f' + z.alias;
}

// The zones of `inv` saved in the line format load back with every field,
// unless an alias holds a line break, which the format refuses to carry.
inline void CheckVmadmListRoundTrip(const Inventory& inv) {
  std::string saved;
  Status status = FormatVmadmList(inv, &saved);
  if (!status.ok()) {
    bool line_break = false;
    for (const Zone& z : inv.zones)
      line_break |= z.alias.find_first_of("\r\n") != std::string::npos;
    FUZZ_CHECK(line_break, "saving failed without a line break in an alias: " + status.message());
    return;
  }
  Inventory again;
  status = ParseVmadmList(saved, &again);
  FUZZ_CHECK(status.ok(), status.message() + "\nsaved listing:\n" + saved);
  FUZZ_CHECK(again.zones.size() == inv.zones.size(), "the saved listing has other rows:\n" + saved);
  for (const Zone& z : inv.zones) {
    const Zone* back = again.FindZone(z.uuid);
    FUZZ_CHECK(back != nullptr && ZoneFields(*back) == ZoneFields(z),
               "zone " + z.uuid + " changed through the saved listing:\n" + saved);
  }
  std::string resaved;
  FUZZ_CHECK(FormatVmadmList(again, &resaved).ok() && resaved == saved,
             "saving again changes the listing:\n" + saved);
}

}  // namespace fuzz
}  // namespace zrecon

#endif  // ZRECON_FUZZ_INVENTORY_CHECKS_H_
