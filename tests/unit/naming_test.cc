#include "reconciler/policy/naming.h"

#include <doctest/doctest.h>
#include <re2/re2.h>

#include <algorithm>
#include <random>

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

namespace {

// The anchored regular expression a template stands for: what Parse must
// accept, written the obvious way (Parse itself matches by hand).
std::string ReferencePattern(const std::string& tmpl, const std::vector<std::string>& classes) {
  std::string pattern = "^";
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl.compare(i, 7, "{class}") == 0) {
      pattern += "(?P<class>";
      for (size_t k = 0; k < classes.size(); ++k) {
        pattern += (k ? "|" : "") + RE2::QuoteMeta(classes[k]);
      }
      pattern += ")";
      i += 7;
    } else if (tmpl.compare(i, 6, "{time}") == 0) {
      pattern += "(?P<time>[0-9]{8}T[0-9]{6}Z)";
      i += 6;
    } else {
      pattern += RE2::QuoteMeta(tmpl.substr(i, 1));
      ++i;
    }
  }
  return pattern + "$";
}

// A name built from `tmpl` with random classes, times and noise, often
// valid, often one edit away from valid.
std::string RandomName(std::mt19937* rng, const std::string& tmpl,
                       const std::vector<std::string>& classes) {
  auto pick = [rng](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(*rng); };
  const std::string alphabet = "0123456789TZ-_.:hourlydaily2x";
  std::string klass = pick(4) == 0 ? std::string(1, alphabet[pick(alphabet.size())])
                                   : classes[pick(classes.size())];
  std::string time = "20261126T102500Z";
  if (pick(3) == 0) time[pick(time.size())] = alphabet[pick(alphabet.size())];
  std::string name = tmpl;
  name.replace(name.find("{class}"), 7, klass);
  name.replace(name.find("{time}"), 6, time);
  for (size_t edits = pick(3); edits > 0 && !name.empty(); --edits) {
    size_t at = pick(name.size());
    switch (pick(3)) {
      case 0:
        name[at] = alphabet[pick(alphabet.size())];
        break;
      case 1:
        name.erase(at, 1);
        break;
      default:
        name.insert(at, 1, alphabet[pick(alphabet.size())]);
        break;
    }
  }
  return name;
}

}  // namespace

TEST_CASE("naming: Parse accepts exactly what the template's regular expression matches") {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"zrecon-{class}-{time}", kClasses},
      {"auto_{class}_{time}", {"hourly", "hourly2", "h", "2"}},
      {"{time}.{class}", {"daily", "d", "daily.x"}},
      {"{class}{time}", {"x", "x2", "2", "T"}},
      {"{time}{class}", {"Z", "1", "hourly"}},
      {"a{class}Z{time}Z", {"Z", "ZZ", "1"}},
      {"snap:{time}-{class}:end", {"-", "daily"}},
  };
  std::mt19937 rng(20261126);
  size_t accepted = 0, checked = 0;
  for (const auto& [tmpl, classes] : cases) {
    NamingTemplate t = Compile(tmpl.c_str(), classes);
    RE2 reference(ReferencePattern(tmpl, classes));
    REQUIRE(reference.ok());
    const int class_group = reference.NamedCapturingGroups().at("class");
    const int time_group = reference.NamedCapturingGroups().at("time");
    for (int i = 0; i < 20000; ++i) {
      const std::string name = RandomName(&rng, tmpl, classes);
      re2::StringPiece groups[3];
      bool expected = reference.Match(name, 0, name.size(), RE2::UNANCHORED, groups, 3);
      EpochSeconds expected_time = 0;
      if (expected) {
        expected = ParseCompact(
            std::string_view(groups[time_group].data(), groups[time_group].size()), &expected_time);
      }
      std::string_view cls;
      EpochSeconds when = 0;
      const bool parsed = t.Parse(name, &cls, &when);
      ++checked;
      if (parsed != expected) {
        FAIL_CHECK("template " << tmpl << ", name " << name << ": Parse says " << parsed
                               << ", the regex " << expected);
        continue;
      }
      if (!parsed) continue;
      ++accepted;
      CHECK(cls == std::string_view(groups[class_group].data(), groups[class_group].size()));
      CHECK(when == expected_time);
    }
  }
  // Both answers occur often enough for the comparison to mean something.
  CHECK(accepted > checked / 10);
  CHECK(accepted < checked * 9 / 10);
}

}  // namespace zrecon
