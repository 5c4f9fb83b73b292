#include "reconciler/restore/restore_source.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "reconciler/catalog/catalog_json.h"
#include "reconciler/util/files.h"
#include "reconciler/util/strings.h"
#include "tests/unit/fake_host.h"
#include "tests/unit/temp_dir.h"

namespace zrecon {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr char kHost[] = "demo01";
constexpr char kZone[] = "8f6d2b3a-61c4-4e0b-b7a1-3c9e5d0f2a47";
constexpr char kImage[] = "5417ab20-3156-11ea-8b19-2b66f5e7a439";
constexpr char kNewest[] = "zrecon-daily-20261116T020000Z";

// A copy of the two-chains fixture (web01, three chains over four days)
// and an empty imgadm database beside it.
struct Medium {
  TempDir dir{"zrecon-restore-source"};
  std::string dest = dir / "dest";
  std::string host_dir = dest + "/" + kHost;
  std::string imgadm_db = dir / "imgadm";

  Medium() {
    fs::copy(std::string(ZRECON_SOURCE_DIR) + "/tests/fixtures/catalogs/two-chains", dest,
             fs::copy_options::recursive);
    fs::create_directories(imgadm_db + "/images");
  }

  RestoreRequest Request(const std::string& zone = "web01") const {
    RestoreRequest r;
    r.from = dest;
    r.source.path = dest;
    r.zone = zone;
    r.imgadm_db = imgadm_db;
    return r;
  }

  std::string Load(const RestoreRequest& request, RestoreSource* out) const {
    Status s = LoadRestoreSource(request, out);
    return s.ok() ? "" : s.message();
  }
};

std::string Slurp(const std::string& path) {
  std::string text;
  REQUIRE(ReadFile(path, &text).ok());
  return text;
}

TEST_CASE("restore_source: the newest point of a zone named by alias, its config checked") {
  Medium m;
  RestoreSource source;
  REQUIRE(m.Load(m.Request(), &source) == "");
  CHECK(source.where.dir == m.host_dir);
  REQUIRE(source.zone != nullptr);
  CHECK(source.zone->uuid == kZone);
  CHECK(source.zone == &source.catalog.zones.at(kZone));
  CHECK(source.point.snapshot == kNewest);
  CHECK(source.point.datasets.size() == 2);
  CHECK(source.target_pool == "zones");
  CHECK(source.config_json == Slurp(m.host_dir + "/" + source.point.config_file));
  CHECK(source.point.config_file == std::string(kZone) + "/config/20261116T020000Z.json");
  CHECK(source.image_records.empty());  // the fixture's image has no imgadm record
  CHECK(source.registered_images.empty());

  RestoreSource by_uuid;
  RestoreRequest earlier = m.Request(kZone);
  earlier.at = "zrecon-daily-20261102T020000Z";
  earlier.pool = "tank";
  REQUIRE(m.Load(earlier, &by_uuid) == "");
  CHECK(by_uuid.point.datasets.size() == 1);
  CHECK(by_uuid.target_pool == "tank");
  CHECK(by_uuid.point.datasets[0].target == std::string("tank/") + kZone);
}

TEST_CASE("restore_source: an image imgadm already knows on the target pool is registered") {
  Medium m;
  REQUIRE(WriteFileAtomically(m.imgadm_db + "/images/zones-" + kImage + ".json", "{}").ok());
  RestoreSource source;
  REQUIRE(m.Load(m.Request(), &source) == "");
  CHECK(source.registered_images == std::set<std::string>{kImage});

  RestoreRequest other_pool = m.Request();
  other_pool.pool = "tank";
  RestoreSource elsewhere;
  REQUIRE(m.Load(other_pool, &elsewhere) == "");
  CHECK(elsewhere.registered_images.empty());
}

TEST_CASE("restore_source: what it refuses, naming the value or the file") {
  Medium m;
  RestoreSource source;
  CHECK(m.Load(m.Request("db01"), &source) ==
        std::string("no zone \"db01\" in the catalog; it has: ") + kZone + " (web01)");

  RestoreRequest at = m.Request();
  at.at = "zrecon-daily-20250101T000000Z";
  RestoreSource s2;
  CHECK(m.Load(at, &s2).find("zrecon-daily-20250101T000000Z") != std::string::npos);

  SUBCASE("hosts") {
    fs::create_directories(m.dest + "/demo02/images");
    RestoreSource s3;
    CHECK(m.Load(m.Request(), &s3) == m.dest +
                                          " holds exports of several hosts (demo01, demo02); "
                                          "choose one with --host");
    RestoreRequest other = m.Request();
    other.host = "demo03";
    RestoreSource s4;
    CHECK(m.Load(other, &s4) ==
          "no exports of host demo03 in " + m.dest + " (it has: demo01, demo02)");
    other.host = kHost;
    RestoreSource s5;
    CHECK(m.Load(other, &s5) == "");
  }
  SUBCASE("a config that differs from its record") {
    std::string config = m.host_dir + "/" + kZone + "/config/20261116T020000Z.json";
    std::string text = Slurp(config);
    text[10] = text[10] == 'x' ? 'y' : 'x';
    REQUIRE(WriteFileAtomically(config, text).ok());
    RestoreSource s3;
    std::string error = m.Load(m.Request(), &s3);
    CHECK(error.rfind(std::string("refusing to restore: ") + kZone +
                          "/config/20261116T020000Z.json: sha256 mismatch",
                      0) == 0);
  }
  SUBCASE("a config that is a symlink, even to an identical copy") {
    std::string config = m.host_dir + "/" + kZone + "/config/20261116T020000Z.json";
    fs::rename(config, m.dir / "copy.json");
    fs::create_symlink(m.dir / "copy.json", config);
    RestoreSource s3;
    std::string error = m.Load(m.Request(), &s3);
    CHECK(error.find("20261116T020000Z.json: is a symlink to ") != std::string::npos);
    CHECK(error.rfind("refusing to restore: ", 0) == 0);
  }
}

// The host of observe_test, reduced: a pool and the image.
std::string ZfsList() {
  const std::vector<std::vector<std::string>> rows = {
      {"zones", "filesystem", "-", "1700000000", "1311826421327416021", "1", "-", "52345678", "-"},
      {std::string("zones/") + kImage, "filesystem", "-", "1700000100", "8391", "210", "-",
       "300000000", "-"},
      {std::string("zones/") + kImage + "@final", "snapshot", "-", "1700000101",
       "5521843319208747101", "211", "0", "0", "-"},
  };
  std::string out;
  for (const auto& row : rows) out += Join(row, "\t") + "\n";
  return out;
}

TEST_CASE("restore_source: the target host is read as plan reads it, then the pool's room") {
  Medium m;
  // The host has the image and imgadm knows it: the plan can be made.
  REQUIRE(WriteFileAtomically(m.imgadm_db + "/images/zones-" + kImage + ".json", "{}").ok());
  RestoreSource source;
  REQUIRE(m.Load(m.Request(), &source) == "");
  RestoreTarget target;
  target.observe.zfs = "/sbin/zfs";

  FakeHost host;
  host.Queue(FakeHost::Output(ZfsList()));
  host.Queue(FakeHost::Output("[]\n"));
  host.Queue(FakeHost::Output("1073741824\n"));
  Inventory inventory;
  RestoreInput input;
  REQUIRE(ObserveRestoreTarget(source, target, host, &inventory, &input).ok());
  REQUIRE(host.calls().size() == 3);
  CHECK(host.calls()[2] ==
        Argv{"/sbin/zfs", "get", "-H", "-p", "-o", "value", "available", "zones"});
  CHECK(input.pool_available == 1073741824);
  CHECK(input.zone == source.zone);
  CHECK(input.images == &source.catalog.images);
  CHECK(input.inventory == &inventory);
  CHECK(input.config_json == source.config_json);
  CHECK(input.point.snapshot == kNewest);
  CHECK(input.commands.zfs == "/sbin/zfs");
  CHECK(input.imgadm_db == m.imgadm_db);
  RestorePlan plan;
  Status planned = PlanRestore(input, &plan);
  CHECK_MESSAGE(planned.ok(), planned.message());

  FakeHost without_room;
  without_room.Queue(FakeHost::Output(ZfsList()));
  without_room.Queue(FakeHost::Output("[]\n"));
  without_room.Queue(FakeHost::Failure(1, "cannot open 'zones': dataset does not exist\n"));
  RestoreInput failed;
  Status s = ObserveRestoreTarget(source, target, without_room, &inventory, &failed);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("zfs get -H -p -o value available zones") != std::string::npos);

