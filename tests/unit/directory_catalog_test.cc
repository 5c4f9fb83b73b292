#include "reconciler/storage/directory_catalog.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "reconciler/catalog/catalog_json.h"
#include "reconciler/util/files.h"
#include "tests/unit/temp_dir.h"

namespace zrecon {
namespace {

namespace fs = std::filesystem;

constexpr char kHost[] = "demo01";
constexpr char kZone[] = "8f6d2b3a-61c4-4e0b-b7a1-3c9e5d0f2a47";
constexpr char kImage[] = "5417ab20-3156-11ea-8b19-2b66f5e7a439";
constexpr char kOtherZone[] = "0b7e9c4d-2f1a-4d3e-9a8b-6c5d4e3f2a10";

using testing::TempDir;

std::string FixtureDir(const std::string& name) {
  return std::string(ZRECON_SOURCE_DIR) + "/tests/fixtures/catalogs/" + name;
}

// A writable copy of a fixture destination at <dir>/dest.
std::string CopyFixture(const TempDir& dir, const std::string& name) {
  std::string dest = dir / "dest";
  fs::copy(FixtureDir(name), dest, fs::copy_options::recursive);
  return dest;
}

std::string Slurp(const std::string& path) {
  std::string text;
  Status st = ReadFile(path, &text);
  REQUIRE_MESSAGE(st.ok(), st.message());
  return text;
}

std::string ZoneManifestPath(const std::string& dest, const std::string& uuid) {
  return dest + "/" + kHost + "/" + uuid + "/manifest.json";
}

ZoneManifest FixtureZone() {
  ZoneManifest m;
  Status st = DecodeZoneManifest(Slurp(ZoneManifestPath(FixtureDir("two-chains"), kZone)), &m);
  REQUIRE_MESSAGE(st.ok(), st.message());
  return m;
}

void WriteZone(const std::string& dest, const ZoneManifest& m) {
  std::string file = ZoneManifestPath(dest, m.uuid);
  REQUIRE(MakeDirectories(fs::path(file).parent_path().string()).ok());
  REQUIRE(WriteFileAtomically(file, EncodeZoneManifest(m)).ok());
}

DestinationCatalog ReadOk(const std::string& dest, const std::string& host = kHost) {
  DestinationCatalog catalog;
  Status st = ReadDirectoryCatalog("usb", dest, host, &catalog);
  REQUIRE_MESSAGE(st.ok(), st.message());
  return catalog;
}

std::string ReadError(const std::string& dest, const std::string& host = kHost) {
  DestinationCatalog catalog;
  Status st = ReadDirectoryCatalog("usb", dest, host, &catalog);
  REQUIRE_FALSE(st.ok());
  CHECK(catalog.zones.empty());
  CHECK(catalog.images.empty());
  return st.message();
}

// Everything a reader sees, in map order, as one comparable string.
std::string Render(const DestinationCatalog& c) {
  std::string out = c.name + (c.reachable ? " reachable\n" : " unreachable\n");
  for (const auto& [uuid, zone] : c.zones) out += uuid + "\n" + EncodeZoneManifest(zone);
  for (const auto& [uuid, image] : c.images) out += uuid + "\n" + EncodeImageManifest(image);
  return out;
}

TEST_CASE("directory_catalog: reads the two-chains fixture") {
  std::string dest = FixtureDir("two-chains");
  DestinationCatalog catalog = ReadOk(dest);
  CHECK(catalog.name == "usb");
  CHECK(catalog.reachable);
  CHECK(catalog.unreachable_reason.empty());
  REQUIRE(catalog.zones.size() == 1);
  REQUIRE(catalog.images.size() == 1);
  const ZoneManifest& zone = catalog.zones.at(kZone);
  CHECK(zone.host == kHost);
  CHECK(zone.alias == "web01");
  REQUIRE(zone.chains.size() == 3);
  CHECK(zone.chains[0].id == "root/20261101T020000Z");
  CHECK(zone.chains[1].id == "root/20261115T020000Z");
  CHECK(zone.chains[1].origin == std::string("zones/") + kImage + "@final");
  CHECK(zone.chains[2].id == "data/20261115T020000Z");
  CHECK(zone.chains[2].links[0].from.empty());
  CHECK(zone.chains[2].tip()->snapshot == "zrecon-daily-20261116T020000Z");
  CHECK(zone.configs.size() == 4);
  CHECK(EncodeZoneManifest(zone) == Slurp(ZoneManifestPath(dest, kZone)));
  const ImageManifest& image = catalog.images.at(kImage);
  CHECK(image.guid == zone.chains[1].origin_guid);
  CHECK(image.stream.file == std::string("images/") + kImage + ".zfs");
}

TEST_CASE("directory_catalog: an unreachable destination is not an error") {
  TempDir dir;
  DestinationCatalog catalog;
  catalog.zones[kZone] = ZoneManifest();
  Status st = ReadDirectoryCatalog("usb", dir / "not-mounted", kHost, &catalog);
  REQUIRE_MESSAGE(st.ok(), st.message());
  CHECK(catalog.name == "usb");
  CHECK_FALSE(catalog.reachable);
  CHECK(catalog.unreachable_reason == (dir / "not-mounted") + " does not exist");
  CHECK(catalog.zones.empty());

  REQUIRE(WriteFileAtomically(dir / "file", "x").ok());
  st = ReadDirectoryCatalog("usb", dir / "file", kHost, &catalog);
  REQUIRE_MESSAGE(st.ok(), st.message());
  CHECK_FALSE(catalog.reachable);
  CHECK(catalog.unreachable_reason == (dir / "file") + " is not a directory");
}

TEST_CASE("directory_catalog: a destination without this host's directory is empty") {
  DestinationCatalog catalog = ReadOk(FixtureDir("two-chains"), "demo02");
  CHECK(catalog.reachable);
  CHECK(catalog.zones.empty());
  CHECK(catalog.images.empty());
}

TEST_CASE("directory_catalog: a corrupt manifest is an error naming the file and the value") {
  struct Case {
    const char* fixture;
    const char* error;
  };
  const Case cases[] = {
      {"bad/path-traversal", ": chains[0].links[0].stream.file: expected a relative path"},
      {"bad/bad-guid", ": chains[1].links[1].guid: expected a decimal uint64 in a string"},
      {"bad/truncated", ": invalid JSON: parse error at line "},
      {"bad/newer-format", ": format_version: manifest format 2 is newer than this zrecon"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.fixture);
    std::string dest = FixtureDir(c.fixture);
    std::string message = ReadError(dest);
    CHECK(message.rfind(ZoneManifestPath(dest, kZone) + c.error, 0) == 0);
  }
}

TEST_CASE("directory_catalog: manifests must sit where their content says") {
  TempDir dir;
  std::string dest = CopyFixture(dir, "two-chains");
  std::string host_dir = dest + "/" + kHost;

  SUBCASE("zone directory named after another uuid") {
    fs::rename(host_dir + "/" + kZone, host_dir + "/" + kOtherZone);
    CHECK(ReadError(dest) == ZoneManifestPath(dest, kOtherZone) + ": zone.uuid is \"" + kZone +
                                 "\" but the manifest is in directory \"" + kOtherZone + "\"");
  }
  SUBCASE("manifest of another host") {
    fs::rename(host_dir, dest + "/demo02");
    CHECK(ReadError(dest, "demo02") ==
          dest + "/demo02/" + kZone +
              "/manifest.json: host is \"demo01\" but the manifest is stored under host "
              "directory \"demo02\"");
  }
  SUBCASE("image manifest named after another uuid") {
    std::string renamed = host_dir + "/images/" + kOtherZone + ".json";
    fs::rename(host_dir + "/images/" + kImage + ".json", renamed);
    CHECK(ReadError(dest) == renamed + ": image.uuid is \"" + kImage +
                                 "\" but the file is named \"" + kOtherZone + ".json\"");
  }
  SUBCASE("images is not a directory") {
    fs::remove_all(host_dir + "/images");
    REQUIRE(WriteFileAtomically(host_dir + "/images", "x").ok());
    CHECK(ReadError(dest) == host_dir + "/images: not a directory");
  }
  SUBCASE("host is not a directory") {
    fs::remove_all(host_dir);
    REQUIRE(WriteFileAtomically(host_dir, "x").ok());
    CHECK(ReadError(dest) == host_dir + ": not a directory");
  }
}

TEST_CASE("directory_catalog: unfinished writes and uncommitted zones are ignored") {
  TempDir dir;
  std::string dest = CopyFixture(dir, "two-chains");
  std::string baseline = Render(ReadOk(dest));
  std::string host_dir = dest + "/" + kHost;
  REQUIRE(WriteFileAtomically(host_dir + "/" + kZone + "/.tmp.manifest.json.4242", "{trunc").ok());
  REQUIRE(WriteFileAtomically(host_dir + "/images/.tmp." + kImage + ".json.4242", "{").ok());
  REQUIRE(MakeDirectories(host_dir + "/.tmp." + kOtherZone).ok());
  REQUIRE(WriteFileAtomically(host_dir + "/.tmp." + kOtherZone + "/manifest.json", "{").ok());
  // Streams written, manifest not yet: an export interrupted before commit.
  REQUIRE(MakeDirectories(host_dir + "/" + kOtherZone + "/root/20261116T020000Z").ok());
  REQUIRE(MakeDirectories(host_dir + "/lost+found").ok());
  REQUIRE(WriteFileAtomically(host_dir + "/zrecon.lock", "").ok());
  CHECK(Render(ReadOk(dest)) == baseline);
}

TEST_CASE("directory_catalog: no symlink below the destination path is followed") {
  TempDir dir;
  std::string dest = CopyFixture(dir, "two-chains");
  std::string outside = dir / "outside";
  fs::create_directory(outside);
  std::string host_dir = dest + "/" + kHost;
  std::string root = fs::canonical(dest).string();

  SUBCASE("host directory") {
    fs::rename(host_dir, outside + "/" + kHost);
    fs::create_directory_symlink(outside + "/" + kHost, host_dir);
    CHECK(ReadError(dest) == host_dir + ": is a symlink to " + fs::canonical(outside).string() +
                                 "/" + kHost + ": zrecon follows no symlink inside a destination");
  }
  SUBCASE("zone directory") {
    std::string zone_dir = host_dir + "/" + kZone;
    fs::rename(zone_dir, outside + "/zone");
    fs::create_directory_symlink(outside + "/zone", zone_dir);
    CHECK(ReadError(dest).rfind(zone_dir + ": is a symlink to ", 0) == 0);
  }
  SUBCASE("zone manifest") {
    std::string manifest = ZoneManifestPath(dest, kZone);
    fs::rename(manifest, outside + "/manifest.json");
    fs::create_symlink(outside + "/manifest.json", manifest);
    CHECK(ReadError(dest).rfind(manifest + ": is a symlink to ", 0) == 0);
  }
  SUBCASE("even one that stays inside: the writer would refuse it") {
    fs::rename(host_dir, dest + "/demo01.real");
    fs::create_directory_symlink("demo01.real", host_dir);
    CHECK(ReadError(dest) == host_dir + ": is a symlink to " + root + "/demo01.real" +
                                 ": zrecon follows no symlink inside a destination");
  }
}

TEST_CASE("directory_catalog: results and errors do not depend on creation order") {
  ZoneManifest base = FixtureZone();
  const std::vector<std::string> uuids = {"f0000000-0000-4000-8000-000000000001", kZone,
                                          "00000000-0000-4000-8000-00000000000f"};
  TempDir forward_dir, backward_dir;
  std::string forward = forward_dir / "dest";
  std::string backward = backward_dir / "dest";
  for (size_t i = 0; i < uuids.size(); ++i) {
    ZoneManifest m = base;
    m.uuid = uuids[i];
    WriteZone(forward, m);
    m.uuid = uuids[uuids.size() - 1 - i];
    WriteZone(backward, m);
  }
  DestinationCatalog a = ReadOk(forward);
  CHECK(Render(a) == Render(ReadOk(backward)));
  std::vector<std::string> keys;
  for (const auto& entry : a.zones) keys.push_back(entry.first);
  CHECK(keys == std::vector<std::string>{uuids[2], uuids[1], uuids[0]});

  // With two corrupt manifests the one reported is the first by name.
  for (const std::string& dest : {forward, backward}) {
    for (const std::string& uuid : {uuids[0], uuids[2]}) {
      REQUIRE(WriteFileAtomically(ZoneManifestPath(dest, uuid), "{\"format_version\": 1,").ok());
    }
    CHECK(ReadError(dest).rfind(ZoneManifestPath(dest, uuids[2]) + ": invalid JSON", 0) == 0);
  }
}

TEST_CASE("directory_catalog: the host must be one directory name") {
  for (const char* host : {"", "..", "a/b", "/abs"}) {
    CAPTURE(host);
    DestinationCatalog catalog;
    Status st = ReadDirectoryCatalog("usb", FixtureDir("two-chains"), host, &catalog);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message() == "invalid host directory name \"" + std::string(host) + "\"");
  }
}

}  // namespace
}  // namespace zrecon
