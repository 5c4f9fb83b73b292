#include "reconciler/catalog/catalog_json.h"
#include "reconciler/catalog/catalog_edits.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconciler/util/files.h"

namespace zrecon {
namespace {

using Json = nlohmann::json;

constexpr char kZone[] = "8f6d2b3a-61c4-4e0b-b7a1-3c9e5d0f2a47";
constexpr char kImage[] = "5417ab20-3156-11ea-8b19-2b66f5e7a439";
constexpr uint64_t kImageGuid = 5521843319208747101u;
const std::string kRootDataset = std::string("zones/") + kZone;
const std::string kOrigin = std::string("zones/") + kImage + "@final";

StoredFile Stored(const std::string& file, char hex, uint64_t size, const char* compression) {
  StoredFile f;
  f.file = file;
  f.size = size;
  f.sha256 = std::string(64, hex);
  f.compression = compression;
  return f;
}

ChainLink Link(const std::string& snapshot, uint64_t guid, uint64_t txg, const std::string& from,
               uint64_t from_guid, const std::string& dir, char hex) {
  ChainLink l;
  l.snapshot = snapshot;
  l.guid = guid;
  l.createtxg = txg;
  l.creation = 1794708000 + static_cast<int64_t>(txg);
  l.from = from;
  l.from_guid = from_guid;
  l.stream = Stored(dir + "/" + snapshot + ".zfs", hex, 1000 + txg, "zstd");
  l.stream.stream_size = 4 * (1000 + txg);  // what zfs send wrote, before zstd
  l.config = std::string(kZone) + "/config/20261115T020000Z.json";
  l.written = "2026-11-15T02:03:12Z";
  return l;
}

// chains[0]: clone of the image (base incremental from the origin);
// chains[1]: delegated dataset, full base, extreme guids.
ZoneManifest SampleZone() {
  ZoneManifest m;
  m.host = "demo01";
  m.uuid = kZone;
  m.alias = "web01";
  m.brand = "joyent";
  m.image_uuid = kImage;
  m.configs.push_back(
      {Stored(std::string(kZone) + "/config/20261115T020000Z.json", 'a', 812, "none"),
       "2026-11-15T02:03:12Z"});
  m.configs.push_back(
      {Stored(std::string(kZone) + "/config/20261116T020000Z.json", 'b', 815, "none"),
       "2026-11-16T02:03:12+00:00"});
  Chain root;
  root.id = "root/20261115T020000Z";
  root.dataset = kRootDataset;
  root.origin = kOrigin;
  root.origin_guid = kImageGuid;
  root.image_uuid = kImage;
  std::string root_dir = std::string(kZone) + "/root/20261115T020000Z";
  root.links.push_back(Link("zrecon-daily-20261115T020000Z", 11874262901512066470u, 27310, kOrigin,
                            kImageGuid, root_dir, 'c'));
  root.links.push_back(Link("zrecon-daily-20261116T020000Z", 9007199254740993u, 27804,
                            kRootDataset + "@zrecon-daily-20261115T020000Z", 11874262901512066470u,
                            root_dir, 'd'));
  Chain data;
  data.id = "data/20261115T020000Z";
  data.dataset = kRootDataset + "/data";
  std::string data_dir = std::string(kZone) + "/data/20261115T020000Z";
  data.links.push_back(
      Link("zrecon-daily-20261115T020000Z", UINT64_MAX, 27310, "", 0, data_dir, 'e'));
  data.links.push_back(Link("zrecon-daily-20261116T020000Z", 1, 27804,
                            data.dataset + "@zrecon-daily-20261115T020000Z", UINT64_MAX, data_dir,
                            'f'));
  m.chains = {root, data};
  return m;
}

ImageManifest SampleImage() {
  ImageManifest m;
  m.uuid = kImage;
  m.snapshot = kOrigin;
  m.guid = kImageGuid;
  m.createtxg = 211;
  m.stream = Stored(std::string("images/") + kImage + ".zfs", '9', 318767104, "none");
  m.written = "2026-11-01T02:03:05Z";
  return m;
}

void CheckSame(const StoredFile& a, const StoredFile& b) {
  CHECK(a.file == b.file);
  CHECK(a.size == b.size);
  CHECK(a.sha256 == b.sha256);
  CHECK(a.compression == b.compression);
  CHECK(a.stream_size == b.stream_size);
}

void CheckSame(const ChainLink& a, const ChainLink& b) {
  CHECK(a.snapshot == b.snapshot);
  CHECK(a.guid == b.guid);
  CHECK(a.createtxg == b.createtxg);
  CHECK(a.creation == b.creation);
  CHECK(a.from == b.from);
  CHECK(a.from_guid == b.from_guid);
  CheckSame(a.stream, b.stream);
  CHECK(a.config == b.config);
  CHECK(a.written == b.written);
}

void CheckSame(const ZoneManifest& a, const ZoneManifest& b) {
  CHECK(a.format_version == b.format_version);
  CHECK(a.host == b.host);
  CHECK(a.uuid == b.uuid);
  CHECK(a.alias == b.alias);
  CHECK(a.brand == b.brand);
  CHECK(a.image_uuid == b.image_uuid);
  REQUIRE(a.configs.size() == b.configs.size());
  for (size_t i = 0; i < a.configs.size(); ++i) {
    CheckSame(a.configs[i].stored, b.configs[i].stored);
    CHECK(a.configs[i].written == b.configs[i].written);
  }
  REQUIRE(a.chains.size() == b.chains.size());
  for (size_t i = 0; i < a.chains.size(); ++i) {
    const Chain& x = a.chains[i];
    const Chain& y = b.chains[i];
    CHECK(x.id == y.id);
    CHECK(x.dataset == y.dataset);
    CHECK(x.origin == y.origin);
    CHECK(x.origin_guid == y.origin_guid);
    CHECK(x.image_uuid == y.image_uuid);
    REQUIRE(x.links.size() == y.links.size());
    for (size_t k = 0; k < x.links.size(); ++k) CheckSame(x.links[k], y.links[k]);
  }
  CHECK(a.loose_files == b.loose_files);
}

std::string Fixture(const std::string& relative) {
  std::string text;
  Status st =
      ReadFile(std::string(ZRECON_SOURCE_DIR) + "/tests/fixtures/catalogs/" + relative, &text);
  REQUIRE_MESSAGE(st.ok(), st.message());
  return text;
}

const std::string kFixtureZone = std::string("two-chains/demo01/") + kZone + "/manifest.json";
const std::string kFixtureImage = std::string("two-chains/demo01/images/") + kImage + ".json";

// Encodes the sample, applies `edit` to its JSON and decodes the result.
template <typename Edit>
Status DecodeEditedZone(Edit edit) {
  Json doc = Json::parse(EncodeZoneManifest(SampleZone()));
  edit(doc);
  ZoneManifest out;
  return DecodeZoneManifest(doc.dump(), &out);
}

Status DecodeZoneWith(const char* pointer, const Json& value) {
  return DecodeEditedZone([&](Json& doc) { doc[Json::json_pointer(pointer)] = value; });
}

Status DecodeZoneWithout(const char* pointer) {
  return DecodeEditedZone([&](Json& doc) {
    Json::json_pointer p(pointer);
    doc[p.parent_pointer()].erase(p.back());
  });
}

std::string Message(const Status& st) { return st.ok() ? "(ok)" : st.message(); }

TEST_CASE("catalog_json: zone manifest round trip keeps every field") {
  ZoneManifest m = SampleZone();
  ZoneManifest back;
  Status st = DecodeZoneManifest(EncodeZoneManifest(m), &back);
  REQUIRE_MESSAGE(st.ok(), st.message());
  CheckSame(m, back);
  CHECK(EncodeZoneManifest(back) == EncodeZoneManifest(m));
}

TEST_CASE("catalog_json: stream_size is kept for compressed streams only, and checked") {
  ZoneManifest m = SampleZone();
  Json doc = Json::parse(EncodeZoneManifest(m));
  const Json& stream = doc["chains"][0]["links"][0]["stream"];
  CHECK(stream["stream_size"] == m.chains[0].links[0].stream.stream_size);
  CHECK(m.chains[0].links[0].stream.StreamBytes() == m.chains[0].links[0].stream.stream_size);
  // Uncompressed: the file is the stream; nothing more is written.
  m.chains[0].links[0].stream.compression = "none";
  doc = Json::parse(EncodeZoneManifest(m));
  CHECK_FALSE(doc["chains"][0]["links"][0]["stream"].contains("stream_size"));
  CHECK(m.chains[0].links[0].stream.StreamBytes() == m.chains[0].links[0].stream.size);
  // Exports made before it was recorded have none.
  CHECK(DecodeZoneWithout("/chains/0/links/0/stream/stream_size").ok());
  CHECK(Message(DecodeZoneWith("/chains/0/links/0/stream/stream_size", -1)) ==
        "chains[0].links[0].stream.stream_size: expected a non-negative integer, got number -1");
  // A config record is read whole: it has no stream size.
  CHECK(Message(DecodeZoneWith("/configs/0/stream_size", 5)).find("unknown key") !=
        std::string::npos);
}

TEST_CASE("catalog_json: image manifest round trip keeps every field") {
  ImageManifest m = SampleImage();
  ImageManifest back;
  Status st = DecodeImageManifest(EncodeImageManifest(m), &back);
  REQUIRE_MESSAGE(st.ok(), st.message());
  CHECK(back.format_version == m.format_version);
  CHECK(back.uuid == m.uuid);
  CHECK(back.snapshot == m.snapshot);
  CHECK(back.guid == m.guid);
  CHECK(back.createtxg == m.createtxg);
  CheckSame(back.stream, m.stream);
  CHECK(back.written == m.written);
}

TEST_CASE("catalog_json: encoding is canonical and keeps uint64 exact as strings") {
  std::string text = EncodeZoneManifest(SampleZone());
  CHECK(text.back() == '\n');
  CHECK(text.find("\"guid\": \"18446744073709551615\"") != std::string::npos);
  CHECK(text.find("\"guid\": \"9007199254740993\"") != std::string::npos);
  CHECK(text.find("\"from\": \"\",") != std::string::npos);
  CHECK(text.find("\"from_guid\": \"0\",") != std::string::npos);
  CHECK(text.find("\"size\": 28310,\n") != std::string::npos);
  CHECK(text.find("\"stream_size\": 113240\n") != std::string::npos);
  CHECK(text.find("\"creation\": 1794735310,") != std::string::npos);
  // Sorted keys at every level, two-space indent.
  CHECK(text.find("{\n  \"chains\": [") == 0);
  CHECK(text.find("\"chains\"") < text.find("\"configs\""));
  CHECK(text.find("\"configs\"") < text.find("\"format_version\""));
  CHECK(text.find("\"format_version\"") < text.find("\"host\""));
  CHECK(text.find("\"host\"") < text.find("\"kind\""));
  CHECK(text.find("\"kind\"") < text.find("\"zone\""));
  CHECK(EncodeZoneManifest(SampleZone()) == text);
}

TEST_CASE("catalog_json: fixture manifests are in canonical form") {
  for (const std::string& name : {kFixtureZone, kFixtureImage}) {
    CAPTURE(name);
    std::string text = Fixture(name);
    if (name == kFixtureZone) {
      ZoneManifest m;
      Status st = DecodeZoneManifest(text, &m);
      REQUIRE_MESSAGE(st.ok(), st.message());
      CHECK(m.chains.size() == 3);
      CHECK(m.chains[0].links[1].guid == 9007199254740993u);
      CHECK(EncodeZoneManifest(m) == text);
    } else {
      ImageManifest m;
      Status st = DecodeImageManifest(text, &m);
      REQUIRE_MESSAGE(st.ok(), st.message());
      CHECK(m.guid == kImageGuid);
      CHECK(EncodeImageManifest(m) == text);
    }
  }
}

struct ValueCase {
  const char* pointer;
  Json value;
  std::string message;
};

TEST_CASE("catalog_json: bad values are reported with their JSON path") {
  const std::vector<ValueCase> cases = {
      {"/chains/1/links/0/stream/sha256", "xyz",
       R"(chains[1].links[0].stream.sha256: expected 64 lowercase hex digits, got "xyz")"},
      {"/chains/1/links/0/stream/sha256", std::string(64, 'A'),
       R"(chains[1].links[0].stream.sha256: expected 64 lowercase hex digits, got ")"
       R"(AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")"},
      {"/chains/0/links/1/guid", 12345,
       R"(chains[0].links[1].guid: expected a decimal uint64 in a string )"
       R"((e.g. "1311826421327416021"), got number 12345)"},
      {"/chains/0/links/1/guid", "18446744073709551616",
       R"(chains[0].links[1].guid: expected a decimal uint64 in a string )"
       R"((e.g. "1311826421327416021"), got "18446744073709551616")"},
      {"/chains/0/links/1/guid", "0123",
       R"(chains[0].links[1].guid: expected a decimal uint64 in a string )"
       R"((e.g. "1311826421327416021"), got "0123")"},
      {"/chains/0/links/0/createtxg", "-1",
       R"(chains[0].links[0].createtxg: expected a decimal uint64 in a string )"
       R"((e.g. "1311826421327416021"), got "-1")"},
      {"/chains/0/links/0/stream/file", "../../etc/shadow",
       R"(chains[0].links[0].stream.file: expected a relative path of ordinary components )"
       R"((no leading '/', no '.' or '..', no empty component), got "../../etc/shadow")"},
      {"/chains/0/links/0/stream/file", "/etc/shadow",
       R"(chains[0].links[0].stream.file: expected a relative path of ordinary components )"
       R"((no leading '/', no '.' or '..', no empty component), got "/etc/shadow")"},
      {"/configs/0/file", "a/../b",
       R"(configs[0].file: expected a relative path of ordinary components )"
       R"((no leading '/', no '.' or '..', no empty component), got "a/../b")"},
      {"/chains/1/links/1/config", "x/\n/y",
       R"(chains[1].links[1].config: expected a relative path of ordinary components )"
       R"((no leading '/', no '.' or '..', no empty component), got "x/\n/y")"},
      {"/chains/0/links/1/stream/compression", "gzip",
       R"(chains[0].links[1].stream.compression: expected "none" or "zstd", got "gzip")"},
      {"/chains/0/links/0/stream/size", -1,
       "chains[0].links[0].stream.size: expected a non-negative integer, got number -1"},
      {"/configs/1/size", 1.5, "configs[1].size: expected a non-negative integer, got number 1.5"},
      {"/chains/0/links/0/creation", "1794708000",
       R"(chains[0].links[0].creation: expected an integer (epoch seconds), got "1794708000")"},
      {"/configs/1/written", "yesterday",
       R"(configs[1].written: expected an RFC3339 time such as "2026-11-26T10:25:00Z", )"
       R"(got "yesterday")"},
      {"/zone/uuid", "8F6D2B3A-61C4-4E0B-B7A1-3C9E5D0F2A47",
       R"(zone.uuid: expected a lowercase UUID (8-4-4-4-12 hex digits), )"
       R"(got "8F6D2B3A-61C4-4E0B-B7A1-3C9E5D0F2A47")"},
      {"/zone/image_uuid", "base-64-lts",
       R"(zone.image_uuid: expected "" or a lowercase UUID (8-4-4-4-12 hex digits), )"
       R"(got "base-64-lts")"},
      {"/zone/brand", "", R"(zone.brand: expected a brand name, got "")"},
      {"/host", "../elsewhere",
       R"(host: expected a host name usable as a directory name, got "../elsewhere")"},
      {"/chains/1/links/1/from", "zones/x",
       R"(chains[1].links[1].from: expected "" (full stream) or a full snapshot name )"
       R"("<dataset>@<snapshot>", got "zones/x")"},
      {"/chains/1/dataset", "zones//data",
       R"(chains[1].dataset: expected a dataset name such as "zones/<uuid>/data", )"
       R"(got "zones//data")"},
      {"/chains/0/links", Json::array(), "chains[0].links: a chain needs at least one link"},
      {"/chains", Json::object(), "chains: expected an array, got an object"},
      {"/zone", "x", R"(zone: expected an object, got "x")"},
      {"/chains/0/links/1/snapshot", "a@b",
       R"(chains[0].links[1].snapshot: expected a snapshot name without the dataset )"
       R"((ZFS name characters only), got "a@b")"},
      {"/kind", "image", R"(kind: expected "zone", got "image")"},
      {"/format_version", 2,
       "format_version: manifest format 2 is newer than this zrecon supports (format 1); "
       "upgrade zrecon to read it"},
      {"/format_version", 0, "format_version: expected 1, got 0"},
      {"/format_version", "1", R"(format_version: expected an integer, got "1")"},
  };
  for (const ValueCase& c : cases) {
    CAPTURE(c.pointer);
    CHECK(Message(DecodeZoneWith(c.pointer, c.value)) == c.message);
  }
}

TEST_CASE("catalog_json: links must form a receivable chain") {
  const std::string prev = kRootDataset + "@zrecon-daily-20261115T020000Z";
  const std::vector<ValueCase> cases = {
      {"/chains/0/links/1/from", kRootDataset + "@other",
       R"(chains[0].links[1].from: expected ")" + prev + R"(" (the previous link), got ")" +
           kRootDataset + R"(@other")"},
      {"/chains/0/links/1/from_guid", "42",
       R"(chains[0].links[1].from_guid: expected "11874262901512066470" )"
       R"((guid of the previous link), got "42")"},
      {"/chains/0/links/1/createtxg", "27000",
       "chains[0].links[1].createtxg: 27000 is not after the previous link's createtxg 27310"},
      {"/chains/0/links/0/from", "zones/other@final",
       R"(chains[0].links[0].from: a chain base is a full stream ("") or an incremental from )"
       R"(the chain origin ")" +
           kOrigin + R"(", got "zones/other@final")"},
      {"/chains/0/links/0/from_guid", "7",
       R"(chains[0].links[0].from_guid: expected "5521843319208747101" )"
       R"((the origin_guid of the chain), got "7")"},
      {"/chains/1/links/0/from_guid", "5",
       R"(chains[1].links[0].from_guid: expected "0" because from is empty, got "5")"},
      {"/chains/0/origin_guid", "0",
       R"(chains[0].origin_guid: expected the guid of ")" + kOrigin + R"(", got "0")"},
      {"/chains/1/image_uuid", kImage,
       R"(chains[1].image_uuid: expected "" because the chain has no origin, got ")" +
           std::string(kImage) + "\""},
      {"/chains/1/id", "root/20261115T020000Z",
       R"(chains[1].id: duplicate chain id "root/20261115T020000Z" (also chains[0]))"},
  };
  for (const ValueCase& c : cases) {
    CAPTURE(c.pointer);
    CHECK(Message(DecodeZoneWith(c.pointer, c.value)) == c.message);
  }
  // A chain base may also be a full stream of a clone.
  Status full_base = DecodeEditedZone([](Json& doc) {
    doc["chains"][0]["links"][0]["from"] = "";
    doc["chains"][0]["links"][0]["from_guid"] = "0";
  });
  CHECK_MESSAGE(full_base.ok(), Message(full_base));
}

