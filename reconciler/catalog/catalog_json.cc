#include "reconciler/catalog/catalog_json.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconciler/util/strings.h"
#include "reconciler/util/time.h"

namespace zrecon {

namespace {

using Json = nlohmann::json;

constexpr std::string_view kZoneKind = "zone";
constexpr std::string_view kImageKind = "image";

// ---------------------------------------------------------------------------
// Encoding

// guids and txgs are uint64: JSON numbers read by common tools (jq, Python's
// json with float fallback, JavaScript) lose precision above 2^53, so they are
// written as decimal strings.
std::string Decimal(uint64_t v) { return std::to_string(v); }

Json EncodeStoredFile(const StoredFile& f) {
  Json j = Json::object();
  j["file"] = f.file;
  j["size"] = f.size;
  j["sha256"] = f.sha256;
  j["compression"] = f.compression;
  if (f.compression != "none" && f.stream_size > 0) j["stream_size"] = f.stream_size;
  return j;
}

Json EncodeLink(const ChainLink& l) {
  Json j = Json::object();
  j["snapshot"] = l.snapshot;
  j["guid"] = Decimal(l.guid);
  j["createtxg"] = Decimal(l.createtxg);
  j["creation"] = l.creation;
  j["from"] = l.from;
  j["from_guid"] = Decimal(l.from_guid);
  j["stream"] = EncodeStoredFile(l.stream);
  j["config"] = l.config;
  j["written"] = l.written;
  return j;
}

Json EncodeChain(const Chain& c) {
  Json j = Json::object();
  j["id"] = c.id;
  j["dataset"] = c.dataset;
  j["origin"] = c.origin;
  j["origin_guid"] = Decimal(c.origin_guid);
  j["image_uuid"] = c.image_uuid;
  Json links = Json::array();
  for (const ChainLink& l : c.links) links.push_back(EncodeLink(l));
  j["links"] = std::move(links);
  return j;
}

Json EncodeConfig(const ConfigRecord& c) {
  Json j = EncodeStoredFile(c.stored);
  j.erase("stream_size");  // a stream's; configs are read whole
  j["written"] = c.written;
  return j;
}

// Keys are sorted because nlohmann::json's object type is a std::map; the
// replace handler keeps Encode total (it cannot report an error) should a
// string carry invalid UTF-8, which the decoder then reads back as U+FFFD.
std::string Dump(const Json& j) {
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

// ---------------------------------------------------------------------------
// Decoding helpers. Every failure names the JSON path of the offending value.

std::string Member(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string Element(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

Status Fail(const std::string& path, const std::string& what) {
  return Status::Error(path.empty() ? what : path + ": " + what);
}


// Structured values are named by type only: dumping them could be large, and
// deeply nested input would recurse.
std::string Describe(const Json& v) {
  if (v.is_string()) return Quoted(v.get_ref<const std::string&>());
  if (v.is_object() || v.is_array()) return std::string("an ") + v.type_name();
  return std::string(v.type_name()) + " " + v.dump();
}

Status ExpectType(const Json& v, const std::string& path, bool ok, const char* expected) {
  if (ok) return Status::Ok();
  return Fail(path, std::string("expected ") + expected + ", got " + Describe(v));
}

// `obj` must be an object with every one of `keys` and nothing but them and
// `optional`. Unknown keys are reported first (a misspelt key would
// otherwise surface as "missing").
Status CheckKeys(const Json& obj, const std::string& path, std::initializer_list<const char*> keys,
                 std::initializer_list<const char*> optional = {}) {
  Status st = ExpectType(obj, path, obj.is_object(), "an object");
  if (!st.ok()) return st;
  std::vector<std::string> known(keys.begin(), keys.end());
  known.insert(known.end(), optional.begin(), optional.end());
  for (const auto& item : obj.items()) {
    if (std::find(known.begin(), known.end(), item.key()) != known.end()) continue;
    std::string hint = ClosestMatch(item.key(), known);
    return Fail(Member(path, Printable(item.key())),
                "unknown key" + (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
  }
  for (const char* key : keys) {
    if (!obj.contains(key)) return Fail(Member(path, key), "required key is missing");
  }
  return Status::Ok();
}

Status GetString(const Json& obj, const std::string& path, const char* key, std::string* out) {
  const Json& v = obj.at(key);
  Status st = ExpectType(v, Member(path, key), v.is_string(), "a string");
  if (st.ok()) *out = v.get<std::string>();
  return st;
}

// nlohmann stores non-negative integer literals as number_unsigned and
// negative ones as number_integer; 1.0 and 1e3 are floats and rejected.
Status GetSize(const Json& obj, const std::string& path, const char* key, uint64_t* out) {
  const Json& v = obj.at(key);
  Status st = ExpectType(v, Member(path, key), v.is_number_unsigned(), "a non-negative integer");
  if (st.ok()) *out = v.get<uint64_t>();
  return st;
}

Status GetEpoch(const Json& obj, const std::string& path, const char* key, int64_t* out) {
  const Json& v = obj.at(key);
  bool fits = v.is_number_integer() &&
              (!v.is_number_unsigned() ||
               v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  Status st = ExpectType(v, Member(path, key), fits, "an integer (epoch seconds)");
  if (st.ok()) *out = v.get<int64_t>();
  return st;
}

// Guids are canonical decimal: no sign, no leading zeros, within uint64.
bool ParseGuid(std::string_view s, uint64_t* out) {
  if (s.size() > 1 && s[0] == '0') return false;
  return ParseUint64(s, out);
}

Status GetGuid(const Json& obj, const std::string& path, const char* key, uint64_t* out) {
  const Json& v = obj.at(key);
  if (v.is_string() && ParseGuid(v.get_ref<const std::string&>(), out)) return Status::Ok();
  return Fail(
      Member(path, key),
      "expected a decimal uint64 in a string (e.g. \"1311826421327416021\"), got " + Describe(v));
}

// A snapshot's own guid and createtxg are never 0 in ZFS; 0 in a manifest
// means a writer recorded a stream without knowing what it was.
Status GetNonZeroGuid(const Json& obj, const std::string& path, const char* key, uint64_t* out) {
  Status st = GetGuid(obj, path, key, out);
  if (st.ok() && *out == 0) return Fail(Member(path, key), "must not be 0");
  return st;
}

Status CheckString(const std::string& value, const std::string& path, bool ok,
                   const char* expected) {
  if (ok) return Status::Ok();
  return Fail(path, std::string("expected ") + expected + ", got " + Quoted(value));
}

// Reads a string member and checks it with `valid`.
Status GetChecked(const Json& obj, const std::string& path, const char* key,
                  const std::function<bool(const std::string&)>& valid, const char* expected,
                  std::string* out) {
  Status st = GetString(obj, path, key, out);
  if (!st.ok()) return st;
  return CheckString(*out, Member(path, key), valid(*out), expected);
}

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool IsSha256(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), IsLowerHex);
}

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsLowerHex(s[i])) return false;
  }
  return true;
}

bool IsUuidOrEmpty(const std::string& s) { return s.empty() || IsUuid(s); }

bool IsCompression(const std::string& s) { return s == "none" || s == "zstd"; }

bool IsTime(const std::string& s) {
  EpochSeconds t;
  return ParseRfc3339(s, &t);
}

bool IsSafePath(const std::string& s) { return IsSafeRelativePath(s); }

// The characters ZFS accepts in a dataset or snapshot name component
// (zfs_namecheck.c valid_char).
bool IsZfsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':' || c == ' ';
}

bool IsZfsComponent(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsZfsNameChar);
}

bool IsDatasetName(std::string_view s) {
  for (std::string_view part : Split(s, '/')) {
    if (!IsZfsComponent(part)) return false;
  }
  return true;
}

bool IsShortSnapshotName(const std::string& s) { return IsZfsComponent(s); }

bool IsFullSnapshotName(std::string_view s) {
  std::vector<std::string_view> parts = Split(s, '@');
  return parts.size() == 2 && IsDatasetName(parts[0]) && IsZfsComponent(parts[1]);
}

bool IsFullSnapshotNameOrEmpty(const std::string& s) { return s.empty() || IsFullSnapshotName(s); }

bool IsDataset(const std::string& s) { return IsDatasetName(s); }

// The host name is a directory level of the layout: one safe component.
bool IsHostComponent(const std::string& s) {
  return IsSafeRelativePath(s) && s.find('/') == std::string::npos;
}

bool IsNonEmpty(const std::string& s) { return !s.empty(); }

constexpr char kSha256Shape[] = "64 lowercase hex digits";
constexpr char kPathShape[] =
    "a relative path of ordinary components (no leading '/', no '.' or '..', no empty component)";
constexpr char kUuidShape[] = "a lowercase UUID (8-4-4-4-12 hex digits)";
constexpr char kUuidOrEmptyShape[] = "\"\" or a lowercase UUID (8-4-4-4-12 hex digits)";
constexpr char kTimeShape[] = "an RFC3339 time such as \"2026-11-26T10:25:00Z\"";
constexpr char kSnapshotShape[] = "a full snapshot name \"<dataset>@<snapshot>\"";

// The four fields shared by streams and config records; the caller checks keys.
Status ReadStoredFields(const Json& j, const std::string& path, StoredFile* out) {
  Status st = GetChecked(j, path, "file", IsSafePath, kPathShape, &out->file);
  if (st.ok()) st = GetSize(j, path, "size", &out->size);
  if (st.ok()) st = GetChecked(j, path, "sha256", IsSha256, kSha256Shape, &out->sha256);
  if (st.ok()) {
    st = GetChecked(j, path, "compression", IsCompression, "\"none\" or \"zstd\"",
                    &out->compression);
  }
  return st;
}

Status DecodeStream(const Json& j, const std::string& path, StoredFile* out) {
  Status st = CheckKeys(j, path, {"file", "size", "sha256", "compression"}, {"stream_size"});
  if (st.ok()) st = ReadStoredFields(j, path, out);
  if (st.ok() && j.contains("stream_size")) st = GetSize(j, path, "stream_size", &out->stream_size);
  return st;
}

Status DecodeConfig(const Json& j, const std::string& path, ConfigRecord* out) {
  Status st = CheckKeys(j, path, {"file", "size", "sha256", "compression", "written"});
  if (st.ok()) st = ReadStoredFields(j, path, &out->stored);
  if (st.ok()) st = GetChecked(j, path, "written", IsTime, kTimeShape, &out->written);
  return st;
}

Status DecodeLink(const Json& j, const std::string& path, ChainLink* out) {
  Status st = CheckKeys(j, path,
                        {"snapshot", "guid", "createtxg", "creation", "from", "from_guid", "stream",
                         "config", "written"});
  if (st.ok()) {
    st = GetChecked(j, path, "snapshot", IsShortSnapshotName,
                    "a snapshot name without the dataset (ZFS name characters only)",
                    &out->snapshot);
  }
  if (st.ok()) st = GetNonZeroGuid(j, path, "guid", &out->guid);
  if (st.ok()) st = GetNonZeroGuid(j, path, "createtxg", &out->createtxg);
  if (st.ok()) st = GetEpoch(j, path, "creation", &out->creation);
  if (st.ok()) {
    st = GetChecked(j, path, "from", IsFullSnapshotNameOrEmpty,
                    "\"\" (full stream) or a full snapshot name \"<dataset>@<snapshot>\"",
                    &out->from);
  }
  if (st.ok()) st = GetGuid(j, path, "from_guid", &out->from_guid);
  if (st.ok()) st = DecodeStream(j.at("stream"), Member(path, "stream"), &out->stream);
  if (st.ok()) st = GetChecked(j, path, "config", IsSafePath, kPathShape, &out->config);
  if (st.ok()) st = GetChecked(j, path, "written", IsTime, kTimeShape, &out->written);
  return st;
}

// A guid of 0 means "no source": it pairs with an empty name.
Status CheckGuidPairing(const std::string& name, uint64_t guid, const std::string& guid_path,
                        const char* what) {
  if (name.empty() && guid != 0) {
    return Fail(guid_path, std::string("expected \"0\" because ") + what + " is empty, got \"" +
                               Decimal(guid) + "\"");
  }
  if (!name.empty() && guid == 0) {
    return Fail(guid_path, std::string("expected the guid of ") + Quoted(name) + ", got \"0\"");
  }
  return Status::Ok();
}

// The base of a chain is a full stream or, for a clone, an incremental from
// the chain's origin; every later link is `zfs send -i <previous link>`.
// zfs receive enforces the same order, so a manifest that breaks it cannot
// be restored and is refused here rather than at restore time.
Status CheckLinkSource(const Chain& chain, size_t i, const std::string& path) {
  const ChainLink& link = chain.links[i];
  Status st = CheckGuidPairing(link.from, link.from_guid, Member(path, "from_guid"), "from");
  if (!st.ok()) return st;
  if (i == 0) {
    if (!link.from.empty() && link.from != chain.origin) {
      return Fail(Member(path, "from"),
                  "a chain base is a full stream (\"\") or an incremental from the chain origin " +
                      Quoted(chain.origin) + ", got " + Quoted(link.from));
    }
    if (!link.from.empty() && link.from_guid != chain.origin_guid) {
      return Fail(Member(path, "from_guid"), "expected \"" + Decimal(chain.origin_guid) +
                                                 "\" (the origin_guid of the chain), got \"" +
                                                 Decimal(link.from_guid) + "\"");
    }
    return Status::Ok();
  }
  const ChainLink& prev = chain.links[i - 1];
  std::string expected = chain.dataset + "@" + prev.snapshot;
  if (link.from != expected) {
    return Fail(Member(path, "from"),
                "expected " + Quoted(expected) + " (the previous link), got " + Quoted(link.from));
  }
  if (link.from_guid != prev.guid) {
    return Fail(Member(path, "from_guid"), "expected \"" + Decimal(prev.guid) +
                                               "\" (guid of the previous link), got \"" +
                                               Decimal(link.from_guid) + "\"");
  }
  if (link.createtxg <= prev.createtxg) {
    return Fail(Member(path, "createtxg"), Decimal(link.createtxg) +
                                               " is not after the previous link's createtxg " +
                                               Decimal(prev.createtxg));
  }
  return Status::Ok();
}

Status DecodeLinks(const Json& j, const std::string& path, Chain* chain) {
  Status st = ExpectType(j, path, j.is_array(), "an array");
  if (!st.ok()) return st;
  if (j.empty()) return Fail(path, "a chain needs at least one link");
  chain->links.resize(j.size());
  for (size_t i = 0; i < j.size() && st.ok(); ++i) {
    st = DecodeLink(j[i], Element(path, i), &chain->links[i]);
    if (st.ok()) st = CheckLinkSource(*chain, i, Element(path, i));
  }
  return st;
}

Status DecodeChain(const Json& j, const std::string& path, Chain* out) {
  Status st = CheckKeys(j, path, {"id", "dataset", "origin", "origin_guid", "image_uuid", "links"});
  if (st.ok()) st = GetChecked(j, path, "id", IsSafePath, kPathShape, &out->id);
  if (st.ok()) {
    st = GetChecked(j, path, "dataset", IsDataset, "a dataset name such as \"zones/<uuid>/data\"",
                    &out->dataset);
  }
  if (st.ok()) {
    st = GetChecked(j, path, "origin", IsFullSnapshotNameOrEmpty,
                    "\"\" (not a clone) or a full snapshot name \"<dataset>@<snapshot>\"",
                    &out->origin);
  }
  if (st.ok()) st = GetGuid(j, path, "origin_guid", &out->origin_guid);
  if (st.ok()) {
    st = CheckGuidPairing(out->origin, out->origin_guid, Member(path, "origin_guid"), "origin");
  }
  if (st.ok()) {
    st = GetChecked(j, path, "image_uuid", IsUuidOrEmpty, kUuidOrEmptyShape, &out->image_uuid);
  }
  if (st.ok() && out->origin.empty() && !out->image_uuid.empty()) {
    st = Fail(Member(path, "image_uuid"),
              "expected \"\" because the chain has no origin, got " + Quoted(out->image_uuid));
  }
  if (st.ok()) st = DecodeLinks(j.at("links"), Member(path, "links"), out);
  return st;
}

Status DecodeChains(const Json& j, const std::string& path, std::vector<Chain>* out) {
  Status st = ExpectType(j, path, j.is_array(), "an array");
  std::map<std::string, size_t> seen;
  out->resize(st.ok() ? j.size() : 0);
  for (size_t i = 0; i < out->size() && st.ok(); ++i) {
    std::string at = Element(path, i);
    st = DecodeChain(j[i], at, &(*out)[i]);
    if (!st.ok()) break;
    auto [it, inserted] = seen.emplace((*out)[i].id, i);
    if (!inserted) {
      st = Fail(Member(at, "id"), "duplicate chain id " + Quoted(it->first) + " (also " +
                                      Element(path, it->second) + ")");
    }
  }
  return st;
}

Status DecodeConfigs(const Json& j, const std::string& path, std::vector<ConfigRecord>* out) {
  Status st = ExpectType(j, path, j.is_array(), "an array");
  out->resize(st.ok() ? j.size() : 0);
  for (size_t i = 0; i < out->size() && st.ok(); ++i) {
    st = DecodeConfig(j[i], Element(path, i), &(*out)[i]);
  }
  return st;
}

// Where `file` is recorded in `m` (a config record or a link's stream), as a
// JSON path; "" when it is not. A link's `config` does not count: a run that
// removes two chains sharing a config journals it with the first removal
// while the second chain still names it.
std::string RecordedAt(const ZoneManifest& m, const std::string& file) {
  for (size_t i = 0; i < m.configs.size(); ++i) {
    if (m.configs[i].stored.file == file) return Member(Element("configs", i), "file");
  }
  for (size_t c = 0; c < m.chains.size(); ++c) {
    const std::vector<ChainLink>& links = m.chains[c].links;
    for (size_t l = 0; l < links.size(); ++l) {
      if (links[l].stream.file == file) {
        return Member(Member(Element(Member(Element("chains", c), "links"), l), "stream"), "file");
      }
    }
  }
  return "";
}

// After the zone identity, configs and chains: entries must lie in the zone's
// directory (apply deletes them) and contradict no record.
Status DecodeLooseFiles(const Json& j, const std::string& path, ZoneManifest* out) {
  Status st = ExpectType(j, path, j.is_array(), "an array");
  std::map<std::string, size_t> seen;
  const std::string zone_dir = out->uuid + "/";
  for (size_t i = 0; i < j.size() && st.ok(); ++i) {
    const std::string at = Element(path, i);
    st = ExpectType(j[i], at, j[i].is_string(), "a string");
    if (!st.ok()) break;
    const std::string& file = j[i].get_ref<const std::string&>();
    st = CheckString(file, at, IsSafePath(file), kPathShape);
    if (st.ok() && (!StartsWith(file, zone_dir) || file == zone_dir + "manifest.json")) {
      st = Fail(at, "expected a file below the zone's directory " + Quoted(zone_dir) +
                        " other than its manifest, got " + Quoted(file));
    }
    if (!st.ok()) break;
    auto [it, inserted] = seen.emplace(file, i);
    if (!inserted) {
      st = Fail(at, "duplicate file " + Quoted(file) + " (also " + Element(path, it->second) + ")");
    }
    std::string recorded = st.ok() ? RecordedAt(*out, file) : "";
    if (!recorded.empty()) {
      st = Fail(at, Quoted(file) + " is recorded at " + recorded +
                        ": a file is either recorded or loose, never both");
    }
    if (st.ok()) out->loose_files.insert(file);
  }
  return st;
}

Status DecodeZoneIdentity(const Json& j, const std::string& path, ZoneManifest* out) {
  Status st = CheckKeys(j, path, {"uuid", "alias", "brand", "image_uuid"});
  if (st.ok()) st = GetChecked(j, path, "uuid", IsUuid, kUuidShape, &out->uuid);
  if (st.ok()) st = GetString(j, path, "alias", &out->alias);
  if (st.ok()) st = GetChecked(j, path, "brand", IsNonEmpty, "a brand name", &out->brand);
  if (st.ok()) {
    st = GetChecked(j, path, "image_uuid", IsUuidOrEmpty, kUuidOrEmptyShape, &out->image_uuid);
  }
  return st;
}

Status DecodeImageBody(const Json& j, const std::string& path, ImageManifest* out) {
  Status st = CheckKeys(j, path, {"uuid", "snapshot", "guid", "createtxg", "stream", "written"},
                        {"imgadm", "imgadm_type"});
  if (st.ok()) st = GetChecked(j, path, "uuid", IsUuid, kUuidShape, &out->uuid);
  if (st.ok()) {
    st = GetChecked(j, path, "snapshot", IsFullSnapshotName, kSnapshotShape, &out->snapshot);
  }
  // imgadm installs an image as <pool>/<uuid>; a snapshot of another dataset
  // would restore the wrong image.
  if (st.ok() && !EndsWith(Split(out->snapshot, '@')[0], "/" + out->uuid)) {
    st = Fail(Member(path, "snapshot"),
              "expected a snapshot of \"<pool>/" + out->uuid + "\", got " + Quoted(out->snapshot));
  }
  if (st.ok()) st = GetNonZeroGuid(j, path, "guid", &out->guid);
  if (st.ok()) st = GetNonZeroGuid(j, path, "createtxg", &out->createtxg);
  if (st.ok()) st = DecodeStream(j.at("stream"), Member(path, "stream"), &out->stream);
  if (st.ok()) st = GetChecked(j, path, "written", IsTime, kTimeShape, &out->written);
  if (st.ok() && j.contains("imgadm")) {
    st = DecodeStream(j.at("imgadm"), Member(path, "imgadm"), &out->imgadm_record);
    const std::string want = "images/" + out->uuid + ".imgadm";
    if (st.ok() && out->imgadm_record.file != want) {
      st = Fail(Member(Member(path, "imgadm"), "file"),
                "expected " + Quoted(want) + ", got " + Quoted(out->imgadm_record.file));
    }
    if (st.ok() && out->imgadm_record.compression != "none") {
      st = Fail(Member(Member(path, "imgadm"), "compression"), "expected \"none\"");
    }
  }
  if (st.ok() && j.contains("imgadm_type")) {
    st = GetString(j, path, "imgadm_type", &out->imgadm_type);
  }
  return st;
}

// nlohmann keeps the last of duplicate object keys without a word; a manifest
// with two values for one key is ambiguous, so the parse callback records the
// path of the first duplicate and decoding refuses the document. Frames hold
// one path segment each (not whole paths) so deep nesting stays linear.
class DuplicateKeyFinder {
 public:
  bool OnEvent(Json::parse_event_t event, const Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        frames_.push_back(Frame{event == Json::parse_event_t::array_start, 0, {}, {}});
        break;
      case Json::parse_event_t::key:
        OnKey(parsed.get<std::string>());
        break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        frames_.pop_back();
        CountElement();
        break;
      case Json::parse_event_t::value:
        CountElement();
        break;
    }
    return true;
  }

