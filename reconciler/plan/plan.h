#ifndef ZRECON_PLAN_PLAN_H_
#define ZRECON_PLAN_PLAN_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "reconciler/host/zfs_dialect.h"
#include "reconciler/util/command.h"
#include "reconciler/util/s3_location.h"
#include "reconciler/util/ssh_location.h"
#include "reconciler/util/time.h"

namespace zrecon {

struct Zone;  // inventory/inventory.h

// A plan is data: an ordered list of actions, each with the exact argv it
// will run and a reason for humans. It is printed by plan_text, serialized by
// plan_json (schema/plan.schema.json), and executed by apply. Nothing ever
// decides from `reason`.

constexpr int kPlanFormatMajor = 1;
constexpr int kPlanFormatMinor = 0;

enum class ActionKind {
  kSnapshot,         // zfs snapshot: `snapshots` = full names created (one zone group)
  kSaveImage,        // zfs send <pool>/<image>@final > destination file
  kSaveImageRecord,  // imgadm get -P <pool> <image> > destination file (what
                     // vmadm create checks an image against on restore)
  kSend,             // zfs send [-i from] snapshot > destination file
  kSaveConfig,       // vmadm get <uuid> > destination file
  kMarkTip,          // zfs set/inherit zrecon:exported on `snapshots[0]`
  kHold,             // zfs hold zrecon <snapshot>
  kRelease,          // zfs release zrecon <snapshot>
  kDestroy,          // zfs destroy of `snapshots` (all of one dataset)
  kRemoveExport,     // delete an old chain's files from a destination (no argv)
  kRemoveLoose,      // delete files an interrupted apply left listed as loose (no argv)
  kHook,             // a policy's command around a zone's snapshot (`hook`)
};
const char* ActionKindName(ActionKind kind);
bool ParseActionKind(const std::string& text, ActionKind* out);

// What an export action writes, so that apply can record it in the catalog.
struct StreamTarget {
  std::string dataset;  // full dataset name (image dataset for save_image)
  uint64_t guid = 0;    // of `snapshot`
  uint64_t createtxg = 0;
  int64_t creation = 0;
  uint64_t from_guid = 0;  // of `from`, 0 for full streams
  std::string chain_id;    // send: chain the link belongs to
  bool new_chain = false;  // send: this link starts chain_id
  std::string origin;      // send, new chain: clone origin ("" if none)
  uint64_t origin_guid = 0;
  std::string image_uuid;   // send, new chain: image the base needs
  std::string config_file;  // send: the config saved in the same run
};

struct Action {
  ActionKind kind = ActionKind::kSnapshot;
  std::string zone;   // zone uuid
  std::string alias;  // zone alias, for display
  std::string reason;
  Argv argv;  // the exact command; empty for remove_export and remove_loose

  // snapshot, destroy, hold, release, mark_tip: full snapshot names.
  std::vector<std::string> snapshots;
  // mark_tip: the new zrecon:exported value ("" clears it with zfs inherit).
  std::string property_value;

  // send, save_image, save_config, remove_export, remove_loose:
  std::string destination;
  // send, save_image, save_config: the file written, relative to the
  // destination's per-host directory <path>/<host> ("<zone>/...",
  // "images/..."), as in manifests. remove_export: the chain's files.
  // remove_loose: the zone manifest's loose_files.
  std::string file;
  std::vector<std::string> files;
  // send, save_image, save_image_record: full snapshot names (the image's
  // @final for the last two); `from` is "" for a full stream.
  std::string snapshot;
  std::string from;
  StreamTarget stream;
  // remove_export: the chain being removed.
  std::string chain_id;
  // hook: "pre_snapshot" or "post_snapshot", and its time limit.
  std::string hook;
  int timeout_seconds = 0;
};

// A zone the plan acts on: its uuid, and its alias as `Plan::zones`
// records it (else as its first action names it).
struct PlanZoneRef {
  std::string uuid;
  std::string alias;
};
struct Plan;
// The zones the plan's actions name, in the order they first appear.
std::vector<PlanZoneRef> ZonesOf(const Plan& plan);

// An action of `kind` for `zone` (its uuid and alias), with `reason`.
Action ZoneAction(ActionKind kind, const Zone& zone, std::string reason);

struct PlanSummary {
  int snapshots = 0;       // snapshot names to create
  int sends = 0;           // send actions
  int images = 0;          // save_image actions
  int image_records = 0;   // save_image_record actions
  int configs = 0;         // save_config actions
  int tip_changes = 0;     // mark_tip, hold and release actions
  int destroys = 0;        // snapshot names to destroy
  int removed_chains = 0;  // remove_export actions
  int loose_files = 0;     // files of remove_loose actions

  bool empty() const;
  // "Plan: 4 to snapshot, 2 to send, 3 to destroy." or "No changes."
  std::string ToString() const;
};

// Where a destination named in the plan is, so that a saved plan can be
// applied without the policy.
struct PlanDestination {
  std::string type = "directory";  // "directory" | "ssh"
  std::string path;
  std::string compression = "none";
  SshLocation ssh;  // type ssh: where (ssh.path == path)
  S3Location s3;    // type s3: where (path is "")
};

// Identity of a zone the plan exports, recorded in destination manifests.
struct PlanZone {
  std::string alias;
  std::string brand;
  std::string image_uuid;
};

struct Plan {
  int format_major = kPlanFormatMajor;
  int format_minor = kPlanFormatMinor;
  std::string zrecon_version;
  EpochSeconds now = 0;
  std::string host;
  ZfsDialect dialect = ZfsDialect::kIllumos;
  std::string zfs = "zfs";  // binaries the argv were built for
  std::string vmadm = "vmadm";
  std::string fingerprint;  // "sha256:<hex>" of the inventory and catalogs
  int max_destroy = 0;      // limits.max_destroy of the policy
  std::vector<std::string> warnings;
  std::vector<std::string> notes;  // informational (e.g. unmatched zones)
  std::vector<Action> actions;
  // Every destination of the policy (the fingerprint covers their catalogs).
  std::map<std::string, PlanDestination> destinations;
  // Zones that have export actions.
  std::map<std::string, PlanZone> zones;

  PlanSummary Summary() const;
  bool ExceedsDestroyLimit() const { return Summary().destroys > max_destroy; }
};

}  // namespace zrecon

#endif  // ZRECON_PLAN_PLAN_H_