TEST_CASE("catalog_json: missing, unknown and duplicate keys are refused") {
  CHECK(Message(DecodeZoneWithout("/chains/0/links/0/stream/sha256")) ==
        "chains[0].links[0].stream.sha256: required key is missing");
  CHECK(Message(DecodeZoneWithout("/host")) == "host: required key is missing");
  CHECK(Message(DecodeZoneWithout("/zone/alias")) == "zone.alias: required key is missing");
  CHECK(Message(DecodeZoneWithout("/format_version")) == "format_version: required key is missing");
  CHECK(Message(DecodeZoneWith("/chains/0/links/0/gud", "1")) ==
        R"(chains[0].links[0].gud: unknown key (did you mean "guid"?))");
  CHECK(Message(DecodeZoneWith("/encryption", true)) == "encryption: unknown key");

  std::string text = EncodeZoneManifest(SampleZone());
  size_t at = text.find("\"guid\": ");
  REQUIRE(at != std::string::npos);
  text.insert(at, "\"guid\": \"1\", ");
  ZoneManifest out;
  CHECK(Message(DecodeZoneManifest(text, &out)) == "chains[0].links[0].guid: duplicate key");
}

TEST_CASE("catalog_json: loose_files round trip, sorted, and absent when empty") {
  ZoneManifest m = SampleZone();
  const std::string before = EncodeZoneManifest(m);
  CHECK(before.find("loose_files") == std::string::npos);
  m.loose_files = {std::string(kZone) + "/root/20261117T020000Z/0001-b.zfs",
                   std::string(kZone) + "/config/20261117T020000Z.json"};
  std::string text = EncodeZoneManifest(m);
  Json doc = Json::parse(text);
  CHECK(doc["loose_files"] ==
        Json::array({std::string(kZone) + "/config/20261117T020000Z.json",
                     std::string(kZone) + "/root/20261117T020000Z/0001-b.zfs"}));
  CHECK(text.find("\"kind\"") < text.find("\"loose_files\""));
  CHECK(text.find("\"loose_files\"") < text.find("\"zone\": {"));
  ZoneManifest back;
  Status st = DecodeZoneManifest(text, &back);
  REQUIRE_MESSAGE(st.ok(), st.message());
  CheckSame(m, back);
  CHECK(EncodeZoneManifest(back) == text);

  doc["loose_files"] = Json::array();
  REQUIRE(DecodeZoneManifest(doc.dump(), &back).ok());
  CHECK(back.loose_files.empty());
  CHECK(EncodeZoneManifest(back) == before);
}

