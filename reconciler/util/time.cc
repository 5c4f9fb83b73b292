#include "reconciler/util/time.h"

#include <cstdio>

namespace zrecon {

namespace {

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool ValidCivil(const CivilTime& c) {
  return c.year >= 1 && c.year <= 9999 && c.month >= 1 && c.month <= 12 && c.day >= 1 &&
         c.day <= DaysInMonth(c.year, c.month) && c.hour >= 0 && c.hour <= 23 && c.minute >= 0 &&
         c.minute <= 59 && c.second >= 0 && c.second <= 60;
}

}  // namespace

// Howard Hinnant's days_from_civil algorithm.
int64_t DaysFromCivil(int year, int month, int day) {
  int64_t y = year - (month <= 2 ? 1 : 0);
  int64_t era = FloorDiv(y, 400);
  int64_t yoe = y - era * 400;
  int64_t mp = (month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilTime CivilFromEpoch(EpochSeconds t) {
  int64_t days = FloorDiv(t, 86400);
  int64_t secs = t - days * 86400;
  int64_t z = days + 719468;
  int64_t era = FloorDiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  CivilTime c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = static_cast<int>(yoe + era * 400 + (c.month <= 2 ? 1 : 0));
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs % 3600 / 60);
  c.second = static_cast<int>(secs % 60);
  return c;
}

EpochSeconds EpochFromCivil(const CivilTime& c) {
  return DaysFromCivil(c.year, c.month, c.day) * 86400 + c.hour * 3600 + c.minute * 60 + c.second;
}

std::string FormatRfc3339(EpochSeconds t) {
  CivilTime c = CivilFromEpoch(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month, c.day, c.hour,
                c.minute, c.second);
  return buf;
}

bool ParseRfc3339(std::string_view s, EpochSeconds* out) {
  CivilTime c;
  if (s.size() < 20 || !Digits(s, 0, 4, &c.year) || s[4] != '-' || !Digits(s, 5, 2, &c.month) ||
      s[7] != '-' || !Digits(s, 8, 2, &c.day) || (s[10] != 'T' && s[10] != 't') ||
      !Digits(s, 11, 2, &c.hour) || s[13] != ':' || !Digits(s, 14, 2, &c.minute) || s[16] != ':' ||
      !Digits(s, 17, 2, &c.second)) {
    return false;
  }
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return false;
  }
  if (!ValidCivil(c) || c.second == 60) return false;
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return false;
    }
    offset = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  *out = EpochFromCivil(c) - offset;
  return true;
}

std::string FormatCompact(EpochSeconds t) {
  CivilTime c = CivilFromEpoch(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", c.year, c.month, c.day, c.hour,
                c.minute, c.second);
  return buf;
}

bool ParseCompact(std::string_view s, EpochSeconds* out) {
  CivilTime c;
  if (s.size() != kCompactTimeLength || !Digits(s, 0, 4, &c.year) || !Digits(s, 4, 2, &c.month) ||
      !Digits(s, 6, 2, &c.day) || s[8] != 'T' || !Digits(s, 9, 2, &c.hour) ||
      !Digits(s, 11, 2, &c.minute) || !Digits(s, 13, 2, &c.second) || s[15] != 'Z') {
    return false;
  }
  if (!ValidCivil(c) || c.second == 60) return false;
  *out = EpochFromCivil(c);
  return true;
}

}  // namespace zrecon
