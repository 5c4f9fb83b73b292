#include "reconciler/util/duration.h"

#include <doctest/doctest.h>

namespace zrecon {

namespace {

EpochSeconds At(const char* rfc3339) {
  EpochSeconds t = 0;
  REQUIRE(ParseRfc3339(rfc3339, &t));
  return t;
}

Duration D(const char* text) {
  Duration d;
  std::string why;
  REQUIRE_MESSAGE(Duration::Parse(text, &d, &why), why);
  return d;
}

}  // namespace

TEST_CASE("duration: parse accepts the policy units and rejects the rest") {
  CHECK(D("15m") == Duration(15, Duration::Unit::kMinute));
  CHECK(D("1h") == Duration(1, Duration::Unit::kHour));
  CHECK(D("30d") == Duration(30, Duration::Unit::kDay));
  CHECK(D("2w") == Duration(2, Duration::Unit::kWeek));
  CHECK(D("1mo") == Duration(1, Duration::Unit::kMonth));
  CHECK(D("1y") == Duration(1, Duration::Unit::kYear));
  CHECK(D("1mo").ToString() == "1mo");
  Duration d;
  std::string why;
  for (const char* bad : {"", "h", "0h", "1", "1 h", "1H", "1s", "-1h", "1.5h", "1hh", "100001d",
                          "99999999999999999999d"}) {
    CAPTURE(bad);
    CHECK_FALSE(Duration::Parse(bad, &d, &why));
    CHECK_FALSE(why.empty());
  }
}

TEST_CASE("duration: periods align to UTC calendar boundaries") {
  Duration quarter_hour = D("15m");
  CHECK(quarter_hour.PeriodIndex(At("2026-11-26T10:14:59Z")) ==
        quarter_hour.PeriodIndex(At("2026-11-26T10:00:00Z")));
  CHECK(quarter_hour.PeriodIndex(At("2026-11-26T10:15:00Z")) ==
        quarter_hour.PeriodIndex(At("2026-11-26T10:00:00Z")) + 1);

  Duration day = D("1d");
  CHECK(day.PeriodIndex(At("2026-11-26T23:59:59Z")) == day.PeriodIndex(At("2026-11-26T00:00:00Z")));
  CHECK(day.PeriodStart(day.PeriodIndex(At("2026-11-26T13:00:00Z"))) == At("2026-11-26T00:00:00Z"));

  // ISO weeks start on Monday: 2026-11-23 is a Monday.
  Duration week = D("1w");
  CHECK(week.PeriodIndex(At("2026-11-22T23:59:59Z")) + 1 ==
        week.PeriodIndex(At("2026-11-23T00:00:00Z")));
  CHECK(week.PeriodIndex(At("2026-11-29T23:59:59Z")) ==
        week.PeriodIndex(At("2026-11-23T00:00:00Z")));
  CHECK(week.PeriodStart(week.PeriodIndex(At("2026-11-26T10:00:00Z"))) ==
        At("2026-11-23T00:00:00Z"));

  Duration month = D("1mo");
  CHECK(month.PeriodIndex(At("2026-11-30T23:59:59Z")) + 1 ==
        month.PeriodIndex(At("2026-12-01T00:00:00Z")));
  CHECK(month.PeriodStart(month.PeriodIndex(At("2026-02-14T00:00:00Z"))) ==
        At("2026-02-01T00:00:00Z"));
  Duration quarter = D("3mo");
  CHECK(quarter.PeriodStart(quarter.PeriodIndex(At("2026-05-14T00:00:00Z"))) ==
        At("2026-04-01T00:00:00Z"));

  Duration year = D("1y");
  CHECK(year.PeriodIndex(At("2026-12-31T23:59:59Z")) + 1 ==
        year.PeriodIndex(At("2027-01-01T00:00:00Z")));
  CHECK(year.PeriodStart(year.PeriodIndex(At("2026-06-01T00:00:00Z"))) ==
        At("2026-01-01T00:00:00Z"));
}

TEST_CASE("duration: PeriodStart inverts PeriodIndex for every unit") {
  for (const char* text : {"15m", "1h", "6h", "1d", "3d", "1w", "2w", "1mo", "3mo", "1y"}) {
    Duration d = D(text);
    for (EpochSeconds t = At("1999-12-20T00:00:00Z"); t < At("2031-01-10T00:00:00Z");
         t += 86400 * 3 + 3607) {
      int64_t i = d.PeriodIndex(t);
      CAPTURE(text);
      CAPTURE(t);
      CHECK(d.PeriodStart(i) <= t);
      CHECK(d.PeriodIndex(d.PeriodStart(i)) == i);
      CHECK(d.PeriodIndex(d.PeriodStart(i) - 1) == i - 1);
    }
  }
}

TEST_CASE("duration: AddTo uses calendar months and clamps the day") {
  CHECK(D("1mo").AddTo(At("2026-01-31T10:00:00Z")) == At("2026-02-28T10:00:00Z"));
  CHECK(D("1mo").AddTo(At("2024-01-31T10:00:00Z")) == At("2024-02-29T10:00:00Z"));
  CHECK(D("1y").AddTo(At("2024-02-29T00:00:00Z")) == At("2025-02-28T00:00:00Z"));
  CHECK(D("30d").AddTo(At("2026-10-01T00:00:00Z")) == At("2026-10-31T00:00:00Z"));
  CHECK(D("12mo").AddTo(At("2026-11-26T00:00:00Z")) == At("2027-11-26T00:00:00Z"));
}

}  // namespace zrecon
