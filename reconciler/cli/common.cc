#include "reconciler/cli/common.h"

#include "reconciler/cli/cli.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include "reconciler/host/observe.h"
#include "reconciler/host/posix_host.h"
#include "reconciler/host/timeout_host.h"
#include "reconciler/inventory/parsers.h"
#include "reconciler/policy/policy_loader.h"
#include "reconciler/storage/destination_factory.h"
#include "reconciler/util/files.h"
#include "reconciler/util/strings.h"

namespace zrecon {

Status TakeHostLock(const HostLockFlags& flags, std::unique_ptr<HostLock>* lock) {
  std::string path = flags.file;
  const char* from_env = std::getenv("ZRECON_LOCK");
  if (path.empty() && from_env != nullptr && *from_env != '\0') path = from_env;
  if (path.empty()) path = kDefaultLockPath;
  std::string note;
  Status s = HostLock::Acquire(path, flags.command_line,
                               static_cast<EpochSeconds>(std::time(nullptr)), lock, &note);
  if (s.ok() && !note.empty()) std::cerr << "zrecon: note: " << note << "\n";
  return s;
}

std::unique_ptr<Host> MakeExecutionHost(const HostFlags& flags, const std::string& zfs) {
  return std::make_unique<TimeoutHost>(
      std::make_unique<PosixHost>(flags.timeout_seconds, flags.interrupt),
      std::make_unique<PosixHost>(0, flags.interrupt, flags.stall_seconds), zfs);
}

namespace {

Interrupt* caught = nullptr;

extern "C" void OnInterrupt(int signal_number) {
  int saved = errno;
  if (caught != nullptr) caught->Raise(signal_number);
  errno = saved;
}

}  // namespace

const Interrupt* CatchInterrupts() {
  if (caught != nullptr) return caught;
  caught = new Interrupt();  // lives as long as the process: handlers use it
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  for (int s : {SIGINT, SIGTERM, SIGHUP}) {
    // A signal the parent ignores stays ignored (nohup, `cmd &` from a
    // script): the operator asked for the run not to stop on it.
    struct sigaction old {};
    if (::sigaction(s, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    ::sigaction(s, &action, nullptr);
  }
  return caught;
}

int ExitCodeFor(int code) {
  return caught != nullptr && caught->raised() ? 128 + caught->signal_number() : code;
}

Status LoadPolicyOrExplain(const std::string& path, Policy* policy) {
  Diagnostics diags;
  if (LoadPolicyFile(path, policy, &diags)) return Status::Ok();
  std::string message = "invalid policy (run `zrecon validate -f " + path + "`):";
  for (const Diagnostic& d : diags.items()) {
    if (d.severity == Severity::kError) message += "\n  " + d.ToString();
  }
  return Status::Error(message);
}

Status ReadInventoryDir(const std::string& dir, Inventory* inventory) {
  std::string zfs_text, vmadm_text;
  Status s = ReadFile(dir + "/zfs-list.txt", &zfs_text);
  if (!s.ok()) return s;
  // The zones: `vmadm lookup -j` JSON as `inventory --save` writes it, or
  // the line format of recordings made before (one of the two, never both,
  // so that nothing depends on which one wins).
  const std::string json_path = dir + "/vmadm-lookup.json";
  const std::string list_path = dir + "/vmadm-list.txt";
  struct stat st;
  bool has_json = ::lstat(json_path.c_str(), &st) == 0;
  bool has_list = ::lstat(list_path.c_str(), &st) == 0;
  if (has_json && has_list) {
    return Status::Error(dir + " has both vmadm-lookup.json and vmadm-list.txt; keep one");
  }
  const std::string& zones_path = has_list ? list_path : json_path;
  s = ReadFile(zones_path, &vmadm_text);
  if (!s.ok()) return s;
  Inventory inv;
  s = ParseZfsList(zfs_text, &inv);
  if (!s.ok()) return s.Prefixed(dir + "/zfs-list.txt");
  s = has_list ? ParseVmadmList(vmadm_text, &inv) : ParseVmadmLookup(vmadm_text, &inv);
  if (!s.ok()) return s.Prefixed(zones_path);
  inv.Index();
  *inventory = std::move(inv);
  return Status::Ok();
}

ObserveOptions ObserveOptionsOf(const HostFlags& flags) {
  ObserveOptions options;
  options.zfs = flags.zfs;
  options.vmadm = flags.vmadm;
  if (flags.dialect == "illumos") {
    options.dialect = DialectChoice::kIllumos;
  } else if (flags.dialect == "legacy") {
    options.dialect = DialectChoice::kLegacy;
  } else {
    options.dialect = DialectChoice::kAuto;
  }
  return options;
}

Status ObserveLiveHost(Host& host, const HostFlags& flags, Inventory* inventory,
                       ZfsDialect* dialect) {
  return Observe(host, ObserveOptionsOf(flags), inventory, dialect);
}

Status ReadCatalogs(const Policy& policy, const std::string& host_name,
                    const std::map<std::string, std::string>& paths, Catalogs* catalogs) {
  for (const auto& [name, path] : paths) {
    if (!policy.destinations.count(name)) {
      return Status::Error("--catalog " + name + "=" + path +
                           ": the policy has no destination named \"" + name + "\"");
    }
  }
  Catalogs out;
  for (const auto& [name, dest] : policy.destinations) {
    auto override_it = paths.find(name);
    DestinationAddress address{dest.type, dest.path, dest.Ssh(), dest.s3, TransferLimits{}};
    if (override_it != paths.end()) {
      address = DestinationAddress{"directory", override_it->second, {}, {}, TransferLimits{}};
    }
    DestinationCatalog cat;
    Status s = ReadDestinationCatalog(name, address, host_name, &cat);
    if (!s.ok()) return s.Prefixed("destination " + name);
    out[name] = std::move(cat);
  }
  *catalogs = std::move(out);
  return Status::Ok();
}

Status ResolveSource(const SourceFlags& flags, DestinationAddress* address, std::string* label) {
  if (!flags.destination.empty()) {
    Policy policy;
    Status s = LoadPolicyOrExplain(flags.policy, &policy);
    if (!s.ok()) return s;
    auto it = policy.destinations.find(flags.destination);
    if (it == policy.destinations.end()) {
      std::vector<std::string> names;
      for (const auto& [name, d] : policy.destinations) names.push_back(name);
      return Status::Error("--destination " + flags.destination + ": " + flags.policy +
                           " has no destination of that name (it has: " +
                           (names.empty() ? std::string("none") : Join(names, ", ")) + ")");
    }
    const DestinationSpec& d = it->second;
    *address = DestinationAddress{d.type, d.path, d.Ssh(), d.s3, TransferLimits{}};
    *label = d.type == "ssh" ? d.Ssh().Url() : d.type == "s3" ? d.s3.Url() : d.path;
    return Status::Ok();
  }
  if (flags.from.empty()) {
    return Status::Error(
        "say where to read from: --from PATH, --from ssh://[user@]host/path, or "
        "--destination NAME (of the policy -f)");
  }
  *label = flags.from;
  return AddressFromArgument(flags.from, address);
}

std::string HostNameFor(const Policy& policy) {
  if (policy.host) return *policy.host;
  // 255 bytes is the POSIX host name limit on both illumos and Linux.
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

Status ParseNow(const std::string& text, EpochSeconds* now) {
  if (text.empty()) {
    *now = static_cast<EpochSeconds>(std::time(nullptr));
    return Status::Ok();
  }
  if (!ParseRfc3339(text, now)) {
    return Status::Error("--now \"" + text +
                         "\": expected an RFC 3339 time such as 2026-11-26T10:00:00Z");
  }
  return Status::Ok();
}

int Fail(const Status& s) {
  std::cerr << "zrecon: " << s.message() << "\n";
  return kExitError;
}

double Monotonic() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace zrecon
