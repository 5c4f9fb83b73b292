#ifndef ZRECON_SCHEMA_SCHEMAS_H_
#define ZRECON_SCHEMA_SCHEMAS_H_

#include <string_view>
#include <vector>

namespace zrecon {

// One JSON Schema shipped with zrecon: `name` is "policy", "plan" or
// "manifest"; `text` is the exact content of schema/<name>.schema.json.
struct EmbeddedSchema {
  std::string_view name;
  std::string_view text;
};

const std::vector<EmbeddedSchema>& EmbeddedSchemas();

}  // namespace zrecon

#endif  // ZRECON_SCHEMA_SCHEMAS_H_
