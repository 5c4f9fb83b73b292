// Policy files are written by people and may be anything: LoadPolicy must
// answer every input with diagnostics that point into the file, and a policy
// it accepts must hold the invariants policy.h promises to the planner.

#include <algorithm>
#include <string>

#include "fuzz/fuzz_check.h"
#include "reconciler/policy/policy_loader.h"

namespace zrecon {
namespace {

constexpr char kFileName[] = "policy.yaml";

bool IsClass(const Policy& policy, const std::string& name) {
  return policy.FindClass(name) != nullptr;
}

void CheckDiagnostics(std::string_view text, const Diagnostics& diags) {
  const int lines = 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  for (const Diagnostic& d : diags.items()) {
    FUZZ_CHECK(d.loc.file == kFileName, d.ToString());
    FUZZ_CHECK(d.loc.line >= 1 && d.loc.line <= lines + 1, d.ToString());
    FUZZ_CHECK(d.loc.column >= 1, d.ToString());
    // The loader's last-resort catch: an exception other than yaml-cpp's
    // escaped the validation code.
    FUZZ_CHECK(d.message.rfind("cannot read the policy: ", 0) != 0, d.ToString());
  }
}

void CheckKeepClasses(const Policy& policy, const KeepCounts& keep) {
  for (const auto& [name, count] : keep) {
    FUZZ_CHECK(IsClass(policy, name), "keep names unknown class " + name);
    FUZZ_CHECK(count >= 0, "negative keep for " + name);
  }
}

void CheckAccepted(const Policy& policy) {
  FUZZ_CHECK(policy.file == kFileName, policy.file);
  FUZZ_CHECK(std::is_sorted(
                 policy.classes.begin(), policy.classes.end(),
                 [](const SnapshotClass& a, const SnapshotClass& b) { return a.name < b.name; }),
             "classes are not sorted by name");
  for (const auto& [name, def] : policy.policies) {
    CheckKeepClasses(policy, def.keep);
    for (const ExportRule& rule : def.exports) {
      FUZZ_CHECK(policy.destinations.count(rule.destination) == 1,
                 "policy " + name + " exports to unknown destination " + rule.destination);
      FUZZ_CHECK(IsClass(policy, rule.snapshot_class),
                 "policy " + name + " exports unknown class " + rule.snapshot_class);
      FUZZ_CHECK(rule.keep_chains >= 1, "policy " + name + " keeps no chain");
    }
  }
  for (const ZoneEntry& entry : policy.zones) {
    auto def = policy.policies.find(entry.policy);
    FUZZ_CHECK(def != policy.policies.end(), "zone entry names unknown policy " + entry.policy);
    CheckKeepClasses(policy, entry.keep_override);
    CheckKeepClasses(policy, EffectiveKeep(def->second, entry));
  }
}

}  // namespace
}  // namespace zrecon

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zrecon;
  std::string_view text = fuzz::AsText(data, size);
  Policy policy;
  Diagnostics diags;
  bool ok = LoadPolicy(kFileName, text, &policy, &diags);
  FUZZ_CHECK(ok == !diags.has_errors(), "LoadPolicy's result disagrees with its diagnostics");
  CheckDiagnostics(text, diags);
  if (ok) CheckAccepted(policy);
  return 0;
}
