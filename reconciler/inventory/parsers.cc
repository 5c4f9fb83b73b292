#include "reconciler/inventory/parsers.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <iterator>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "reconciler/util/strings.h"

namespace zrecon {
namespace {

// Columns of the illumos listing; also the property order of the legacy
// `zfs get` call, which yields the same facts one property per line.
enum Column : size_t {
  kName,
  kType,
  kOrigin,
  kCreation,
  kGuid,
  kCreatetxg,
  kUserrefs,
  kUsed,
  kExported,
  kColumnCount
};
constexpr std::array<std::string_view, kColumnCount> kColumnNames = {
    "name",      "type",     "origin", "creation",       "guid",
    "createtxg", "userrefs", "used",   kExportedProperty};

constexpr size_t kVmadmFieldCount = 7;
constexpr size_t kMaxQuotedBytes = 200;
constexpr std::string_view kUnset = "-";

std::string PropertyList() {
  std::string out;
  for (size_t c = kType; c < kColumnCount; ++c) {
    if (c != kType) out += ',';
    out.append(kColumnNames[c]);
  }
  return out;
}

// Errors name the 1-based line number and quote the line. Rows keep only a
// pointer to the start of their line: the number is counted on the error
// path, so the million-row happy path pays nothing for it.
size_t LineNumber(std::string_view text, const char* line_start) {
  return 1 + static_cast<size_t>(std::count(text.data(), line_start, '\n'));
}

Status ErrorAt(std::string_view text, const char* line_start, const std::string& what) {
  size_t number = LineNumber(text, line_start);
  std::string_view line = text.substr(static_cast<size_t>(line_start - text.data()));
  line = line.substr(0, line.find('\n'));
  std::string quoted = Printable(line.substr(0, kMaxQuotedBytes));
  if (line.size() > kMaxQuotedBytes) quoted += "...";
  return Status::Error("line " + std::to_string(number) + ": " + what + ": \"" + quoted + "\"");
}

// Iterates over the lines of command output. A missing final newline is
// fine. Blank lines carry no row and are skipped. A CR is rejected rather
// than stripped: neither zfs nor vmadm writes one, so it means the capture
// was converted (CRLF) and may have been altered in other ways too.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}

