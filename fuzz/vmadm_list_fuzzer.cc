// `vmadm list -p` output as the inventory reads it (recordings made before
// `inventory --save` wrote vmadm-lookup.json).

#include "fuzz/fuzz_check.h"
#include "fuzz/inventory_checks.h"
#include "reconciler/inventory/parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zrecon;
  Inventory inv;
  Status status = ParseVmadmList(fuzz::AsText(data, size), &inv);
  if (!status.ok()) {
    fuzz::CheckRefused(status, inv);
    return 0;
  }
  fuzz::CheckVmadmListZones(inv);
  return 0;
}