TEST_CASE("catalog_json: a zone's first journaled file decodes without configs or chains") {
  ZoneManifest m = SampleZone();
  m.configs.clear();
  m.chains.clear();
  m.loose_files = {std::string(kZone) + "/config/20261115T020000Z.json"};
  ZoneManifest back;
  Status st = DecodeZoneManifest(EncodeZoneManifest(m), &back);
  REQUIRE_MESSAGE(st.ok(), st.message());
  CheckSame(m, back);
}

TEST_CASE("catalog_json: loose_files outside the zone directory or recorded are refused") {
  const std::string zone(kZone);
  const std::string inside = zone + "/root/20261117T020000Z/0001-b.zfs";
  const std::vector<ValueCase> cases = {
      {"/loose_files", "x", R"(loose_files: expected an array, got "x")"},
      {"/loose_files", Json::array({inside, 7}), "loose_files[1]: expected a string, got number 7"},
      {"/loose_files", Json::array({"/etc/passwd"}),
       R"(loose_files[0]: expected a relative path of ordinary components (no leading '/', )"
       R"(no '.' or '..', no empty component), got "/etc/passwd")"},
      {"/loose_files", Json::array({zone + "/../other/x.zfs"}),
       R"(loose_files[0]: expected a relative path of ordinary components (no leading '/', )"
       R"(no '.' or '..', no empty component), got ")" +
           zone + R"(/../other/x.zfs")"},
      {"/loose_files", Json::array({"images/" + std::string(kImage) + ".zfs"}),
       R"(loose_files[0]: expected a file below the zone's directory ")" + zone +
           R"(/" other than its manifest, got "images/)" + kImage + R"(.zfs")"},
      {"/loose_files", Json::array({zone}),
       R"(loose_files[0]: expected a file below the zone's directory ")" + zone +
           R"(/" other than its manifest, got ")" + zone + "\""},
      {"/loose_files", Json::array({zone + "/manifest.json"}),
       R"(loose_files[0]: expected a file below the zone's directory ")" + zone +
           R"(/" other than its manifest, got ")" + zone + R"(/manifest.json")"},
      {"/loose_files", Json::array({inside, inside}),
       R"(loose_files[1]: duplicate file ")" + inside + R"(" (also loose_files[0]))"},
      {"/loose_files",
       Json::array({zone + "/data/20261115T020000Z/zrecon-daily-20261116T020000Z.zfs"}),
       R"(loose_files[0]: ")" + zone +
           R"(/data/20261115T020000Z/zrecon-daily-20261116T020000Z.zfs" is recorded at )"
           R"(chains[1].links[1].stream.file: a file is either recorded or loose, never both)"},
      {"/loose_files", Json::array({inside, zone + "/config/20261116T020000Z.json"}),
       R"(loose_files[1]: ")" + zone +
           R"(/config/20261116T020000Z.json" is recorded at configs[1].file: )"
           R"(a file is either recorded or loose, never both)"},
  };
  for (const ValueCase& c : cases) {
    CAPTURE(c.value.dump());
    CHECK(Message(DecodeZoneWith(c.pointer, c.value)) == c.message);
  }
  // A link's config is not a record of its own: removing two chains that
  // share a config journals it while the second chain still names it.
  CHECK(Message(DecodeEditedZone([&](Json& doc) {
          doc["configs"].erase(0);
          doc["loose_files"] = Json::array({zone + "/config/20261115T020000Z.json"});
        })) == "(ok)");
  CHECK(Message(DecodeZoneWith("/loose_file", Json::array())) ==
        R"(loose_file: unknown key (did you mean "loose_files"?))");
}