  // Sets *line to the next non-blank line; false at the end or on error.
  bool Next(std::string_view* line, Status* status) {
    while (pos_ < text_.size()) {
      const char* start = text_.data() + pos_;
      const void* newline = std::memchr(start, '\n', text_.size() - pos_);
      size_t length = newline ? static_cast<size_t>(static_cast<const char*>(newline) - start)
                              : text_.size() - pos_;
      pos_ += length + 1;
      if (length == 0) continue;
      *line = std::string_view(start, length);
      if (line->back() == '\r') {
        *status = ErrorAt(text_, start,
                          "carriage return at end of line (CRLF line endings?); expected the "
                          "LF-terminated output of the command");
        return false;
      }
      return true;
    }
    return false;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// Splits `line` at `sep` into out[0..n). With last_takes_rest the n-th field
// keeps any further separators. Returns the number of fields in the line
// (which may exceed n; then only the first n are stored).
size_t SplitFields(std::string_view line, char sep, std::string_view* out, size_t n,
                   bool last_takes_rest) {
  size_t count = 0;
  size_t start = 0;
  for (;;) {
    size_t end =
        (last_takes_rest && count + 1 == n) ? std::string_view::npos : line.find(sep, start);
    if (count < n) {
      out[count] = line.substr(start, end == std::string_view::npos ? end : end - start);
    }
    ++count;
    if (end == std::string_view::npos) return count;
    start = end + 1;
  }
}

bool ParseDecimal(std::string_view text, uint64_t* out) { return ParseUint64(text, out); }
bool ParseDecimal(std::string_view text, int64_t* out) { return ParseInt64(text, out); }

// One dataset, snapshot or bookmark, in columns. `line` holds, per column,
// the start of the line the value came from (all the same line for `zfs
// list`; one line per property for `zfs get`).
struct Row {
  std::array<std::string_view, kColumnCount> value;
  std::array<const char*, kColumnCount> line;
};

// Turns rows into datasets, snapshots and bookmarks. Rows may come in any
// order: a snapshot or bookmark that precedes its dataset's row waits until
// Finish(). Nothing reaches the inventory unless every row is valid.
class InventoryBuilder {
 public:
  InventoryBuilder(std::string_view text, const Inventory& existing)
      : text_(text), existing_(existing) {}

  Status Add(const Row& row);
  // Resolves waiting rows, rejects duplicates, then appends to inv and
  // re-indexes it.
  Status Finish(Inventory* inv);

 private:
  static constexpr size_t kNotFound = static_cast<size_t>(-1);

  struct Waiting {
    std::string_view dataset;
    const char* line;
    Snapshot snapshot;  // unused for bookmarks
  };

  Status Error(const Row& row, Column column, const std::string& what) const {
    return ErrorAt(text_, row.line[column], what);
  }
  template <typename T>
  Status Number(const Row& row, Column column, T* out) const;
  Status NotApplicable(const Row& row, Column column) const;
  Status SplitName(const Row& row, char sep, std::string_view* parent,
                   std::string_view* child) const;
  size_t Find(std::string_view name);
  Status AddDataset(const Row& row, DatasetType type);
  Status AddSnapshot(const Row& row);
  Status AddBookmark(const Row& row);
  void Attach(size_t index, const char* line, Snapshot snapshot);
  bool HasDuplicateSnapshots(size_t d, std::unordered_set<std::string_view>* seen) const;
  Status CheckDuplicateSnapshots() const;
  Status CheckDuplicateBookmarks() const;

  std::string_view text_;
  const Inventory& existing_;
  std::vector<Dataset> datasets_;
  std::vector<const char*> dataset_lines_;
  // Per dataset, the line of each of its snapshots (same order).
  std::vector<std::vector<const char*>> snapshot_lines_;
  std::vector<Bookmark> bookmarks_;
  std::vector<const char*> bookmark_lines_;
  std::unordered_map<std::string_view, size_t> index_;
  std::vector<Waiting> waiting_snapshots_;
  std::vector<Waiting> waiting_bookmarks_;
  // Real listings put a dataset's snapshots right after it: remember the
  // last lookup so the common case costs no hashing.
  std::string_view last_name_;
  size_t last_index_ = kNotFound;
};

template <typename T>
Status InventoryBuilder::Number(const Row& row, Column column, T* out) const {
  if (ParseDecimal(row.value[column], out)) return Status::Ok();
  return Error(row, column,
               std::string(kColumnNames[column]) + " is not a decimal number: '" +
                   Printable(row.value[column]) + "'");
}

// A column zfs reports as '-' for this type (userrefs of a filesystem, used
// of a bookmark): '-' or a number is accepted, the value is not kept.
Status InventoryBuilder::NotApplicable(const Row& row, Column column) const {
  uint64_t ignored;
  if (row.value[column] == kUnset || ParseUint64(row.value[column], &ignored)) {
    return Status::Ok();
  }
  return Error(row, column,
               std::string(kColumnNames[column]) + " is neither '-' nor a number: '" +
                   Printable(row.value[column]) + "'");
}

Status InventoryBuilder::SplitName(const Row& row, char sep, std::string_view* parent,
                                   std::string_view* child) const {
  std::string_view name = row.value[kName];
  size_t at = name.find(sep);
  if (at != std::string_view::npos && at != 0 && at + 1 != name.size()) {
    *parent = name.substr(0, at);
    *child = name.substr(at + 1);
    return Status::Ok();
  }
  std::string what =
      std::string(sep == '@' ? "snapshot" : "bookmark") + " name '" + Printable(name) + "' ";
  if (at == std::string_view::npos) {
    what += "has no '" + std::string(1, sep) + "'";
  } else if (at == 0) {
    what += "has no dataset part";
  } else {
    what += "is empty after '" + std::string(1, sep) + "'";
  }
  return Error(row, kName, what);
}

size_t InventoryBuilder::Find(std::string_view name) {
  if (last_index_ != kNotFound && name == last_name_) return last_index_;
  auto it = index_.find(name);
  if (it == index_.end()) return kNotFound;
  last_name_ = name;
  last_index_ = it->second;
  return last_index_;
}

Status InventoryBuilder::Add(const Row& row) {
  std::string_view name = row.value[kName];
  if (name.empty()) return Error(row, kName, "empty name");
  std::string_view type = row.value[kType];
  if (type == "snapshot") return AddSnapshot(row);
  if (type == "filesystem") return AddDataset(row, DatasetType::kFilesystem);
  if (type == "volume") return AddDataset(row, DatasetType::kVolume);
  if (type == "bookmark") return AddBookmark(row);
  return Error(
      row, kType,
      "unknown type '" + Printable(type) + "' (expected filesystem, volume, snapshot or bookmark)");
}

Status InventoryBuilder::AddDataset(const Row& row, DatasetType type) {
  std::string_view name = row.value[kName];
  if (name.find_first_of("@#") != std::string_view::npos) {
    return Error(row, kName,
                 "a " + std::string(DatasetTypeName(type)) + " name cannot contain '@' or '#': '" +
                     Printable(name) + "'");
  }
  std::string_view origin = row.value[kOrigin];
  if (origin != kUnset && origin.find('@') == std::string_view::npos) {
    return Error(row, kOrigin, "origin is not a snapshot name: '" + Printable(origin) + "'");
  }
  Dataset d;
  Status s = Number(row, kCreation, &d.creation);
  if (s.ok()) s = Number(row, kGuid, &d.guid);
  if (s.ok()) s = Number(row, kCreatetxg, &d.createtxg);
  if (s.ok()) s = Number(row, kUsed, &d.used);
  if (s.ok()) s = NotApplicable(row, kUserrefs);
  if (!s.ok()) return s;
  if (existing_.FindDataset(name) != nullptr) {
    return Error(row, kName, "dataset '" + Printable(name) + "' is already in the inventory");
  }
  auto [it, inserted] = index_.emplace(name, datasets_.size());
  if (!inserted) {
    return Error(row, kName,
                 "duplicate row for dataset '" + Printable(name) + "' (first at line " +
                     std::to_string(LineNumber(text_, dataset_lines_[it->second])) + ")");
  }
  d.name = std::string(name);
  d.type = type;
  if (origin != kUnset) d.origin = std::string(origin);
  datasets_.push_back(std::move(d));
  dataset_lines_.push_back(row.line[kName]);
  snapshot_lines_.emplace_back();
  return Status::Ok();
}

Status InventoryBuilder::AddSnapshot(const Row& row) {
  std::string_view dataset, short_name;
  Status s = SplitName(row, '@', &dataset, &short_name);
  if (!s.ok()) return s;
  Snapshot snap;
  s = Number(row, kCreation, &snap.creation);
  if (s.ok()) s = Number(row, kGuid, &snap.guid);
  if (s.ok()) s = Number(row, kCreatetxg, &snap.createtxg);
  if (s.ok()) s = Number(row, kUserrefs, &snap.userrefs);
  if (s.ok()) s = Number(row, kUsed, &snap.used);
  if (!s.ok()) return s;
  snap.name = std::string(short_name);
  if (row.value[kExported] != kUnset) snap.exported = std::string(row.value[kExported]);
  size_t index = Find(dataset);
  if (index == kNotFound) {
    waiting_snapshots_.push_back({dataset, row.line[kName], std::move(snap)});
  } else {
    Attach(index, row.line[kName], std::move(snap));
  }
  return Status::Ok();
}

Status InventoryBuilder::AddBookmark(const Row& row) {
  std::string_view dataset, short_name;
  Status s = SplitName(row, '#', &dataset, &short_name);
  if (!s.ok()) return s;
  Bookmark b;
  s = Number(row, kCreation, &b.creation);
  if (s.ok()) s = Number(row, kGuid, &b.guid);
  if (s.ok()) s = Number(row, kCreatetxg, &b.createtxg);
  if (s.ok()) s = NotApplicable(row, kUserrefs);
  if (s.ok()) s = NotApplicable(row, kUsed);
  if (!s.ok()) return s;
  b.name = std::string(row.value[kName]);
  bookmarks_.push_back(std::move(b));
  bookmark_lines_.push_back(row.line[kName]);
  if (Find(dataset) == kNotFound) waiting_bookmarks_.push_back({dataset, row.line[kName], {}});
  return Status::Ok();
}

void InventoryBuilder::Attach(size_t index, const char* line, Snapshot snapshot) {
  datasets_[index].snapshots.push_back(std::move(snapshot));
  snapshot_lines_[index].push_back(line);
}

bool InventoryBuilder::HasDuplicateSnapshots(size_t d,
                                             std::unordered_set<std::string_view>* seen) const {
  seen->clear();
  for (const Snapshot& s : datasets_[d].snapshots) {
    if (!seen->insert(s.name).second) return true;
  }
  return false;
}

Status InventoryBuilder::CheckDuplicateSnapshots() const {
  // A hash set finds whether a dataset has a duplicate in linear time; the
  // sort below, which picks the row to report, runs only when it does.
  std::unordered_set<std::string_view> seen;
  std::vector<size_t> order;
  for (size_t d = 0; d < datasets_.size(); ++d) {
    if (!HasDuplicateSnapshots(d, &seen)) continue;
    const std::vector<Snapshot>& snaps = datasets_[d].snapshots;
    order.resize(snaps.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    // Ties sort by line so that the later of two rows is reported.
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      int c = snaps[a].name.compare(snaps[b].name);
      return c != 0 ? c < 0 : snapshot_lines_[d][a] < snapshot_lines_[d][b];
    });
    for (size_t i = 1; i < order.size(); ++i) {
      if (snaps[order[i]].name == snaps[order[i - 1]].name) {
        return ErrorAt(text_, snapshot_lines_[d][order[i]],
                       "duplicate row for snapshot '" + Printable(datasets_[d].name) + "@" +
                           Printable(snaps[order[i]].name) + "'");
      }
    }
  }
  return Status::Ok();
}

Status InventoryBuilder::CheckDuplicateBookmarks() const {
  std::unordered_set<std::string_view> seen;
  for (size_t i = 0; i < bookmarks_.size(); ++i) {
    if (!seen.insert(bookmarks_[i].name).second) {
      return ErrorAt(text_, bookmark_lines_[i],
                     "duplicate row for bookmark '" + Printable(bookmarks_[i].name) + "'");
    }
  }
  return Status::Ok();
}

Status InventoryBuilder::Finish(Inventory* inv) {
  for (Waiting& w : waiting_snapshots_) {
    size_t index = Find(w.dataset);
    if (index == kNotFound) {
      return ErrorAt(
          text_, w.line,
          "snapshot of dataset '" + Printable(w.dataset) + "', which has no row of its own");
    }
    Attach(index, w.line, std::move(w.snapshot));
  }
  for (const Waiting& w : waiting_bookmarks_) {
    if (Find(w.dataset) == kNotFound) {
      return ErrorAt(
          text_, w.line,
          "bookmark of dataset '" + Printable(w.dataset) + "', which has no row of its own");
    }
  }
  Status s = CheckDuplicateSnapshots();
  if (s.ok()) s = CheckDuplicateBookmarks();
  if (!s.ok()) return s;
  inv->datasets.reserve(inv->datasets.size() + datasets_.size());
  std::move(datasets_.begin(), datasets_.end(), std::back_inserter(inv->datasets));
  std::move(bookmarks_.begin(), bookmarks_.end(), std::back_inserter(inv->bookmarks));
  inv->Index();
  return Status::Ok();
}

size_t ColumnOfProperty(std::string_view property) {
  for (size_t c = kType; c < kColumnCount; ++c) {
    if (kColumnNames[c] == property) return c;
  }
  return kColumnCount;
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// vmadm only checks this shape (length, dashes) on UUID arguments; the hex
// digits are checked here too since a UUID is used in dataset names.
bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !IsHex(text[i])) return false;
  }
  return true;
}