  target.check_space = false;
  FakeHost unchecked;
  unchecked.Queue(FakeHost::Output(ZfsList()));
  unchecked.Queue(FakeHost::Output("[]\n"));
  RestoreInput no_check;
  REQUIRE(ObserveRestoreTarget(source, target, unchecked, &inventory, &no_check).ok());
  CHECK(unchecked.calls().size() == 2);
  CHECK(no_check.pool_available == -1);
}

TEST_CASE("restore_source: CheckRestoreFiles lists every file that does not match") {
  Medium m;
  RestoreSource source;
  REQUIRE(m.Load(m.Request(), &source) == "");
  RestorePlan plan;
  for (const DatasetRestore& d : source.point.datasets) {
    for (const ChainLink& link : d.chain->links) plan.files_to_verify.push_back(link.stream);
  }
  REQUIRE(plan.files_to_verify.size() == 4);
  std::vector<std::string> problems;
  CHECK(CheckRestoreFiles(plan, source.where, true, nullptr, &problems).ok());
  CHECK(problems.empty());

  const StoredFile& short_file = plan.files_to_verify[1];
  fs::resize_file(m.host_dir + "/" + short_file.file, 1);
  const StoredFile& flipped = plan.files_to_verify[3];
  std::string text = Slurp(m.host_dir + "/" + flipped.file);
  text[0] = static_cast<char>(text[0] ^ 1);
  REQUIRE(WriteFileAtomically(m.host_dir + "/" + flipped.file, text).ok());

  // Sizes only: the flipped byte passes until the file is read.
  Status s = CheckRestoreFiles(plan, source.where, false, nullptr, &problems);
  CHECK(s.message() ==
        "refusing to restore: 1 file does not match the catalog; nothing was changed");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].rfind(short_file.file + ": size mismatch", 0) == 0);

  s = CheckRestoreFiles(plan, source.where, true, nullptr, &problems);
  CHECK(s.message() ==
        "refusing to restore: 2 files do not match the catalog; nothing was changed");
  REQUIRE(problems.size() == 2);
  CHECK(problems[1].rfind(flipped.file + ": sha256 mismatch", 0) == 0);
}

}  // namespace
}  // namespace zrecon
