#include "reconciler/inventory/zone_datasets.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "reconciler/inventory/parsers.h"
#include "tests/unit/fixtures.h"

namespace zrecon {
namespace {

using testing::kBhyve;
using testing::kJoyent;
using testing::kKvm;
using testing::kLx;
using testing::kMinimal;
using testing::LoadSmartosMixed;
using testing::Z;

const char kU[] = "11111111-2222-4333-8444-555555555555";
const char kV[] = "66666666-7777-4888-9999-aaaaaaaaaaaa";

using Names = std::vector<std::string>;

constexpr DatasetRole kRoot = DatasetRole::kZoneRoot;
constexpr DatasetRole kDisks = DatasetRole::kDisks;
constexpr DatasetRole kCores = DatasetRole::kCores;

// A zfs list row; only name and type matter here.
std::string Row(const std::string& name, const char* type = "filesystem") {
  static uint64_t guid = 1000000000000000000ull;
  ++guid;
  return name + "\t" + type + "\t-\t1700000000\t" + std::to_string(guid) + "\t5\t-\t4096\t-\n";
}

Names Of(const Inventory& inv, const Zone& zone, const std::vector<DatasetRole>& roles) {
  Names out;
  for (const Dataset* d : ZoneDatasets(inv, zone, roles)) out.push_back(d->name);
  return out;
}

Names Of(const Inventory& inv, const char* uuid, const std::vector<DatasetRole>& roles) {
  const Zone* zone = inv.FindZone(uuid);
  REQUIRE(zone != nullptr);
  return Of(inv, *zone, roles);
}

Zone MakeZone(const std::string& uuid, const std::string& brand, const std::string& zpool) {
  Zone z;
  z.uuid = uuid;
  z.brand = brand;
  z.state = "running";
  z.zpool = zpool;
  return z;
}

}  // namespace

TEST_CASE("zone_datasets: root name defaults to the zones pool") {
  CHECK(ZoneRootName(MakeZone(kU, "joyent", "")) == Z(kU));
  CHECK(ZoneRootName(MakeZone(kU, "joyent", "data")) == std::string("data/") + kU);
}

TEST_CASE("zone_datasets: OS brands on smartos-mixed") {
  Inventory inv;
  LoadSmartosMixed(&inv);
  CHECK(Of(inv, kJoyent, {kRoot}) == Names{Z(kJoyent)});
  CHECK(Of(inv, kJoyent, {kDisks}).empty());
  CHECK(Of(inv, kJoyent, {kCores}) == Names{Z("cores/") + kJoyent});
  CHECK(Of(inv, kJoyent, {kCores, kRoot, kDisks}) == Names{Z(kJoyent), Z("cores/") + kJoyent});

  CHECK(Of(inv, kMinimal, {kRoot, kDisks}) == Names{Z(kMinimal)});
  CHECK(Of(inv, kMinimal, {kCores}) == Names{Z("cores/") + kMinimal});

  // lx: the delegated dataset is a descendant of the zone root.
  CHECK(Of(inv, kLx, {kRoot}) == Names{Z(kLx), Z(kLx) + "/data"});
  CHECK(Of(inv, kLx, {kDisks}).empty());
  CHECK(Of(inv, kLx, {kRoot, kCores}) == Names{Z("cores/") + kLx, Z(kLx), Z(kLx) + "/data"});
  CHECK(Of(inv, kLx, {}).empty());
}

TEST_CASE("zone_datasets: HVM brands on smartos-mixed") {
  Inventory inv;
  LoadSmartosMixed(&inv);
  // kvm disks are siblings of the zone root, not descendants.
  CHECK(Of(inv, kKvm, {kRoot}) == Names{Z(kKvm)});
  CHECK(Of(inv, kKvm, {kDisks}) == Names{Z(kKvm) + "-disk0", Z(kKvm) + "-disk1"});
  CHECK(Of(inv, kKvm, {kCores}) == Names{Z("cores/") + kKvm});
  CHECK(Of(inv, kKvm, {kRoot, kDisks}) == Names{Z(kKvm), Z(kKvm) + "-disk0", Z(kKvm) + "-disk1"});

  // bhyve disks are children of the zone root: both roles name them once.
  CHECK(Of(inv, kBhyve, {kRoot}) == Names{Z(kBhyve), Z(kBhyve) + "/disk0"});
  CHECK(Of(inv, kBhyve, {kDisks}) == Names{Z(kBhyve) + "/disk0"});
  CHECK(Of(inv, kBhyve, {kDisks, kRoot, kDisks}) == Names{Z(kBhyve), Z(kBhyve) + "/disk0"});
  CHECK(Of(inv, kBhyve, {kCores, kDisks}) == Names{Z(kBhyve) + "/disk0", Z("cores/") + kBhyve});
  for (const Dataset* d : ZoneDatasets(inv, *inv.FindZone(kBhyve), {kDisks})) {
    CHECK(d == inv.FindDataset(d->name));  // pointers into the inventory
  }
}

TEST_CASE("zone_datasets: nothing when the zone root is missing") {
  Inventory inv;
  LoadSmartosMixed(&inv);
  Zone elsewhere = *inv.FindZone(kJoyent);
  elsewhere.zpool = "tank";  // cores and root looked up on tank, which does not exist
  CHECK(Of(inv, elsewhere, {kRoot, kDisks, kCores}).empty());
  CHECK(Of(inv, MakeZone(kU, "kvm", "zones"), {kRoot, kDisks, kCores}).empty());
  Zone default_pool = *inv.FindZone(kKvm);
  default_pool.zpool = "";
  CHECK(Of(inv, default_pool, {kRoot, kDisks}) == Of(inv, kKvm, {kRoot, kDisks}));
}

TEST_CASE("zone_datasets: kvm disks on every pool, names matched exactly") {
  const std::string u = kU;
  std::string text =
      Row("data") + Row("data/other") + Row("data/" + u + "-disk1", "volume") + Row("zones") +
      Row(Z(u)) + Row(Z(u) + "/data") + Row(Z(u) + "-disk0", "volume") +
      Row(Z(u) + "-disk12", "volume") + Row(Z(u) + "-diskX", "volume") +
      Row(Z(u) + "-disk", "volume") + Row(Z(u) + "-disk0x", "volume") +
      Row(Z(u) + "-disk0-old", "volume") + Row(Z("cores")) + Row(Z("cores/") + u) +
      // Pools whose names extend "zones" sort on both sides of "zones/".
      Row("zones-fast") + Row("zones-fast/" + u + "-disk2", "volume") + Row("zones2") +
      Row("zones2/deep") + Row("zones2/deep/" + u + "-disk4", "volume") +
      Row("zones2/" + u + "-disk3", "volume");
  Inventory inv;
  Status s = ParseZfsList(text, &inv);
  REQUIRE_MESSAGE(s.ok(), s.message());
  Zone kvm = MakeZone(u, "kvm", "zones");
  CHECK(Of(inv, kvm, {kDisks}) == Names{"data/" + u + "-disk1", "zones-fast/" + u + "-disk2",
                                        Z(u) + "-disk0", Z(u) + "-disk12",
                                        "zones2/" + u + "-disk3"});
  CHECK(Of(inv, kvm, {kRoot}) == Names{Z(u), Z(u) + "/data"});
  CHECK(Of(inv, kvm, {kCores}) == Names{Z("cores/") + u});
  // Another brand with the same names has no disks.
  CHECK(Of(inv, MakeZone(u, "joyent", "zones"), {kDisks}).empty());
}

TEST_CASE("zone_datasets: bhyve disks are direct diskN children") {
  const std::string v = kV;
  std::string text = Row("zones") + Row(Z(v)) + Row(Z(v) + "/data") +
                     Row(Z(v) + "/disk0", "volume") + Row(Z(v) + "/disk1", "volume") +
                     Row(Z(v) + "/diskette") + Row(Z(v) + "/diskette/disk2") +
                     Row(Z(v) + "-disk0", "volume") + Row(Z(v) + "0") + Row(Z("cores")) +
                     Row("data") + Row("data/" + v) + Row("data/cores") + Row("data/cores/" + v);
  Inventory inv;
  Status s = ParseZfsList(text, &inv);
  REQUIRE_MESSAGE(s.ok(), s.message());
  Zone bhyve = MakeZone(v, "bhyve", "zones");
  CHECK(Of(inv, bhyve, {kDisks}) == Names{Z(v) + "/disk0", Z(v) + "/disk1"});
  CHECK(Of(inv, bhyve, {kRoot}) == Names{Z(v), Z(v) + "/data", Z(v) + "/disk0", Z(v) + "/disk1",
                                         Z(v) + "/diskette", Z(v) + "/diskette/disk2"});
  CHECK(Of(inv, bhyve, {kCores}).empty());  // zones/cores/<v> does not exist

  // On another pool the root and cores follow the zone's zpool.
  Zone on_data = MakeZone(v, "bhyve", "data");
  CHECK(Of(inv, on_data, {kRoot, kDisks, kCores}) == Names{"data/" + v, "data/cores/" + v});
}

TEST_CASE("zone_datasets: 500 zones on a 2000-dataset inventory") {
  const char* brands[] = {"joyent", "lx", "kvm", "bhyve"};
  std::string text = Row("zones") + Row("zones/cores") + Row("zones/images");
  std::vector<Zone> zones;
  for (int i = 0; i < 500; ++i) {
    char uuid[37];
    std::snprintf(uuid, sizeof uuid, "%08x-0000-4000-8000-%012x", static_cast<unsigned>(i * 7919),
                  static_cast<unsigned>(i));
    Zone z = MakeZone(uuid, brands[i % 4], "zones");
    std::string root = Z(uuid);
    text += Row(root) + Row(Z("cores/") + uuid);
    if (z.brand == "kvm") text += Row(root + "-disk0", "volume") + Row(root + "-disk1", "volume");
    if (z.brand == "bhyve") text += Row(root + "/disk0", "volume") + Row(root + "/disk1", "volume");
    if (z.brand == "lx") text += Row(root + "/data") + Row(root + "/data/volumes");
    if (z.brand == "joyent") text += Row(root + "/data") + Row(root + "/volumes");
    zones.push_back(z);
  }
  Inventory inv;
  Status s = ParseZfsList(text, &inv);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(inv.datasets.size() == 2003);
  size_t total = 0;
  for (const Zone& z : zones) {
    std::vector<const Dataset*> got = ZoneDatasets(inv, z, {kRoot, kDisks, kCores});
    CAPTURE(z.uuid);
    CHECK(got.size() == 4);
    total += got.size();
    for (const Dataset* d : got) {
      bool ours = d->name.find(z.uuid) != std::string::npos;
      CHECK(ours);
    }
  }
  CHECK(total == 2000);
}

}  // namespace zrecon
