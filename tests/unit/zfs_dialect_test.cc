#include "reconciler/host/zfs_dialect.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace zrecon {
namespace {

size_t ArgvBytesForTest(const Argv& argv) {
  size_t total = 0;
  for (const std::string& arg : argv) total += arg.size() + 1;
  return total;
}

std::vector<std::string> Concat(const std::vector<Argv>& argvs, size_t skip) {
  std::vector<std::string> out;
  for (const Argv& argv : argvs) out.insert(out.end(), argv.begin() + skip, argv.end());
  return out;
}

ZfsCommands Commands(ZfsDialect dialect) {
  ZfsCommands commands;
  commands.dialect = dialect;
  return commands;
}

// `count` names "tank/d@<padding>", each exactly `size` bytes long.
std::vector<std::string> NamesOfSize(size_t count, size_t size) {
  std::vector<std::string> names;
  for (size_t i = 0; i < count; ++i) {
    std::string name = "tank/d" + std::to_string(i) + "@";
    name.resize(size, 'x');
    names.push_back(name);
  }
  return names;
}

TEST_CASE("zfs_dialect: names round-trip and unknown names are refused") {
  ZfsDialect d = ZfsDialect::kLegacy;
  REQUIRE(ParseZfsDialect("illumos", &d));
  CHECK(d == ZfsDialect::kIllumos);
  REQUIRE(ParseZfsDialect("legacy", &d));
  CHECK(d == ZfsDialect::kLegacy);
  CHECK(std::string(ZfsDialectName(ZfsDialect::kIllumos)) == "illumos");
  CHECK(std::string(ZfsDialectName(ZfsDialect::kLegacy)) == "legacy");
  d = ZfsDialect::kIllumos;
  CHECK_FALSE(ParseZfsDialect("Legacy", &d));
  CHECK_FALSE(ParseZfsDialect("zfs-fuse", &d));
  CHECK_FALSE(ParseZfsDialect("", &d));
  CHECK(d == ZfsDialect::kIllumos);
}

TEST_CASE("zfs_dialect: illumos snapshots every name in one atomic call") {
  ZfsCommands zfs = Commands(ZfsDialect::kIllumos);
  zfs.zfs = "/usr/sbin/zfs";
  std::vector<Argv> argvs = zfs.Snapshot({"zones/b@d", "zones/a@d", "zones/b/data@d"});
  REQUIRE(argvs.size() == 1);
  CHECK(argvs[0] == Argv{"/usr/sbin/zfs", "snapshot", "zones/b@d", "zones/a@d", "zones/b/data@d"});
  CHECK(zfs.Snapshot({}).empty());
}

TEST_CASE("zfs_dialect: legacy snapshots one name per call") {
  ZfsCommands zfs = Commands(ZfsDialect::kLegacy);
  std::vector<Argv> argvs = zfs.Snapshot({"tank/a@s", "tank/b@s"});
  REQUIRE(argvs.size() == 2);
  CHECK(argvs[0] == Argv{"zfs", "snapshot", "tank/a@s"});
  CHECK(argvs[1] == Argv{"zfs", "snapshot", "tank/b@s"});
  CHECK(zfs.Snapshot({}).empty());
}

TEST_CASE("zfs_dialect: illumos snapshot splits exactly at the argv byte budget") {
  ZfsCommands zfs = Commands(ZfsDialect::kIllumos);
  const size_t head = ArgvBytesForTest({"zfs", "snapshot"});
  // 95 names of 1023 bytes (1024 with the NUL), and a last name that fills
  // the budget to the byte.
  std::vector<std::string> names = NamesOfSize(95, 1023);
  const size_t last_size = kArgvByteBudget - head - 95 * 1024 - 1;
  names.push_back(std::string("tank/last@").append(last_size - 10, 'y'));
  REQUIRE(names.back().size() == last_size);

  std::vector<Argv> exact = zfs.Snapshot(names);
  REQUIRE(exact.size() == 1);
  CHECK(ArgvBytesForTest(exact[0]) == kArgvByteBudget);
  CHECK(Concat(exact, 2) == names);

  names.back().push_back('y');
  std::vector<Argv> over = zfs.Snapshot(names);
  REQUIRE(over.size() == 2);
  CHECK(over[0].size() == 2 + 95);
  CHECK(over[1] == Argv{"zfs", "snapshot", names.back()});
  CHECK(Concat(over, 2) == names);
  for (const Argv& argv : over) CHECK(ArgvBytesForTest(argv) <= kArgvByteBudget);
}

TEST_CASE("zfs_dialect: many snapshot names are split in order, none dropped") {
  ZfsCommands zfs = Commands(ZfsDialect::kIllumos);
  std::vector<std::string> names = NamesOfSize(1000, 250);
  std::vector<Argv> argvs = zfs.Snapshot(names);
  CHECK(argvs.size() == 3);  // 251 bytes a name: 391 names fit in 96 KiB
  for (const Argv& argv : argvs) {
    CHECK(argv[0] == "zfs");
    CHECK(argv[1] == "snapshot");
    CHECK(ArgvBytesForTest(argv) <= kArgvByteBudget);
  }
  CHECK(Concat(argvs, 2) == names);
}

TEST_CASE("zfs_dialect: a name larger than the budget still gets its own call") {
  ZfsCommands zfs = Commands(ZfsDialect::kIllumos);
  std::vector<std::string> names = {"tank/a@s", "tank/b@" + std::string(kArgvByteBudget, 'z'),
                                    "tank/c@s"};
  std::vector<Argv> argvs = zfs.Snapshot(names);
  REQUIRE(argvs.size() == 3);
  CHECK(Concat(argvs, 2) == names);
}

TEST_CASE("zfs_dialect: recursive snapshot is the same in both dialects") {
  for (ZfsDialect dialect : {ZfsDialect::kIllumos, ZfsDialect::kLegacy}) {
    CHECK(Commands(dialect).SnapshotRecursive("zones/u@daily") ==
          Argv{"zfs", "snapshot", "-r", "zones/u@daily"});
  }
}

TEST_CASE("zfs_dialect: illumos destroy uses one comma list per batch") {
  ZfsCommands zfs = Commands(ZfsDialect::kIllumos);
  std::vector<Argv> argvs = zfs.DestroySnapshots("zones/u/data", {"h-1", "h-2", "d-1"});
  REQUIRE(argvs.size() == 1);
  CHECK(argvs[0] == Argv{"zfs", "destroy", "zones/u/data@h-1,h-2,d-1"});
  CHECK(zfs.DestroySnapshots("zones/u", {}).empty());
}

TEST_CASE("zfs_dialect: illumos destroy batches at most kDestroyBatchSize names") {
  ZfsCommands zfs = Commands(ZfsDialect::kIllumos);
  std::vector<std::string> shorts;
  for (size_t i = 0; i < 2 * kDestroyBatchSize + 10; ++i) shorts.push_back("s" + std::to_string(i));
  std::vector<Argv> argvs = zfs.DestroySnapshots("tank/d", shorts);
  REQUIRE(argvs.size() == 3);
  std::string first = "tank/d@s0";
  for (size_t i = 1; i < kDestroyBatchSize; ++i) first += ",s" + std::to_string(i);
  CHECK(argvs[0] == Argv{"zfs", "destroy", first});
  CHECK(argvs[1][2].rfind("tank/d@s256,s257,", 0) == 0);
  CHECK(argvs[2] ==
        Argv{"zfs", "destroy", "tank/d@s512,s513,s514,s515,s516,s517,s518,s519,s520,s521"});
  for (const Argv& argv : argvs) {
    CHECK(argv.size() == 3);
    CHECK(argv[2].find('%') == std::string::npos);
  }
}

TEST_CASE("zfs_dialect: illumos destroy splits exactly at the argv byte budget") {
  ZfsCommands zfs = Commands(ZfsDialect::kIllumos);
  const std::string dataset = "tank/d";
  // Argv bytes: "zfs\0destroy\0" + "tank/d@" + names joined by ',' + '\0'.
  // 100 names of 900 bytes; then the last one fills the budget to the byte.
  std::vector<std::string> shorts;
  for (int i = 0; i < 100; ++i) shorts.push_back(std::string(900, static_cast<char>('a' + i % 26)));
  const size_t used = 4 + 8 + dataset.size() + 1 + 100 * 901;
  shorts.push_back(std::string(kArgvByteBudget - used - 1, 'z'));

  std::vector<Argv> exact = zfs.DestroySnapshots(dataset, shorts);
  REQUIRE(exact.size() == 1);
  CHECK(ArgvBytesForTest(exact[0]) == kArgvByteBudget);

  shorts.back().push_back('z');
  std::vector<Argv> over = zfs.DestroySnapshots(dataset, shorts);
  REQUIRE(over.size() == 2);
  CHECK(ArgvBytesForTest(over[0]) == used);
  CHECK(over[1] == Argv{"zfs", "destroy", dataset + "@" + shorts.back()});
}

TEST_CASE("zfs_dialect: legacy destroy names one snapshot per call, never -r or -f") {
  ZfsCommands zfs = Commands(ZfsDialect::kLegacy);
  std::vector<Argv> argvs = zfs.DestroySnapshots("tank/d", {"a", "b"});
  REQUIRE(argvs.size() == 2);
  CHECK(argvs[0] == Argv{"zfs", "destroy", "tank/d@a"});
  CHECK(argvs[1] == Argv{"zfs", "destroy", "tank/d@b"});
  CHECK(zfs.DestroySnapshots("tank/d", {}).empty());
}

TEST_CASE("zfs_dialect: send, properties, holds and vmadm get") {
  for (ZfsDialect dialect : {ZfsDialect::kIllumos, ZfsDialect::kLegacy}) {
    ZfsCommands c = Commands(dialect);
    c.zfs = "/sbin/zfs";
    c.vmadm = "/usr/vm/sbin/vmadm";
    CHECK(c.Send("zones/u@b", "") == Argv{"/sbin/zfs", "send", "zones/u@b"});
    CHECK(c.Send("zones/u@b", "zones/u@a") ==
          Argv{"/sbin/zfs", "send", "-i", "zones/u@a", "zones/u@b"});
    CHECK(c.SetProperty("zones/u@b", "zrecon:exported", "usb,nas") ==
          Argv{"/sbin/zfs", "set", "zrecon:exported=usb,nas", "zones/u@b"});
    CHECK(c.InheritProperty("zones/u@b", "zrecon:exported") ==
          Argv{"/sbin/zfs", "inherit", "zrecon:exported", "zones/u@b"});
    CHECK(c.Hold(std::string(kHoldTag), "zones/u@b") ==
          Argv{"/sbin/zfs", "hold", "zrecon", "zones/u@b"});
    CHECK(c.Release(std::string(kHoldTag), "zones/u@b") ==
          Argv{"/sbin/zfs", "release", "zrecon", "zones/u@b"});
    CHECK(c.VmadmGet("54f1cc77-68f1-42ab-acac-5c4f64f5d6e0") ==
          Argv{"/usr/vm/sbin/vmadm", "get", "54f1cc77-68f1-42ab-acac-5c4f64f5d6e0"});
  }
}

TEST_CASE("zfs_dialect: send estimate is a parsable dry run on illumos, absent on legacy") {
  ZfsCommands illumos = Commands(ZfsDialect::kIllumos);
  illumos.zfs = "/usr/sbin/zfs";
  CHECK(illumos.SendEstimate("zones/u@b", "") == Argv{"/usr/sbin/zfs", "send", "-nP", "zones/u@b"});
  CHECK(illumos.SendEstimate("zones/u@b", "zones/u@a") ==
        Argv{"/usr/sbin/zfs", "send", "-nP", "-i", "zones/u@a", "zones/u@b"});
  ZfsCommands legacy = Commands(ZfsDialect::kLegacy);
  CHECK(legacy.SendEstimate("zones/u@b", "").empty());
  CHECK(legacy.SendEstimate("zones/u@b", "zones/u@a").empty());
}

TEST_CASE("zfs_dialect: a send estimate is the size line, else the single stream line") {
  struct Case {
    const char* out;
    uint64_t bytes;
  };
  const Case cases[] = {
      {"incremental\tzrecon-daily-1\tzones/u@zrecon-daily-2\t123456\nsize\t123460\n", 123460},
      {"full\tzones/u@s\t123\nsize\t123\n", 123},
      // Versions that omit the per-stream size when the estimate is 0.
      {"full\tzones/u@s\nsize\t0\n", 0},
      // -R style output: several streams, one total.
      {"full\tzones/u@a\t100\nincremental\ta\tzones/u@b\t20\nsize\t120\n", 120},
      {"size\t18446744073709551615", UINT64_MAX},
      // No total: the one stream line.
      {"incremental\tzrecon-daily-1\tzones/u@zrecon-daily-2\t98765\n", 98765},
      {"full\tzones/u@s\t42\r\n", 42},
      // Lines that are not part of the estimate (a future version's extras).
      {"\nnote\tsomething new\nfull\tzones/u@s\t7\n", 7},
  };
  for (const Case& c : cases) {
    CAPTURE(c.out);
    uint64_t bytes = 77;
    REQUIRE(ParseSendEstimate(c.out, &bytes));
    CHECK(bytes == c.bytes);
  }
}

TEST_CASE("zfs_dialect: a missing or malformed send estimate is refused") {
  const char* const bad[] = {
      "",
      "\n",
      "total estimated size is 12.3M\n",           // human format
      "full\tzones/u@s\n",                         // stream without size
      "full\tzones/u@a\t1\nfull\tzones/v@a\t2\n",  // two streams, no total
      "size\t12.3M\n",                             // not a byte count
      "size\t-5\n",                                // negative
      "size\t\n",                                  // empty
      "size\n",                                    // no value
      "size\t1\t2\n",                              // extra field
      "size\t1\nsize\t2\n",                        // two totals
      "size\t18446744073709551616\n",              // overflow
      "full\tzones/u@s\tabc\nsize\t10\n",          // bad stream size
      "incremental\tzones/u@s\n",                  // too few fields
      "incremental\ta\tzones/u@b\t1\t2\n",         // too many fields
  };
  for (const char* text : bad) {
    CAPTURE(text);
    uint64_t bytes = 77;
    CHECK_FALSE(ParseSendEstimate(text, &bytes));
    CHECK(bytes == 77);
  }
}

TEST_CASE("zfs_dialect: restore's commands come from the one builder") {
  ZfsCommands c;
  c.zfs = "/sbin/zfs";
  c.vmadm = "/usr/vm/sbin/vmadm";
  CHECK(c.Receive("zones/u-partial", false) ==
        Argv{"/sbin/zfs", "receive", "-u", "zones/u-partial"});
  CHECK(c.Receive("zones/u-partial", true) ==
        Argv{"/sbin/zfs", "receive", "-u", "-F", "zones/u-partial"});
  CHECK(c.DestroyTree("zones/u", true) == Argv{"/sbin/zfs", "destroy", "-r", "-f", "zones/u"});
  CHECK(c.DestroyTree("zones/u-partial", false) ==
        Argv{"/sbin/zfs", "destroy", "-r", "zones/u-partial"});
  CHECK(c.Rename("a-partial", "a") == Argv{"/sbin/zfs", "rename", "a-partial", "a"});
  CHECK(c.Mount("a") == Argv{"/sbin/zfs", "mount", "a"});
  CHECK(c.Unmount("a") == Argv{"/sbin/zfs", "umount", "a"});
  CHECK(c.VmadmCreate() == Argv{"/usr/vm/sbin/vmadm", "create"});
  CHECK(c.VmadmStopForce("u") == Argv{"/usr/vm/sbin/vmadm", "stop", "-F", "u"});
  CHECK(c.VmadmStart("u") == Argv{"/usr/vm/sbin/vmadm", "start", "u"});
  CHECK(c.VmadmDelete("u") == Argv{"/usr/vm/sbin/vmadm", "delete", "u"});
  CHECK(c.VmadmUpdate("u", {"autoboot=true", "indestructible_zoneroot=true"}) ==
        Argv{"/usr/vm/sbin/vmadm", "update", "u", "autoboot=true", "indestructible_zoneroot=true"});
  CHECK(c.Available("zones") ==
        Argv{"/sbin/zfs", "get", "-H", "-p", "-o", "value", "available", "zones"});
}

TEST_CASE("zfs_dialect: a snapshot's identity and the pool's room are parsed strictly") {
  uint64_t guid = 0, txg = 0;
  int64_t creation = 0;
  const std::string snap = "zones/u@s";
  REQUIRE(ParseSnapshotIdentity("zones/u@s\tguid\t42\nzones/u@s\tcreatetxg\t7\n"
                                "zones/u@s\tcreation\t1790000000\nzones/v@s\tguid\t9\n",
                                snap, &guid, &txg, &creation)
              .ok());
  CHECK((guid == 42 && txg == 7 && creation == 1790000000));
  CHECK(ParseSnapshotIdentity("zones/u@s\tguid\t-\n", snap, &guid, &txg, &creation).message() ==
        "unexpected value \"zones/u@s\\tguid\\t-\"");
  uint64_t bytes = 0;
  REQUIRE(ParseAvailable("1234\n", &bytes).ok());
  CHECK(bytes == 1234);
  CHECK(ParseAvailable("12G\n", &bytes).message() == "expected a byte count, got \"12G\\n\"");
  CHECK_FALSE(ParseAvailable("", &bytes).ok());
}

}  // namespace
}  // namespace zrecon
