#include "reconciler/plan/fingerprint.h"

#include <doctest/doctest.h>

#include <string>

#include "reconciler/apply/stale.h"
#include "reconciler/host/observe.h"
#include "reconciler/storage/directory_catalog.h"
#include "reconciler/util/files.h"
#include "reconciler/util/strings.h"
#include "tests/unit/fake_host.h"
#include "tests/unit/temp_dir.h"
#include "tests/unit/test_builders.h"

namespace zrecon {

using testing::InventoryBuilder;
using testing::ReachableEmpty;

namespace {

const std::string kImage = "390639d4-f146-11e7-9280-37ae5c6d53d4";
const std::string kZone = "85dbcafe-889a-e402-cf36-c7ffdd15e568";

InventoryBuilder SampleHost() {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  b.Snap("zones/" + kZone, "zrecon-daily-20261125T000000Z", 1, "usb");
  return b;
}

}  // namespace

// The stale-plan guard: a saved plan is refused when the fingerprint of the
// host at apply time differs from the one it was made from.
TEST_CASE("fingerprint: what a plan is built from changes it, nothing else does") {
  const Inventory base = SampleHost().Build();
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
  Inventory inv = SampleHost().Build();
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

// `zfs list` of a pool with one image, as zrecon asks for it (illumos);
// `extra` rows after it.
std::string ZfsList(const std::vector<std::vector<std::string>>& extra = {}) {
  std::vector<std::vector<std::string>> rows = {
      {"zones", "filesystem", "-", "1700000000", "1311826421327416021", "1", "-", "52345678", "-"},
      {"zones/" + kImage, "filesystem", "-", "1700000100", "8391", "210", "-", "300000000", "-"},
      {"zones/" + kImage + "@final", "snapshot", "-", "1700000101", "5521", "211", "0", "0", "-"},
  };
  rows.insert(rows.end(), extra.begin(), extra.end());
  std::string out;
  for (const auto& row : rows) out += Join(row, "\t") + "\n";
  return out;
}

void AnswerHost(FakeHost* host, const std::string& zfs_list, const std::string& zones = "[]\n") {
  host->Queue(FakeHost::Output(zfs_list));
  host->Queue(FakeHost::Output(zones));
}

TEST_CASE("stale: a saved plan's host and destinations are read again as the plan was made") {
  testing::TempDir dir("zrecon-stale");
  std::string usb = dir / "usb";
  REQUIRE(MakeDirectories(usb).ok());
  Plan plan;
  plan.host = "demo01";
  plan.zfs = "/sbin/zfs";
  plan.vmadm = "/usr/sbin/vmadm";
  plan.dialect = ZfsDialect::kIllumos;
  plan.destinations["usb"].path = usb;
  // The state the plan was made from.
  FakeHost then;
  AnswerHost(&then, ZfsList());
  Inventory inv;
  ObserveOptions options;
  options.zfs = plan.zfs;
  options.vmadm = plan.vmadm;
  REQUIRE(Observe(then, options, &inv, nullptr).ok());
  Catalogs cats;
  REQUIRE(ReadDirectoryCatalog("usb", usb, plan.host, &cats["usb"]).ok());
  plan.fingerprint = Fingerprint(inv, cats);

  FakeHost now;
  AnswerHost(&now, ZfsList());
  Catalogs read;
  Status s = ReadAgainAndCheck(plan, now, &read);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(now.calls().size() == 2);
  CHECK(now.calls()[0].front() == "/sbin/zfs");
  CHECK(now.calls()[1].front() == "/usr/sbin/vmadm");
  REQUIRE(read.count("usb") == 1);
  CHECK(read.at("usb").reachable);

  SUBCASE("a zone created since: stale, and the catalogs are left alone") {
    FakeHost changed;
    AnswerHost(&changed,
               ZfsList({{"zones/" + kZone, "filesystem", "zones/" + kImage + "@final", "1700000500",
                         "7712", "300", "-", "2000000", "-"}}),
               "[{\"uuid\": \"" + kZone + "\", \"brand\": \"joyent\", \"state\": \"running\", " +
                   "\"image_uuid\": \"" + kImage +
                   "\", \"zpool\": \"zones\", \"alias\": \"web01\"}]\n");
    Catalogs untouched;
    s = ReadAgainAndCheck(plan, changed, &untouched);
    CHECK(s.message().rfind("plan is stale: ", 0) == 0);
    CHECK(untouched.empty());
  }
  SUBCASE("a destination that cannot be read is named") {
    REQUIRE(WriteFileAtomically(usb + "/demo01", "not a directory").ok());
    FakeHost again;
    AnswerHost(&again, ZfsList());
    Catalogs untouched;
    s = ReadAgainAndCheck(plan, again, &untouched);
    CHECK(s.message() == "destination usb: " + usb + "/demo01: not a directory");
    CHECK(untouched.empty());
  }
  SUBCASE("the host cannot be read") {
    FakeHost broken;
    broken.Queue(FakeHost::Failure(1, "zfs: out of memory\n"));
    Catalogs untouched;
    s = ReadAgainAndCheck(plan, broken, &untouched);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("/sbin/zfs list") != std::string::npos);
    CHECK(untouched.empty());
  }
}

}  // namespace zrecon