Status CheckZone(std::string_view text, const char* line, const Zone& z) {
  if (!IsUuid(z.uuid)) return ErrorAt(text, line, "bad uuid '" + Printable(z.uuid) + "'");
  if (!z.image_uuid.empty() && !IsUuid(z.image_uuid)) {
    return ErrorAt(text, line, "bad image_uuid '" + Printable(z.image_uuid) + "'");
  }
  if (z.brand.empty()) return ErrorAt(text, line, "empty brand");
  if (z.state.empty()) return ErrorAt(text, line, "empty state");
  return Status::Ok();
}

// Appends `zfs list -H -p` rows field by field, without temporaries.
class RowWriter {
 public:
  explicit RowWriter(std::string* out) : out_(out) {}

  RowWriter& Text(std::string_view text) {
    Separate();
    out_->append(text);
    return *this;
  }
  RowWriter& Name(std::string_view parent, char sep, std::string_view child) {
    Separate();
    out_->append(parent).append(1, sep).append(child);
    return *this;
  }
  RowWriter& OrUnset(std::string_view text) { return Text(text.empty() ? kUnset : text); }
  template <typename T>
  RowWriter& Number(T value) {
    Separate();
    char buf[24];
    auto result = std::to_chars(buf, buf + sizeof buf, value);
    out_->append(buf, static_cast<size_t>(result.ptr - buf));
    return *this;
  }
  void End() {
    out_->push_back('\n');
    fields_ = 0;
  }

