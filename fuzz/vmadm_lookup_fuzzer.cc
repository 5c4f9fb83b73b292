// `vmadm lookup -j -o uuid,brand,state,image_uuid,zpool,zonename,
// flexible_disk_size,alias` output, the live read of zones, and what
// `inventory --save` writes.

#include "fuzz/fuzz_check.h"
#include "fuzz/inventory_checks.h"
#include "reconciler/inventory/parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zrecon;
  Inventory inv;
  Status status = ParseVmadmLookup(fuzz::AsText(data, size), &inv);
  if (!status.ok()) {
    FUZZ_CHECK(inv.zones.empty(), "a failed parse changed the inventory: " + status.message());
    return 0;
  }
  fuzz::CheckVmadmLookupRoundTrip(inv);
  return 0;
}
