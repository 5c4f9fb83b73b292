#ifndef ZRECON_PLAN_PLAN_JSON_H_
#define ZRECON_PLAN_PLAN_JSON_H_

#include <string>
#include <string_view>

#include "reconciler/plan/plan.h"
#include "reconciler/util/status.h"

namespace zrecon {

// The plan as JSON (schema/plan.schema.json): what `plan --json` prints and
// `plan --out FILE` saves. Encoding is deterministic. Decode(Encode(p))
// reproduces p exactly (tested), and decoding a saved plan validates every
// field, naming the JSON path of the first bad one; it never throws. A plan
// whose major format version is newer than this zrecon's is refused.
std::string EncodePlanJson(const Plan& plan);
Status DecodePlanJson(std::string_view json, Plan* out);

}  // namespace zrecon

#endif  // ZRECON_PLAN_PLAN_JSON_H_
