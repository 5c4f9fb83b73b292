#include "reconciler/policy/naming.h"

#include <doctest/doctest.h>

namespace zrecon {

namespace {

const std::vector<std::string> kClasses = {"frequent", "hourly",  "daily",
                                           "weekly",   "monthly", "yearly"};

NamingTemplate Compile(const char* text, const std::vector<std::string>& classes = kClasses) {
  NamingTemplate t;
  std::string why;
  REQUIRE_MESSAGE(NamingTemplate::Compile(text, classes, &t, &why), why);
  return t;
}

}  // namespace

TEST_CASE("naming: the default template formats and parses back") {
  NamingTemplate t = Compile("zrecon-{class}-{time}");
  EpochSeconds now = 1795688700;
  CHECK(t.Format("hourly", now) == "zrecon-hourly-20261126T102500Z");
  std::string_view cls;
  EpochSeconds when = 0;
  REQUIRE(t.Parse("zrecon-hourly-20261126T102500Z", &cls, &when));
  CHECK(cls == "hourly");
  CHECK(when == now);
}

TEST_CASE("naming: foreign and near-miss names are not managed") {
  NamingTemplate t = Compile("zrecon-{class}-{time}");
  std::string_view cls;
  EpochSeconds when;
  for (const char* foreign :
       {"final", "first_snap", "vmsnap-before-upgrade", "autosnap_2026-11-01_00:00:00_daily",
        "zrepl_20261101_000000_000", "zrecon-hourly-20261126T102500",
        "zrecon-hourly-20261126T102500Zx", "xzrecon-hourly-20261126T102500Z",
        "zrecon-quarterly-20261126T102500Z", "zrecon-hourly-20261326T102500Z",
        "zrecon-hourly-20261126T102560Z", "zrecon--20261126T102500Z", "zrecon-hourly-"}) {
    CAPTURE(foreign);
    CHECK_FALSE(t.Parse(foreign, &cls, &when));
  }
}

TEST_CASE("naming: only configured classes are recognised, longest first") {
  NamingTemplate t = Compile("auto_{class}_{time}", {"hourly", "hourly2", "daily"});
  std::string_view cls;
  EpochSeconds when;
  REQUIRE(t.Parse("auto_hourly2_20261126T102500Z", &cls, &when));
  CHECK(cls == "hourly2");
  REQUIRE(t.Parse("auto_hourly_20261126T102500Z", &cls, &when));
  CHECK(cls == "hourly");
  CHECK_FALSE(t.Parse("auto_weekly_20261126T102500Z", &cls, &when));
}

TEST_CASE("naming: time may come first and literals are quoted") {
  NamingTemplate t = Compile("{time}.{class}");
  std::string_view cls;
  EpochSeconds when;
  REQUIRE(t.Parse("20261126T102500Z.daily", &cls, &when));
  CHECK(cls == "daily");
  // '.' is a literal, not a regex wildcard.
  CHECK_FALSE(t.Parse("20261126T102500Zxdaily", &cls, &when));
}

TEST_CASE("naming: invalid templates are rejected with a reason") {
  NamingTemplate t;
  std::string why;
  struct Case {
    const char* text;
    const char* reason;
  };
  for (const Case& c : {Case{"zrecon-{time}", "both {class} and {time}"},
                        Case{"zrecon-{class}", "both {class} and {time}"},
                        Case{"{class}-{class}-{time}", "exactly once"},
                        Case{"zrecon-{klass}-{class}-{time}", "unknown field"},
                        Case{"zrecon {class}-{time}", "not valid in a ZFS snapshot name"},
                        Case{"zrecon@{class}-{time}", "not valid in a ZFS snapshot name"},
                        Case{"zrecon/{class}-{time}", "not valid in a ZFS snapshot name"}}) {
    CAPTURE(c.text);
    why.clear();
    CHECK_FALSE(NamingTemplate::Compile(c.text, kClasses, &t, &why));
    CHECK(why.find(c.reason) != std::string::npos);
  }
}

}  // namespace zrecon
