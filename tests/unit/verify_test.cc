#include "reconciler/storage/verify.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "reconciler/catalog/catalog_json.h"
#include "reconciler/storage/directory_catalog.h"
#include "reconciler/storage/directory_destination.h"
#include "reconciler/util/files.h"
#include "reconciler/util/sha256.h"
#include "tests/unit/stream_helpers.h"
#include "tests/unit/temp_dir.h"

namespace zrecon {
namespace {

using testing::RandomBytes;
using testing::WriteStream;

namespace fs = std::filesystem;
using testing::TempDir;

constexpr char kHost[] = "demo01";
constexpr char kImage[] = "5417ab20-3156-11ea-8b19-2b66f5e7a439";
constexpr uint64_t kImageGuid = 5521843319208747101u;
constexpr char kWeb[] = "8f6d2b3a-61c4-4e0b-b7a1-3c9e5d0f2a47";  // web01, a clone of kImage
constexpr char kDb[] = "0b7e9c4d-2f1a-4d3e-9a8b-6c5d4e3f2a10";   // db01, full streams only
constexpr char kStart[] = "20261115T020000Z";

std::string Snapshot(int day) { return "zrecon-daily-202611" + std::to_string(day) + "T020000Z"; }

std::string ConfigFile(const std::string& zone, int day) {
  return zone + "/config/202611" + std::to_string(day) + "T020000Z.json";
}

std::string LinkFile(const std::string& zone, const std::string& dskey, int seq) {
  return zone + "/" + dskey + "/" + kStart + "/00" + std::to_string(seq) + "-" +
         Snapshot(15 + seq) + ".zfs";
}

ZoneManifest Identity(const std::string& uuid, const std::string& alias) {
  ZoneManifest z;
  z.host = kHost;
  z.uuid = uuid;
  z.alias = alias;
  z.brand = "joyent";
  z.image_uuid = kImage;
  return z;
}

// A chain of `sizes.size()` links exported day after day from the 15th;
// with `clone`, its base is an incremental from the image's @final.
void ExportChain(Destination* d, const ZoneManifest& zone, const std::string& dskey,
                 const std::string& dataset, bool clone, const std::vector<size_t>& sizes,
                 const std::string& compression, uint64_t seed) {
  Chain chain;
  chain.id = dskey + "/" + kStart;
  chain.dataset = dataset;
  if (clone) {
    chain.origin = std::string("zones/") + kImage + "@final";
    chain.origin_guid = kImageGuid;
    chain.image_uuid = kImage;
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    ChainLink link;
    link.snapshot = Snapshot(15 + static_cast<int>(i));
    link.guid = seed * 100 + i + 1;
    link.createtxg = 27000 + i;
    link.creation = 1794708000 + static_cast<int64_t>(i) * 86400;
    if (i > 0) {
      link.from = dataset + "@" + Snapshot(14 + static_cast<int>(i));
      link.from_guid = seed * 100 + i;
    } else if (clone) {
      link.from = chain.origin;
      link.from_guid = chain.origin_guid;
    }
    link.stream = WriteStream(d, LinkFile(zone.uuid, dskey, static_cast<int>(i)),
                              RandomBytes(sizes[i], seed + i), compression);
    link.config = ConfigFile(zone.uuid, 15 + static_cast<int>(i));
    link.written = "2026-11-" + std::to_string(15 + i) + "T02:03:12Z";
    Status st = d->RecordLink(zone, chain, link);
    REQUIRE_MESSAGE(st.ok(), st.message());
  }
}

void ExportConfigs(Destination* d, const ZoneManifest& zone) {
  for (int day : {15, 16}) {
    std::string json = "{\"uuid\": \"" + zone.uuid + "\", \"day\": " + std::to_string(day) + "}\n";
    StoredFile config = WriteStream(d, ConfigFile(zone.uuid, day), json);
    Status st = d->RecordConfig(zone, ConfigRecord{config, "2026-11-15T02:03:00Z"});
    REQUIRE_MESSAGE(st.ok(), st.message());
  }
}

// <dir>/dest/demo01, written by the real writer: an image; web01 with a
// clone chain (its base over three 1 MiB read blocks) and a zstd data
// chain; db01 with one full chain.
std::string BuildDestination(const TempDir& dir, const std::string& host = kHost) {
  std::string dest = dir / "dest";
  REQUIRE(MakeDirectories(dest).ok());
  DestinationCatalog catalog;
  REQUIRE(ReadDirectoryCatalog("usb", dest, host, &catalog).ok());
  DirectoryDestination d("usb", dest, host, catalog);
  REQUIRE(d.Prepare().ok());
  ImageManifest image;
  image.uuid = kImage;
  image.snapshot = std::string("zones/") + kImage + "@final";
  image.guid = kImageGuid;
  image.createtxg = 211;
  image.stream = WriteStream(&d, std::string("images/") + kImage + ".zfs", RandomBytes(4000, 7));
  image.written = "2026-11-15T02:03:05Z";
  REQUIRE(d.RecordImage(image).ok());
  ZoneManifest web = Identity(kWeb, "web01");
  web.host = host;
  ExportConfigs(&d, web);
  ExportChain(&d, web, "root", std::string("zones/") + kWeb, true, {3 * (1 << 20) + 17, 900},
              "none", 1);
  ExportChain(&d, web, "data", std::string("zones/") + kWeb + "/data", false, {5000, 700}, "zstd",
              2);
  ZoneManifest db = Identity(kDb, "db01");
  db.host = host;
  ExportConfigs(&d, db);
  ExportChain(&d, db, "root", std::string("zones/") + kDb, false, {2000, 300}, "none", 3);
  return dest;
}

std::string HostFile(const std::string& dest, const std::string& file) {
  return dest + "/" + kHost + "/" + file;
}

VerifyReport Verify(const std::string& dir, const VerifyOptions& options = VerifyOptions()) {
  VerifyReport report;
  Status st = VerifyDestination(dir, options, &report);
  REQUIRE_MESSAGE(st.ok(), st.message());
  return report;
}

std::string VerifyError(const std::string& dir, const VerifyOptions& options = VerifyOptions()) {
  VerifyReport report;
  Status st = VerifyDestination(dir, options, &report);
  REQUIRE_FALSE(st.ok());
  CHECK(report.hosts.empty());
  return st.message();
}

const HostReport& OnlyHost(const VerifyReport& report) {
  REQUIRE(report.hosts.size() == 1);
  return report.hosts[0];
}

const ZoneReport& ZoneOf(const VerifyReport& report, const std::string& uuid) {
  const std::vector<ZoneReport>& zones = OnlyHost(report).zones;
  auto it =
      std::find_if(zones.begin(), zones.end(), [&](const ZoneReport& z) { return z.uuid == uuid; });
  REQUIRE_MESSAGE(it != zones.end(), "no report of zone " << uuid);
  return *it;
}

const ChainReport& ChainOf(const ZoneReport& zone, const std::string& id) {
  auto it = std::find_if(zone.chains.begin(), zone.chains.end(),
                         [&](const ChainReport& c) { return c.id == id; });
  REQUIRE_MESSAGE(it != zone.chains.end(), "no chain " << id << " in zone " << zone.uuid);
  return *it;
}

std::string Render(const std::vector<VerifyProblem>& problems) {
  std::string out;
  for (const VerifyProblem& p : problems) out += p.file + ": " + p.what + "\n";
  return out;
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f.good());
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x20));
  REQUIRE(f.good());
}

