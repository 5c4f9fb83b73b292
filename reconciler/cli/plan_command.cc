#include <iostream>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/commands.h"
#include "reconciler/host/posix_host.h"
#include "reconciler/plan/fingerprint.h"
#include "reconciler/plan/plan_json.h"
#include "reconciler/plan/plan_text.h"
#include "reconciler/plan/planner.h"
#include "reconciler/storage/atomic_file.h"

namespace zrecon {

namespace {

int Fail(const Status& s) {
  std::cerr << "zrecon: " << s.message() << "\n";
  return kExitError;
}

}  // namespace

int RunPlan(const PlanFlags& flags) {
  Policy policy;
  Status s = LoadPolicyOrExplain(flags.policy, &policy);
  if (!s.ok()) return Fail(s);
  EpochSeconds now;
  s = ParseNow(flags.now, &now);
  if (!s.ok()) return Fail(s);

  Inventory inventory;
  ZfsDialect dialect = ZfsDialect::kIllumos;
  if (!flags.inventory_dir.empty()) {
    s = ReadInventoryDir(flags.inventory_dir, &inventory);
    if (flags.host_flags.dialect == "legacy") dialect = ZfsDialect::kLegacy;
  } else {
    PosixHost host(flags.host_flags.timeout_seconds);
    s = ObserveLiveHost(host, flags.host_flags, &inventory, &dialect);
  }
  if (!s.ok()) return Fail(s);

  std::string host_name = flags.host.empty() ? HostNameFor(policy) : flags.host;
  Catalogs catalogs;
  s = ReadCatalogs(policy, host_name, flags.catalog_paths, &catalogs);
  if (!s.ok()) return Fail(s);

  PlannerInput input;
  input.policy = &policy;
  input.inventory = &inventory;
  input.catalogs = &catalogs;
  input.now = now;
  input.host = host_name;
  input.commands.zfs = flags.host_flags.zfs;
  input.commands.vmadm = flags.host_flags.vmadm;
  input.commands.dialect = dialect;
  Plan plan;
  s = BuildPlan(input, &plan);
  if (!s.ok()) return Fail(s);
  plan.zrecon_version = ZRECON_VERSION;
  plan.fingerprint = Fingerprint(inventory, catalogs);

  if (!flags.out.empty()) {
    s = WriteFileAtomically(flags.out, EncodePlanJson(plan));
    if (!s.ok()) return Fail(s);
  }
  if (flags.json) {
    std::cout << EncodePlanJson(plan);
  } else {
    PlanTextOptions options;
    options.verbose = flags.verbose;
    std::cout << RenderPlanText(plan, options);
    if (!flags.out.empty()) {
      std::cout << "\nSaved the plan to " << flags.out << "; run `zrecon apply " << flags.out
                << "` to execute exactly these actions.\n";
    }
  }
  if (flags.detailed_exitcode && !plan.Summary().empty()) return kExitChanges;
  return kExitOk;
}

}  // namespace zrecon
