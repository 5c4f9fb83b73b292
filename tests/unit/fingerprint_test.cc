#include "reconciler/plan/fingerprint.h"

#include <doctest/doctest.h>

#include <string>

#include "reconciler/apply/stale.h"
#include "tests/unit/test_builders.h"

namespace zrecon {

using testing::InventoryBuilder;
using testing::ReachableEmpty;

namespace {

const std::string kImage = "390639d4-f146-11e7-9280-37ae5c6d53d4";
const std::string kZone = "85dbcafe-889a-e402-cf36-c7ffdd15e568";

InventoryBuilder Host() {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  b.Snap("zones/" + kZone, "zrecon-daily-20261125T000000Z", 1, "usb");
  return b;
}

}  // namespace

// The stale-plan guard: a saved plan is refused when the fingerprint of the
// host at apply time differs from the one it was made from.
TEST_CASE("fingerprint: what a plan is built from changes it, nothing else does") {
  const Inventory base = Host().Build();
  const Catalogs none = ReachableEmpty();
  const std::string fp = Fingerprint(base, none);
  CHECK(fp.rfind("sha256:", 0) == 0);
  CHECK(fp.size() == 7 + 64);
  CHECK(Fingerprint(base, none) == fp);  // deterministic

  auto changed = [&](auto edit) {
    Inventory inv = base;
    edit(inv);
    inv.Index();
    return Fingerprint(inv, none) != fp;
  };
  Snapshot& (*tip)(Inventory&) = [](Inventory& inv) -> Snapshot& {
    for (Dataset& d : inv.datasets) {
      if (!d.snapshots.empty() && d.name == "zones/" + kZone) return d.snapshots.back();
    }
    throw 0;
  };
  // What the planner reads.
  CHECK(changed([&](Inventory& inv) { tip(inv).userrefs = 0; }));
  CHECK(changed([&](Inventory& inv) { tip(inv).exported = ""; }));
  CHECK(changed([&](Inventory& inv) { tip(inv).guid += 1; }));
  CHECK(changed([](Inventory& inv) { inv.zones[0].alias = "db01"; }));
  CHECK(changed([](Inventory& inv) { inv.zones[0].zonename = "web-01"; }));
  CHECK(changed([](Inventory& inv) { inv.zones[0].flexible_disk_size = 1024; }));
  CHECK(changed([](Inventory& inv) { inv.datasets.pop_back(); }));
  // What changes on a live host without changing what a plan should do.
  CHECK_FALSE(changed([&](Inventory& inv) { tip(inv).used += 4096; }));
  CHECK_FALSE(changed([&](Inventory& inv) { tip(inv).creation += 1; }));
  CHECK_FALSE(changed([](Inventory& inv) { inv.zones[0].state = "stopped"; }));
  CHECK_FALSE(changed([](Inventory& inv) {
    Dataset other;
    other.name = "backup/replica";  // a pool no zone lives on
    other.guid = 77;
    inv.datasets.push_back(other);
  }));

  // The catalogs too: reachability and every manifest.
  Catalogs unreachable = none;
  unreachable["usb"].reachable = false;
  CHECK(Fingerprint(base, unreachable) != fp);
  Catalogs with_zone = none;
  with_zone["usb"].zones[kZone].uuid = kZone;
  with_zone["usb"].zones[kZone].brand = "joyent";
  CHECK(Fingerprint(base, with_zone) != fp);
}

}  // namespace zrecon

namespace zrecon {

TEST_CASE("stale: a saved plan is applied only to the state it was made from") {
  Inventory inv = Host().Build();
  Catalogs cats = ReachableEmpty();
  Plan plan;
  plan.fingerprint = Fingerprint(inv, cats);
  CHECK(CheckNotStale(plan, inv, cats).ok());
  // A hold released by hand since: refused, saying nothing was changed.
  for (Dataset& d : inv.datasets) {
    for (Snapshot& s : d.snapshots) s.userrefs = 0;
  }
  Status s = CheckNotStale(plan, inv, cats);
  CHECK(s.message() ==
        "plan is stale: the host's snapshots, zones or export catalogs changed since it was made "
        "(fingerprint " +
            plan.fingerprint + "); nothing was changed. Run `zrecon plan` again.");
}

}  // namespace zrecon
