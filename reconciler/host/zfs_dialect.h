#ifndef ZRECON_HOST_ZFS_DIALECT_H_
#define ZRECON_HOST_ZFS_DIALECT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reconciler/util/command.h"
#include "reconciler/util/status.h"

namespace zrecon {

// The two `zfs` command-line dialects zrecon speaks. Pure argv builders,
// shared by the planner (which prints them) and the executor (which runs
// them), so that what `plan` shows is exactly what `apply` runs.
enum class ZfsDialect {
  kIllumos,  // SmartOS / illumos / OpenZFS: list -p, many names per snapshot,
             // comma lists in destroy
  kLegacy,   // zfs-fuse 0.7: no list -p, one name per snapshot, no comma lists
};
const char* ZfsDialectName(ZfsDialect d);
bool ParseZfsDialect(std::string_view text, ZfsDialect* out);

// Conservative budget for the bytes of one argv, identical on every machine
// so plans are reproducible (illumos ARG_MAX is 1 MiB, Linux's per-string
// limit 128 KiB).
constexpr size_t kArgvByteBudget = 96 * 1024;
// At most this many snapshots per comma-list `zfs destroy`.
constexpr size_t kDestroyBatchSize = 256;

struct ZfsCommands {
  std::string zfs = "zfs";
  std::string vmadm = "vmadm";
  std::string imgadm = "imgadm";
  ZfsDialect dialect = ZfsDialect::kIllumos;

  // Snapshots `names` (full names, one pool) atomically where the dialect
  // allows. illumos: all names in one `zfs snapshot a@x b@x ...`, split only
  // when the argv would exceed kArgvByteBudget. legacy: one call per name.
  std::vector<Argv> Snapshot(const std::vector<std::string>& names) const;
  // `zfs snapshot -r <dataset>@<short>`: atomic over a whole tree in both
  // dialects (the planner uses it for legacy when a zone's group is exactly
  // one dataset tree).
  Argv SnapshotRecursive(const std::string& name) const;
  // Destroys snapshots of ONE dataset. illumos: `zfs destroy ds@a,b,c` in
  // batches; legacy: one call per snapshot.
  std::vector<Argv> DestroySnapshots(const std::string& dataset,
                                     const std::vector<std::string>& short_names) const;
  // `zfs send [-i from] snap` (from: full snapshot name or "").
  Argv Send(const std::string& snapshot, const std::string& from) const;
  // The size estimate of that Send, for progress with a percentage and ETA.
  // illumos: `zfs send -nP [-i from] snapshot` (dry run, parsable), which
  // prints on STDOUT (with -n only) lines like
  //   "incremental\tzrecon-daily-1\tzones/u@zrecon-daily-2\t123456" or
  //   "full\tzones/u@s\t123", then "size\t123456"; see ParseSendEstimate.
  // Returns an empty argv for the legacy dialect (zfs-fuse has no -n/-P).
  Argv SendEstimate(const std::string& snapshot, const std::string& from) const;
  Argv SetProperty(const std::string& target, std::string_view property,
                   const std::string& value) const;
  Argv InheritProperty(const std::string& target, std::string_view property) const;
  Argv Hold(const std::string& tag, const std::string& snapshot) const;
  Argv Release(const std::string& tag, const std::string& snapshot) const;
  // Restore's commands. `zfs receive -u [-F] target`: -u leaves it
  // unmounted, -F rolls back what touched the target since its last link.
  Argv Receive(const std::string& target, bool rollback) const;
  // `zfs destroy -r [-f] name` (-f unmounts a busy filesystem).
  Argv DestroyTree(const std::string& name, bool force) const;
  Argv Rename(const std::string& from, const std::string& to) const;
  Argv Mount(const std::string& dataset) const;
  Argv Unmount(const std::string& dataset) const;
  Argv VmadmCreate() const;  // the payload on stdin
  Argv VmadmStopForce(const std::string& uuid) const;
  Argv VmadmStart(const std::string& uuid) const;
  Argv VmadmDelete(const std::string& uuid) const;
  // `vmadm update <uuid> key=value ...`.
  Argv VmadmUpdate(const std::string& uuid, const std::vector<std::string>& assignments) const;
  Argv VmadmGet(const std::string& uuid) const;
  // guid, createtxg and creation of one snapshot, parsable
  // (ParseSnapshotIdentity): what an apply records of a snapshot it made.
  Argv SnapshotIdentity(const std::string& snapshot) const;
  // The properties set locally on `dataset`, one "<property>\t<value>" line
  // each, parsable values (ParseLocalProperties).
  Argv LocalProperties(const std::string& dataset) const;
  // The bytes available to a new dataset at the top of `pool`, a parsable
  // number (ParseAvailable); `zfs get -p` works in both dialects.
  Argv Available(const std::string& pool) const;
  // imgadm's record of an installed image ({manifest, zpool, source}), the
  // one `vmadm create` checks every image against (VM.js validateImage).
  Argv ImgadmGet(const std::string& pool, const std::string& image_uuid) const;
};

// Parses LocalProperties output into (property, value) pairs, leaving out
// those that can only be chosen when a dataset is created or received
// (volsize, volblocksize, and the name-handling properties). Fails on a line
// that is not "<property>\t<value>".
Status ParseLocalProperties(std::string_view out,
                            std::vector<std::pair<std::string, std::string>>* properties);

// Parses SnapshotIdentity output ("<snapshot>\t<property>\t<value>" lines);
// lines of other names are skipped, values not found stay as they are.
// Fails on a value that is not a number, naming the line.
Status ParseSnapshotIdentity(std::string_view out, const std::string& snapshot, uint64_t* guid,
                             uint64_t* createtxg, int64_t* creation);

// Parses Available output: one decimal byte count and a newline.
Status ParseAvailable(std::string_view out, uint64_t* bytes);

// Parses SendEstimate output: the value of the "size" line or, when there is
// none, of the single stream line. Returns false when neither is present,
// when a "size", "full" or "incremental" line is malformed, or when there is
// no total and more than one stream. The per-stream size field is optional
// (omitted by some versions when the estimate fails or is 0). Other lines
// are ignored. The estimate may be 0. *bytes is set only on success.
bool ParseSendEstimate(std::string_view out, uint64_t* bytes);

// The hold tag zrecon places on export chain tips.
constexpr std::string_view kHoldTag = "zrecon";

}  // namespace zrecon

#endif  // ZRECON_HOST_ZFS_DIALECT_H_
