#include "reconciler/plan/schedule.h"

#include <doctest/doctest.h>

#include "tests/unit/test_builders.h"

namespace zrecon {

using testing::At;

namespace {

std::vector<std::string> Due(const std::vector<std::vector<std::string>>& per_dataset,
                             const KeepCounts& keep, const char* now) {
  NamingTemplate naming;
  std::string why;
  std::vector<SnapshotClass> classes = DefaultClasses();
  std::vector<std::string> names;
  for (const SnapshotClass& c : classes) names.push_back(c.name);
  REQUIRE(NamingTemplate::Compile("zrecon-{class}-{time}", names, &naming, &why));
  std::vector<Dataset> datasets(per_dataset.size());
  std::vector<DatasetState> states;
  for (size_t i = 0; i < per_dataset.size(); ++i) {
    datasets[i].name = "zones/u" + std::to_string(i);
    uint64_t txg = 1;
    for (const std::string& n : per_dataset[i]) {
      Snapshot s;
      s.name = n;
      s.createtxg = ++txg;
      datasets[i].snapshots.push_back(s);
    }
  }
  for (const Dataset& d : datasets) states.push_back(ReadDatasetState(d, naming));
  std::vector<std::string> out;
  for (const DueClass& d : DueClasses(classes, keep, states, At(now))) {
    out.push_back(d.snapshot_class->name);
  }
  return out;
}

}  // namespace

TEST_CASE("schedule: only classes kept above zero are taken, frequent first") {
  CHECK(Due({{}}, {{"daily", 7}, {"hourly", 24}, {"monthly", 0}}, "2026-11-26T10:00:00Z") ==
        std::vector<std::string>{"hourly", "daily"});
}

TEST_CASE("schedule: a snapshot in the current period satisfies the class") {
  std::vector<std::vector<std::string>> ds = {
      {"zrecon-hourly-20261126T100000Z", "zrecon-daily-20261126T000000Z",
       "zrecon-weekly-20261123T000000Z", "zrecon-monthly-20261101T000000Z"}};
  KeepCounts keep = {{"hourly", 1}, {"daily", 1}, {"weekly", 1}, {"monthly", 1}, {"yearly", 1}};
  CHECK(Due(ds, keep, "2026-11-26T10:59:59Z") == std::vector<std::string>{"yearly"});
  CHECK(Due(ds, keep, "2026-11-26T11:00:00Z") == std::vector<std::string>{"hourly", "yearly"});
  // Sunday 2026-11-29 is still the ISO week of Monday 23rd; Monday 30th is not.
  CHECK(Due(ds, keep, "2026-11-29T23:00:00Z") ==
        std::vector<std::string>{"hourly", "daily", "yearly"});
  CHECK(Due(ds, keep, "2026-11-30T00:00:00Z") ==
        std::vector<std::string>{"hourly", "daily", "weekly", "yearly"});
  CHECK(Due(ds, keep, "2026-12-01T00:00:00Z") ==
        std::vector<std::string>{"hourly", "daily", "weekly", "monthly", "yearly"});
}

TEST_CASE("schedule: one lagging dataset makes the class due for the zone") {
  CHECK(Due({{"zrecon-daily-20261126T000000Z"}, {}}, {{"daily", 7}}, "2026-11-26T10:00:00Z") ==
        std::vector<std::string>{"daily"});
}

TEST_CASE("schedule: a snapshot dated in the future does not cover the current period") {
  CHECK(Due({{"zrecon-hourly-20261127T100000Z"}}, {{"hourly", 24}}, "2026-11-26T10:00:00Z") ==
        std::vector<std::string>{"hourly"});
}

}  // namespace zrecon
