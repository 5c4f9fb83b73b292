#include "reconciler/policy/policy.h"

#include <doctest/doctest.h>

namespace zrecon {
namespace {

TEST_CASE("policy: dataset role names are the YAML spellings") {
  CHECK(std::string(DatasetRoleName(DatasetRole::kZoneRoot)) == "zoneroot");
  CHECK(std::string(DatasetRoleName(DatasetRole::kDisks)) == "disks");
  CHECK(std::string(DatasetRoleName(DatasetRole::kCores)) == "cores");
}

TEST_CASE("policy: ZoneMatch::Describe lists the present keys in a fixed order") {
  ZoneMatch m;
  CHECK(m.Describe() == "");
  m.brand = "lx";
  m.alias = "web*";
  CHECK(m.Describe() == "alias=web* brand=lx");
  m.uuid = "85db*";
  m.alias_regex = "^db[0-9]+$";
  CHECK(m.Describe() == "alias=web* uuid=85db* alias_regex=^db[0-9]+$ brand=lx");
}

TEST_CASE("policy: ZoneMatch::Describe quotes empty and spaced values, escapes control bytes") {
  ZoneMatch m;
  m.alias = "";
  CHECK(m.Describe() == "alias=\"\"");
  m.alias = "my \"zone\"";
  CHECK(m.Describe() == "alias=\"my \\\"zone\\\"\"");
  m.alias = "a\nb";
  CHECK(m.Describe() == "alias=a\\nb");
}

TEST_CASE("policy: DefaultClasses are the six built-ins sorted by name") {
  std::vector<SnapshotClass> classes = DefaultClasses();
  REQUIRE(classes.size() == 6);
  std::vector<std::string> names;
  for (const SnapshotClass& c : classes) names.push_back(c.name + "=" + c.period.ToString());
  CHECK(names == std::vector<std::string>{"daily=1d", "frequent=15m", "hourly=1h", "monthly=1mo",
                                          "weekly=1w", "yearly=1y"});
  for (const SnapshotClass& c : classes) CHECK(c.loc.line == 0);
}

TEST_CASE("policy: FindClass and ClassNames") {
  Policy p;
  p.classes = DefaultClasses();
  p.classes.push_back({"quarterly", Duration(3, Duration::Unit::kMonth), {}});
  const SnapshotClass* hourly = p.FindClass("hourly");
  REQUIRE(hourly != nullptr);
  CHECK(hourly->period == Duration(1, Duration::Unit::kHour));
  CHECK(p.FindClass("quarterly")->period.ToString() == "3mo");
  CHECK(p.FindClass("Hourly") == nullptr);
  CHECK(p.FindClass("") == nullptr);
  CHECK(p.ClassNames() == std::vector<std::string>{"daily", "frequent", "hourly", "monthly",
                                                   "weekly", "yearly", "quarterly"});
}

TEST_CASE("policy: EffectiveKeep merges the entry's overrides over the policy's keep") {
  PolicyDef def;
  def.keep = {{"hourly", 24}, {"daily", 7}};
  ZoneEntry entry;
  CHECK(EffectiveKeep(def, entry) == def.keep);

  entry.keep_override = {{"hourly", 48}, {"weekly", 4}, {"daily", 0}};
  KeepCounts keep = EffectiveKeep(def, entry);
  CHECK(keep == KeepCounts{{"hourly", 48}, {"daily", 0}, {"weekly", 4}});
  // The policy itself is untouched.
  CHECK(def.keep.at("hourly") == 24);
}

}  // namespace
}  // namespace zrecon
