#ifndef ZRECON_RESTORE_RESTORE_SOURCE_H_
#define ZRECON_RESTORE_RESTORE_SOURCE_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "reconciler/catalog/catalog.h"
#include "reconciler/host/host.h"
#include "reconciler/host/observe.h"
#include "reconciler/restore/restore_plan.h"
#include "reconciler/storage/destination_factory.h"
#include "reconciler/storage/verify.h"
#include "reconciler/util/interrupt.h"
#include "reconciler/util/status.h"

namespace zrecon {

// The steps of `zrecon restore` before the executor runs, as a library: the
// CLI parses flags and prints, this decides. In order:
//   LoadRestoreSource   the medium: host directory, catalog, zone, restore
//                       point, its config and imgadm's image records
//   ObserveRestoreTarget  the host: inventory, zfs dialect, room on the pool
//   PlanRestore         (restore_plan.h) pure
//   CheckRestoreFiles   every file of the plan there, of its size (and, for
//                       --verify-first and --dry-run, its SHA-256)
//   ExecuteRestore      (restore_executor.h)

struct RestoreRequest {
  std::string from;           // names the source in messages (a path, a URL, a destination)
  DestinationAddress source;  // where it is
  std::string host;           // which host directory; "" = the only one there
  std::string zone;           // uuid, or an alias naming one zone
  std::string at;             // snapshot to restore to; "" = the newest
  std::string pool;           // target pool; "" = the exporting host's
  std::string imgadm_db = "/var/imgadm";
};

// What restore takes from the medium. Holds pointers into its own catalog
// (zone, point.datasets[].chain): not copyable.
struct RestoreSource {
  RestoreSource() = default;
  RestoreSource(const RestoreSource&) = delete;
  RestoreSource& operator=(const RestoreSource&) = delete;

  RestoreRequest request;  // what LoadRestoreSource was asked
  HostDirectory where;
  DestinationCatalog catalog;
  const ZoneManifest* zone = nullptr;  // in catalog.zones
  RestorePoint point;
  std::string target_pool;  // the request's pool, else the zone root's
  std::string config_json;  // the content of point.config_file
  // imgadm's records of the images the chains start from, by uuid, where
  // the media has one and this host's imgadm database has none.
  std::map<std::string, std::string> image_records;
  // Images the chains start from that imgadm's database on this host knows
  // on the target pool.
  std::set<std::string> registered_images;
};

// Finds the host directory in `request.from` (FindHosts; with several,
// `request.host` chooses), reads its catalog strictly, finds the zone (by
// uuid, or by an alias that names exactly one zone) and its restore point,
// then reads the config and the image records it needs, each checked to be
// there with its recorded size and SHA-256 first: the config steers
// everything after it. Reads nothing on the host but imgadm's database
// directory. Errors name the file or the value at fault.
Status LoadRestoreSource(const RestoreRequest& request, RestoreSource* out);

struct RestoreTarget {
  ObserveOptions observe;
  bool check_space = true;  // --no-space-check clears it
};

// Reads the host as plan does (two commands) and, with `check_space`, the
// room on the target pool (`zfs get available`), and fills *input from
// `source` and them, ready for PlanRestore: the caller sets force, start
// and the commands' zfs and vmadm names before or after. `host` is only
// read from. *inventory must outlive *input.
Status ObserveRestoreTarget(const RestoreSource& source, const RestoreTarget& target, Host& host,
                            Inventory* inventory, RestoreInput* input);

// Checks every file the plan reads: there (no symlink followed), regular,
// of its recorded size, and with `read_contents` also its SHA-256. Fails
// when `interrupt` (optional) is raised while reading, or, listing every
// bad file, when any is; nothing has changed then.
Status CheckRestoreFiles(const RestorePlan& plan, const HostDirectory& where, bool read_contents,
                         const Interrupt* interrupt, std::vector<std::string>* problems);

}  // namespace zrecon

#endif  // ZRECON_RESTORE_RESTORE_SOURCE_H_
