#include "reconciler/plan/retention.h"

#include <doctest/doctest.h>

namespace zrecon {

namespace {

struct Fixture {
  Dataset ds;
  DatasetState state;
  NamingTemplate naming;

  explicit Fixture(const std::vector<std::string>& names) {
    std::string why;
    REQUIRE(NamingTemplate::Compile("zrecon-{class}-{time}", {"hourly", "daily"}, &naming, &why));
    ds.name = "zones/u";
    uint64_t txg = 100;
    for (const std::string& n : names) {
      Snapshot s;
      s.name = n;
      s.createtxg = ++txg;
      s.guid = txg * 13;
      ds.snapshots.push_back(s);
    }
    state = ReadDatasetState(ds, naming);
  }

  std::vector<std::string> Destroyed(const KeepCounts& keep, const Protection& protect) {
    std::vector<std::string> out;
    for (const RetentionVerdict& v : DecideRetention(state, keep, protect).destroy) {
      out.emplace_back(v.snapshot->name);
    }
    return out;
  }
};

Protection None() {
  return [](const ManagedSnapshot&) { return std::string(); };
}

}  // namespace

TEST_CASE("retention: keeps the newest N per class, destroys oldest first") {
  Fixture f({"zrecon-hourly-20261126T010000Z", "zrecon-daily-20261126T000000Z",
             "zrecon-hourly-20261126T020000Z", "zrecon-hourly-20261126T030000Z", "first_snap"});
  CHECK(
      f.Destroyed({{"hourly", 1}, {"daily", 1}}, None()) ==
      std::vector<std::string>{"zrecon-hourly-20261126T010000Z", "zrecon-hourly-20261126T020000Z"});
  CHECK(f.Destroyed({{"hourly", 3}, {"daily", 1}}, None()).empty());
}

TEST_CASE("retention: planned snapshots count and are never destroyed") {
  Fixture f({"zrecon-hourly-20261126T010000Z", "zrecon-hourly-20261126T020000Z"});
  f.state.AddPlanned("zrecon-hourly-20261126T030000Z", "hourly", 1795698000);
  CHECK(f.Destroyed({{"hourly", 2}}, None()) ==
        std::vector<std::string>{"zrecon-hourly-20261126T010000Z"});
  CHECK(
      f.Destroyed({{"hourly", 0}}, None()) ==
      std::vector<std::string>{"zrecon-hourly-20261126T010000Z", "zrecon-hourly-20261126T020000Z"});
}

TEST_CASE("retention: protection and the newest snapshot spare candidates") {
  Fixture f({"zrecon-hourly-20261126T010000Z", "zrecon-hourly-20261126T020000Z",
             "zrecon-daily-20261126T030000Z"});
  Protection protect = [](const ManagedSnapshot& m) {
    return m.name == "zrecon-hourly-20261126T010000Z" ? std::string("held") : std::string();
  };
  RetentionDecision d = DecideRetention(f.state, {}, protect);
  REQUIRE(d.destroy.size() == 1);
  CHECK(d.destroy[0].snapshot->name == "zrecon-hourly-20261126T020000Z");
  REQUIRE(d.spared.size() == 2);
  // keep {} means every class keeps 0, yet the newest managed snapshot stays.
  CHECK(d.spared[0].snapshot->name == "zrecon-daily-20261126T030000Z");
  CHECK(d.spared[0].reason.find("newest") != std::string::npos);
  CHECK(d.spared[1].reason.find("held") != std::string::npos);
}

TEST_CASE("retention: name time orders snapshots, not createtxg") {
  // Created out of order (a --now simulation replayed an older time).
  Fixture f({"zrecon-hourly-20261126T030000Z", "zrecon-hourly-20261126T010000Z",
             "zrecon-hourly-20261126T020000Z"});
  CHECK(
      f.Destroyed({{"hourly", 1}}, None()) ==
      std::vector<std::string>{"zrecon-hourly-20261126T010000Z", "zrecon-hourly-20261126T020000Z"});
}

}  // namespace zrecon