std::string Sha256Of(const std::string& path) {
  std::string text;
  REQUIRE(ReadFile(path, &text).ok());
  return Sha256::Hex(text);
}

ZoneManifest ReadZone(const std::string& dest, const std::string& uuid) {
  std::string text;
  REQUIRE(ReadFile(HostFile(dest, uuid + "/manifest.json"), &text).ok());
  ZoneManifest m;
  REQUIRE(DecodeZoneManifest(text, &m).ok());
  return m;
}

void WriteZone(const std::string& dest, const ZoneManifest& m) {
  REQUIRE(
      WriteFileAtomically(HostFile(dest, m.uuid + "/manifest.json"), EncodeZoneManifest(m)).ok());
}

TEST_CASE("verify: a destination the writer produced verifies, every file read in full") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  VerifyReport report = Verify(dest);
  CHECK(report.ok());
  const HostReport& host = OnlyHost(report);
  CHECK(host.where.host == kHost);
  CHECK(host.where.dir == dest + "/" + kHost);
  CHECK(host.unknown_files.empty());
  CHECK(host.leftover_files.empty());
  REQUIRE(host.images.size() == 1);
  CHECK(host.images[0].uuid == kImage);
  CHECK(host.images[0].ok());
  REQUIRE(host.zones.size() == 2);
  CHECK(host.zones[0].uuid == kDb);  // by uuid
  const ZoneReport& web = ZoneOf(report, kWeb);
  CHECK(web.ok());
  CHECK(web.alias == "web01");
  CHECK(web.configs == 2);
  const ChainReport& root = ChainOf(web, std::string("root/") + kStart);
  CHECK(root.ok);
  CHECK(root.image_uuid == kImage);
  CHECK(root.origin == std::string("zones/") + kImage + "@final");
  CHECK(root.links == 2);
  CHECK(root.restorable_links == 2);
  CHECK(root.restorable_tip == Snapshot(16));
  CHECK(root.bytes == 3 * (1 << 20) + 17 + 900);
  CHECK(root.first.snapshot == Snapshot(15));
  CHECK(root.tip.snapshot == Snapshot(16));
  CHECK(root.tip.written == "2026-11-16T02:03:12Z");
  CHECK(ChainOf(web, std::string("data/") + kStart).origin.empty());
  // 1 image + 4 configs + 6 streams, each once although records share them.
  CHECK(report.files_read == 11);
  uint64_t on_disk = 0;
  for (const auto& e : fs::recursive_directory_iterator(dest)) {
    if (e.is_regular_file() && e.path().filename() != "manifest.json" &&
        e.path().filename() != std::string(kImage) + ".json") {
      on_disk += e.file_size();
    }
  }
  CHECK(report.bytes_read == on_disk);
}

