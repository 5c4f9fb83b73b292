#ifndef ZRECON_RESTORE_ZONE_PAYLOAD_H_
#define ZRECON_RESTORE_ZONE_PAYLOAD_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reconciler/util/status.h"

namespace zrecon {

// What restore needs from a saved `vmadm get`, and the `vmadm create`
// payload made from it.
struct ZonePayload {
  std::string json;  // the payload for vmadm create (stdin)
  std::string brand;
  std::string alias;
  int64_t quota_gib = 0;               // 0: none
  std::vector<std::string> delegated;  // delegated datasets, on the target pool
};

// Turns `vmadm get` output into a `vmadm create` payload that recreates the
// zone with the same uuid on `pool`: drops what vmadm derives or reports
// (state, zone ids and paths, timestamps, snapshots, datasets, ...), turns
// the delegated `<pool>/<uuid>/data` dataset back into
// `delegate_dataset: true`, and moves pool-qualified names to `pool`.
// Fails when the text is not a JSON object whose uuid is `uuid` and which
// has a brand.
Status MakeCreatePayload(std::string_view vmadm_get_json, const std::string& uuid,
                         const std::string& pool, ZonePayload* out);

}  // namespace zrecon

#endif  // ZRECON_RESTORE_ZONE_PAYLOAD_H_
