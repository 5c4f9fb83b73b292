#ifndef ZRECON_INVENTORY_INVENTORY_H_
#define ZRECON_INVENTORY_INVENTORY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace zrecon {

// The live state of a host as read from `zfs list` and `vmadm lookup`: plain
// values, no behaviour beyond lookups. Built by the parsers in this
// directory; the planner only reads it.

// The name of the user property zrecon sets on a snapshot that is the current
// chain tip of one or more export destinations (value: comma-separated
// destination names).
constexpr std::string_view kExportedProperty = "zrecon:exported";

enum class DatasetType { kFilesystem, kVolume };
const char* DatasetTypeName(DatasetType type);

struct Snapshot {
  std::string name;  // short name, after '@'
  int64_t creation = 0;
  uint64_t guid = 0;
  uint64_t createtxg = 0;
  int64_t userrefs = 0;  // number of holds
  uint64_t used = 0;
  std::string exported;  // raw zrecon:exported value; "" when unset ("-")
};

struct Dataset {
  std::string name;  // full name, e.g. zones/<uuid>/data
  DatasetType type = DatasetType::kFilesystem;
  std::string origin;  // full snapshot name of the clone origin; "" if not a clone
  int64_t creation = 0;
  uint64_t guid = 0;
  uint64_t createtxg = 0;
  uint64_t used = 0;
  std::vector<Snapshot> snapshots;  // ascending createtxg (creation order)

  const Snapshot* FindSnapshot(std::string_view short_name) const;
  const Snapshot* FindSnapshotByGuid(uint64_t guid) const;
};

// Bookmarks are read (so their rows never upset the parser) and written back
// by `inventory --save`, but zrecon never acts on them.
struct Bookmark {
  std::string name;  // full name with '#'
  int64_t creation = 0;
  uint64_t guid = 0;
  uint64_t createtxg = 0;
};

// One zone as `vmadm lookup -j` reports it (or a row of the older recorded
// line format, `vmadm list -p -o uuid,type,brand,state,image_uuid,zpool,alias`).
struct Zone {
  std::string uuid;
  std::string type;   // OS, LX, KVM, BHYV
  std::string brand;  // joyent, joyent-minimal, lx, kvm, bhyve, builder
  std::string state;
  std::string image_uuid;  // "" when none (kvm zones often)
  std::string zpool;       // usually "zones"
  std::string alias;       // "" when none; may contain ':'
  // The zone's name when it is not its uuid: settable at create ("OS VMs
  // only ... discouraged", vmadm(8) zonename; proptable.js:2275 allows every
  // brand). It names the zone root <zpool>/<zonename> (VM.js:9703) and
  // <zpool>/cores/<zonename> (vmadmd.js:1915); kvm and bhyve volumes keep the
  // uuid (VM.js:3189, 3222). "" means the uuid.
  std::string zonename;
  // bhyve: the MiB bound on disks and their snapshots; 0 when unset, and
  // then ZFS refuses snapshots of the disks (vmadm(8) flexible_disk_size).
  int64_t flexible_disk_size = 0;
  // False for zones read from the recorded line format, which has no
  // column for flexible_disk_size: the planner then assumes it is set.
  bool flexible_disk_size_known = true;

  const std::string& name() const { return zonename.empty() ? uuid : zonename; }
};

class Inventory {
 public:
  Inventory() = default;
  // Copies rebuild the lookup tables (their keys view the copied strings);
  // moves keep them (vector moves do not move elements).
  Inventory(const Inventory& other);
  Inventory& operator=(const Inventory& other);
  Inventory(Inventory&&) = default;
  Inventory& operator=(Inventory&&) = default;

  // Datasets sorted by name (strcmp), zones by uuid. Call Index() after
  // changing these vectors directly.
  std::vector<Dataset> datasets;
  std::vector<Bookmark> bookmarks;
  std::vector<Zone> zones;

  // Sorts and builds the lookup tables. The parsers call it.
  void Index();

  const Dataset* FindDataset(std::string_view name) const;
  const Zone* FindZone(std::string_view uuid) const;
  // The snapshot named "<dataset>@<short>", or null.
  const Snapshot* FindSnapshot(std::string_view full_name) const;
  // True when some dataset's origin is this full snapshot name.
  bool IsCloneOrigin(std::string_view full_snapshot_name) const;
  size_t snapshot_count() const;

 private:
  std::unordered_map<std::string_view, size_t> dataset_index_;
  std::unordered_map<std::string_view, size_t> zone_index_;
  std::unordered_map<std::string_view, size_t> origin_count_;
};

}  // namespace zrecon

#endif  // ZRECON_INVENTORY_INVENTORY_H_