TEST_CASE("verify: the checked-in two-chains fixture verifies, as a destination or a host dir") {
  std::string fixture = std::string(ZRECON_SOURCE_DIR) + "/tests/fixtures/catalogs/two-chains";
  VerifyReport report = Verify(fixture);
  CHECK(report.ok());
  CHECK(OnlyHost(report).zones.size() == 1);
  CHECK(ZoneOf(report, kWeb).chains.size() == 3);
  VerifyReport direct = Verify(fixture + "/demo01/");
  CHECK(direct.ok());
  CHECK(OnlyHost(direct).where.host == "demo01");
  CHECK(OnlyHost(direct).where.path == fixture);
}

TEST_CASE("verify: a flipped byte anywhere in a stream is a sha256 mismatch naming the file") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  std::string file = LinkFile(kWeb, "root", 0);
  std::string recorded = Sha256Of(HostFile(dest, file));
  // In the third 1 MiB block: every block is hashed, not just the first.
  FlipByte(HostFile(dest, file), 2 * (1 << 20) + 12345);
  VerifyReport report = Verify(dest);
  CHECK_FALSE(report.ok());
  const ZoneReport& web = ZoneOf(report, kWeb);
  CHECK(Render(web.problems) == file + ": sha256 mismatch: recorded " + recorded + ", file has " +
                                    Sha256Of(HostFile(dest, file)) + "\n");
  const ChainReport& root = ChainOf(web, std::string("root/") + kStart);
  CHECK_FALSE(root.ok);
  CHECK(root.restorable_links == 0);
  CHECK(root.restorable_tip.empty());
  CHECK(ChainOf(web, std::string("data/") + kStart).ok);
  CHECK(ZoneOf(report, kDb).ok());
  CHECK(OnlyHost(report).unknown_files.empty());
}

TEST_CASE("verify: damage to the tip leaves the links before it restorable") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  std::string file = LinkFile(kWeb, "data", 1);
  FlipByte(HostFile(dest, file), 0);
  const ZoneReport web = ZoneOf(Verify(dest), kWeb);
  const ChainReport& data = ChainOf(web, std::string("data/") + kStart);
  CHECK_FALSE(data.ok);
  CHECK(data.restorable_links == 1);
  CHECK(data.restorable_tip == Snapshot(15));
  REQUIRE(web.problems.size() == 1);
  CHECK(web.problems[0].file == file);
}

TEST_CASE("verify: a truncated file is a size mismatch; a deleted one is missing") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  std::string truncated = LinkFile(kDb, "root", 1);
  std::string deleted = LinkFile(kDb, "root", 0);
  fs::resize_file(HostFile(dest, truncated), 299);
  fs::remove(HostFile(dest, deleted));
  VerifyReport report = Verify(dest);
  const ZoneReport& db = ZoneOf(report, kDb);
  CHECK(Render(db.problems) == deleted + ": missing\n" + truncated +
                                   ": size mismatch: recorded 300 bytes, file has 299\n");
  CHECK(ChainOf(db, std::string("root/") + kStart).restorable_links == 0);
  CHECK(ZoneOf(report, kWeb).ok());
  CHECK_FALSE(OnlyHost(report).ok());
}

