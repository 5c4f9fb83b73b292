#include "reconciler/host/observe.h"

#include <utility>

#include "reconciler/inventory/parsers.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

using Parser = Status (*)(std::string_view, Inventory*);

// zfs-fuse's `zfs list` has no -p: it prints "invalid option 'p'" and its
// usage and exits 2, before touching any pool. Any other failure (a missing
// pool, a dead zfs-fuse daemon) must surface, not trigger a fallback.
bool RejectsParsableFlag(const CommandResult& result) {
  return result.exit_code == 2 && !result.timed_out &&
         result.err.find("invalid option 'p'") != std::string::npos;
}

bool Succeeded(const CommandResult& result) { return result.exit_code == 0 && !result.timed_out; }

Status Parse(const Argv& argv, const CommandResult& result, Parser parser, Inventory* inventory) {
  if (!Succeeded(result)) return Status::Error(DescribeFailure(argv, result));
  return parser(result.out, inventory).Prefixed(ShellJoin(argv));
}

Status RunAndParse(Host& host, const Argv& argv, Parser parser, Inventory* inventory) {
  CommandResult result;
  Status status = host.Run(argv, &result);
  return status.ok() ? Parse(argv, result, parser, inventory) : status;
}

Status ObserveLegacyZfs(Host& host, const ObserveOptions& options, Inventory* inventory,
                        ZfsDialect* dialect) {
  *dialect = ZfsDialect::kLegacy;
  return RunAndParse(host, LegacyZfsGetArgv(options.zfs), ParseZfsGet, inventory);
}

Status ObserveZfs(Host& host, const ObserveOptions& options, Inventory* inventory,
                  ZfsDialect* dialect) {
  if (options.dialect == DialectChoice::kLegacy) {
    return ObserveLegacyZfs(host, options, inventory, dialect);
  }
  const Argv list = IllumosZfsListArgv(options.zfs);
  CommandResult result;
  Status status = host.Run(list, &result);
  if (!status.ok()) return status;
  if (options.dialect == DialectChoice::kAuto && RejectsParsableFlag(result)) {
    return ObserveLegacyZfs(host, options, inventory, dialect);
  }
  *dialect = ZfsDialect::kIllumos;
  return Parse(list, result, ParseZfsList, inventory);
}

}  // namespace

Status Observe(Host& host, const ObserveOptions& options, Inventory* inventory,
               ZfsDialect* dialect_used) {
  Inventory observed;
  ZfsDialect dialect = ZfsDialect::kIllumos;
  Status status = ObserveZfs(host, options, &observed, &dialect);
  if (status.ok()) {
    status = RunAndParse(host, VmadmLookupArgv(options.vmadm), ParseVmadmLookup, &observed);
  }
  if (!status.ok()) return status;
  *inventory = std::move(observed);
  inventory->Index();
  if (dialect_used) *dialect_used = dialect;
  return Status::Ok();
}

}  // namespace zrecon
