#ifndef ZRECON_RESTORE_RESTORE_PLAN_H_
#define ZRECON_RESTORE_RESTORE_PLAN_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "reconciler/catalog/catalog.h"
#include "reconciler/host/zfs_dialect.h"
#include "reconciler/inventory/inventory.h"
#include "reconciler/util/command.h"
#include "reconciler/util/status.h"

namespace zrecon {

// Recovering a zone from export files is planned like everything else: a
// pure function turns the catalog, the target host's inventory and the
// chosen restore point into steps, each with its exact argv; the plan is
// printed, then executed (restore_executor.h). Nothing here does I/O.

// What one dataset is restored from: links [0, upto] of one chain.
struct DatasetRestore {
  std::string dataset;  // name in the catalog (on the exporting host)
  std::string target;   // final name on this host (pool mapped)
  const Chain* chain = nullptr;
  size_t upto = 0;
};

// The point in time a zone is restored to, chosen from its catalog.
struct RestorePoint {
  std::string snapshot;                  // short name of the zone root's restore point
  std::vector<DatasetRestore> datasets;  // zone root first, then by name
  std::string config_file;               // vmadm get saved with the zone root's link
  std::vector<std::string> warnings;
};

// Picks, for the zone root, the chain and link whose snapshot is `at` (a
// short or full snapshot name; "" = the newest exported), and for every
// other exported dataset the link with the same snapshot name, or else its
// newest link not newer than it (with a warning). Target names map the
// exporting host's pool to `pool` ("" keeps it). Fails when the zone root
// has no such link, naming what is available.
Status SelectRestorePoint(const ZoneManifest& zone, const std::string& at, const std::string& pool,
                          RestorePoint* point);

enum class RestoreStepKind {
  kDestroyLeftover,  // zfs destroy -r of a -partial dataset left by an interrupted run, or
                     // with --force of the datasets of a uuid no zone has
  kReleaseHold,      // zfs release zrecon (with --force, before the zone goes)
  kDeleteZone,       // vmadm delete (only with --force)
  kReceive,          // zfs receive from an export file
  kRegisterImage,    // write imgadm's database record of an image (no argv)
  kRename,           // zfs rename
  kCreateZone,       // vmadm create with the saved config on stdin
  kCheckDisks,       // vmadm get: the volumes vmadm created are the ones received for
  kStopZone,         // vmadm stop
  kUnmount,          // zfs umount
  kCopyProperties,   // the fresh dataset's local properties onto the received one
  kDestroyFresh,     // zfs destroy -r -f of what vmadm create made
  kSetProperty,      // zfs set (a fractional quota)
  kMount,            // zfs mount
  kStartZone,        // vmadm start
  kUpdateZone,       // vmadm update: autoboot and indestructible_* as saved
};
const char* RestoreStepLabel(RestoreStepKind kind);

struct RestoreStep {
  RestoreStepKind kind = RestoreStepKind::kReceive;
  std::string reason;
  Argv argv;
  std::string file;   // kReceive: the export file read (relative to the host dir)
  StoredFile stored;  // kReceive: its recorded size, sha256 and compression
  // kCreateZone: the JSON payload fed to vmadm create. kRegisterImage: the
  // content written to `file` (an absolute path in imgadm's database).
  // kCheckDisks: the volume names the received disks go to, one per line.
  std::string input;
  // kCopyProperties: `argv` is the `zfs get` of the fresh dataset's local
  // properties; each is set on `target` (the received dataset) with `zfs set`.
  std::string target;
  // A failure whose stderr contains one of these texts means "already so"
  // (e.g. "not currently mounted"); it does not stop the restore.
  std::vector<std::string> tolerate;
  // zfs-fuse (and SmartOS right after a clone) report "dataset is busy"
  // for a moment after a mount; such a step is retried a few times.
  bool retry_when_busy = false;
};

struct RestorePlan {
  // The commands the executor builds itself (zfs set and umount of a
  // property copy, vmadm delete after a failed disk check) come from here.
  ZfsCommands commands;
  std::string zone;
  std::string alias;
  std::string brand;
  std::string pool;
  RestorePoint point;
  std::vector<RestoreStep> steps;
  // Run, best effort, when a step fails before the received datasets are
  // complete: removes the half-received -partial datasets.
  std::vector<Argv> cleanup;
  std::vector<std::string> warnings;
  std::vector<std::string> notes;  // e.g. "already restored", what --force replaces
  // Every export file the steps read; verified before any change.
  std::vector<StoredFile> files_to_verify;
};

struct RestoreInput {
  const ZoneManifest* zone = nullptr;
  const std::map<std::string, ImageManifest>* images = nullptr;  // by uuid
  const Inventory* inventory = nullptr;                          // the target host now
  RestorePoint point;
  std::string pool;         // target pool ("" = the exporting host's)
  std::string config_json;  // content of point.config_file
  bool force = false;       // replace an existing zone
  bool start = false;       // vmadm start at the end
  ZfsCommands commands;
  // imgadm's records of the images on the media (images/<uuid>.imgadm), by
  // uuid, as read (and verified) from there.
  std::map<std::string, std::string> image_records;
  // Images imgadm's database on this host has a record of, on the target pool.
  std::set<std::string> registered_images;
  // imgadm's database directory on this host (/var/imgadm): records are
  // written to <imgadm_db>/images/<pool>-<uuid>.json.
  std::string imgadm_db = "/var/imgadm";
  // Bytes available at the top of the target pool (`zfs get available`),
  // or -1: not checked.
  int64_t pool_available = -1;
};

// imgadm's database file of `image_uuid` on `pool` below `imgadm_db`.
std::string ImgadmDatabaseFile(const std::string& imgadm_db, const std::string& pool,
                               const std::string& image_uuid);

// Plans the restore. Refuses, before any change, when the zone exists on
// this host, or datasets of its uuid do without the zone (unless `force`),
// when its image is neither on the host nor on the media, when the host's
// image differs from the one the chain was made from, when imgadm would not
// know the image (no record on the host, none usable on the media: vmadm
// create would refuse it), when the saved HVM disks are not named as vmadm
// would create them, or when the saved config is unusable. A host that
// already holds the restore point (a finished earlier run) gets only the
// remaining steps; a leftover -partial dataset of an interrupted run is
// removed first.
Status PlanRestore(const RestoreInput& input, RestorePlan* plan);

// The plan for people, in `zrecon plan`'s conventions.
std::string RenderRestorePlan(const RestorePlan& plan);

}  // namespace zrecon

#endif  // ZRECON_RESTORE_RESTORE_PLAN_H_
