#ifndef ZRECON_POLICY_POLICY_H_
#define ZRECON_POLICY_POLICY_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "reconciler/policy/diagnostics.h"
#include "reconciler/util/duration.h"
#include "reconciler/util/s3_location.h"
#include "reconciler/util/ssh_location.h"

namespace zrecon {

// The desired state, as loaded from a policy file (format version 1). Every
// field here is validated by LoadPolicy; code downstream may rely on: class,
// destination and policy names referenced anywhere exist; naming compiles;
// regexes compile; counts are in range. See docs/policy.md for the format.

// Which of a zone's datasets a policy covers.
enum class DatasetRole {
  kZoneRoot,  // <pool>/<uuid> and all its descendants (delegated data, bhyve disks)
  kDisks,     // kvm <pool>/<uuid>-diskN volumes, and bhyve <pool>/<uuid>/diskN
  kCores,     // <pool>/cores/<uuid>
};
const char* DatasetRoleName(DatasetRole role);

// Selects zones. Every present key must match (AND). alias, uuid and brand
// are fnmatch(3) globs; alias_regex is an RE2 pattern searched (unanchored)
// in the alias. A zone without alias has alias "".
struct ZoneMatch {
  std::optional<std::string> alias;
  std::optional<std::string> uuid;
  std::optional<std::string> alias_regex;
  std::optional<std::string> brand;
  SourceLoc loc;

  // "alias=web* brand=lx" for messages.
  std::string Describe() const;
};

struct SnapshotClass {
  std::string name;  // [a-z][a-z0-9_]*, used inside snapshot names
  Duration period;
  SourceLoc loc;
};

struct ExportRule {
  std::string destination;
  std::string snapshot_class;          // `class:` in YAML
  std::optional<Duration> full_every;  // unset: chains never expire by age
  int keep_chains = 2;                 // >= 1
  SourceLoc loc;
};

// Retention counts by class name. Classes absent from the map are not taken.
using KeepCounts = std::map<std::string, int>;

struct PolicyDef {
  std::string name;
  KeepCounts keep;
  std::vector<DatasetRole> datasets;  // default {kZoneRoot, kDisks}
  std::vector<ExportRule> exports;
  // Commands run around each of a zone's snapshots (`hooks:`), argv lists,
  // empty when not set: pre_snapshot before it (its failure skips the
  // snapshot), post_snapshot after it, whatever happened once pre ran.
  std::vector<std::string> pre_snapshot;
  std::vector<std::string> post_snapshot;
  int hook_timeout_seconds = 60;
  SourceLoc loc;
};

struct ZoneEntry {
  ZoneMatch match;
  std::string policy;
  KeepCounts keep_override;  // merged over the policy's keep (per class)
  SourceLoc loc;
};

// Commands apply runs when a run ends (`notify:`): argv lists, no shell;
// empty when not configured. They get the run's JSON record on stdin and
// ZRECON_* environment variables (README: Notifications).
struct NotifySpec {
  std::vector<std::string> on_success;
  std::vector<std::string> on_failure;  // also for an interrupted run
  int timeout_seconds = 60;
  SourceLoc loc;
};

struct DestinationSpec {
  std::string name;
  std::string type = "directory";    // "directory" | "ssh"
  std::string path;                  // absolute (on the remote host for ssh)
  std::string compression = "none";  // "none" | "zstd"
  // type ssh: where, as whom, and the local files ssh reads (no secret).
  std::string host;
  int port = 0;  // 0: ssh's default
  std::string user;
  std::string identity;
  std::string known_hosts;
  // type s3: the store, bucket, prefix and where the keys are (no secret).
  S3Location s3;
  SourceLoc loc;

  // Where a destination of type ssh is.
  SshLocation Ssh() const { return SshLocation{user, host, port, path, identity, known_hosts}; }
};

struct Policy {
  std::string file;  // where it was loaded from
  int version = 1;
  std::optional<std::string> host;
  std::string naming = "zrecon-{class}-{time}";
  std::vector<SnapshotClass> classes;  // defaults merged with the file's, sorted by name
  std::map<std::string, DestinationSpec> destinations;
  std::map<std::string, PolicyDef> policies;
  std::vector<ZoneEntry> zones;
  std::vector<ZoneMatch> exclude;
  int max_destroy = 200;
  NotifySpec notify;

  const SnapshotClass* FindClass(const std::string& name) const;
  std::vector<std::string> ClassNames() const;
};

// The built-in classes: frequent 15m, hourly 1h, daily 1d, weekly 1w,
// monthly 1mo, yearly 1y.
std::vector<SnapshotClass> DefaultClasses();

// Keep counts of a zone entry: the policy's keep with the entry's overrides.
KeepCounts EffectiveKeep(const PolicyDef& policy, const ZoneEntry& entry);

}  // namespace zrecon

#endif  // ZRECON_POLICY_POLICY_H_
