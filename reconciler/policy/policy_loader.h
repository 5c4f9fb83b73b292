#ifndef ZRECON_POLICY_POLICY_LOADER_H_
#define ZRECON_POLICY_POLICY_LOADER_H_

#include <string>
#include <string_view>

#include "reconciler/policy/diagnostics.h"
#include "reconciler/policy/policy.h"

namespace zrecon {

// Parses and validates a policy file. Every problem found (YAML syntax,
// unknown keys with a did-you-mean, wrong types, bad durations, unknown
// policy/destination/class references, a naming template without {class} or
// {time}, invalid RE2, out-of-range numbers, duplicate keys) is appended to
// *diags with its file:line:col; validation does not stop at the first one.
// Returns true iff no error was found; *out is only meaningful then.
// Never throws and never crashes, whatever the input.
bool LoadPolicy(const std::string& file_name, std::string_view yaml_text, Policy* out,
                Diagnostics* diags);

// Reads `path` and calls LoadPolicy; an unreadable file is one diagnostic.
bool LoadPolicyFile(const std::string& path, Policy* out, Diagnostics* diags);

}  // namespace zrecon

#endif  // ZRECON_POLICY_POLICY_LOADER_H_