 private:
  void Separate() {
    if (fields_++ > 0) out_->push_back('\t');
  }
  std::string* out_;
  size_t fields_ = 0;
};

void WriteDataset(const Dataset& d, RowWriter* w) {
  w->Text(d.name).Text(DatasetTypeName(d.type)).OrUnset(d.origin).Number(d.creation);
  w->Number(d.guid).Number(d.createtxg).Text(kUnset).Number(d.used).Text(kUnset).End();
  for (const Snapshot& s : d.snapshots) {
    w->Name(d.name, '@', s.name).Text("snapshot").Text(kUnset).Number(s.creation);
    w->Number(s.guid).Number(s.createtxg).Number(s.userrefs).Number(s.used).OrUnset(s.exported);
    w->End();
  }
}

void WriteBookmark(const Bookmark& b, RowWriter* w) {
  w->Text(b.name).Text("bookmark").Text(kUnset).Number(b.creation).Number(b.guid);
  w->Number(b.createtxg).Text(kUnset).Text(kUnset).Text(kUnset).End();
}

}  // namespace

std::vector<std::string> IllumosZfsListArgv(const std::string& zfs) {
  return {zfs, "list", "-H", "-p", "-t", "all", "-o", "name," + PropertyList()};
}

Status ParseZfsList(std::string_view text, Inventory* inv) {
  InventoryBuilder builder(text, *inv);
  LineReader reader(text);
  Status status;
  std::string_view line;
  Row row;
  while (reader.Next(&line, &status)) {
    size_t fields = SplitFields(line, '\t', row.value.data(), kColumnCount, false);
    if (fields != kColumnCount) {
      return ErrorAt(text, line.data(),
                     "expected " + std::to_string(kColumnCount) + " TAB-separated fields, got " +
                         std::to_string(fields));
    }
    row.line.fill(line.data());
    status = builder.Add(row);
    if (!status.ok()) return status;
  }
  if (!status.ok()) return status;
  return builder.Finish(inv);
}