TEST_CASE("catalog_json: a newer format is reported as such, not as unknown keys") {
  Status st = DecodeEditedZone([](Json& doc) {
    doc["format_version"] = 3;
    doc["encryption"] = {{"cipher", "aes-256-gcm"}};
    doc.erase("configs");
  });
  CHECK(Message(st) ==
        "format_version: manifest format 3 is newer than this zrecon supports (format 1); "
        "upgrade zrecon to read it");
}

TEST_CASE("catalog_json: text that is not a JSON object is refused without throwing") {
  ZoneManifest out;
  out.host = "untouched";
  std::string text = EncodeZoneManifest(SampleZone());
  std::string truncated = Message(DecodeZoneManifest(text.substr(0, text.size() / 2), &out));
  CHECK(truncated.rfind("invalid JSON: parse error at line ", 0) == 0);
  CHECK(out.host == "untouched");
  CHECK(Message(DecodeZoneManifest("", &out)).rfind("invalid JSON: parse error", 0) == 0);
  CHECK(Message(DecodeZoneManifest("{\"host\": \"\xff\"}", &out)).rfind("invalid JSON", 0) == 0);
  CHECK(Message(DecodeZoneManifest("[]", &out)) ==
        "manifest: expected a JSON object, got an array");
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  CHECK(Message(DecodeZoneManifest(deep, &out)) ==
        "manifest: expected a JSON object, got an array");
  CHECK(out.host == "untouched");
}

