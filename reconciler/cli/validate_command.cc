#include <nlohmann/json.hpp>

#include <iostream>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/commands.h"
#include "reconciler/policy/policy_loader.h"

namespace zrecon {

int RunValidate(const ValidateFlags& flags) {
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  nlohmann::ordered_json diagnostics = nlohmann::ordered_json::array();
  bool all_valid = true;
  for (const std::string& file : flags.files) {
    Policy policy;
    Diagnostics diags;
    bool valid = LoadPolicyFile(file, &policy, &diags);
    all_valid = all_valid && valid;
    files.push_back({{"file", file}, {"valid", valid}});
    for (const Diagnostic& d : diags.items()) {
      if (flags.format == "json") {
        diagnostics.push_back({{"file", d.loc.file},
                               {"line", d.loc.line},
                               {"column", d.loc.column},
                               {"severity", d.severity == Severity::kError ? "error" : "warning"},
                               {"message", d.message}});
      } else {
        std::cerr << d.ToString() << "\n";
      }
    }
    if (flags.format == "text") {
      std::cout << file << ": " << (valid ? "valid" : "invalid") << "\n";
    }
  }
  if (flags.format == "json") {
    nlohmann::ordered_json out = {
        {"valid", all_valid}, {"files", files}, {"diagnostics", diagnostics}};
    std::cout << out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  }
  return all_valid ? kExitOk : kExitError;
}

}  // namespace zrecon
