#include "reconciler/storage/recording_destination.h"

#include <doctest/doctest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "reconciler/util/sha256.h"

namespace zrecon {
namespace {

constexpr char kHost[] = "demo01";
constexpr char kZone[] = "8f6d2b3a-61c4-4e0b-b7a1-3c9e5d0f2a47";
constexpr char kImage[] = "5417ab20-3156-11ea-8b19-2b66f5e7a439";
constexpr char kChainId[] = "root/20261115T020000Z";
constexpr uint64_t kOriginGuid = 5521843319208747101u;

std::string ZoneFile(const std::string& rest) { return std::string(kZone) + "/" + rest; }

std::string StreamFileName(int seq) {
  return ZoneFile(std::string(kChainId) + "/00" + std::to_string(seq) + ".zfs");
}

ZoneManifest Identity() {
  ZoneManifest z;
  z.host = kHost;
  z.uuid = kZone;
  z.alias = "web01";
  z.brand = "joyent";
  z.image_uuid = kImage;
  return z;
}

Chain RootChain() {
  Chain c;
  c.id = kChainId;
  c.dataset = std::string("zones/") + kZone;
  c.origin = std::string("zones/") + kImage + "@final";
  c.origin_guid = kOriginGuid;
  c.image_uuid = kImage;
  return c;
}

ChainLink Link(int seq, const StoredFile& stream) {
  ChainLink l;
  l.snapshot = "snap" + std::to_string(seq);
  l.guid = 100 + seq;
  l.createtxg = 500 + seq;
  l.creation = 1794708000 + seq;
  l.from = seq == 0 ? std::string("zones/") + kImage + "@final"
                    : std::string("zones/") + kZone + "@snap" + std::to_string(seq - 1);
  l.from_guid = seq == 0 ? kOriginGuid : 100 + seq - 1;
  l.stream = stream;
  l.config = ZoneFile("config/1.json");
  l.written = "2026-11-15T02:03:12Z";
  return l;
}

StoredFile Export(Destination* d, const std::string& file, const std::string& content,
                  const std::string& compression = "none") {
  std::unique_ptr<StreamFile> out;
  Status st = d->Create(file, compression, &out);
  REQUIRE_MESSAGE(st.ok(), st.message());
  // No direct mode: a dry run's exports all go through a (recorded) sink.
  CHECK(out->BeginDirect([](uint64_t) {}) == -1);
  REQUIRE(out->Write(content.data(), content.size()).ok());
  CHECK(out->bytes_in() == content.size());
  StoredFile stored;
  REQUIRE(out->Commit(&stored).ok());
  return stored;
}

TEST_CASE("recording_destination: streams are counted and discarded") {
  RecordingDestination d("usb", DestinationCatalog());
  CHECK(d.name() == "usb");
  CHECK(d.Prepare().ok());
  StoredFile stored = Export(&d, StreamFileName(0), "some bytes of a zfs send", "zstd");
  CHECK(stored.file == StreamFileName(0));
  CHECK(stored.size == 0);
  CHECK(stored.sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(stored.compression == "zstd");
  CHECK(d.actions() == std::vector<std::string>{"write " + StreamFileName(0) + " (zstd)"});
  CHECK(d.catalog().zones.empty());
}

TEST_CASE("recording_destination: records update its catalog and say what they would do") {
  RecordingDestination d("usb", DestinationCatalog());
  StoredFile config = Export(&d, ZoneFile("config/1.json"), "{}");
  REQUIRE(d.RecordConfig(Identity(), ConfigRecord{config, "2026-11-15T02:00:00Z"}).ok());
  StoredFile s0 = Export(&d, StreamFileName(0), "base");
  Status st = d.RecordLink(Identity(), RootChain(), Link(0, s0));
  REQUIRE_MESSAGE(st.ok(), st.message());
  StoredFile s1 = Export(&d, StreamFileName(1), "incremental");
  st = d.RecordLink(Identity(), RootChain(), Link(1, s1));
  REQUIRE_MESSAGE(st.ok(), st.message());
  StoredFile image = Export(&d, std::string("images/") + kImage + ".zfs", "image");
  ImageManifest m;
  m.uuid = kImage;
  m.snapshot = std::string("zones/") + kImage + "@final";
  m.guid = kOriginGuid;
  m.createtxg = 211;
  m.stream = image;
  m.written = "2026-11-15T02:00:00Z";
  REQUIRE(d.RecordImage(m).ok());

  const std::string zone = kZone;
  CHECK(d.actions() ==
        std::vector<std::string>{
            "write " + ZoneFile("config/1.json"),
            "record config " + ZoneFile("config/1.json") + " of zone " + zone,
            "write " + StreamFileName(0),
            "record link zones/" + zone + "@snap0 in chain " + kChainId + " of zone " + zone,
            "write " + StreamFileName(1),
            "record link zones/" + zone + "@snap1 in chain " + kChainId + " of zone " + zone,
            std::string("write images/") + kImage + ".zfs",
            std::string("record image ") + kImage + " (images/" + kImage + ".zfs)",
        });
  const ZoneManifest& manifest = d.catalog().zones.at(kZone);
  CHECK(manifest.host == kHost);
  CHECK(manifest.configs.size() == 1);
  REQUIRE(manifest.chains.size() == 1);
  CHECK(manifest.chains[0].links.size() == 2);
  CHECK(d.catalog().images.count(kImage) == 1);

  std::unique_ptr<StreamFile> out;
  st = d.Create(StreamFileName(1), "none", &out);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() ==
        "\"" + StreamFileName(1) + "\" is already recorded in the catalog of destination usb");
}

TEST_CASE("recording_destination: a snapshot the run creates is recorded with stand-in ids") {
  DestinationCatalog catalog;
  catalog.name = "usb";
  RecordingDestination d("usb", catalog);
  std::unique_ptr<StreamFile> out;
  REQUIRE(d.Create(StreamFileName(0), "none", &out).ok());
  REQUIRE(out->Write("base", 4).ok());
  StoredFile s0;
  REQUIRE(out->Commit(&s0).ok());
  // A dry run cannot know the guid of a snapshot that does not exist yet.
  ChainLink planned = Link(0, s0);
  planned.guid = 0;
  planned.createtxg = 0;
  REQUIRE(d.RecordLink(Identity(), RootChain(), planned).ok());
  CHECK(d.actions().back().find("(guid known once the snapshot exists)") != std::string::npos);
}

TEST_CASE("recording_destination: refuses what a directory destination refuses") {
  DestinationCatalog catalog;
  catalog.name = "usb";
  RecordingDestination d("usb", catalog);
  std::unique_ptr<StreamFile> out;
  CHECK_FALSE(d.Create("../escape.zfs", "none", &out).ok());
  CHECK_FALSE(d.Create("images/x.zfs", "lz4", &out).ok());
  CHECK(out == nullptr);

  StoredFile s0{StreamFileName(0), 4, Sha256::Hex("base"), "none"};
  ChainLink wrong_source = Link(0, s0);
  wrong_source.from_guid = 1;
  Status st = d.RecordLink(Identity(), RootChain(), wrong_source);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("would not decode: chains[0].links[0].from_guid") != std::string::npos);
  CHECK(d.catalog().zones.empty());
  CHECK(d.actions().empty());
}

TEST_CASE("recording_destination: RemoveChain drops the chain once and lists the files") {
  RecordingDestination d("usb", DestinationCatalog());
  StoredFile config = Export(&d, ZoneFile("config/1.json"), "{}");
  REQUIRE(d.RecordConfig(Identity(), ConfigRecord{config, "2026-11-15T02:00:00Z"}).ok());
  REQUIRE(d.RecordLink(Identity(), RootChain(), Link(0, Export(&d, StreamFileName(0), "b"))).ok());
  size_t before = d.actions().size();

  std::vector<std::string> files = {StreamFileName(0), ZoneFile("config/1.json")};
  REQUIRE(d.RemoveChain(kZone, kChainId, files).ok());
  REQUIRE(d.RemoveChain(kZone, kChainId, files).ok());
  std::vector<std::string> added(d.actions().begin() + static_cast<long>(before),
                                 d.actions().end());
  CHECK(added == std::vector<std::string>{
                     std::string("remove chain ") + kChainId + " of zone " + kZone,
                     "remove " + StreamFileName(0), "remove " + ZoneFile("config/1.json"),
                     "remove " + StreamFileName(0), "remove " + ZoneFile("config/1.json")});
  const ZoneManifest& manifest = d.catalog().zones.at(kZone);
  CHECK(manifest.chains.empty());
  CHECK(manifest.configs.empty());
  CHECK(manifest.loose_files.empty());

  CHECK_FALSE(d.RemoveChain(kZone, kChainId, {"images/x.zfs"}).ok());
}

TEST_CASE("recording_destination: the loose-file journal follows a directory destination's") {
  RecordingDestination d("usb", DestinationCatalog());
  const std::string config = ZoneFile("config/1.json");
  REQUIRE(d.JournalFile(Identity(), config).ok());
  CHECK(d.catalog().zones.at(kZone).loose_files == std::set<std::string>{config});
  CHECK(d.catalog().zones.at(kZone).host == kHost);
  StoredFile stored = Export(&d, config, "{}");
  REQUIRE(d.RecordConfig(Identity(), ConfigRecord{stored, "2026-11-15T02:00:00Z"}).ok());
  CHECK(d.catalog().zones.at(kZone).loose_files.empty());
  REQUIRE(d.JournalFile(Identity(), StreamFileName(0)).ok());
  REQUIRE(d.RecordLink(Identity(), RootChain(), Link(0, Export(&d, StreamFileName(0), "b"))).ok());
  CHECK(d.catalog().zones.at(kZone).loose_files.empty());
  // Bookkeeping only: no line of its own.
  CHECK(d.actions() ==
        std::vector<std::string>{"write " + config, "record config " + config + " of zone " + kZone,
                                 "write " + StreamFileName(0),
                                 "record link zones/" + std::string(kZone) + "@snap0 in chain " +
                                     kChainId + " of zone " + kZone});

  Status st = d.JournalFile(Identity(), StreamFileName(0));
  CHECK(st.message() ==
        "\"" + StreamFileName(0) + "\" is already recorded in the catalog of destination usb");
  st = d.JournalFile(Identity(), "images/x.zfs");
  CHECK(st.message() ==
        "refusing to journal \"images/x.zfs\": not a file in the directory of "
        "zone \"" +
            std::string(kZone) + "\"");
}

TEST_CASE("recording_destination: RemoveLooseFiles says what apply would remove") {
  DestinationCatalog catalog;
  ZoneManifest zone = Identity();
  zone.loose_files = {StreamFileName(1), ZoneFile("config/2.json")};
  catalog.zones[kZone] = zone;
  RecordingDestination d("usb", catalog);
  REQUIRE(d.Prepare().ok());
  CHECK(d.actions().empty());
  REQUIRE(d.RemoveLooseFiles(kZone, {ZoneFile("config/2.json"), StreamFileName(1)}).ok());
  CHECK(d.actions() ==
        std::vector<std::string>{"remove loose file " + ZoneFile("config/2.json") + " (if present)",
                                 "remove loose file " + StreamFileName(1) + " (if present)"});
  CHECK(d.catalog().zones.at(kZone).loose_files.empty());
  // As the directory destination: only listed files.
  Status st = d.RemoveLooseFiles(kZone, {StreamFileName(1)});
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "cannot remove the loose files of zone \"" + std::string(kZone) +
                            "\": refusing to remove \"" + StreamFileName(1) +
                            "\": the manifest of zone \"" + kZone + "\" does not list it as loose");
  CHECK(d.actions().size() == 2);
}

}  // namespace
}  // namespace zrecon
