#ifndef ZRECON_CLI_COMMON_H_
#define ZRECON_CLI_COMMON_H_

#include <map>
#include <memory>
#include <string>

#include "reconciler/apply/lock.h"
#include "reconciler/catalog/catalog.h"
#include "reconciler/host/host.h"
#include "reconciler/host/observe.h"
#include "reconciler/host/zfs_dialect.h"
#include "reconciler/inventory/inventory.h"
#include "reconciler/policy/diagnostics.h"
#include "reconciler/policy/policy.h"
#include "reconciler/storage/destination_factory.h"
#include "reconciler/util/interrupt.h"
#include "reconciler/util/status.h"
#include "reconciler/util/time.h"

namespace zrecon {

// Pieces shared by subcommands: each turns a CLI choice into one of the
// library's stage inputs.

constexpr const char* kDefaultPolicyPath = "/opt/zrecon/policy.yaml";

struct HostFlags {
  std::string zfs = "zfs";
  std::string vmadm = "vmadm";
  std::string dialect = "auto";  // auto | illumos | legacy
  // Limit per command (listings, snapshot, destroy, hold, vmadm ...), not
  // for stream transfers (zfs send/receive); 0: no limit.
  int timeout_seconds = 600;
  // apply and restore: a zfs send or receive that moves no data for this
  // long is stopped (a hung disk or pool); 0: never.
  int stall_seconds = 1800;
  // apply and restore: running commands stop when it is raised.
  const Interrupt* interrupt = nullptr;
};

// The host lock of a run that changes the host (apply, restore; lock.h).
struct HostLockFlags {
  std::string file;          // --lock-file; "" = $ZRECON_LOCK, else kDefaultLockPath
  std::string command_line;  // this process's argv, recorded in the lock file
};

// Takes the host lock; a note about a lock taken over from a run that
// ended without releasing it goes to stderr.
Status TakeHostLock(const HostLockFlags& flags, std::unique_ptr<HostLock>* lock);

// The host apply and restore change things through: every command limited
// to flags.timeout_seconds except stream transfers (timeout_host.h) run
// through `zfs`, which are stopped when they move no data for
// flags.stall_seconds instead.
std::unique_ptr<Host> MakeExecutionHost(const HostFlags& flags, const std::string& zfs);

// Loads and validates a policy; on failure returns the diagnostics as one
// multi-line message (file:line:col: ...).
Status LoadPolicyOrExplain(const std::string& path, Policy* policy);

// Where verify and restore read: --from (a path, a host directory in it, or
// an ssh:// URL), or --destination NAME of the policy -f.
struct SourceFlags {
  std::string from;
  std::string destination;
  std::string policy = kDefaultPolicyPath;
};

// Where verify or restore reads from: --from (a path or a URL) or
// --destination NAME of the policy -f. *label names it in messages.
Status ResolveSource(const SourceFlags& flags, DestinationAddress* address, std::string* label);

// Reads DIR/zfs-list.txt (illumos format) and the zones from
// DIR/vmadm-lookup.json (`vmadm lookup -j`) or DIR/vmadm-list.txt (the
// older line format).
Status ReadInventoryDir(const std::string& dir, Inventory* inventory);

// Observes the live host through `host`.
// The observe options the host flags ask for.
ObserveOptions ObserveOptionsOf(const HostFlags& flags);

Status ObserveLiveHost(Host& host, const HostFlags& flags, Inventory* inventory,
                       ZfsDialect* dialect);

// Reads the catalog of every destination of the policy for `host_name`.
// `paths` overrides destination paths by name (plan --catalog NAME=DIR).
Status ReadCatalogs(const Policy& policy, const std::string& host_name,
                    const std::map<std::string, std::string>& paths, Catalogs* catalogs);

// The policy's host, else gethostname().
std::string HostNameFor(const Policy& policy);

// --now: RFC 3339, or "" for the clock.
Status ParseNow(const std::string& text, EpochSeconds* now);

// For apply and restore: from now on, the first SIGINT, SIGTERM or SIGHUP
// raises the returned Interrupt (the run stops at the next safe point) and
// puts that signal back to its default action, so a second one ends the
// process at once, as kill -9 would (nothing is lost: the next run cleans
// up). Returns the same object on every call.
const Interrupt* CatchInterrupts();

// 128 + the signal number once CatchInterrupts caught one (how shells
// report a process ended by a signal), else `code`.
int ExitCodeFor(int code);

// Prints "zrecon: <message>" to stderr; returns kExitError.
int Fail(const Status& s);

// Seconds on the monotonic clock, for progress and action durations.
double Monotonic();

}  // namespace zrecon

#endif  // ZRECON_CLI_COMMON_H_
