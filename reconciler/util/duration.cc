#include "reconciler/util/duration.h"

namespace zrecon {

namespace {

int64_t FixedSeconds(Duration::Unit unit) {
  switch (unit) {
    case Duration::Unit::kMinute:
      return 60;
    case Duration::Unit::kHour:
      return 3600;
    case Duration::Unit::kDay:
      return 86400;
    case Duration::Unit::kWeek:
      return 7 * 86400;
    default:
      return 0;
  }
}

// 1970-01-01 was a Thursday; shifting by 3 days makes Monday day 0 of a week.
constexpr int64_t kMondayShiftDays = 3;
constexpr int64_t kMaxCount = 100000;

}  // namespace

bool Duration::Parse(std::string_view text, Duration* out, std::string* why) {
  size_t i = 0;
  int64_t count = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    count = count * 10 + (text[i] - '0');
    if (count > kMaxCount) {
      *why = "count too large (at most " + std::to_string(kMaxCount) + ")";
      return false;
    }
    ++i;
  }
  if (i == 0) {
    *why = "expected a number followed by a unit (m, h, d, w, mo, y), e.g. \"1h\"";
    return false;
  }
  if (count == 0) {
    *why = "duration must be greater than zero";
    return false;
  }
  std::string_view unit = text.substr(i);
  Unit u;
  if (unit == "m") {
    u = Unit::kMinute;
  } else if (unit == "h") {
    u = Unit::kHour;
  } else if (unit == "d") {
    u = Unit::kDay;
  } else if (unit == "w") {
    u = Unit::kWeek;
  } else if (unit == "mo") {
    u = Unit::kMonth;
  } else if (unit == "y") {
    u = Unit::kYear;
  } else {
    *why = "unknown unit \"" + std::string(unit) + "\" (use m, h, d, w, mo or y)";
    return false;
  }
  *out = Duration(count, u);
  return true;
}

std::string Duration::ToString() const {
  static const char* kUnits[] = {"m", "h", "d", "w", "mo", "y"};
  return std::to_string(count_) + kUnits[static_cast<int>(unit_)];
}

int64_t Duration::PeriodIndex(EpochSeconds t) const {
  switch (unit_) {
    case Unit::kMinute:
    case Unit::kHour:
    case Unit::kDay:
      return FloorDiv(t, FixedSeconds(unit_) * count_);
    case Unit::kWeek:
      return FloorDiv(FloorDiv(t, 86400) + kMondayShiftDays, 7 * count_);
    case Unit::kMonth: {
      CivilTime c = CivilFromEpoch(t);
      return FloorDiv(int64_t{c.year} * 12 + (c.month - 1), count_);
    }
    case Unit::kYear:
      return FloorDiv(CivilFromEpoch(t).year, count_);
  }
  return 0;
}

EpochSeconds Duration::PeriodStart(int64_t index) const {
  switch (unit_) {
    case Unit::kMinute:
    case Unit::kHour:
    case Unit::kDay:
      return index * FixedSeconds(unit_) * count_;
    case Unit::kWeek:
      return (index * 7 * count_ - kMondayShiftDays) * 86400;
    case Unit::kMonth: {
      int64_t months = index * count_;
      CivilTime c;
      c.year = static_cast<int>(FloorDiv(months, 12));
      c.month = static_cast<int>(months - int64_t{c.year} * 12 + 1);
      return EpochFromCivil(c);
    }
    case Unit::kYear: {
      CivilTime c;
      c.year = static_cast<int>(index * count_);
      return EpochFromCivil(c);
    }
  }
  return 0;
}

int64_t Duration::ApproxSeconds() const {
  if (unit_ == Unit::kMonth) return count_ * 2629746;
  if (unit_ == Unit::kYear) return count_ * 31556952;
  return count_ * FixedSeconds(unit_);
}

EpochSeconds Duration::AddTo(EpochSeconds t) const {
  if (unit_ != Unit::kMonth && unit_ != Unit::kYear) return t + FixedSeconds(unit_) * count_;
  CivilTime c = CivilFromEpoch(t);
  int64_t months = int64_t{c.year} * 12 + (c.month - 1) + (unit_ == Unit::kYear ? 12 : 1) * count_;
  c.year = static_cast<int>(FloorDiv(months, 12));
  c.month = static_cast<int>(months - int64_t{c.year} * 12 + 1);
  int last = static_cast<int>(
      DaysFromCivil(c.month == 12 ? c.year + 1 : c.year, c.month == 12 ? 1 : c.month + 1, 1) -
      DaysFromCivil(c.year, c.month, 1));
  if (c.day > last) c.day = last;
  return EpochFromCivil(c);
}

}  // namespace zrecon
