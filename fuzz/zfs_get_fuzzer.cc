// `zfs get -H -p -r` output (legacy zfs-fuse dialect) as the inventory reads it;
// the result is saved in the illumos format, which must read back the same.

#include "fuzz/fuzz_check.h"
#include "fuzz/inventory_checks.h"
#include "reconciler/inventory/parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zrecon;
  Inventory inv;
  Status status = ParseZfsGet(fuzz::AsText(data, size), &inv);
  if (!status.ok()) {
    fuzz::CheckRefused(status, inv);
    return 0;
  }
  fuzz::CheckZfsListRoundTrip(inv);
  return 0;
}