std::vector<std::string> LegacyZfsGetArgv(const std::string& zfs) {
  return {zfs, "get", "-H", "-p", "-r", "-o", "name,property,value", PropertyList()};
}

Status ParseZfsGet(std::string_view text, Inventory* inv) {
  // Lines are grouped by name; zfs-fuse prints one name's lines together,
  // but nothing here depends on that.
  std::vector<Row> names;  // one row per name, gathered from its lines
  std::unordered_map<std::string_view, size_t> by_name;
  LineReader reader(text);
  Status status;
  std::string_view line;
  std::array<std::string_view, 3> f;
  while (reader.Next(&line, &status)) {
    size_t fields = SplitFields(line, '\t', f.data(), f.size(), false);
    if (fields != f.size()) {
      return ErrorAt(
          text, line.data(),
          "expected 3 TAB-separated fields (name, property, value), got " + std::to_string(fields));
    }
    if (f[0].empty()) return ErrorAt(text, line.data(), "empty name");
    size_t column = ColumnOfProperty(f[1]);
    if (column == kColumnCount) {
      return ErrorAt(
          text, line.data(),
          "unexpected property '" + Printable(f[1]) + "' (expected one of " + PropertyList() + ")");
    }
    auto [it, inserted] = by_name.emplace(f[0], names.size());
    if (inserted) {
      names.emplace_back();
      names.back().line.fill(nullptr);
      names.back().value[kName] = f[0];
      names.back().line[kName] = line.data();
    }
    Row& row = names[it->second];
    if (row.line[column] != nullptr) {
      return ErrorAt(text, line.data(),
                     "property '" + std::string(f[1]) + "' repeated for '" + Printable(f[0]) + "'");
    }
    row.value[column] = f[2];
    row.line[column] = line.data();
  }
  if (!status.ok()) return status;
  InventoryBuilder builder(text, *inv);
  for (const Row& row : names) {
    for (size_t c = kType; c < kColumnCount; ++c) {
      if (row.line[c] == nullptr) {
        return ErrorAt(text, row.line[kName],
                       "no '" + std::string(kColumnNames[c]) + "' line for '" +
                           Printable(row.value[kName]) + "' (each name needs all of " +
                           PropertyList() + ")");
      }
    }
    status = builder.Add(row);
    if (!status.ok()) return status;
  }
  return builder.Finish(inv);
}