  const std::string& duplicate() const { return duplicate_; }

 private:
  struct Frame {
    bool is_array;
    size_t index;                // arrays: index of the current element
    std::string key;             // objects: the current key
    std::set<std::string> keys;  // objects: keys seen so far
  };

  void OnKey(const std::string& key) {
    Frame& f = frames_.back();
    f.key = key;
    if (!f.keys.insert(key).second && duplicate_.empty()) duplicate_ = CurrentPath();
  }

  void CountElement() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().index;
  }

  std::string CurrentPath() const {
    std::string path;
    for (const Frame& f : frames_) {
      path = f.is_array ? Element(path, f.index) : Member(path, Printable(f.key));
    }
    return path;
  }

  std::vector<Frame> frames_;
  std::string duplicate_;
};

Status Parse(std::string_view text, Json* out) {
  DuplicateKeyFinder finder;
  try {
    *out = Json::parse(text.begin(), text.end(),
                       [&finder](int, Json::parse_event_t event, Json& parsed) {
                         return finder.OnEvent(event, parsed);
                       });
  } catch (const Json::exception& e) {
    // what() is "[json.exception.parse_error.N] parse error at line L,
    // column C: ..." or, for a number too large for a double,
    // "[json.exception.out_of_range.406] number overflow parsing '1e400'".
    std::string what = e.what();
    size_t prefix_end = what.find("] ");
    return Status::Error("invalid JSON: " +
                         (prefix_end == std::string::npos ? what : what.substr(prefix_end + 2)));
  }
  if (!finder.duplicate().empty()) return Fail(finder.duplicate(), "duplicate key");
  return ExpectType(*out, "manifest", out->is_object(), "a JSON object");
}

