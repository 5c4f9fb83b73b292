#ifndef ZRECON_UTIL_TIME_H_
#define ZRECON_UTIL_TIME_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace zrecon {

// All times in zrecon are UTC seconds since the epoch. These helpers are pure
// (no TZ, no locale) so plans do not depend on the machine's settings.
using EpochSeconds = int64_t;

struct CivilTime {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// Division rounding toward negative infinity (times before 1970 must still
// fall into the right day, week or period).
inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int year, int month, int day);
CivilTime CivilFromEpoch(EpochSeconds t);
EpochSeconds EpochFromCivil(const CivilTime& c);

// "2026-11-26T10:25:00Z". Parsing also accepts fractional seconds (dropped)
// and numeric offsets ("+02:00"), which are converted to UTC.
std::string FormatRfc3339(EpochSeconds t);
bool ParseRfc3339(std::string_view text, EpochSeconds* out);

// The snapshot name time format: "%Y%m%dT%H%M%SZ", e.g. "20261126T102500Z".
// Parsing is strict: exactly 16 characters and a valid calendar time.
std::string FormatCompact(EpochSeconds t);
bool ParseCompact(std::string_view text, EpochSeconds* out);
constexpr size_t kCompactTimeLength = 16;

}  // namespace zrecon

#endif  // ZRECON_UTIL_TIME_H_