TEST_CASE("catalog_json: image manifest decode errors name their path") {
  auto decode = [](const char* pointer, const Json& value) {
    Json doc = Json::parse(EncodeImageManifest(SampleImage()));
    doc[Json::json_pointer(pointer)] = value;
    ImageManifest out;
    return Message(DecodeImageManifest(doc.dump(), &out));
  };
  CHECK(decode("/image/snapshot", "zones/other@final") ==
        std::string(R"(image.snapshot: expected a snapshot of "<pool>/)") + kImage +
            R"(", got "zones/other@final")");
  CHECK(decode("/image/snapshot", "zones/" + std::string(kImage)) ==
        std::string(R"(image.snapshot: expected a full snapshot name "<dataset>@<snapshot>", )") +
            R"(got "zones/)" + kImage + "\"");
  CHECK(decode("/image/stream/file", "images/../../x.zfs").find("image.stream.file: expected") ==
        0);
  CHECK(decode("/image/guid", "") ==
        R"(image.guid: expected a decimal uint64 in a string (e.g. "1311826421327416021"), )"
        R"(got "")");
  CHECK(decode("/kind", "zone") == R"(kind: expected "image", got "zone")");
  CHECK(decode("/image/origin", "") == "image.origin: unknown key");
  ZoneManifest zone;
  CHECK(Message(DecodeZoneManifest(EncodeImageManifest(SampleImage()), &zone)) ==
        R"(kind: expected "zone", got "image")");
}

TEST_CASE("catalog_json: IsSafeRelativePath") {
  for (const char* good : {"a", "a/b.zfs", ".hidden", "..b", "a/...", "a b/c", "x/.tmp.y"}) {
    CAPTURE(good);
    CHECK(IsSafeRelativePath(good));
  }
  const std::vector<std::string> bad = {"",      "/a",   "a/",     "a//b",
                                        ".",     "..",   "a/../b", "./a",
                                        "a/.",   "a/..", "a\nb",   std::string("a\0b", 3),
                                        "a\x7f", "a\tb"};
  for (const std::string& path : bad) {
    CAPTURE(path);
    CHECK_FALSE(IsSafeRelativePath(path));
  }
}

}  // namespace
}  // namespace zrecon
