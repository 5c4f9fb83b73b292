#ifndef ZRECON_CLI_COMMANDS_H_
#define ZRECON_CLI_COMMANDS_H_

#include <map>
#include <string>
#include <vector>

#include "reconciler/cli/common.h"

namespace zrecon {

// One function per subcommand; each returns the process exit code (cli.h)
// and writes only to stdout/stderr.

struct ValidateFlags {
  std::vector<std::string> files;
  std::string format = "text";  // text | json
};
int RunValidate(const ValidateFlags& flags);

struct PlanFlags {
  std::string policy = kDefaultPolicyPath;
  std::string inventory_dir;  // plan against a recorded host
  std::map<std::string, std::string> catalog_paths;
  std::string now;
  std::string host;  // overrides the policy's host for the destination layout
  bool json = false;
  std::string out;
  bool detailed_exitcode = false;
  bool verbose = false;
  HostFlags host_flags;
};
int RunPlan(const PlanFlags& flags);

struct InventoryFlags {
  std::string save_dir;
  HostFlags host_flags;
};
int RunInventory(const InventoryFlags& flags);

int RunSchema(const std::string& name);

}  // namespace zrecon

#endif  // ZRECON_CLI_COMMANDS_H_