std::vector<std::string> VmadmListArgv(const std::string& vmadm) {
  return {vmadm, "list", "-p", "-o", "uuid,type,brand,state,image_uuid,zpool,alias"};
}

Status ParseVmadmList(std::string_view text, Inventory* inv) {
  std::vector<Zone> zones;
  std::unordered_map<std::string_view, const char*> first_line;
  LineReader reader(text);
  Status status;
  std::string_view line;
  std::array<std::string_view, kVmadmFieldCount> f;
  while (reader.Next(&line, &status)) {
    // vmadm does not escape ':'; the alias is last so it keeps any.
    size_t fields = SplitFields(line, ':', f.data(), f.size(), true);
    if (fields != f.size()) {
      return ErrorAt(text, line.data(),
                     "expected 7 ':'-separated fields (uuid,type,brand,state,image_uuid,zpool,"
                     "alias), got " +
                         std::to_string(fields));
    }
    Zone z;
    z.uuid = f[0];
    z.type = f[1];
    z.brand = f[2];
    z.state = f[3];
    z.image_uuid = f[4];
    z.zpool = f[5];
    z.alias = f[6];
    z.flexible_disk_size_known = false;  // no column for it
    status = CheckZone(text, line.data(), z);
    if (!status.ok()) return status;
    auto [it, inserted] = first_line.emplace(f[0], line.data());
    if (!inserted) {
      return ErrorAt(text, line.data(),
                     "duplicate zone '" + z.uuid + "' (first at line " +
                         std::to_string(LineNumber(text, it->second)) + ")");
    }
    if (inv->FindZone(z.uuid) != nullptr) {
      return ErrorAt(text, line.data(), "zone '" + z.uuid + "' is already in the inventory");
    }
    zones.push_back(std::move(z));
  }
  if (!status.ok()) return status;
  std::move(zones.begin(), zones.end(), std::back_inserter(inv->zones));
  inv->Index();
  return Status::Ok();
}

std::string FormatZfsList(const Inventory& inv) {
  std::string out;
  out.reserve((inv.datasets.size() + inv.snapshot_count() + inv.bookmarks.size()) * 112);
  RowWriter w(&out);
  // zfs list order (reference section 4): by dataset part with strcmp, a
  // dataset followed by its snapshots; a bookmark's whole name is its key,
  // so `ds#bm` lands after ds's snapshots and before `ds-x` and `ds/child`.
  auto bookmark = inv.bookmarks.begin();
  for (const Dataset& d : inv.datasets) {
    for (; bookmark != inv.bookmarks.end() && bookmark->name < d.name; ++bookmark) {
      WriteBookmark(*bookmark, &w);
    }
    WriteDataset(d, &w);
  }
  for (; bookmark != inv.bookmarks.end(); ++bookmark) WriteBookmark(*bookmark, &w);
  return out;
}

}  // namespace zrecon