// The format version is checked before anything else: a newer zrecon may
// have added keys this one would otherwise report as unknown.
Status CheckHeader(const Json& doc, std::string_view kind) {
  if (!doc.contains("format_version")) return Fail("format_version", "required key is missing");
  const Json& v = doc.at("format_version");
  Status st = ExpectType(v, "format_version", v.is_number_integer(), "an integer");
  if (!st.ok()) return st;
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(kManifestFormatVersion)) {
    return Fail("format_version",
                "manifest format " + v.dump() + " is newer than this zrecon supports (format " +
                    std::to_string(kManifestFormatVersion) + "); upgrade zrecon to read it");
  }
  if (v.get<int64_t>() != kManifestFormatVersion) {
    return Fail("format_version",
                "expected " + std::to_string(kManifestFormatVersion) + ", got " + v.dump());
  }
  if (!doc.contains("kind")) return Fail("kind", "required key is missing");
  const Json& k = doc.at("kind");
  if (!k.is_string() || k.get_ref<const std::string&>() != kind) {
    return Fail("kind", "expected \"" + std::string(kind) + "\", got " + Describe(k));
  }
  return Status::Ok();
}

Status DecodeZoneDocument(const Json& doc, ZoneManifest* out) {
  Status st = CheckHeader(doc, kZoneKind);
  if (st.ok()) {
    st = CheckKeys(doc, "", {"format_version", "kind", "host", "zone", "configs", "chains"},
                   {"loose_files"});
  }
  if (st.ok()) {
    st = GetChecked(doc, "", "host", IsHostComponent, "a host name usable as a directory name",
                    &out->host);
  }
  if (st.ok()) st = DecodeZoneIdentity(doc.at("zone"), "zone", out);
  if (st.ok()) st = DecodeConfigs(doc.at("configs"), "configs", &out->configs);
  if (st.ok()) st = DecodeChains(doc.at("chains"), "chains", &out->chains);
  if (st.ok() && doc.contains("loose_files")) {
    st = DecodeLooseFiles(doc.at("loose_files"), "loose_files", out);
  }
  out->format_version = kManifestFormatVersion;
  return st;
}

