#include <iostream>

#include "reconciler/cli/cli.h"
#include "reconciler/cli/commands.h"
#include "reconciler/host/posix_host.h"
#include "reconciler/plan/fingerprint.h"
#include "reconciler/plan/plan_json.h"
#include "reconciler/plan/plan_text.h"
#include "reconciler/plan/planner.h"
#include "reconciler/util/files.h"

namespace zrecon {

Status ReadPlanInputs(const PlanningFlags& flags, Planned* out, PlannerInput* input) {
  Status s = LoadPolicyOrExplain(flags.policy, &out->policy);
  if (!s.ok()) return s;
  EpochSeconds now;
  s = ParseNow(flags.now, &now);
  if (!s.ok()) return s;
  ZfsDialect dialect = ZfsDialect::kIllumos;
  if (!flags.inventory_dir.empty()) {
    s = ReadInventoryDir(flags.inventory_dir, &out->inventory);
    if (flags.host_flags.dialect == "legacy") dialect = ZfsDialect::kLegacy;
  } else {
    PosixHost host(flags.host_flags.timeout_seconds, flags.host_flags.interrupt);
    s = ObserveLiveHost(host, flags.host_flags, &out->inventory, &dialect);
  }
  if (!s.ok()) return s;
  std::string host_name = flags.host.empty() ? HostNameFor(out->policy) : flags.host;
  s = ReadCatalogs(out->policy, host_name, flags.catalog_paths, &out->catalogs);
  if (!s.ok()) return s;
  *input = PlannerInput();
  input->policy = &out->policy;
  input->inventory = &out->inventory;
  input->catalogs = &out->catalogs;
  input->now = now;
  input->host = host_name;
  input->commands.zfs = flags.host_flags.zfs;
  input->commands.vmadm = flags.host_flags.vmadm;
  input->commands.dialect = dialect;
  return Status::Ok();
}

Status MakePlan(const PlanningFlags& flags, Planned* out) {
  PlannerInput input;
  Status s = ReadPlanInputs(flags, out, &input);
  if (s.ok()) s = BuildPlan(input, &out->plan);
  if (!s.ok()) return s;
  out->plan.zrecon_version = ZRECON_VERSION;
  out->plan.fingerprint = Fingerprint(out->inventory, out->catalogs);
  return Status::Ok();
}

int RunPlan(const PlanFlags& flags) {
  Planned planned;
  Status s = MakePlan(flags.planning, &planned);
  if (!s.ok()) return Fail(s);
  const Plan& plan = planned.plan;
  if (!flags.out.empty()) {
    s = WriteFileAtomically(flags.out, EncodePlanJson(plan));
    if (!s.ok()) return Fail(s.Prefixed("--out " + flags.out));
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
