#include "reconciler/plan/status.h"

#include <doctest/doctest.h>

#include <string>

#include "tests/unit/test_builders.h"

namespace zrecon {
namespace {

using testing::At;
using testing::InventoryBuilder;
using testing::ReachableEmpty;
using testing::StandardPolicy;

const std::string kImage = "390639d4-f146-11e7-9280-37ae5c6d53d4";
const std::string kZone = "85dbcafe-889a-e402-cf36-c7ffdd15e568";
const std::string kRoot = "zones/" + kZone;

// web01 with an hourly and a daily snapshot taken at `hour` and `day`.
Inventory Host(const std::string& hour, const std::string& day) {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  if (!hour.empty()) b.Snap(kRoot, "zrecon-hourly-" + hour);
  if (!day.empty()) b.Snap(kRoot, "zrecon-daily-" + day);
  return b.Build();
}

// A catalog of "usb" holding web01's root chain, its tip `snapshot` made at
// `creation`.
Catalogs Exported(const std::string& snapshot, EpochSeconds creation) {
  Catalogs cats = ReachableEmpty();
  ZoneManifest m;
  m.uuid = kZone;
  m.alias = "web01";
  Chain c;
  c.id = "root/x";
  c.dataset = kRoot;
  ChainLink l;
  l.snapshot = snapshot;
  l.creation = creation;
  c.links.push_back(l);
  m.chains.push_back(c);
  cats["usb"].zones[kZone] = m;
  return cats;
}

HostHealth Compute(const Inventory& inv, const Catalogs& cats, const char* now,
                   StatusThresholds t = StatusThresholds()) {
  Policy policy = StandardPolicy();
  PlannerInput in;
  in.policy = &policy;
  in.inventory = &inv;
  in.catalogs = &cats;
  in.now = At(now);
  HostHealth out;
  Status s = ComputeHealth(in, t, &out);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return out;
}

TEST_CASE("status: fresh snapshots and exports are OK") {
  Inventory inv = Host("20261126T100000Z", "20261126T000000Z");
  HostHealth h = Compute(inv, Exported("zrecon-daily-20261126T000000Z", At("2026-11-26T00:00:00Z")),
                         "2026-11-26T10:30:00Z");
  CHECK(h.health == Health::kOk);
  REQUIRE(h.zones.size() == 1);
  const ZoneHealth& z = h.zones[0];
  CHECK(z.alias == "web01");
  REQUIRE(z.classes.size() == 2);
  CHECK(z.classes[0].snapshot_class == "hourly");  // frequent first
  CHECK(z.classes[0].age == 30 * 60);
  CHECK(z.classes[0].newest == kRoot + "@zrecon-hourly-20261126T100000Z");
  CHECK(z.classes[1].snapshot_class == "daily");
  REQUIRE(z.exports.size() == 1);
  CHECK(z.exports[0].reachable);
  CHECK(z.exports[0].age == 10 * 3600 + 30 * 60);
  CHECK(z.exports[0].chains == 1);
  CHECK(z.exports[0].health == Health::kOk);
}

TEST_CASE("status: ages are judged in periods of their class") {
  Inventory inv = Host("20261126T100000Z", "20261126T000000Z");
  Catalogs cats = Exported("zrecon-daily-20261126T000000Z", At("2026-11-26T00:00:00Z"));
  // 2h after the last hourly: over 1.5 periods, under 3.
  HostHealth h = Compute(inv, cats, "2026-11-26T12:00:00Z");
  CHECK(h.health == Health::kWarning);
  CHECK(h.zones[0].classes[0].health == Health::kWarning);
  CHECK(h.zones[0].classes[0].why ==
        "the newest hourly snapshot of " + kRoot + " is 2h old, over 1.5 periods of 1h");
  CHECK(h.zones[0].classes[1].health == Health::kOk);
  // 4h: critical; the daily and its export (12h) are still fine.
  h = Compute(inv, cats, "2026-11-26T14:00:00Z");
  CHECK(h.health == Health::kCritical);
  CHECK(h.zones[0].classes[0].why ==
        "the newest hourly snapshot of " + kRoot + " is 4h old, over 3 periods of 1h");
  CHECK(h.zones[0].exports[0].health == Health::kOk);
  // Two days on, the export is late too.
  h = Compute(inv, cats, "2026-11-28T01:00:00Z");
  CHECK(h.zones[0].exports[0].health == Health::kWarning);
  CHECK(h.zones[0].exports[0].why ==
        "the newest export of " + kRoot + " to usb is 2d1h old, over 1.5 periods of 1d");
  // Thresholds of the caller.
  StatusThresholds loose;
  loose.warn = 5;
  loose.crit = 10;
  CHECK(Compute(inv, cats, "2026-11-26T14:00:00Z", loose).health == Health::kOk);
}

TEST_CASE("status: what was never taken or never exported is CRITICAL; offline media UNKNOWN") {
  Inventory none = Host("", "");
  HostHealth h = Compute(none, ReachableEmpty(), "2026-11-26T10:30:00Z");
  CHECK(h.health == Health::kCritical);
  CHECK(h.zones[0].classes[0].why == "no hourly snapshot of " + kRoot);
  CHECK(h.zones[0].exports[0].why == kRoot + " was never exported to usb");

  Inventory inv = Host("20261126T100000Z", "20261126T000000Z");
  Catalogs offline;
  offline["usb"].name = "usb";
  offline["usb"].unreachable_reason = "/mnt/usb/zrecon does not exist";
  h = Compute(inv, offline, "2026-11-26T10:30:00Z");
  CHECK(h.zones[0].exports[0].health == Health::kUnknown);
  CHECK(h.zones[0].exports[0].why ==
        "destination usb is unreachable (/mnt/usb/zrecon does not exist)");
  CHECK(h.health == Health::kUnknown);
  // A known failure is not hidden by an unknown part.
  h = Compute(inv, offline, "2026-11-26T14:00:00Z");
  CHECK(h.health == Health::kCritical);
}

TEST_CASE("status: a zone matched twice is CRITICAL for the host; thresholds are checked") {
  Inventory inv = Host("20261126T100000Z", "20261126T000000Z");
  Policy policy = StandardPolicy();
  ZoneEntry again = policy.zones[0];
  policy.zones.push_back(again);
  Catalogs cats = ReachableEmpty();
  PlannerInput in;
  in.policy = &policy;
  in.inventory = &inv;
  in.catalogs = &cats;
  in.now = At("2026-11-26T10:30:00Z");
  HostHealth h;
  REQUIRE(ComputeHealth(in, StatusThresholds(), &h).ok());
  CHECK(h.health == Health::kCritical);
  REQUIRE(h.problems.size() == 1);
  CHECK(h.problems[0].find(kZone) != std::string::npos);
  StatusThresholds bad;
  bad.warn = 3;
  bad.crit = 2;
  CHECK_FALSE(ComputeHealth(in, bad, &h).ok());
}

TEST_CASE("status: Worse orders CRITICAL, WARNING, UNKNOWN, OK") {
  CHECK(Worse(Health::kOk, Health::kUnknown) == Health::kUnknown);
  CHECK(Worse(Health::kUnknown, Health::kWarning) == Health::kWarning);
  CHECK(Worse(Health::kCritical, Health::kUnknown) == Health::kCritical);
  CHECK(std::string(HealthName(Health::kWarning)) == "WARNING");
}

}  // namespace
}  // namespace zrecon
