#include "reconciler/inventory/inventory.h"

#include <doctest/doctest.h>

#include <string>

#include "tests/unit/fixtures.h"

namespace zrecon {
namespace {

using testing::kImgBase;
using testing::kImgHvm;
using testing::kImgIncr;
using testing::kImgLx;
using testing::kJoyent;
using testing::kKvm;
using testing::kLx;
using testing::LoadSmartosMixed;
using testing::Z;

Snapshot Snap(const char* name, uint64_t createtxg, uint64_t guid) {
  Snapshot s;
  s.name = name;
  s.createtxg = createtxg;
  s.guid = guid;
  return s;
}

}  // namespace

TEST_CASE("inventory: FindSnapshot takes full names") {
  Inventory inv;
  LoadSmartosMixed(&inv);
  const Snapshot* s = inv.FindSnapshot(Z(kJoyent) + "@zrecon-hourly-20261126T100000Z");
  REQUIRE(s != nullptr);
  CHECK(s->createtxg == 9366346);
  CHECK(s == inv.FindDataset(Z(kJoyent))->FindSnapshot("zrecon-hourly-20261126T100000Z"));
  CHECK(inv.FindSnapshot(Z(kLx) + "/data@autosnap_2026-11-01_00:00:00_daily")->guid ==
        11507303532027130284ull);
  CHECK(inv.FindSnapshot(Z(kJoyent) + "@zrecon-daily-20261120T000000Z") == nullptr);  // bookmarked
  CHECK(inv.FindSnapshot(Z(kJoyent) + "#zrecon-bm") == nullptr);
  CHECK(inv.FindSnapshot(Z(kJoyent)) == nullptr);
  CHECK(inv.FindSnapshot("zones/missing@final") == nullptr);
  CHECK(inv.FindSnapshot("@final") == nullptr);
  CHECK(inv.FindSnapshot("") == nullptr);
  CHECK(inv.snapshot_count() == 149);
  CHECK(inv.FindZone(kKvm)->brand == "kvm");
  CHECK(inv.FindZone("00000000-0000-0000-0000-000000000000") == nullptr);
}

TEST_CASE("inventory: IsCloneOrigin on smartos-mixed") {
  Inventory inv;
  LoadSmartosMixed(&inv);
  for (const char* image : {kImgBase, kImgIncr, kImgLx, kImgHvm}) {
    CAPTURE(image);
    CHECK(inv.IsCloneOrigin(Z(image) + "@final"));
  }
  CHECK_FALSE(inv.IsCloneOrigin(Z(kJoyent) + "@vmsnap-before-upgrade"));
  CHECK_FALSE(inv.IsCloneOrigin(Z(kJoyent) + "@zrecon-daily-20261125T000000Z"));
  CHECK_FALSE(inv.IsCloneOrigin(Z(kImgBase)));
  CHECK_FALSE(inv.IsCloneOrigin(""));
}

TEST_CASE("inventory: Index sorts rows and rebuilds lookups") {
  Inventory inv;
  Dataset b;
  b.name = "zones/b";
  b.snapshots = {Snap("late", 30, 3), Snap("early", 10, 1), Snap("middle", 20, 2)};
  Dataset a;
  a.name = "zones/a";
  a.origin = "zones/b@early";
  inv.datasets = {b, a};
  Zone z2, z1;
  z2.uuid = "ffffffff-0000-4000-8000-000000000000";
  z1.uuid = "00000000-0000-4000-8000-000000000000";
  inv.zones = {z2, z1};
  inv.Index();

  CHECK(inv.datasets[0].name == "zones/a");
  CHECK(inv.zones[0].uuid == z1.uuid);
  const Dataset* d = inv.FindDataset("zones/b");
  REQUIRE(d != nullptr);
  CHECK(d->snapshots[0].name == "early");
  CHECK(d->snapshots[2].name == "late");
  CHECK(d->FindSnapshotByGuid(2)->name == "middle");
  CHECK(d->FindSnapshotByGuid(4) == nullptr);
  CHECK(inv.IsCloneOrigin("zones/b@early"));
  CHECK_FALSE(inv.IsCloneOrigin("zones/b@late"));

  inv.datasets[0].origin = "zones/b@late";
  inv.Index();
  CHECK(inv.IsCloneOrigin("zones/b@late"));
  CHECK_FALSE(inv.IsCloneOrigin("zones/b@early"));
}

TEST_CASE("inventory: dataset type names match zfs") {
  CHECK(std::string(DatasetTypeName(DatasetType::kFilesystem)) == "filesystem");
  CHECK(std::string(DatasetTypeName(DatasetType::kVolume)) == "volume");
}

}  // namespace zrecon
