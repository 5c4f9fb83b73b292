#include "reconciler/inventory/parsers.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "reconciler/util/strings.h"
#include "tests/unit/fixtures.h"

namespace zrecon {
namespace {

using testing::kBhyve;
using testing::kImgBase;
using testing::kImgHvm;
using testing::kImgIncr;
using testing::kJoyent;
using testing::kKvm;
using testing::kLx;
using testing::kMinimal;
using testing::ReadInventoryFixture;
using testing::Z;

// The first difference between two inventories, "" when they are equal.
std::string Difference(const Inventory& a, const Inventory& b) {
  if (a.datasets.size() != b.datasets.size()) return "dataset count";
  for (size_t i = 0; i < a.datasets.size(); ++i) {
    const Dataset& x = a.datasets[i];
    const Dataset& y = b.datasets[i];
    if (x.name != y.name || x.type != y.type || x.origin != y.origin || x.creation != y.creation ||
        x.guid != y.guid || x.createtxg != y.createtxg || x.used != y.used) {
      return "dataset " + x.name + " vs " + y.name;
    }
    if (x.snapshots.size() != y.snapshots.size()) return "snapshot count of " + x.name;
    for (size_t j = 0; j < x.snapshots.size(); ++j) {
      const Snapshot& s = x.snapshots[j];
      const Snapshot& t = y.snapshots[j];
      if (s.name != t.name || s.creation != t.creation || s.guid != t.guid ||
          s.createtxg != t.createtxg || s.userrefs != t.userrefs || s.used != t.used ||
          s.exported != t.exported) {
        return "snapshot " + x.name + "@" + s.name + " vs @" + t.name;
      }
    }
  }
  if (a.bookmarks.size() != b.bookmarks.size()) return "bookmark count";
  for (size_t i = 0; i < a.bookmarks.size(); ++i) {
    const Bookmark& x = a.bookmarks[i];
    const Bookmark& y = b.bookmarks[i];
    if (x.name != y.name || x.creation != y.creation || x.guid != y.guid ||
        x.createtxg != y.createtxg) {
      return "bookmark " + x.name + " vs " + y.name;
    }
  }
  if (a.zones.size() != b.zones.size()) return "zone count";
  for (size_t i = 0; i < a.zones.size(); ++i) {
    const Zone& x = a.zones[i];
    const Zone& y = b.zones[i];
    if (x.uuid != y.uuid || x.type != y.type || x.brand != y.brand || x.state != y.state ||
        x.image_uuid != y.image_uuid || x.zpool != y.zpool || x.alias != y.alias) {
      return "zone " + x.uuid + " vs " + y.uuid;
    }
  }
  return "";
}

void ParseListOk(const std::string& text, Inventory* inv) {
  Status s = ParseZfsList(text, inv);
  REQUIRE_MESSAGE(s.ok(), s.message());
}

std::string ListError(const std::string& text) {
  Inventory inv;
  Status s = ParseZfsList(text, &inv);
  CHECK_FALSE(s.ok());
  CHECK(inv.datasets.empty());
  CHECK(inv.bookmarks.empty());
  return s.message();
}

std::string GetError(const std::string& text) {
  Inventory inv;
  Status s = ParseZfsGet(text, &inv);
  CHECK_FALSE(s.ok());
  CHECK(inv.datasets.empty());
  return s.message();
}

std::string VmadmError(const std::string& text) {
  Inventory inv;
  Status s = ParseVmadmList(text, &inv);
  CHECK_FALSE(s.ok());
  CHECK(inv.zones.empty());
  return s.message();
}

std::string Reversed(const std::string& text) {
  std::vector<std::string_view> lines = Split(text, '\n');
  std::reverse(lines.begin(), lines.end());
  std::string out;
  for (std::string_view l : lines) out.append(l).append("\n");
  return out;
}

// Valid rows to build error cases from.
const char kPool[] = "zones\tfilesystem\t-\t1700000000\t1311826421327416021\t1\t-\t52345678\t-\n";
const char kFs[] = "zones/a\tfilesystem\t-\t1700000500\t7712000000000000001\t300\t-\t2000000\t-\n";
const char kSnap[] =
    "zones/a@s1\tsnapshot\t-\t1700000600\t9011000000000000001\t310\t1\t12000\tusb\n";

}  // namespace

TEST_CASE("parsers: argv of the three listing commands") {
  CHECK(IllumosZfsListArgv("/usr/sbin/zfs") ==
        std::vector<std::string>{"/usr/sbin/zfs", "list", "-H", "-p", "-t", "all", "-o",
                                 "name,type,origin,creation,guid,createtxg,userrefs,used,"
                                 "zrecon:exported"});
  CHECK(LegacyZfsGetArgv("zfs") ==
        std::vector<std::string>{"zfs", "get", "-H", "-p", "-r", "-o", "name,property,value",
                                 "type,origin,creation,guid,createtxg,userrefs,used,"
                                 "zrecon:exported"});
  CHECK(VmadmListArgv("/usr/vm/sbin/vmadm") ==
        std::vector<std::string>{"/usr/vm/sbin/vmadm", "list", "-p", "-o",
                                 "uuid,type,brand,state,image_uuid,zpool,alias"});
}

TEST_CASE("parsers: smartos-mixed zfs list yields the recorded datasets") {
  Inventory inv;
  ParseListOk(ReadInventoryFixture("smartos-mixed/zfs-list.txt"), &inv);
  size_t volumes = std::count_if(inv.datasets.begin(), inv.datasets.end(),
                                 [](const Dataset& d) { return d.type == DatasetType::kVolume; });
  CHECK(inv.datasets.size() == 28);
  CHECK(volumes == 6);
  CHECK(inv.snapshot_count() == 149);
  REQUIRE(inv.bookmarks.size() == 1);

  REQUIRE(inv.FindDataset("zones/dump") != nullptr);
  CHECK(inv.FindDataset("zones/dump")->type == DatasetType::kVolume);
  CHECK(inv.FindDataset("zones/swap")->type == DatasetType::kVolume);
  CHECK(inv.FindDataset("zones/cores/global")->type == DatasetType::kFilesystem);

  // The incremental image is a clone of the base image's @final; the joyent
  // zone a clone of the incremental image.
  CHECK(inv.FindDataset(Z(kImgIncr))->origin == Z(kImgBase) + "@final");
  CHECK(inv.FindDataset(Z(kJoyent))->origin == Z(kImgIncr) + "@final");
  CHECK(inv.FindDataset(Z(kKvm))->origin.empty());
  const Dataset* disk0 = inv.FindDataset(Z(kKvm) + "-disk0");
  REQUIRE(disk0 != nullptr);
  CHECK(disk0->type == DatasetType::kVolume);
  CHECK(disk0->origin == Z(kImgHvm) + "@final");
  CHECK(inv.FindDataset(Z(kKvm) + "-disk1")->origin.empty());
  CHECK(inv.FindDataset(Z(kBhyve) + "/disk0")->origin == Z(kImgHvm) + "@final");

  const Dataset* root = inv.FindDataset(Z(kJoyent));
  REQUIRE(root != nullptr);
  CHECK(root->creation == 1759490441);
  CHECK(root->guid == 7253432772463898917ull);
  CHECK(root->createtxg == 2126994);
  CHECK(root->used == 1859117056);
  CHECK(root->snapshots.front().name == "vmsnap-before-upgrade");
  CHECK(root->snapshots.back().name == "zrecon-hourly-20261126T100000Z");
  for (const Dataset& d : inv.datasets) {
    CAPTURE(d.name);
    CHECK(std::is_sorted(
        d.snapshots.begin(), d.snapshots.end(),
        [](const Snapshot& a, const Snapshot& b) { return a.createtxg < b.createtxg; }));
  }

  const Snapshot* held = inv.FindSnapshot(Z(kJoyent) + "@zrecon-daily-20261125T000000Z");
  REQUIRE(held != nullptr);
  CHECK(held->userrefs == 1);
  CHECK(held->exported == "usb");
  CHECK(held->guid == 18368400422368150460ull);
  CHECK(inv.FindSnapshot(Z(kLx) + "@zrecon-weekly-20261122T003000Z")->exported == "usb,nas");
  CHECK(inv.FindSnapshot(Z(kLx) + "/data@indestructible")->userrefs == 1);
  CHECK(inv.FindSnapshot(Z(kLx) + "/data@indestructible")->exported.empty());
  CHECK(inv.FindSnapshot(Z(kLx) + "/data@autosnap_2026-11-01_00:00:00_daily") != nullptr);
  CHECK(inv.FindSnapshot(Z(kMinimal) + "@first_snap")->userrefs == 0);

  const Bookmark& bm = inv.bookmarks[0];
  CHECK(bm.name == Z(kJoyent) + "#zrecon-bm");
  CHECK(bm.creation == 1795132801);
  CHECK(bm.guid == 15290605748955981702ull);
  CHECK(bm.createtxg == 9255466);
}

TEST_CASE("parsers: smartos-mixed vmadm list yields five brands") {
  Inventory inv;
  Status s = ParseVmadmList(ReadInventoryFixture("smartos-mixed/vmadm-list.txt"), &inv);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(inv.zones.size() == 5);
  CHECK(std::is_sorted(inv.zones.begin(), inv.zones.end(),
                       [](const Zone& a, const Zone& b) { return a.uuid < b.uuid; }));
  const Zone* minimal = inv.FindZone(kMinimal);
  REQUIRE(minimal != nullptr);
  CHECK(minimal->brand == "joyent-minimal");
  CHECK(minimal->alias == "db:primary");
  CHECK(minimal->state == "stopped");
  CHECK(minimal->image_uuid == kImgBase);
  CHECK(inv.FindZone(kBhyve)->alias == "ci-runner:bhyve");
  CHECK(inv.FindZone(kBhyve)->type == "BHYV");
  const Zone* kvm = inv.FindZone(kKvm);
  REQUIRE(kvm != nullptr);
  CHECK(kvm->brand == "kvm");
  CHECK(kvm->image_uuid.empty());
  CHECK(kvm->alias.empty());
  CHECK(kvm->zpool == "zones");
  CHECK(kvm->state == "running");
  CHECK(inv.FindZone(kLx)->brand == "lx");
  CHECK(inv.FindZone(kJoyent)->brand == "joyent");
}

TEST_CASE("parsers: Format writes the real zfs list order and round-trips") {
  for (const char* fixture : {"smartos-mixed/zfs-list.txt", "legacy-zfs-fuse/zfs-list.txt"}) {
    CAPTURE(fixture);
    std::string text = ReadInventoryFixture(fixture);
    Inventory inv;
    ParseListOk(text, &inv);
    // The fixtures are in real `zfs list` order, bookmark included.
    std::string formatted = FormatZfsList(inv);
    CHECK(formatted == text);
    Inventory again;
    ParseListOk(formatted, &again);
    CHECK(Difference(inv, again) == "");
  }
}

TEST_CASE("parsers: the recorded line format has no zonename nor flexible_disk_size") {
  Inventory inv;
  REQUIRE(ParseVmadmList(ReadInventoryFixture("smartos-mixed/vmadm-list.txt"), &inv).ok());
  REQUIRE_FALSE(inv.zones.empty());
  for (const Zone& z : inv.zones) {
    CHECK(z.name() == z.uuid);
    CHECK_FALSE(z.flexible_disk_size_known);
  }
}

TEST_CASE("parsers: the legacy zfs get capture equals its illumos twin") {
  Inventory legacy;
  Status s = ParseZfsGet(ReadInventoryFixture("legacy-zfs-fuse/zfs-get.txt"), &legacy);
  REQUIRE_MESSAGE(s.ok(), s.message());
  Inventory illumos;
  ParseListOk(ReadInventoryFixture("legacy-zfs-fuse/zfs-list.txt"), &illumos);
  CHECK(Difference(legacy, illumos) == "");

  const std::string zone = "invtest/4d16773a-9cfc-4e67-b38a-b95b91ce4c2c";
  CHECK(legacy.datasets.size() == 6);
  CHECK(legacy.snapshot_count() == 6);
  CHECK(legacy.FindDataset(zone)->origin == "invtest/a0b03a86-13c8-4a81-8674-ac64298f9858@final");
  const Snapshot* held = legacy.FindSnapshot(zone + "@zrecon-hourly-20261126T103704Z");
  REQUIRE(held != nullptr);
  CHECK(held->userrefs == 1);
  CHECK(held->exported == "usb");
  CHECK(legacy.FindSnapshot(zone + "/data@zrecon-hourly-20261126T103704Z")->exported.empty());
  CHECK(legacy.FindDataset("invtest")->guid == 5295036289478603317ull);
}

TEST_CASE("parsers: row order does not matter") {
  for (const char* fixture : {"smartos-mixed/zfs-list.txt", "legacy-zfs-fuse/zfs-list.txt"}) {
    CAPTURE(fixture);
    std::string text = ReadInventoryFixture(fixture);
    Inventory in_order, reversed;
    ParseListOk(text, &in_order);
    ParseListOk(Reversed(text), &reversed);
    CHECK(Difference(in_order, reversed) == "");
  }
  Inventory in_order, reversed;
  std::string get = ReadInventoryFixture("legacy-zfs-fuse/zfs-get.txt");
  REQUIRE(ParseZfsGet(get, &in_order).ok());
  REQUIRE(ParseZfsGet(Reversed(get), &reversed).ok());
  CHECK(Difference(in_order, reversed) == "");
}

TEST_CASE("parsers: line endings, blank lines and empty output") {
  Inventory inv;
  ParseListOk(std::string(kPool) + kFs + "\n" + kSnap, &inv);
  CHECK(inv.snapshot_count() == 1);

  std::string no_final_newline = std::string(kPool) + kFs;
  no_final_newline.pop_back();
  Inventory inv2;
  ParseListOk(no_final_newline, &inv2);
  CHECK(inv2.FindDataset("zones/a")->used == 2000000);

  Inventory empty;
  CHECK(ParseZfsList("", &empty).ok());
  CHECK(ParseVmadmList("", &empty).ok());
  CHECK(ParseZfsGet("", &empty).ok());
  CHECK(empty.datasets.empty());
  CHECK(empty.zones.empty());

  std::string crlf = std::string(kPool) + "zones/a\tfilesystem\t-\t1\t2\t3\t-\t4\t-\r\n";
  std::string message = ListError(crlf);
  CHECK(StartsWith(message, "line 2: carriage return"));
  CHECK(message.find("\\x0d") != std::string::npos);
  CHECK(StartsWith(VmadmError(std::string(kJoyent) + ":OS:joyent:running::zones:web\r\n"),
                   "line 1: carriage return"));
}

TEST_CASE("parsers: zfs list errors name the line and the offending value") {
  struct Case {
    std::string text;
    std::string message_start;
    std::string mentions;
  };
  const std::string p = kPool;
  const std::vector<Case> cases = {
      {p + "zones/a\tfilesystem\t-\t1\t2\t3\t-\t4\n",
       "line 2: expected 9 TAB-separated fields, got 8", "zones/a\\tfilesystem"},
      {p + kFs + "zones/b\tfilesystem\t-\t1\t2\t3\t-\t4\t-\textra\n", "line 3: expected 9",
       "extra"},
      {p + "zones/a\tfilesystem\t-\tyesterday\t2\t3\t-\t4\t-\n",
       "line 2: creation is not a decimal number: 'yesterday'", "zones/a"},
      {p + "zones/a\tfilesystem\t-\t1\t-\t3\t-\t4\t-\n",
       "line 2: guid is not a decimal number: '-'", ""},
      {p + "zones/a\tfilesystem\t-\t1\t18446744073709551616\t3\t-\t4\t-\n",
       "line 2: guid is not a decimal number", "18446744073709551616"},
      {p + "zones/a\tfilesystem\t-\t1\t2\t3x\t-\t4\t-\n",
       "line 2: createtxg is not a decimal number", ""},
      {p + kFs + "zones/a@s\tsnapshot\t-\t1\t2\t3\t-\t4\t-\n",
       "line 3: userrefs is not a decimal number: '-'", ""},
      {p + "zones/a\tfilesystem\t-\t1\t2\t3\tmany\t4\t-\n",
       "line 2: userrefs is neither '-' nor a number: 'many'", ""},
      {p + "zones/a\tfilesystem\t-\t1\t2\t3\t-\t-1\t-\n",
       "line 2: used is not a decimal number: '-1'", ""},
      {p + kFs + "zones/a#b\tbookmark\t-\t1\t2\t3\t-\t4K\t-\n",
       "line 3: used is neither '-' nor a number: '4K'", ""},
      {p + "zones/a\tsnap\t-\t1\t2\t3\t-\t4\t-\n", "line 2: unknown type 'snap'", ""},
      {p + "@s\tsnapshot\t-\t1\t2\t3\t0\t4\t-\n", "line 2: snapshot name '@s' has no dataset part",
       ""},
      {p + "zones/a\tsnapshot\t-\t1\t2\t3\t0\t4\t-\n", "line 2: snapshot name 'zones/a' has no '@'",
       ""},
      {p + kFs + "zones/a@\tsnapshot\t-\t1\t2\t3\t0\t4\t-\n",
       "line 3: snapshot name 'zones/a@' is empty", ""},
      {p + "zones/a@s\tfilesystem\t-\t1\t2\t3\t-\t4\t-\n",
       "line 2: a filesystem name cannot contain", ""},
      {p + "zones/a\tbookmark\t-\t1\t2\t3\t-\t-\t-\n", "line 2: bookmark name 'zones/a' has no '#'",
       ""},
      {p + "\tfilesystem\t-\t1\t2\t3\t-\t4\t-\n", "line 2: empty name", ""},
      {p + "zones/a\tfilesystem\tzones/img\t1\t2\t3\t-\t4\t-\n",
       "line 2: origin is not a snapshot name: 'zones/img'", ""},
      {p + kFs + kSnap + kFs, "line 4: duplicate row for dataset 'zones/a' (first at line 2)", ""},
      {p + kFs + kSnap + kSnap, "line 4: duplicate row for snapshot 'zones/a@s1'", ""},
      {p + kFs + "zones/a#b\tbookmark\t-\t1\t2\t3\t-\t-\t-\n" +
           "zones/a#b\tbookmark\t-\t1\t2\t3\t-\t-\t-\n",
       "line 4: duplicate row for bookmark 'zones/a#b'", ""},
      {p + kSnap, "line 2: snapshot of dataset 'zones/a', which has no row of its own", ""},
      {p + "zones/b#x\tbookmark\t-\t1\t2\t3\t-\t-\t-\n" + kFs,
       "line 2: bookmark of dataset 'zones/b', which has no row of its own", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    std::string message = ListError(c.text);
    CHECK_MESSAGE(StartsWith(message, c.message_start), message);
    CHECK_MESSAGE(message.find(c.mentions) != std::string::npos, message);
  }
}

TEST_CASE("parsers: error messages escape and truncate the offending line") {
  std::string message =
      ListError(std::string(kPool) + "zones/\x01" + "a\tsnap\t-\t1\t2\t3\t-\t4\t-\n");
  CHECK(message.find("\\x01") != std::string::npos);
  CHECK(message.find('\x01') == std::string::npos);

  std::string long_name(5000, 'n');
  message = ListError(std::string(kPool) + "zones/" + long_name + "\tfilesystem\t-\t1\n");
  CHECK(StartsWith(message, "line 2: expected 9 TAB-separated fields, got 4"));
  CHECK(message.size() < 400);
  CHECK(EndsWith(message, "...\""));
}

TEST_CASE("parsers: a failed parse leaves the inventory as it was") {
  Inventory inv;
  ParseListOk(kPool, &inv);
  CHECK_FALSE(
      ParseZfsList(std::string(kFs) + "zones/b\tfilesystem\t-\tx\t2\t3\t-\t4\t-\n", &inv).ok());
  CHECK(inv.datasets.size() == 1);
  CHECK(inv.FindDataset("zones/a") == nullptr);

  // Rows of a second listing append; a dataset already present is refused.
  ParseListOk(std::string(kFs) + kSnap, &inv);
  CHECK(inv.datasets.size() == 2);
  CHECK(inv.FindSnapshot("zones/a@s1") != nullptr);
  Status again = ParseZfsList(kFs, &inv);
  CHECK(StartsWith(again.message(), "line 1: dataset 'zones/a' is already in the inventory"));
  CHECK(inv.datasets.size() == 2);
}

TEST_CASE("parsers: zfs get errors name the line") {
  const std::string ok =
      "zones\ttype\tfilesystem\nzones\torigin\t-\nzones\tcreation\t1700000000\n"
      "zones\tguid\t1311826421327416021\nzones\tcreatetxg\t1\nzones\tuserrefs\t-\n"
      "zones\tused\t52345678\nzones\tzrecon:exported\t-\n";
  Inventory inv;
  REQUIRE(ParseZfsGet(ok, &inv).ok());
  CHECK(inv.FindDataset("zones")->createtxg == 1);

  std::string message = GetError(ok + "zones/a\ttype\tfilesystem\n");
  CHECK(StartsWith(message, "line 9: no 'origin' line for 'zones/a'"));

  std::string missing_used = ok;
  missing_used.erase(missing_used.find("zones\tused"),
                     std::string("zones\tused\t52345678\n").size());
  CHECK(StartsWith(GetError(missing_used), "line 1: no 'used' line for 'zones'"));

  CHECK(StartsWith(GetError(ok + "zones\tquota\tnone\n"), "line 9: unexpected property 'quota'"));
  CHECK(StartsWith(GetError(ok + "zones\tguid\t1\n"),
                   "line 9: property 'guid' repeated for 'zones'"));
  CHECK(StartsWith(GetError(ok + "zones/a\ttype\n"), "line 9: expected 3 TAB-separated fields"));
  CHECK(StartsWith(GetError(ok + "\ttype\tfilesystem\n"), "line 9: empty name"));

  std::string bad_txg = ok;
  bad_txg.replace(bad_txg.find("createtxg\t1"), 11, "createtxg\tone");
  message = GetError(bad_txg);
  CHECK(StartsWith(message, "line 5: createtxg is not a decimal number: 'one'"));
  CHECK(message.find("zones\\tcreatetxg\\tone") != std::string::npos);

  const std::string orphan =
      "zones/b@x\ttype\tsnapshot\nzones/b@x\torigin\t-\nzones/b@x\tcreation\t1700000000\n"
      "zones/b@x\tguid\t42\nzones/b@x\tcreatetxg\t7\nzones/b@x\tuserrefs\t0\n"
      "zones/b@x\tused\t0\nzones/b@x\tzrecon:exported\t-\n";
  CHECK(StartsWith(GetError(ok + orphan),
                   "line 9: snapshot of dataset 'zones/b', which has no row of its own"));
}

TEST_CASE("parsers: vmadm list validation") {
  const std::string good =
      std::string(kJoyent) + ":OS:joyent:running:" + kImgIncr + ":zones:web01\n";
  Inventory inv;
  REQUIRE(ParseVmadmList(good + kKvm + ":KVM:kvm:stopped:::a:b::c:\n", &inv).ok());
  REQUIRE(inv.FindZone(kKvm) != nullptr);
  CHECK(inv.FindZone(kKvm)->alias == "a:b::c:");
  CHECK(inv.FindZone(kKvm)->zpool.empty());

  struct Case {
    std::string line;
    std::string message_start;
  };
  const std::vector<Case> cases = {
      {std::string(kKvm) + ":KVM:kvm:running::zones", "line 2: expected 7 ':'-separated fields"},
      {"bbbf636a-a68d-4069-aff0-d5aaa47976c:KVM:kvm:running::zones:",
       "line 2: bad uuid 'bbbf636a-a68d-4069-aff0-d5aaa47976c'"},
      {"bbbf636a_a68d-4069-aff0-d5aaa47976c4:KVM:kvm:running::zones:", "line 2: bad uuid"},
      {"bbbf636a-a68d-4069-aff0-d5aaa47976cg:KVM:kvm:running::zones:", "line 2: bad uuid"},
      {std::string(kKvm) + ":KVM:kvm:running:latest:zones:", "line 2: bad image_uuid 'latest'"},
      {std::string(kKvm) + ":KVM::running::zones:", "line 2: empty brand"},
      {std::string(kKvm) + ":KVM:kvm:::zones:", "line 2: empty state"},
      {std::string(kJoyent) + ":OS:joyent:running::zones:",
       "line 2: duplicate zone '" + std::string(kJoyent) + "' (first at line 1)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    std::string message = VmadmError(good + c.line + "\n");
    CHECK_MESSAGE(StartsWith(message, c.message_start), message);
    CHECK(message.find(Printable(c.line.substr(0, 20))) != std::string::npos);
  }
}

TEST_CASE("parsers: corrupted listings never crash and valid ones round-trip") {
  const std::string base =
      ReadInventoryFixture("legacy-zfs-fuse/zfs-list.txt") +
      "invtest/4d16773a-9cfc-4e67-b38a-b95b91ce4c2c#bm\tbookmark\t-\t1\t2\t3\t-"
      "\t-\t-\n";
  const std::string noise = "\t\n\r@#:-0x\x01\xff";
  std::mt19937 rng(7);
  size_t valid = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = base;
    for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
      size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text[at] = noise[rng() % noise.size()];
          break;
        case 1:
          text.erase(at, 1 + rng() % 8);
          break;
        default:
          text.insert(at, 1, noise[rng() % noise.size()]);
          break;
      }
      if (text.empty()) text = "x";
    }
    Inventory inv;
    Status s = ParseZfsList(text, &inv);
    if (!s.ok()) {
      CHECK_MESSAGE(StartsWith(s.message(), "line "), s.message());
      continue;
    }
    ++valid;
    Inventory again;
    Status reparsed = ParseZfsList(FormatZfsList(inv), &again);
    CHECK_MESSAGE(reparsed.ok(), reparsed.message());
    CHECK_MESSAGE(Difference(inv, again) == "", text);
  }
  // Some edits (inside names, guids, used) leave the listing valid.
  CHECK(valid > 100);
}

}  // namespace zrecon

