#ifndef ZRECON_TESTS_UNIT_TEST_BUILDERS_H_
#define ZRECON_TESTS_UNIT_TEST_BUILDERS_H_

// Small builders for planner tests: an inventory, a policy and catalogs
// described in a few lines, with deterministic guids and txgs.

#include <string>

#include "reconciler/catalog/catalog.h"
#include "reconciler/inventory/inventory.h"
#include "reconciler/policy/policy.h"
#include "reconciler/util/time.h"

namespace zrecon {
namespace testing {

inline EpochSeconds At(const char* rfc3339) {
  EpochSeconds t = 0;
  ParseRfc3339(rfc3339, &t);
  return t;
}

class InventoryBuilder {
 public:
  // An image as imgadm leaves it: zones/<uuid> with @final.
  InventoryBuilder& Image(const std::string& uuid) {
    Dataset("zones/" + uuid);
    return Snap("zones/" + uuid, "final");
  }

  // A zone row plus its zone root (a clone of the image's @final when the
  // image is given) and its cores dataset.
  InventoryBuilder& Zone(const std::string& uuid, const std::string& brand,
                         const std::string& alias, const std::string& image = "") {
    zrecon::Zone z;
    z.uuid = uuid;
    z.brand = brand;
    z.type = brand == "lx" ? "LX" : brand == "kvm" ? "KVM" : brand == "bhyve" ? "BHYV" : "OS";
    z.state = "running";
    z.image_uuid = image;
    z.zpool = "zones";
    z.alias = alias;
    inv_.zones.push_back(z);
    Dataset("zones/" + uuid, image.empty() ? "" : "zones/" + image + "@final");
    return Dataset("zones/cores/" + uuid);
  }

  // An OS VM created with its own zonename: root <pool>/<zonename>, cores
  // <pool>/cores/<zonename>.
  InventoryBuilder& NamedZone(const std::string& uuid, const std::string& zonename,
                              const std::string& alias, const std::string& image) {
    zrecon::Zone z;
    z.uuid = uuid;
    z.zonename = zonename;
    z.brand = "joyent";
    z.type = "OS";
    z.state = "running";
    z.image_uuid = image;
    z.zpool = "zones";
    z.alias = alias;
    inv_.zones.push_back(z);
    Dataset("zones/" + zonename, "zones/" + image + "@final");
    return Dataset("zones/cores/" + zonename);
  }

  // Sets flexible_disk_size (MiB) of the last zone added.
  InventoryBuilder& FlexibleDiskSize(int64_t mib) {
    inv_.zones.back().flexible_disk_size = mib;
    return *this;
  }

  InventoryBuilder& Dataset(const std::string& name, const std::string& origin = "",
                            DatasetType type = DatasetType::kFilesystem) {
    zrecon::Dataset d;
    d.name = name;
    d.origin = origin;
    d.type = type;
    d.guid = NextGuid();
    d.createtxg = ++txg_;
    inv_.datasets.push_back(d);
    return *this;
  }

  InventoryBuilder& Snap(const std::string& dataset, const std::string& name, int64_t userrefs = 0,
                         const std::string& exported = "") {
    for (zrecon::Dataset& d : inv_.datasets) {
      if (d.name != dataset) continue;
      Snapshot s;
      s.name = name;
      s.guid = NextGuid();
      s.createtxg = ++txg_;
      s.creation = 1790000000 + static_cast<int64_t>(txg_);
      s.userrefs = userrefs;
      s.exported = exported;
      d.snapshots.push_back(s);
    }
    return *this;
  }

  Inventory Build() {
    Inventory out = inv_;
    out.Index();
    return out;
  }

 private:
  uint64_t NextGuid() { return 9000000000000000000ull + (++guid_) * 7919; }
  Inventory inv_;
  uint64_t txg_ = 0;
  uint64_t guid_ = 0;
};

// A policy: hourly 24, daily 7, datasets zoneroot+disks, export of daily to
// directory destination "usb" (keep_chains 2), zones with alias web*.
inline Policy StandardPolicy() {
  Policy p;
  p.file = "test.yaml";
  p.classes = DefaultClasses();
  DestinationSpec usb;
  usb.name = "usb";
  usb.path = "/mnt/usb/zrecon";
  p.destinations["usb"] = usb;
  PolicyDef def;
  def.name = "standard";
  def.keep = {{"hourly", 24}, {"daily", 7}};
  def.datasets = {DatasetRole::kZoneRoot, DatasetRole::kDisks};
  ExportRule rule;
  rule.destination = "usb";
  rule.snapshot_class = "daily";
  rule.keep_chains = 2;
  def.exports = {rule};
  p.policies["standard"] = def;
  ZoneEntry entry;
  entry.match.alias = "web*";
  entry.policy = "standard";
  p.zones = {entry};
  return p;
}

inline Catalogs ReachableEmpty(const std::string& name = "usb") {
  Catalogs c;
  c[name].name = name;
  c[name].reachable = true;
  return c;
}

}  // namespace testing
}  // namespace zrecon

#endif  // ZRECON_TESTS_UNIT_TEST_BUILDERS_H_
