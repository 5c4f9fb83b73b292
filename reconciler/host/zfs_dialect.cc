#include "reconciler/host/zfs_dialect.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <limits>
#include <utility>

#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

// Bytes an argument occupies in the exec image: its text and its NUL.
size_t ArgBytes(std::string_view arg) { return arg.size() + 1; }

size_t ArgvBytes(const Argv& argv) {
  size_t total = 0;
  for (const std::string& arg : argv) total += ArgBytes(arg);
  return total;
}

struct Batch {
  size_t begin;
  size_t end;
};

// Cuts items into consecutive batches, in order, each costing at most
// kArgvByteBudget bytes (fixed_bytes plus len+1 per item) and holding at most
// max_items items. An item too large for any batch gets a batch of its own: a
// name is never dropped (zfs, or exec, then rejects it with its own error).
std::vector<Batch> PackBatches(size_t fixed_bytes, const std::vector<std::string>& items,
                               size_t max_items) {
  std::vector<Batch> batches;
  size_t bytes = fixed_bytes;
  for (size_t i = 0; i < items.size(); ++i) {
    size_t cost = ArgBytes(items[i]);
    bool fits = !batches.empty() && batches.back().end - batches.back().begin < max_items &&
                bytes + cost <= kArgvByteBudget;
    if (!fits) {
      batches.push_back(Batch{i, i});
      bytes = fixed_bytes;
    }
    batches.back().end = i + 1;
    bytes += cost;
  }
  return batches;
}

std::string SnapshotSpec(const std::string& dataset, const std::vector<std::string>& short_names,
                         Batch batch) {
  std::string spec = dataset + "@";
  for (size_t i = batch.begin; i < batch.end; ++i) {
    if (i != batch.begin) spec += ',';
    spec += short_names[i];
  }
  return spec;
}

// The fields of one `zfs send -nP` line, and how many precede the optional
// trailing size: "size" 1, "full" 2 (name), "incremental" 3 (from, name).
// 0: not a line the estimate is read from.
size_t EstimateFieldsBeforeSize(std::string_view kind) {
  if (kind == "size") return 1;
  if (kind == "full") return 2;
  if (kind == "incremental") return 3;
  return 0;
}

}  // namespace

const char* ZfsDialectName(ZfsDialect d) { return d == ZfsDialect::kLegacy ? "legacy" : "illumos"; }

bool ParseZfsDialect(std::string_view text, ZfsDialect* out) {
  if (text == "illumos") {
    *out = ZfsDialect::kIllumos;
  } else if (text == "legacy") {
    *out = ZfsDialect::kLegacy;
  } else {
    return false;
  }
  return true;
}

std::vector<Argv> ZfsCommands::Snapshot(const std::vector<std::string>& names) const {
  std::vector<Argv> argvs;
  if (dialect == ZfsDialect::kLegacy) {
    // zfs-fuse takes exactly one name per `zfs snapshot` ("too many
    // arguments" otherwise), so a group is no longer atomic here.
    for (const std::string& name : names) argvs.push_back({zfs, "snapshot", name});
    return argvs;
  }
  const Argv head = {zfs, "snapshot"};
  for (Batch batch : PackBatches(ArgvBytes(head), names, std::numeric_limits<size_t>::max())) {
    Argv argv = head;
    argv.insert(argv.end(), names.begin() + batch.begin, names.begin() + batch.end);
    argvs.push_back(std::move(argv));
  }
  return argvs;
}

Argv ZfsCommands::SnapshotRecursive(const std::string& name) const {
  return {zfs, "snapshot", "-r", name};
}

std::vector<Argv> ZfsCommands::DestroySnapshots(const std::string& dataset,
                                                const std::vector<std::string>& short_names) const {
  std::vector<Argv> argvs;
  if (dialect == ZfsDialect::kLegacy) {
    // zfs-fuse has no comma lists in `zfs destroy`.
    for (const std::string& name : short_names) {
      argvs.push_back({zfs, "destroy", dataset + "@" + name});
    }
    return argvs;
  }
  // In "ds@a,b,c" the first name's +1 is the NUL and every later name's +1
  // its comma, so each name costs len+1 on top of "ds@".
  const size_t fixed = ArgvBytes({zfs, "destroy"}) + dataset.size() + 1;
  for (Batch batch : PackBatches(fixed, short_names, kDestroyBatchSize)) {
    argvs.push_back({zfs, "destroy", SnapshotSpec(dataset, short_names, batch)});
  }
  return argvs;
}

Argv ZfsCommands::Send(const std::string& snapshot, const std::string& from) const {
  if (from.empty()) return {zfs, "send", snapshot};
  return {zfs, "send", "-i", from, snapshot};
}

Argv ZfsCommands::SendEstimate(const std::string& snapshot, const std::string& from) const {
  if (dialect == ZfsDialect::kLegacy) return {};
  if (from.empty()) return {zfs, "send", "-nP", snapshot};
  return {zfs, "send", "-nP", "-i", from, snapshot};
}

Argv ZfsCommands::SetProperty(const std::string& target, std::string_view property,
                              const std::string& value) const {
  std::string assignment(property);
  assignment += '=';
  assignment += value;
  return {zfs, "set", std::move(assignment), target};
}

Argv ZfsCommands::InheritProperty(const std::string& target, std::string_view property) const {
  return {zfs, "inherit", std::string(property), target};
}

Argv ZfsCommands::Hold(const std::string& tag, const std::string& snapshot) const {
  return {zfs, "hold", tag, snapshot};
}