TEST_CASE("verify: a damaged config is reported once and fails the chains that name it") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  std::string config = ConfigFile(kWeb, 16);
  FlipByte(HostFile(dest, config), 3);
  const ZoneReport web = ZoneOf(Verify(dest), kWeb);
  REQUIRE(web.problems.size() == 1);
  CHECK(web.problems[0].file == config);
  CHECK(web.problems[0].what.find("sha256 mismatch") == 0);
  for (const ChainReport& chain : web.chains) {
    CHECK_FALSE(chain.ok);
    CHECK(chain.restorable_links == chain.links);  // the streams themselves are fine
  }
}

TEST_CASE("verify: without its image stream a clone chain is incomplete, a full one is not") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  std::string image_stream = std::string("images/") + kImage + ".zfs";

  SUBCASE("deleted") {
    fs::remove(HostFile(dest, image_stream));
    VerifyReport report = Verify(dest);
    const HostReport& host = OnlyHost(report);
    REQUIRE(host.images.size() == 1);
    CHECK(Render(host.images[0].problems) == image_stream + ": missing\n");
    const ZoneReport& web = ZoneOf(report, kWeb);
    CHECK(Render(web.problems) == image_stream + ": chain root/" + kStart +
                                      " is incomplete: its base is an incremental from zones/" +
                                      kImage + "@final and the stream of image " + kImage +
                                      " does not verify: missing\n");
    CHECK(ChainOf(web, std::string("root/") + kStart).restorable_links == 0);
    CHECK(ChainOf(web, std::string("data/") + kStart).ok);
    CHECK(ZoneOf(report, kDb).ok());
  }
  SUBCASE("flipped") {
    FlipByte(HostFile(dest, image_stream), 3999);
    VerifyReport report = Verify(dest);
    CHECK(OnlyHost(report).images[0].problems.at(0).what.find("sha256 mismatch") == 0);
    CHECK_FALSE(ZoneOf(report, kWeb).ok());
  }
  SUBCASE("image manifest gone") {
    fs::remove(HostFile(dest, std::string("images/") + kImage + ".json"));
    VerifyReport report = Verify(dest);
    CHECK(OnlyHost(report).images.empty());
    const ZoneReport& web = ZoneOf(report, kWeb);
    REQUIRE(web.problems.size() == 1);
    CHECK(web.problems[0].file == std::string("images/") + kImage + ".json");
    CHECK(web.problems[0].what.find("has no manifest of image") != std::string::npos);
    // The stream is now named by no manifest.
    CHECK(OnlyHost(report).unknown_files == std::vector<std::string>{image_stream});
  }
}

TEST_CASE("verify: an image of another guid than the chain's origin does not complete it") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  ZoneManifest web = ReadZone(dest, kWeb);
  for (Chain& chain : web.chains) {
    if (chain.image_uuid.empty()) continue;
    chain.origin_guid = 42;
    chain.links[0].from_guid = 42;
  }
  WriteZone(dest, web);
  const ZoneReport report = ZoneOf(Verify(dest), kWeb);
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].what.find("(guid 42) but image " + std::string(kImage) + " has guid " +
                                     std::to_string(kImageGuid)) != std::string::npos);
}

TEST_CASE("verify: an incremental base from a snapshot that is no image cannot be restored") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  ZoneManifest web = ReadZone(dest, kWeb);
  Chain& root = web.chains.at(0);
  REQUIRE(root.id == std::string("root/") + kStart);
  root.image_uuid = "";
  WriteZone(dest, web);
  const ZoneReport report = ZoneOf(Verify(dest), kWeb);
  const ChainReport& chain = ChainOf(report, root.id);
  CHECK(chain.origin == root.origin);
  CHECK(chain.image_uuid.empty());
  CHECK(chain.restorable_links == 0);
  CHECK(Render(report.problems) == root.links[0].stream.file + ": chain " + root.id +
                                       " is incomplete: its base is an incremental from " +
                                       root.origin +
                                       ", which is not an image the destination holds\n");
}

