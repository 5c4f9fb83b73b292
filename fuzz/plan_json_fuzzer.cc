// Saved plan files (`plan --out`, read back by `apply PLANFILE`). A plan
// that decodes must encode to JSON that decodes to the same plan, and must
// hold what apply relies on without re-checking: destinations it writes to
// are declared, files stay inside them, and every action but remove_export
// has a command.

#include <string>

#include "fuzz/fuzz_check.h"
#include "reconciler/catalog/catalog_json.h"
#include "reconciler/plan/plan_json.h"

namespace zrecon {
namespace {

bool WritesToDestination(ActionKind kind) {
  return kind == ActionKind::kSend || kind == ActionKind::kSaveImage ||
         kind == ActionKind::kSaveConfig || kind == ActionKind::kRemoveExport;
}

void CheckAction(const Plan& plan, const Action& a, size_t index) {
  const std::string where = "action " + std::to_string(index) + " (" + ActionKindName(a.kind) + ")";
  FUZZ_CHECK(a.kind == ActionKind::kRemoveExport || !a.argv.empty(), where + " has no argv");
  if (!WritesToDestination(a.kind)) return;
  FUZZ_CHECK(plan.destinations.count(a.destination) == 1,
             where + " writes to undeclared destination " + a.destination);
  if (a.kind != ActionKind::kRemoveExport) {
    FUZZ_CHECK(IsSafeRelativePath(a.file), where + " writes an unsafe path: " + a.file);
  }
  for (const std::string& file : a.files) {
    FUZZ_CHECK(IsSafeRelativePath(file), where + " removes an unsafe path: " + file);
  }
}

}  // namespace
}  // namespace zrecon

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zrecon;
  Plan plan;
  Status status = DecodePlanJson(fuzz::AsText(data, size), &plan);
  if (!status.ok()) return 0;
  FUZZ_CHECK(plan.format_major == kPlanFormatMajor,
             "accepted format " + std::to_string(plan.format_major));
  for (size_t i = 0; i < plan.actions.size(); ++i) CheckAction(plan, plan.actions[i], i);

  const std::string json = EncodePlanJson(plan);
  Plan again;
  status = DecodePlanJson(json, &again);
  FUZZ_CHECK(status.ok(), status.message() + "\nencoded:\n" + json);
  FUZZ_CHECK(EncodePlanJson(again) == json, "decoding the encoding changes it:\n" + json);
  return 0;
}
