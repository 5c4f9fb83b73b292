#include "reconciler/util/time.h"

#include <doctest/doctest.h>

namespace zrecon {

TEST_CASE("time: civil conversions agree with known dates") {
  CHECK(DaysFromCivil(1970, 1, 1) == 0);
  CHECK(DaysFromCivil(2000, 3, 1) == 11017);
  CHECK(DaysFromCivil(1969, 12, 31) == -1);
  CHECK(EpochFromCivil({2026, 11, 26, 10, 25, 0}) == 1795688700);
  CivilTime c = CivilFromEpoch(1795688754);
  CHECK(c.year == 2026);
  CHECK(c.month == 11);
  CHECK(c.day == 26);
  CHECK(c.hour == 10);
  CHECK(c.minute == 25);
  CHECK(c.second == 54);
}

TEST_CASE("time: every day of four centuries round-trips") {
  for (int64_t day = -200000; day < 200000; day += 7) {
    CivilTime c = CivilFromEpoch(day * 86400 + 3723);
    CHECK(DaysFromCivil(c.year, c.month, c.day) == day);
    CHECK(c.hour == 1);
    CHECK(c.minute == 2);
    CHECK(c.second == 3);
  }
}

TEST_CASE("time: RFC 3339 format and parse") {
  EpochSeconds t = 0;
  CHECK(FormatRfc3339(1795688700) == "2026-11-26T10:25:00Z");
  REQUIRE(ParseRfc3339("2026-11-26T10:25:00Z", &t));
  CHECK(t == 1795688700);
  REQUIRE(ParseRfc3339("2026-11-26T12:25:00.123+02:00", &t));
  CHECK(t == 1795688700);
  REQUIRE(ParseRfc3339("2026-11-26T05:25:00-05:00", &t));
  CHECK(t == 1795688700);
  for (const char* bad :
       {"", "2026-11-26", "2026-11-26T10:25:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
        "2026-11-26T24:00:00Z", "2026-11-26T10:25:00Zx", "2026-11-26 10:25:00Z",
        "2026-11-26T10:25:00+2:00", "2026-11-26T10:25:60Z", "2026-11-26T10:25:00.Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseRfc3339(bad, &t));
  }
  REQUIRE(ParseRfc3339("2024-02-29T00:00:00Z", &t));
}

TEST_CASE("time: compact snapshot time format is strict") {
  EpochSeconds t = 0;
  CHECK(FormatCompact(1795688700) == "20261126T102500Z");
  REQUIRE(ParseCompact("20261126T102500Z", &t));
  CHECK(t == 1795688700);
  for (const char* bad : {"20261126T102500", "20261126T102500Z0", "20261326T102500Z",
                          "20261126T102560Z", "20261126t102500Z", "+0261126T102500Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseCompact(bad, &t));
  }
}

}  // namespace zrecon
