#ifndef ZRECON_TESTS_UNIT_FIXTURES_H_
#define ZRECON_TESTS_UNIT_FIXTURES_H_

// Recorded inventories under tests/fixtures/inventory/, shared by the tests
// of the parsers and of what is built on their output.

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "reconciler/inventory/inventory.h"
#include "reconciler/inventory/parsers.h"

namespace zrecon {
namespace testing {

// Zones of smartos-mixed, one per brand.
inline constexpr char kJoyent[] = "7aa61170-425a-4b00-b57d-c088ec3b17dc";
inline constexpr char kMinimal[] = "a4fb2b5b-5bf2-4f36-a941-d7eb9f2d34d3";
inline constexpr char kLx[] = "fb603580-42d4-457a-92f5-812723df4bba";
inline constexpr char kKvm[] = "bbbf636a-a68d-4069-aff0-d5aaa47976c4";
inline constexpr char kBhyve[] = "8cc2a1fe-bf3d-4a1d-9f98-7761bc2b82d8";

// Images of smartos-mixed: kImgIncr is an incremental image whose origin is
// kImgBase@final; kJoyent is a clone of kImgIncr@final.
inline constexpr char kImgBase[] = "d5e2b391-eca9-434c-a23e-fe2b5681d137";
inline constexpr char kImgIncr[] = "38831ade-9293-4260-be2e-c1a7294926f8";
inline constexpr char kImgLx[] = "12098019-e627-403a-a96b-a0b0e12e6f38";
inline constexpr char kImgHvm[] = "9a9589fc-098c-41c0-9688-afd00dd6aa68";

// The full name of `rest` in the fixtures' pool.
inline std::string Z(const std::string& rest) { return "zones/" + rest; }

// The bytes of tests/fixtures/inventory/<relative>; fails the test when the
// file cannot be opened.
inline std::string ReadInventoryFixture(const std::string& relative) {
  std::string path = std::string(ZRECON_SOURCE_DIR) + "/tests/fixtures/inventory/" + relative;
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Parses smartos-mixed's zfs-list.txt and vmadm-list.txt into *inv.
inline void LoadSmartosMixed(Inventory* inv) {
  REQUIRE(ParseZfsList(ReadInventoryFixture("smartos-mixed/zfs-list.txt"), inv).ok());
  REQUIRE(ParseVmadmList(ReadInventoryFixture("smartos-mixed/vmadm-list.txt"), inv).ok());
}

}  // namespace testing
}  // namespace zrecon

#endif  // ZRECON_TESTS_UNIT_FIXTURES_H_