TEST_CASE("verify: a link's config must be a config record of the manifest") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  ZoneManifest db = ReadZone(dest, kDb);
  db.chains[0].links[1].config = kDb + std::string("/config/elsewhere.json");
  WriteZone(dest, db);
  const ZoneReport report = ZoneOf(Verify(dest), kDb);
  CHECK(Render(report.problems) == kDb +
                                       std::string("/config/elsewhere.json: the config of "
                                                   "snapshot ") +
                                       Snapshot(16) + " in chain root/" + kStart +
                                       ", but the manifest has no config record of it\n");
  CHECK_FALSE(report.chains[0].ok);
}

TEST_CASE("verify: stray and .tmp files are reported, never removed; only strays fail") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  std::string stray = std::string(kWeb) + "/root/" + kStart + "/notes.txt";
  std::string leftover = std::string(kWeb) + "/root/" + kStart + "/.tmp.x";
  std::string uncommitted = "0c1d2e3f-0000-4000-8000-000000000000/root/x/000-a.zfs";
  REQUIRE(WriteFileAtomically(HostFile(dest, leftover), "partial").ok());
  VerifyReport report = Verify(dest);
  CHECK(OnlyHost(report).leftover_files == std::vector<std::string>{leftover});
  CHECK(report.ok());

  REQUIRE(WriteFileAtomically(HostFile(dest, stray), "hello").ok());
  REQUIRE(MakeDirectories(fs::path(HostFile(dest, uncommitted)).parent_path().string()).ok());
  REQUIRE(WriteFileAtomically(HostFile(dest, uncommitted), "no manifest yet").ok());
  report = Verify(dest);
  const HostReport& host = OnlyHost(report);
  CHECK(host.unknown_files == std::vector<std::string>{uncommitted, stray});
  CHECK(host.leftover_files == std::vector<std::string>{leftover});
  CHECK_FALSE(host.ok());
  CHECK(ZoneOf(report, kWeb).ok());
  CHECK(fs::exists(HostFile(dest, stray)));
  CHECK(fs::exists(HostFile(dest, leftover)));
  CHECK(fs::exists(HostFile(dest, uncommitted)));
}

TEST_CASE("verify: files a manifest lists as loose are reported as such, not as unknown") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  // An apply killed after linking a stream, before recording it.
  const std::string linked =
      std::string(kWeb) + "/root/" + kStart + "/002-" + Snapshot(17) + ".zfs";
  const std::string never_linked = std::string(kWeb) + "/config/20261117T020000Z.json";
  REQUIRE(WriteFileAtomically(HostFile(dest, linked), "linked, never recorded").ok());
  ZoneManifest web = ReadZone(dest, kWeb);
  web.loose_files = {linked, never_linked};
  WriteZone(dest, web);
  VerifyReport report = Verify(dest);
  const HostReport& host = OnlyHost(report);
  CHECK(host.loose_files == std::vector<std::string>{linked});
  CHECK(host.unknown_files.empty());
  CHECK(host.problems.empty());
  CHECK(report.ok());
  CHECK(fs::exists(HostFile(dest, linked)));

  VerifyOptions only_db;
  only_db.zones = {"db01"};
  CHECK(OnlyHost(Verify(dest, only_db)).loose_files.empty());
  VerifyOptions only_web;
  only_web.zones = {"web01"};
  CHECK(OnlyHost(Verify(dest, only_web)).loose_files == std::vector<std::string>{linked});

  // A listed name that is not a regular file: apply will refuse it.
  fs::remove(HostFile(dest, linked));
  fs::create_symlink(HostFile(dest, ConfigFile(kWeb, 15)), HostFile(dest, linked));
  report = Verify(dest);
  CHECK(OnlyHost(report).loose_files.empty());
  CHECK(Render(OnlyHost(report).problems) ==
        linked + ": listed in loose_files of " + kWeb +
            "/manifest.json but not a regular file: apply refuses to remove it\n");
  CHECK_FALSE(report.ok());
}

