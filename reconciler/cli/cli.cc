#include "reconciler/cli/cli.h"

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "reconciler/cli/commands.h"

namespace zrecon {

namespace {

void AddHostFlags(CLI::App* cmd, HostFlags* flags) {
  cmd->add_option("--zfs", flags->zfs, "zfs binary (default: zfs on PATH)");
  cmd->add_option("--vmadm", flags->vmadm, "vmadm binary (default: vmadm on PATH)");
  cmd->add_option("--dialect", flags->dialect,
                  "zfs CLI dialect: auto (detect), illumos (SmartOS), legacy (zfs-fuse)")
      ->check(CLI::IsMember({"auto", "illumos", "legacy"}));
}

// NAME=DIR pairs of --catalog.
bool ParseCatalogPairs(const std::vector<std::string>& pairs,
                       std::map<std::string, std::string>* out) {
  for (const std::string& p : pairs) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == p.size()) {
      std::cerr << "zrecon: --catalog \"" << p << "\": expected DESTINATION=DIR\n";
      return false;
    }
    (*out)[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return true;
}

int Dispatch(int argc, char** argv) {
  CLI::App app{"zrecon: declarative snapshots, exports and recovery for SmartOS zones"};
  app.name("zrecon");
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("zrecon ") + ZRECON_VERSION);

  ValidateFlags validate;
  CLI::App* validate_cmd =
      app.add_subcommand("validate", "Check policy files; report every problem as FILE:LINE:COL");
  validate_cmd->add_option("-f,--file", validate.files, "policy file (repeatable)")
      ->default_str(kDefaultPolicyPath);
  validate_cmd->add_option("--format", validate.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));

  PlanFlags plan;
  std::vector<std::string> plan_catalogs;
  CLI::App* plan_cmd = app.add_subcommand(
      "plan", "Compare the policy with the host and print the snapshots, sends and prunes due");
  plan_cmd->add_option("-f,--file", plan.policy, "policy file")->capture_default_str();
  plan_cmd->add_option("--inventory", plan.inventory_dir,
                       "plan against a recorded host (DIR/zfs-list.txt, DIR/vmadm-list.txt)");
  plan_cmd->add_option("--catalog", plan_catalogs,
                       "read destination NAME's catalog from DIR instead of its path (NAME=DIR)");
  plan_cmd->add_option("--now", plan.now, "plan as of this RFC 3339 time (default: the clock)");
  plan_cmd->add_option("--host", plan.host, "host name for the destination layout");
  plan_cmd->add_flag("--json", plan.json, "print the plan as JSON (schema: zrecon schema plan)");
  plan_cmd->add_option("--out", plan.out, "save the plan as JSON for `zrecon apply FILE`");
  plan_cmd->add_flag("--detailed-exitcode", plan.detailed_exitcode,
                     "exit 0 when there are no changes, 2 when there are, 1 on error");
  plan_cmd->add_flag("-v,--verbose", plan.verbose,
                     "also list unmatched zones and snapshots kept by protection");
  AddHostFlags(plan_cmd, &plan.host_flags);

  InventoryFlags inventory;
  CLI::App* inventory_cmd =
      app.add_subcommand("inventory", "Read the host's zfs and vmadm listings");
  inventory_cmd->add_option("--save", inventory.save_dir,
                            "write DIR/zfs-list.txt and DIR/vmadm-list.txt (illumos format)");
  AddHostFlags(inventory_cmd, &inventory.host_flags);

  std::string schema_name = "policy";
  CLI::App* schema_cmd = app.add_subcommand("schema", "Print a JSON Schema");
  schema_cmd->add_option("name", schema_name, "policy (default), plan or manifest")
      ->check(CLI::IsMember({"policy", "plan", "manifest"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (validate_cmd->parsed()) {
    if (validate.files.empty()) validate.files.push_back(kDefaultPolicyPath);
    return RunValidate(validate);
  }
  if (plan_cmd->parsed()) {
    if (!ParseCatalogPairs(plan_catalogs, &plan.catalog_paths)) return kExitUsage;
    return RunPlan(plan);
  }
  if (inventory_cmd->parsed()) return RunInventory(inventory);
  if (schema_cmd->parsed()) return RunSchema(schema_name);
  return kExitUsage;
}

}  // namespace

int RunCli(int argc, char** argv) {
  // The library reports errors as values; anything thrown here is a bug or
  // resource exhaustion, and still must not end in an unexplained abort.
  try {
    return Dispatch(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "zrecon: internal error: " << e.what() << "\n";
    return kExitError;
  }
}

}  // namespace zrecon