Argv ZfsCommands::Release(const std::string& tag, const std::string& snapshot) const {
  return {zfs, "release", tag, snapshot};
}

bool ParseSendEstimate(std::string_view out, uint64_t* bytes) {
  bool have_total = false;
  uint64_t total = 0;
  size_t streams = 0;
  bool stream_sized = false;
  uint64_t stream_bytes = 0;
  for (std::string_view line : Split(out, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::vector<std::string_view> fields = Split(line, '\t');
    const size_t before = EstimateFieldsBeforeSize(fields[0]);
    if (before == 0) continue;
    const bool is_total = fields[0] == "size";
    // Only the stream lines may omit their size.
    if (fields.size() != before + 1 && (is_total || fields.size() != before)) return false;
    uint64_t value = 0;
    if (fields.size() == before + 1 && !ParseUint64(fields[before], &value)) return false;
    if (is_total) {
      if (have_total) return false;
      have_total = true;
      total = value;
    } else {
      ++streams;
      stream_sized = fields.size() == before + 1;
      stream_bytes = value;
    }
  }
  if (have_total) {
    *bytes = total;
    return true;
  }
  if (streams != 1 || !stream_sized) return false;
  *bytes = stream_bytes;
  return true;
}

Argv ZfsCommands::VmadmGet(const std::string& uuid) const { return {vmadm, "get", uuid}; }

Argv ZfsCommands::SnapshotIdentity(const std::string& snapshot) const {
  return {zfs, "get", "-H", "-p", "-o", "name,property,value", "guid,createtxg,creation", snapshot};
}

Status ParseSnapshotIdentity(std::string_view out, const std::string& snapshot, uint64_t* guid,
                             uint64_t* createtxg, int64_t* creation) {
  for (std::string_view line : Split(out, '\n')) {
    std::vector<std::string_view> f = Split(line, '\t');
    if (f.size() != 3 || f[0] != snapshot) continue;
    uint64_t v = 0;
    if (!ParseUint64(f[2], &v)) {
      return Status::Error("unexpected value \"" + Printable(line) + "\"");
    }
    if (f[1] == "guid") *guid = v;
    if (f[1] == "createtxg") *createtxg = v;
    if (f[1] == "creation") *creation = static_cast<int64_t>(v);
  }
  return Status::Ok();
}

Argv ZfsCommands::Receive(const std::string& target, bool rollback) const {
  Argv argv = {zfs, "receive", "-u"};
  if (rollback) argv.push_back("-F");
  argv.push_back(target);
  return argv;
}

Argv ZfsCommands::DestroyTree(const std::string& name, bool force) const {
  Argv argv = {zfs, "destroy", "-r"};
  if (force) argv.push_back("-f");
  argv.push_back(name);
  return argv;
}

Argv ZfsCommands::Rename(const std::string& from, const std::string& to) const {
  return {zfs, "rename", from, to};
}

Argv ZfsCommands::Mount(const std::string& dataset) const { return {zfs, "mount", dataset}; }

Argv ZfsCommands::Unmount(const std::string& dataset) const { return {zfs, "umount", dataset}; }

Argv ZfsCommands::VmadmCreate() const { return {vmadm, "create"}; }

Argv ZfsCommands::VmadmStopForce(const std::string& uuid) const {
  return {vmadm, "stop", "-F", uuid};
}

Argv ZfsCommands::VmadmStart(const std::string& uuid) const { return {vmadm, "start", uuid}; }

Argv ZfsCommands::VmadmDelete(const std::string& uuid) const { return {vmadm, "delete", uuid}; }

Argv ZfsCommands::VmadmUpdate(const std::string& uuid,
                              const std::vector<std::string>& assignments) const {
  Argv argv = {vmadm, "update", uuid};
  argv.insert(argv.end(), assignments.begin(), assignments.end());
  return argv;
}

Argv ZfsCommands::LocalProperties(const std::string& dataset) const {
  return {zfs, "get", "-H", "-p", "-s", "local", "-o", "property,value", "all", dataset};
}

Argv ZfsCommands::Available(const std::string& pool) const {
  return {zfs, "get", "-H", "-p", "-o", "value", "available", pool};
}

Status ParseAvailable(std::string_view out, uint64_t* bytes) {
  std::string_view text = out;
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Status::Error("expected a byte count, got \"" + Printable(std::string(out)) + "\"");
  }
  *bytes = value;
  return Status::Ok();
}

Status ParseLocalProperties(std::string_view out,
                            std::vector<std::pair<std::string, std::string>>* properties) {
  // Creation-time properties: zfs set refuses them on an existing dataset.
  static const char* const kCreationOnly[] = {"volsize", "volblocksize", "utf8only",
                                              "normalization", "casesensitivity"};
  properties->clear();
  for (std::string_view line : Split(out, '\n')) {
    if (line.empty()) continue;
    size_t tab = line.find('\t');
    if (tab == std::string_view::npos || tab == 0 ||
        line.find('\t', tab + 1) != std::string_view::npos) {
      return Status::Error("zfs get: unexpected line \"" + Printable(line) + "\"");
    }
    std::string name(line.substr(0, tab));
    if (std::find(std::begin(kCreationOnly), std::end(kCreationOnly), name) !=
        std::end(kCreationOnly)) {
      continue;
    }
    properties->emplace_back(name, std::string(line.substr(tab + 1)));
  }
  return Status::Ok();
}

Argv ZfsCommands::ImgadmGet(const std::string& pool, const std::string& image_uuid) const {
  return {imgadm, "get", "-P", pool, image_uuid};
}

}  // namespace zrecon