TEST_CASE("verify: a corrupt manifest is reported with the decoder's message; others go on") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  std::string manifest = std::string(kWeb) + "/manifest.json";
  std::string text;
  REQUIRE(ReadFile(HostFile(dest, manifest), &text).ok());

  SUBCASE("broken continuity") {
    ZoneManifest web = ReadZone(dest, kWeb);
    std::string bad = EncodeZoneManifest(web);
    std::string guid = "\"" + std::to_string(web.chains[0].links[0].guid) + "\"";
    size_t second_from_guid = bad.find("\"from_guid\": " + guid);
    REQUIRE(second_from_guid != std::string::npos);
    bad.replace(second_from_guid, std::strlen("\"from_guid\": ") + guid.size(),
                "\"from_guid\": \"77\"");
    REQUIRE(WriteFileAtomically(HostFile(dest, manifest), bad).ok());
    const ZoneReport report = ZoneOf(Verify(dest), kWeb);
    CHECK_FALSE(report.manifest_ok);
    CHECK(Render(report.problems) == manifest +
                                         ": invalid manifest: chains[0].links[1].from_guid: "
                                         "expected \"" +
                                         std::to_string(web.chains[0].links[0].guid) +
                                         "\" (guid of the previous link), got \"77\"\n");
  }
  SUBCASE("truncated") {
    REQUIRE(WriteFileAtomically(HostFile(dest, manifest), text.substr(0, 100)).ok());
    VerifyReport report = Verify(dest);
    const ZoneReport& web = ZoneOf(report, kWeb);
    REQUIRE(web.problems.size() == 1);
    CHECK(web.problems[0].file == manifest);
    CHECK(web.problems[0].what.find("invalid manifest: invalid JSON: parse error at line") == 0);
    CHECK(web.chains.empty());
    // Its streams are the manifest's problem, not unknown files.
    CHECK(OnlyHost(report).unknown_files.empty());
    CHECK(ZoneOf(report, kDb).ok());
    CHECK(OnlyHost(report).images[0].ok());
  }
  SUBCASE("stored under another zone's directory") {
    fs::rename(HostFile(dest, kDb), HostFile(dest, "0b7e9c4d-2f1a-4d3e-9a8b-000000000000"));
    VerifyReport report = Verify(dest);
    const ZoneReport& moved = ZoneOf(report, "0b7e9c4d-2f1a-4d3e-9a8b-000000000000");
    CHECK(moved.problems.at(0).what ==
          std::string("zone.uuid is \"") + kDb +
              "\" but the manifest is in directory \"0b7e9c4d-2f1a-4d3e-9a8b-000000000000\"");
  }
}

TEST_CASE("verify: a file that is a symlink is reported, wherever it points") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  std::string file = LinkFile(kDb, "root", 1);
  fs::rename(HostFile(dest, file), dir / "outside.zfs");
  fs::create_symlink(dir / "outside.zfs", HostFile(dest, file));
  const ZoneReport db = ZoneOf(Verify(dest), kDb);
  REQUIRE(db.problems.size() == 1);
  CHECK(db.problems[0].file == file);
  CHECK(db.problems[0].what == "is a symlink to " + fs::canonical(dir / "outside.zfs").string() +
                                   ": zrecon follows no symlink inside a destination");
}

TEST_CASE("verify: a fifo in place of a stream is reported, never opened") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  std::string file = LinkFile(kDb, "root", 0);
  fs::remove(HostFile(dest, file));
  REQUIRE(::mkfifo(HostFile(dest, file).c_str(), 0644) == 0);
  const ZoneReport db = ZoneOf(Verify(dest), kDb);
  CHECK(Render(db.problems) == file + ": not a regular file\n");
}

TEST_CASE("verify: --zone selects zones by uuid or alias, with the images they need") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  REQUIRE(WriteFileAtomically(HostFile(dest, std::string(kWeb) + "/stray"), "x").ok());
  FlipByte(HostFile(dest, std::string("images/") + kImage + ".zfs"), 0);

  VerifyOptions options;
  options.zones = {"db01"};
  VerifyReport report = Verify(dest, options);
  const HostReport& host = OnlyHost(report);
  REQUIRE(host.zones.size() == 1);
  CHECK(host.zones[0].uuid == kDb);
  CHECK(host.images.empty());  // db01's chains need none
  CHECK(host.unknown_files.empty());
  CHECK(report.ok());
  CHECK(report.files_read == 4);

  options.zones = {kWeb};
  report = Verify(dest, options);
  REQUIRE(OnlyHost(report).zones.size() == 1);
  CHECK(OnlyHost(report).images.size() == 1);
  CHECK(OnlyHost(report).unknown_files == std::vector<std::string>{std::string(kWeb) + "/stray"});
  CHECK_FALSE(report.ok());

  options.zones = {"web1"};
  CHECK(VerifyError(dest, options) ==
        "no zone with uuid or alias \"web1\" in " + dest + " (did you mean \"web01\"?)");
}