namespace zrecon {

TEST_CASE("parsers: vmadm lookup JSON, where no alias can forge a zone") {
  const std::string a = "54f1cc77-68f1-42ab-acac-5c4f64f5d6e0";
  const std::string img = "4ad7a1c2-1111-4b4e-8d5b-2a1f9c0e3b11";
  // An alias that, in `vmadm list -p` output, would read as a second row.
  const std::string forged = "x\\n" + img + ":OS:joyent:running:" + img + ":zones:web-forged";
  std::string json = "[{\"uuid\": \"" + a + "\", \"brand\": \"lx\", \"state\": \"running\", " +
                     "\"image_uuid\": \"" + img + "\", \"zpool\": \"zones\", \"alias\": \"" +
                     forged + "\"}, {\"uuid\": \"e7c5d1a4-9a56-4b4e-8d5b-2a1f9c0e3b11\", " +
                     "\"brand\": \"kvm\", \"state\": \"stopped\", \"zpool\": \"zones\"}]";
  Inventory inv;
  Status s = ParseVmadmLookup(json, &inv);
  REQUIRE_MESSAGE(s.ok(), s.message());
  inv.Index();
  REQUIRE(inv.zones.size() == 2);
  const Zone* z = inv.FindZone(a);
  REQUIRE(z != nullptr);
  CHECK(z->type == "LX");
  CHECK(z->alias.find('\n') != std::string::npos);
  CHECK(inv.FindZone(img) == nullptr);
  const Zone* kvm = inv.FindZone("e7c5d1a4-9a56-4b4e-8d5b-2a1f9c0e3b11");
  REQUIRE(kvm != nullptr);
  CHECK(kvm->type == "KVM");
  CHECK(kvm->image_uuid.empty());
  CHECK(kvm->alias.empty());
  // Saved as JSON, such an alias comes back as it was.
  Inventory again;
  REQUIRE(ParseVmadmLookup(FormatVmadmLookup(inv), &again).ok());
  again.Index();
  REQUIRE(again.FindZone(a) != nullptr);
  CHECK(again.FindZone(a)->alias == z->alias);
  CHECK(again.zones.size() == 2);
}

TEST_CASE("parsers: vmadm lookup errors name the element") {
  Inventory inv;
  CHECK(ParseVmadmLookup("[", &inv).message().find("not valid JSON") != std::string::npos);
  CHECK(ParseVmadmLookup("", &inv).ok());
  CHECK(ParseVmadmLookup("[]\n", &inv).ok());
  CHECK(ParseVmadmLookup("{}", &inv).message() == "expected a JSON array of zones");
  CHECK(ParseVmadmLookup("[1]", &inv).message() == "[0]: expected an object");
  CHECK(ParseVmadmLookup("[{\"uuid\": \"nope\", \"brand\": \"lx\", \"state\": \"running\"}]", &inv)
            .message() == "[0].uuid: bad uuid \"nope\"");
  CHECK(
      ParseVmadmLookup("[{\"uuid\": \"54f1cc77-68f1-42ab-acac-5c4f64f5d6e0\", \"brand\": 7}]", &inv)
          .message() == "[0].brand: expected a string, got 7");
  std::string twice =
      "[{\"uuid\": \"54f1cc77-68f1-42ab-acac-5c4f64f5d6e0\", \"brand\": \"lx\", \"state\": \"x\"},"
      " {\"uuid\": \"54f1cc77-68f1-42ab-acac-5c4f64f5d6e0\", \"brand\": \"lx\", \"state\": \"x\"}]";
  CHECK(ParseVmadmLookup(twice, &inv).message().find("listed twice") != std::string::npos);
  // Fields vmadm fills with its own words cannot carry separators.
  const std::string zone = "[{\"uuid\": \"54f1cc77-68f1-42ab-acac-5c4f64f5d6e0\", ";
  CHECK(ParseVmadmLookup(zone + "\"brand\": \"lx:OS\", \"state\": \"running\"}]", &inv).message() ==
        "[0].brand: bad brand \"lx:OS\"");
  CHECK(ParseVmadmLookup(zone + "\"brand\": \"lx\", \"state\": \"run\\nning\"}]", &inv).message() ==
        "[0].state: bad state \"run\\nning\"");
  CHECK(ParseVmadmLookup(
            zone + "\"brand\": \"lx\", \"state\": \"running\", \"zpool\": \"zones/x\"}]", &inv)
            .message() == "[0].zpool: bad pool name \"zones/x\"");
  CHECK(inv.zones.empty());
}

TEST_CASE("parsers: zones read from vmadm lookup save and load back") {
  const std::string json =
      "[{\"uuid\": \"54f1cc77-68f1-42ab-acac-5c4f64f5d6e0\", \"brand\": \"joyent-minimal\", "
      "\"state\": \"running\", \"zpool\": \"zones\", \"zonename\": \"build-01.x\", "
      "\"alias\": \"a: b; $(c) \\u00e9\"},"
      " {\"uuid\": \"e7c5d1a4-9a56-4b4e-8d5b-2a1f9c0e3b11\", \"brand\": \"bhyve\", "
      "\"zonename\": \"e7c5d1a4-9a56-4b4e-8d5b-2a1f9c0e3b11\", \"flexible_disk_size\": 20480, "
      "\"state\": \"stopped\"},"
      " {\"uuid\": \"0b7c2a36-5d0e-4b8e-a9f1-6b1f0f3b2c41\", \"brand\": \"bhyve\", "
      "\"state\": \"running\"}]";
  Inventory inv;
  REQUIRE(ParseVmadmLookup(json, &inv).ok());
  inv.Index();
  const Zone* named = inv.FindZone("54f1cc77-68f1-42ab-acac-5c4f64f5d6e0");
  const Zone* flex = inv.FindZone("e7c5d1a4-9a56-4b4e-8d5b-2a1f9c0e3b11");
  const Zone* rigid = inv.FindZone("0b7c2a36-5d0e-4b8e-a9f1-6b1f0f3b2c41");
  REQUIRE((named != nullptr && flex != nullptr && rigid != nullptr));
  CHECK(named->name() == "build-01.x");
  CHECK(flex->name() == flex->uuid);  // a zonename equal to the uuid is the default
  CHECK(flex->zonename.empty());
  CHECK(flex->flexible_disk_size == 20480);
  CHECK(rigid->flexible_disk_size == 0);
  CHECK(rigid->flexible_disk_size_known);
  Inventory again;
  REQUIRE(ParseVmadmLookup(FormatVmadmLookup(inv), &again).ok());
  REQUIRE(again.zones.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    const Zone& z = inv.zones[i];
    const Zone* back = again.FindZone(z.uuid);
    REQUIRE(back != nullptr);
    CHECK(std::tie(back->type, back->brand, back->state, back->image_uuid, back->zpool, back->alias,
                   back->zonename, back->flexible_disk_size) ==
          std::tie(z.type, z.brand, z.state, z.image_uuid, z.zpool, z.alias, z.zonename,
                   z.flexible_disk_size));
  }
}

TEST_CASE("parsers: vmadm lookup refuses a bad zonename or flexible_disk_size") {
  const std::string zone =
      "[{\"uuid\": \"54f1cc77-68f1-42ab-acac-5c4f64f5d6e0\", \"brand\": \"bhyve\", "
      "\"state\": \"running\", ";
  Inventory inv;
  CHECK(ParseVmadmLookup(zone + "\"zonename\": \"a/b\"}]", &inv).message() ==
        "[0].zonename: bad zone name \"a/b\"");
  CHECK(ParseVmadmLookup(zone + "\"zonename\": \"-x\"}]", &inv).message() ==
        "[0].zonename: bad zone name \"-x\"");
  CHECK(ParseVmadmLookup(zone + "\"flexible_disk_size\": 1.5}]", &inv).message() ==
        "[0].flexible_disk_size: expected a MiB count, got 1.5");
  CHECK(ParseVmadmLookup(zone + "\"flexible_disk_size\": \"10\"}]", &inv).message() ==
        "[0].flexible_disk_size: expected a MiB count, got \"10\"");
  CHECK(inv.zones.empty());
}

}  // namespace zrecon
