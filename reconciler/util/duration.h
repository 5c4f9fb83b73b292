#ifndef ZRECON_UTIL_DURATION_H_
#define ZRECON_UTIL_DURATION_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "reconciler/util/time.h"

namespace zrecon {

// A calendar-aware duration as written in policy files: a positive count and
// a unit, "15m", "1h", "1d", "2w", "1mo", "1y". Months and years are calendar
// units, not fixed numbers of seconds.
class Duration {
 public:
  enum class Unit { kMinute, kHour, kDay, kWeek, kMonth, kYear };

  Duration() = default;
  Duration(int64_t count, Unit unit) : count_(count), unit_(unit) {}

  // Accepts <digits><unit> with unit m, h, d, w, mo, y and a count from 1 to
  // 100000. Returns false (and a reason in *why) on anything else.
  static bool Parse(std::string_view text, Duration* out, std::string* why);

  int64_t count() const { return count_; }
  Unit unit() const { return unit_; }
  std::string ToString() const;

  // Index of the UTC calendar period that contains t. Periods are aligned:
  // n-minute/hour/day slots to the epoch, weeks to ISO weeks (Monday 00:00
  // UTC), months to calendar months, years to calendar years. Two times are
  // in the same period iff their indexes are equal.
  int64_t PeriodIndex(EpochSeconds t) const;

  // Start of the period with the given index (inverse of PeriodIndex).
  EpochSeconds PeriodStart(int64_t index) const;

  // Rough length in seconds (months 30.44 days, years 365.2425 days), for
  // ordering classes only; never for scheduling.
  int64_t ApproxSeconds() const;

  // t + this duration; months and years clamp the day (Jan 31 + 1mo = Feb 28).
  EpochSeconds AddTo(EpochSeconds t) const;

  bool operator==(const Duration& o) const { return count_ == o.count_ && unit_ == o.unit_; }

 private:
  int64_t count_ = 1;
  Unit unit_ = Unit::kDay;
};

}  // namespace zrecon

#endif  // ZRECON_UTIL_DURATION_H_