Status DecodeImageDocument(const Json& doc, ImageManifest* out) {
  Status st = CheckHeader(doc, kImageKind);
  if (st.ok()) st = CheckKeys(doc, "", {"format_version", "kind", "image"});
  if (st.ok()) st = DecodeImageBody(doc.at("image"), "image", out);
  out->format_version = kManifestFormatVersion;
  return st;
}

// The boundary of nlohmann's exceptions: the checks above test types before
// reading values, so reaching the catch is a bug, reported rather than thrown.
template <typename Manifest>
Status Decode(std::string_view text, Manifest* out,
              Status (*decode_document)(const Json&, Manifest*)) {
  try {
    Json doc;
    Status st = Parse(text, &doc);
    if (!st.ok()) return st;
    Manifest m;
    st = decode_document(doc, &m);
    if (st.ok()) *out = std::move(m);
    return st;
  } catch (const Json::exception& e) {
    return Status::Error(std::string("internal error decoding manifest: ") + e.what());
  }
}

}  // namespace

std::string EncodeZoneManifest(const ZoneManifest& m) {
  Json doc = Json::object();
  doc["format_version"] = m.format_version;
  doc["kind"] = kZoneKind;
  doc["host"] = m.host;
  doc["zone"] =
      Json{{"uuid", m.uuid}, {"alias", m.alias}, {"brand", m.brand}, {"image_uuid", m.image_uuid}};
  Json configs = Json::array();
  for (const ConfigRecord& c : m.configs) configs.push_back(EncodeConfig(c));
  doc["configs"] = std::move(configs);
  Json chains = Json::array();
  for (const Chain& c : m.chains) chains.push_back(EncodeChain(c));
  doc["chains"] = std::move(chains);
  // Absent when empty, as in manifests written before the journal existed.
  if (!m.loose_files.empty()) doc["loose_files"] = m.loose_files;
  return Dump(doc);
}

Status DecodeZoneManifest(std::string_view json, ZoneManifest* out) {
  return Decode<ZoneManifest>(json, out, DecodeZoneDocument);
}

std::string EncodeImageManifest(const ImageManifest& m) {
  Json image = Json::object();
  image["uuid"] = m.uuid;
  image["snapshot"] = m.snapshot;
  image["guid"] = Decimal(m.guid);
  image["createtxg"] = Decimal(m.createtxg);
  image["stream"] = EncodeStoredFile(m.stream);
  image["written"] = m.written;
  if (!m.imgadm_record.file.empty()) {
    image["imgadm"] = EncodeStoredFile(m.imgadm_record);
    image["imgadm_type"] = m.imgadm_type;
  }
  Json doc = Json::object();
  doc["format_version"] = m.format_version;
  doc["kind"] = kImageKind;
  doc["image"] = std::move(image);
  return Dump(doc);
}

Status DecodeImageManifest(std::string_view json, ImageManifest* out) {
  return Decode<ImageManifest>(json, out, DecodeImageDocument);
}

bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path[0] == '/') return false;
  for (char c : path) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  for (std::string_view part : Split(path, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

}  // namespace zrecon
