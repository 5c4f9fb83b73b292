#ifndef ZRECON_CLI_COMMANDS_H_
#define ZRECON_CLI_COMMANDS_H_

#include <map>
#include <string>
#include <vector>

#include "reconciler/cli/common.h"
#include "reconciler/plan/plan.h"
#include "reconciler/plan/planner.h"

namespace zrecon {

// One function per subcommand; each returns the process exit code (cli.h)
// and writes only to stdout/stderr.

struct ValidateFlags {
  std::vector<std::string> files;
  std::string format = "text";  // text | json
};
int RunValidate(const ValidateFlags& flags);

// What `plan` and `apply` (without a plan file) share: how to read the
// policy, the host and the catalogs.
struct PlanningFlags {
  std::string policy = kDefaultPolicyPath;
  std::string inventory_dir;  // plan against a recorded host
  std::map<std::string, std::string> catalog_paths;
  std::string now;
  std::string host;  // act as this host (the policy's `host` must agree)
  HostFlags host_flags;
};

// The stages' values of one planning run.
struct Planned {
  Policy policy;
  Inventory inventory;
  Catalogs catalogs;
  Plan plan;
};

// Loads the policy, reads the host (live or recorded) and the catalogs into
// *out, and points *input at them (out must outlive input's use).
Status ReadPlanInputs(const PlanningFlags& flags, Planned* out, PlannerInput* input);

// ReadPlanInputs, then builds the plan and its fingerprint.
Status MakePlan(const PlanningFlags& flags, Planned* out);

// Refuses to act for `expected_host` (a policy's or a plan's host, "" for
// none) on a machine with another name, unless `acknowledged` equals it.
Status CheckHost(const std::string& expected_host, const std::string& acknowledged);

struct PlanFlags {
  PlanningFlags planning;
  bool json = false;
  std::string out;
  bool detailed_exitcode = false;
  bool verbose = false;
};
int RunPlan(const PlanFlags& flags);

struct StatusFlags {
  PlanningFlags planning;
  double warn = 1.5;  // periods
  double crit = 3.0;
  bool json = false;
  std::string metrics_file;  // Prometheus textfile of the host's protection
};
// Exits as a Nagios plugin: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for
// any error reading the policy, the host or the media).
int RunStatus(const StatusFlags& flags);

struct ApplyFlags {
  PlanningFlags planning;
  std::string plan_file;  // execute this saved plan instead of planning
  bool dry_run = false;
  bool allow_destroy = false;
  bool json = false;  // progress as JSON lines
  bool verbose = false;
  HostLockFlags lock;
  // Prometheus textfile (apply/metrics.h), written after the run; not for
  // a dry run.
  std::string metrics_file;
  // One JSON line per run appended here (apply/run_log.h); not for a dry run.
  std::string run_log;
};
int RunApply(const ApplyFlags& flags);

struct RestoreFlags {
  SourceFlags source;
  std::string host;  // which host's exports, when `from` holds several
  std::string zone;  // uuid or alias
  std::string at;    // snapshot to restore to ("" = newest exported)
  std::string pool;  // target pool ("" = the one the zone was exported from)
  bool dry_run = false;
  bool start = false;
  bool force = false;
  // Read every file in full before changing anything (two passes); by
  // default each file is checked as it is received.
  bool verify_first = false;
  bool no_space_check = false;
  std::string imgadm_db = "/var/imgadm";  // imgadm's database directory
  HostFlags host_flags;
  HostLockFlags lock;
};
int RunRestore(const RestoreFlags& flags);

// Releases zrecon's holds on the named zones' snapshots
// (plan/unprotect.h). Exit 0 when done or nothing to do.
struct UnprotectFlags {
  std::string policy = kDefaultPolicyPath;  // for the naming template
  std::vector<std::string> zones;           // uuids or aliases
  bool dry_run = false;
  HostFlags host_flags;
  HostLockFlags lock;
};
int RunUnprotect(const UnprotectFlags& flags);

struct InventoryFlags {
  std::string save_dir;
  HostFlags host_flags;
};
int RunInventory(const InventoryFlags& flags);

int RunSchema(const std::string& name);

struct VerifyFlags {
  SourceFlags source;
  std::string host;                // only this host's directory ("" = all)
  std::vector<std::string> zones;  // only these zones, by uuid or alias
  bool json = false;               // one document (README, "Verifying exports")
};
// Exit 0 when everything verifies, 1 on any problem or bad input.
int RunVerify(const VerifyFlags& flags);

}  // namespace zrecon

#endif  // ZRECON_CLI_COMMANDS_H_
