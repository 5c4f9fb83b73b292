#include "reconciler/plan/unprotect.h"

#include <doctest/doctest.h>

#include "reconciler/util/strings.h"
#include "tests/unit/test_builders.h"

namespace zrecon {

using testing::InventoryBuilder;
using testing::StandardPolicy;

namespace {

const std::string kImage = "390639d4-f146-11e7-9280-37ae5c6d53d4";
const std::string kWeb = "85dbcafe-889a-e402-cf36-c7ffdd15e568";
const std::string kDb = "0b0b0b0b-0000-4000-8000-00000000000b";

Inventory Host() {
  InventoryBuilder b;
  b.Image(kImage).Zone(kWeb, "joyent", "web01", kImage).Zone(kDb, "lx", "db01", kImage);
  b.Dataset("zones/" + kDb + "/data");
  b.Snap("zones/" + kWeb, "zrecon-daily-20261125T000000Z", 1, "usb")
      .Snap("zones/" + kDb, "zrecon-daily-20261125T000000Z", 1, "usb")
      .Snap("zones/" + kDb + "/data", "zrecon-daily-20261125T000000Z", 0, "usb,offsite")
      .Snap("zones/" + kDb, "keep-me", 2, "usb");  // not a name zrecon owns
  return b.Build();
}

Status Unprotect(const std::vector<std::string>& zones, zrecon::Plan* plan) {
  Policy policy = StandardPolicy();  // protects "web*"
  Inventory inv = Host();
  UnprotectInput in;
  in.policy = &policy;
  in.inventory = &inv;
  in.zones = zones;
  in.host = "demo01";
  return PlanUnprotect(in, plan);
}

}  // namespace

TEST_CASE("unprotect: releases zrecon's holds on every dataset of the zone") {
  zrecon::Plan plan;
  REQUIRE(Unprotect({"db01"}, &plan).ok());
  std::vector<std::string> lines;
  for (const Action& a : plan.actions) lines.push_back(ShellJoin(a.argv));
  const std::string root = "zones/" + kDb;
  CHECK(lines ==
        std::vector<std::string>{
            "zfs release zrecon " + root + "@zrecon-daily-20261125T000000Z",
            "zfs inherit zrecon:exported " + root + "@zrecon-daily-20261125T000000Z",
            "zfs inherit zrecon:exported " + root + "/data@zrecon-daily-20261125T000000Z"});
  CHECK(plan.warnings.empty());  // db01 is not in the policy
  CHECK(plan.Summary().tip_changes == 3);
}

TEST_CASE("unprotect: a zone the policy still protects gets a warning") {
  zrecon::Plan plan;
  REQUIRE(Unprotect({kWeb}, &plan).ok());
  CHECK(plan.actions.size() == 2);
  REQUIRE(plan.warnings.size() == 1);
  CHECK(plan.warnings[0].find("the next apply holds its chain tips again") != std::string::npos);
}

TEST_CASE("unprotect: unknown zones are refused, naming what the host has") {
  zrecon::Plan plan;
  Status s = Unprotect({"nope"}, &plan);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("no zone \"nope\" on this host; it has: ") != std::string::npos);
  CHECK(s.message().find(kWeb + " (web01)") != std::string::npos);
}

}  // namespace zrecon
