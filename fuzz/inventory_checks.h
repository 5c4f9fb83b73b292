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

inline void CheckVmadmListRoundTrip(const Inventory& inv) {
  const std::string saved = FormatVmadmList(inv);
  Inventory again;
  Status status = ParseVmadmList(saved, &again);
  FUZZ_CHECK(status.ok(), status.message() + "\nsaved listing:\n" + saved);
  FUZZ_CHECK(again.zones.size() == inv.zones.size(), "the saved listing has other rows:\n" + saved);
  FUZZ_CHECK(FormatVmadmList(again) == saved, "saving again changes the listing:\n" + saved);
}

}  // namespace fuzz
}  // namespace zrecon

#endif  // ZRECON_FUZZ_INVENTORY_CHECKS_H_
