#include "reconciler/restore/restore_source.h"

#include <sys/stat.h>

#include <utility>

#include "reconciler/storage/directory_catalog.h"
#include "reconciler/storage/directory_layout.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

Status ChooseHost(const RestoreRequest& request, HostDirectory* out) {
  std::vector<HostDirectory> hosts;
  Status s = FindHostsOf(request.source, request.from, &hosts);
  if (!s.ok()) return s;
  const HostDirectory* chosen = nullptr;
  for (const HostDirectory& h : hosts) {
    if (request.host.empty() ? hosts.size() == 1 : h.host == request.host) chosen = &h;
  }
  if (chosen != nullptr) {
    *out = *chosen;
    return Status::Ok();
  }
  std::vector<std::string> names;
  for (const HostDirectory& h : hosts) names.push_back(h.host);
  return Status::Error(request.host.empty()
                           ? request.from + " holds exports of several hosts (" +
                                 Join(names, ", ") + "); choose one with --host"
                           : "no exports of host " + request.host + " in " + request.from +
                                 " (it has: " + Join(names, ", ") + ")");
}

// The zone by uuid, or by alias when that is unambiguous.
Status FindZone(const DestinationCatalog& cat, const std::string& wanted,
                const ZoneManifest** out) {
  auto it = cat.zones.find(wanted);
  if (it != cat.zones.end()) {
    *out = &it->second;
    return Status::Ok();
  }
  std::vector<const ZoneManifest*> by_alias;
  std::vector<std::string> known;
  for (const auto& [uuid, m] : cat.zones) {
    if (m.alias == wanted) by_alias.push_back(&m);
    known.push_back(uuid + (m.alias.empty() ? "" : " (" + m.alias + ")"));
  }
  if (by_alias.size() == 1) {
    *out = by_alias[0];
    return Status::Ok();
  }
  if (by_alias.size() > 1) {
    return Status::Error("alias \"" + Printable(wanted) +
                         "\" names several zones in the catalog; give the uuid");
  }
  return Status::Error("no zone \"" + Printable(wanted) + "\" in the catalog; it has: " +
                       (known.empty() ? std::string("none") : Join(known, ", ")));
}

// A small stored file (a config, an imgadm record), checked against its
// record before it is read, and read without following a symlink.
Status ReadChecked(const HostDirectory& where, const StoredFile& stored, std::string* text) {
  std::vector<std::string> problems;
  Status s = VerifyStoredFiles(where, {stored}, &problems);
  if (s.ok() && !problems.empty()) s = Status::Error(Join(problems, "; "));
  if (!s.ok()) return s;
  std::string what = where.tree->ReadFile(where.host + "/" + stored.file, text);
  return what.empty() ? Status::Ok() : Status::Error(Printable(stored.file) + ": " + what);
}

Status ReadConfig(RestoreSource* out) {
  const std::string& file = out->point.config_file;
  for (const ConfigRecord& c : out->zone->configs) {
    if (c.stored.file == file) return ReadChecked(out->where, c.stored, &out->config_json);
  }
  return Status::Error("the catalog names config " + file + " for @" + out->point.snapshot +
                       " but has no record of it");
}

// imgadm's records of the images the chains need, from the media, and
// whether this host's imgadm knows them already.
Status ReadImageRecords(const RestoreRequest& request, RestoreSource* out) {
  for (const DatasetRestore& d : out->point.datasets) {
    const std::string& image = d.chain->image_uuid;
    if (image.empty() || out->image_records.count(image) || out->registered_images.count(image)) {
      continue;
    }
    struct stat st;
    if (::stat(ImgadmDatabaseFile(request.imgadm_db, out->target_pool, image).c_str(), &st) == 0) {
      out->registered_images.insert(image);
    }
    auto it = out->catalog.images.find(image);
    if (it == out->catalog.images.end() || it->second.imgadm_record.file.empty()) continue;
    std::string record;
    Status s = ReadChecked(out->where, it->second.imgadm_record, &record);
    if (!s.ok()) return s;
    out->image_records[image] = std::move(record);
  }
  return Status::Ok();
}

}  // namespace

Status LoadRestoreSource(const RestoreRequest& request, RestoreSource* out) {
  out->request = request;
  Status s = ChooseHost(request, &out->where);
  if (!s.ok()) return s;
  s = ReadTreeCatalog("--from", *out->where.tree, out->where.host, &out->catalog);
  if (s.ok() && !out->catalog.reachable) s = Status::Error(out->catalog.unreachable_reason);
  if (!s.ok()) return s.Prefixed(request.from);
  s = FindZone(out->catalog, request.zone, &out->zone);
  if (s.ok()) s = SelectRestorePoint(*out->zone, request.at, request.pool, &out->point);
  if (!s.ok()) return s;
  out->target_pool =
      request.pool.empty() ? PoolOf(out->point.datasets.front().dataset) : request.pool;
  s = ReadConfig(out);
  if (s.ok()) s = ReadImageRecords(request, out);
  return s.Prefixed("refusing to restore");
}

Status ObserveRestoreTarget(const RestoreSource& source, const RestoreTarget& target, Host& host,
                            Inventory* inventory, RestoreInput* input) {
  ZfsDialect dialect;
  Status s = Observe(host, target.observe, inventory, &dialect);
  if (!s.ok()) return s;
  input->zone = source.zone;
  input->images = &source.catalog.images;
  input->inventory = inventory;
  input->point = source.point;
  input->pool = source.request.pool;
  input->imgadm_db = source.request.imgadm_db;
  input->config_json = source.config_json;
  input->commands.zfs = target.observe.zfs;
  input->commands.vmadm = target.observe.vmadm;
  input->commands.dialect = dialect;
  input->image_records = source.image_records;
  input->registered_images = source.registered_images;
  if (!target.check_space) return Status::Ok();
  uint64_t available = 0;
  Argv argv = input->commands.Available(source.target_pool);
  CommandResult r;
  s = host.Run(argv, &r);
  if (s.ok() && r.exit_code != 0) s = Status::Error(DescribeFailure(argv, r));
  if (s.ok()) s = ParseAvailable(r.out, &available).Prefixed(ShellJoin(argv));
  if (s.ok()) input->pool_available = static_cast<int64_t>(available);
  return s;
}

Status CheckRestoreFiles(const RestorePlan& plan, const HostDirectory& where, bool read_contents,
                         const Interrupt* interrupt, std::vector<std::string>* problems) {
  problems->clear();
  Status s = VerifyStoredFiles(where, plan.files_to_verify, problems, interrupt, read_contents);
  if (!s.ok()) return s.Prefixed("refusing to restore");
  if (problems->empty()) return Status::Ok();
  return Status::Error("refusing to restore: " + std::to_string(problems->size()) +
                       (problems->size() == 1 ? " file does" : " files do") +
                       " not match the catalog; nothing was changed");
}

}  // namespace zrecon
