#include "reconciler/util/strings.h"

#include <doctest/doctest.h>

namespace zrecon {

TEST_CASE("strings: split keeps empty fields and SplitN keeps the rest") {
  auto parts = Split("a::b", ':');
  REQUIRE(parts.size() == 3);
  CHECK(parts[1].empty());
  auto rest = SplitN("u:OS:joyent:running:img:zones:web:01", ':', 7);
  REQUIRE(rest.size() == 7);
  CHECK(rest[6] == "web:01");
}

TEST_CASE("strings: strict integer parsing") {
  uint64_t u = 0;
  int64_t i = 0;
  CHECK(ParseUint64("18446744073709551615", &u));
  CHECK(u == 18446744073709551615ull);
  CHECK_FALSE(ParseUint64("18446744073709551616", &u));
  CHECK_FALSE(ParseUint64("", &u));
  CHECK_FALSE(ParseUint64(" 1", &u));
  CHECK_FALSE(ParseUint64("-1", &u));
  CHECK(ParseInt64("-9223372036854775808", &i));
  CHECK_FALSE(ParseInt64("9223372036854775808", &i));
}

TEST_CASE("strings: did-you-mean finds plausible typos only") {
  std::vector<std::string> keys = {"policies", "destinations", "zones", "exclude"};
  CHECK(ClosestMatch("polices", keys) == "policies");
  CHECK(ClosestMatch("zone", keys) == "zones");
  CHECK(ClosestMatch("frobnicate", keys).empty());
}

TEST_CASE("strings: display quoting and escaping") {
  CHECK(ShellQuote("zones/u@zrecon-daily-20261126T000000Z") ==
        "zones/u@zrecon-daily-20261126T000000Z");
  CHECK(ShellQuote("a b") == "'a b'");
  CHECK(ShellQuote("it's") == "'it'\\''s'");
  CHECK(ShellQuote("") == "''");
  CHECK(Printable("a\nb\x01") == "a\\nb\\x01");
  CHECK(Printable("caf\xc3\xa9") == "caf\xc3\xa9");
  CHECK(Printable("bad\xff") == "bad\\xff");
}

}  // namespace zrecon
