// The `vmadm get` output an export saved on the destination, as restore
// reads it back to build the `vmadm create` payload. The payload is a
// vmadm get document of the same zone itself, so making a payload from it
// must succeed and change nothing.

#include <string>

#include "fuzz/fuzz_check.h"
#include "reconciler/restore/zone_payload.h"

namespace {

// The uuid of the seed configs; restore passes the uuid of the manifest.
constexpr char kUuid[] = "8f6d2b3a-61c4-4e0b-b7a1-3c9e5d0f2a47";
// Not the pool of the seeds, so that pool-qualified names move.
constexpr char kPool[] = "tank";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zrecon;
  ZonePayload payload;
  Status status = MakeCreatePayload(fuzz::AsText(data, size), kUuid, kPool, &payload);
  if (!status.ok()) return 0;
  FUZZ_CHECK(!payload.brand.empty(), payload.json);
  for (const std::string& dataset : payload.delegated) {
    FUZZ_CHECK(
        dataset.find('/') == std::string::npos || dataset.rfind(std::string(kPool) + "/", 0) == 0,
        "delegated dataset not on the target pool: " + dataset);
  }

  ZonePayload again;
  status = MakeCreatePayload(payload.json, kUuid, kPool, &again);
  FUZZ_CHECK(status.ok(), status.message() + "\npayload:\n" + payload.json);
  FUZZ_CHECK(again.json == payload.json,
             "payload changes when made again:\n" + payload.json + "\nthen:\n" + again.json);
  // The payload's quota is whole GiB (create takes only integers), and the
  // throw-away zone never boots.
  FUZZ_CHECK(again.brand == payload.brand && again.alias == payload.alias &&
                 again.fractional_quota_bytes == 0 && !again.autoboot &&
                 again.disks.size() == payload.disks.size(),
             payload.json);
  return 0;
}