TEST_CASE("verify: every host of a destination, or the one --host names") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  BuildDestination(dir, "demo02");
  REQUIRE(MakeDirectories(dest + "/lost+found").ok());
  REQUIRE(MakeDirectories(dest + "/.Trash-1000").ok());
  fs::remove(dest + "/demo02/" + LinkFile(kDb, "root", 1));

  VerifyReport report = Verify(dest);
  REQUIRE(report.hosts.size() == 2);
  CHECK(report.hosts[0].where.host == "demo01");
  CHECK(report.hosts[0].ok());
  CHECK(report.hosts[1].where.host == "demo02");
  CHECK_FALSE(report.hosts[1].ok());
  CHECK_FALSE(report.ok());

  VerifyOptions options;
  options.host = "demo01";
  CHECK(Verify(dest, options).ok());
  options.host = "demo03";
  CHECK(VerifyError(dest, options) ==
        "no host directory \"demo03\" in " + dest + " (hosts: demo01, demo02)");
}

TEST_CASE("verify: FindHosts refuses what is not a destination") {
  TempDir dir("zrecon-verify");
  std::vector<HostDirectory> hosts;
  Status st = FindHosts(dir / "absent", &hosts);
  CHECK(st.message() == dir / "absent" + " does not exist");
  REQUIRE(WriteFileAtomically(dir / "file", "x").ok());
  CHECK(FindHosts(dir / "file", &hosts).message() == dir / "file" + " is not a directory");
  REQUIRE(MakeDirectories(dir / "mnt/lost+found").ok());
  st = FindHosts(dir / "mnt", &hosts);
  CHECK_FALSE(st.ok());
  CHECK(st.message().find("holds no host directory") != std::string::npos);
  CHECK(hosts.empty());
  CHECK(VerifyError(dir / "mnt") == st.message());
}

// Host directory kHost of the directory destination `dest`.
HostDirectory HostIn(const std::string& dest) {
  return HostDirectory{dest, kHost, dest + "/" + kHost, LocalDestinationTree(dest)};
}

TEST_CASE("verify: VerifyStoredFiles checks a list of records for restore") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  std::string host_dir = dest + "/" + kHost;
  DestinationCatalog catalog;
  REQUIRE(ReadDirectoryCatalog("usb", dest, kHost, &catalog).ok());
  const Chain& chain = catalog.zones.at(kDb).chains.at(0);
  std::vector<StoredFile> files = {chain.links[0].stream, chain.links[1].stream,
                                   chain.links[1].stream};
  std::vector<std::string> problems;
  REQUIRE(VerifyStoredFiles(HostIn(dest), files, &problems).ok());
  CHECK(problems.empty());

  fs::resize_file(HostFile(dest, chain.links[1].stream.file), 0);
  files.push_back(StoredFile{"../escape.zfs", 1, chain.links[0].stream.sha256, "none"});
  REQUIRE(VerifyStoredFiles(HostIn(dest), files, &problems).ok());
  std::string size = chain.links[1].stream.file + ": size mismatch: recorded 300 bytes, file has 0";
  CHECK(problems == std::vector<std::string>{
                        size, size, "../escape.zfs: not a relative path of ordinary components"});

  CHECK_FALSE(VerifyStoredFiles(HostIn(dir / "absent"), files, &problems).ok());
}

TEST_CASE("verify: VerifyStoredFiles stops when interrupted, naming the signal") {
  TempDir dir("zrecon-verify");
  std::string dest = BuildDestination(dir);
  DestinationCatalog catalog;
  REQUIRE(ReadDirectoryCatalog("usb", dest, kHost, &catalog).ok());
  const Chain& chain = catalog.zones.at(kDb).chains.at(0);
  std::vector<StoredFile> files = {chain.links[0].stream, chain.links[1].stream};
  std::vector<std::string> problems;
  Interrupt interrupt;
  REQUIRE(VerifyStoredFiles(HostIn(dest), files, &problems, &interrupt).ok());
  interrupt.Raise(SIGINT);
  Status st = VerifyStoredFiles(HostIn(dest), files, &problems, &interrupt);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "interrupted by SIGINT");
  CHECK(problems.empty());
}

}  // namespace
}  // namespace zrecon
