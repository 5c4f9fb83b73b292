#include "reconciler/storage/verify.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "reconciler/catalog/catalog_json.h"
#include "reconciler/storage/directory_layout.h"
#include "reconciler/util/fd.h"
#include "reconciler/util/files.h"
#include "reconciler/util/paths.h"
#include "reconciler/util/sha256.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

constexpr size_t kReadBlock = 1 << 20;
// The layout is at most four levels deep; the writer's cleanup stops at the
// same depth.
constexpr int kMaxWalkDepth = 16;

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status CheckDirectory(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    int err = errno;
    return Status::Error(err == ENOENT ? dir + " does not exist" : dir + ": " + std::strerror(err));
  }
  if (!S_ISDIR(st.st_mode)) return Status::Error(dir + " is not a directory");
  return Status::Ok();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Reads a file in blocks, never whole: streams are as large as datasets.
// Stops early, returning "interrupted", once `interrupt` (optional) is
// raised.
std::string HashFile(ByteSource& in, const Interrupt* interrupt, std::string* hex,
                     uint64_t* bytes) {
  std::unique_ptr<char[]> block(new char[kReadBlock]);
  Sha256 sha;
  *bytes = 0;
  for (;;) {
    if (interrupt != nullptr && interrupt->raised()) return "interrupted";
    size_t n = 0;
    Status st = in.Read(block.get(), kReadBlock, &n);
    if (!st.ok()) return "cannot read at byte " + std::to_string(*bytes) + ": " + st.message();
    if (n == 0) break;
    sha.Update(block.get(), n);
    *bytes += n;
  }
  *hex = sha.HexDigest();
  return "";
}

// Checks stored files against what is on disk, reading each file at most
// once however many records name it.
class FileChecker {
 public:
  explicit FileChecker(const HostDirectory& where, const Interrupt* interrupt = nullptr)
      : tree_(*where.tree), host_(where.host), interrupt_(interrupt) {}

  // "" when `stored` verifies (with `read` false: is there, of its size),
  // else what is wrong.
  std::string Check(const StoredFile& stored, bool read = true) {
    const Observed& o = Observe(stored.file);
    if (!o.error.empty()) return o.error;
    if (o.size != stored.size) {
      return "size mismatch: recorded " + std::to_string(stored.size) + " bytes, file has " +
             std::to_string(o.size);
    }
    if (!read) return "";
    const Observed& h = Hashed(stored.file);
    if (!h.error.empty()) return h.error;
    if (h.sha256 != stored.sha256) {
      return "sha256 mismatch: recorded " + Printable(stored.sha256) + ", file has " + h.sha256;
    }
    return "";
  }

  uint64_t files_read() const { return files_read_; }
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  struct Observed {
    std::string error;
    uint64_t size = 0;
    bool hashed = false;
    std::string sha256;
  };

  Observed& Observe(const std::string& file) {
    auto [it, inserted] = cache_.emplace(file, Observed());
    Observed& o = it->second;
    if (inserted) o.error = tree_.Open(JoinPath(host_, file), nullptr, &o.size);
    return o;
  }

  Observed& Hashed(const std::string& file) {
    Observed& o = cache_.at(file);
    if (o.hashed) return o;
    o.hashed = true;
    uint64_t bytes = 0;
    uint64_t size = 0;
    std::unique_ptr<ByteSource> in;
    o.error = tree_.Open(JoinPath(host_, file), &in, &size);
    if (o.error.empty()) o.error = HashFile(*in, interrupt_, &o.sha256, &bytes);
    ++files_read_;
    bytes_read_ += bytes;
    // A file that grows or shrinks under the reader is being written.
    if (o.error.empty() && (bytes != o.size || size != o.size)) {
      o.error = "changed while being read: " + std::to_string(o.size) + " bytes, then " +
                std::to_string(bytes);
    }
    return o;
  }

  DestinationTree& tree_;
  std::string host_;
  const Interrupt* interrupt_;
  std::map<std::string, Observed> cache_;
  uint64_t files_read_ = 0;
  uint64_t bytes_read_ = 0;
};

void AddProblem(std::vector<VerifyProblem>* problems, const std::string& file,
                const std::string& what) {
  problems->push_back(VerifyProblem{file, what});
}

// ---------------------------------------------------------------------------
// Manifests, read leniently: one bad manifest does not hide the others.

struct LoadedZone {
  ZoneReport report;
  ZoneManifest manifest;  // valid when report.manifest_ok
};

struct LoadedHost {
  HostDirectory where;
  std::map<std::string, LoadedZone> zones;
  std::map<std::string, ImageReport> images;
  std::vector<VerifyProblem> problems;
  bool readable = false;
};

void LoadZone(const LoadedHost& host, const std::string& name, LoadedZone* out) {
  ZoneReport& r = out->report;
  r.uuid = name;
  r.manifest = name + "/" + kZoneManifestName;
  std::string text;
  std::string what = host.where.tree->ReadFile(JoinPath(host.where.host, r.manifest), &text);
  if (what.empty()) {
    Status st = DecodeZoneManifest(text, &out->manifest);
    if (!st.ok()) what = "invalid manifest: " + st.message();
  }
  if (!what.empty()) {
    AddProblem(&r.problems, r.manifest, what);
    return;
  }
  r.manifest_ok = true;
  const ZoneManifest& m = out->manifest;
  r.alias = m.alias;
  r.configs = m.configs.size();
  if (m.uuid != name) {
    AddProblem(
        &r.problems, r.manifest,
        "zone.uuid is " + Quoted(m.uuid) + " but the manifest is in directory " + Quoted(name));
  }
  if (m.host != host.where.host) {
    AddProblem(&r.problems, r.manifest,
               "host is " + Quoted(m.host) + " but the manifest is stored under host directory " +
                   Quoted(host.where.host));
  }
}

void LoadImage(const LoadedHost& host, const std::string& json_name, ImageReport* r) {
  r->uuid = json_name.substr(0, json_name.size() - std::strlen(kJsonSuffix));
  r->manifest = std::string(kImagesDir) + "/" + json_name;
  std::string text;
  std::string what = host.where.tree->ReadFile(JoinPath(host.where.host, r->manifest), &text);
  if (what.empty()) {
    Status st = DecodeImageManifest(text, &r->image);
    if (!st.ok()) what = "invalid manifest: " + st.message();
  }
  if (what.empty() && r->image.uuid != r->uuid) {
    what = "image.uuid is " + Quoted(r->image.uuid) + " but the file is named " + Quoted(json_name);
  }
  if (!what.empty()) {
    AddProblem(&r->problems, r->manifest, what);
    return;
  }
  r->manifest_ok = true;
}

// The layout's problems are the host's: a symlinked zone directory or
// manifest is not a zone of this destination.
void LoadHost(const HostDirectory& where, LoadedHost* out) {
  out->where = where;
  HostLayout layout;
  ListHostLayout(*where.tree, where.host, &layout);
  for (const LayoutProblem& p : layout.problems) AddProblem(&out->problems, p.file, p.what);
  out->readable = layout.present && (layout.problems.empty() || !layout.problems[0].file.empty());
  for (const std::string& name : layout.image_manifests) {
    ImageReport r;
    LoadImage(*out, name, &r);
    out->images.emplace(r.uuid, std::move(r));
  }
  for (const std::string& name : layout.zones) LoadZone(*out, name, &out->zones[name]);
}

// ---------------------------------------------------------------------------
// Chains

// Why the base of `chain` cannot be received from this destination, or ""
// (with *problem_file unset). An incremental base needs the origin on the
// receiving side; only an image the destination holds can provide it.
std::string BaseProblem(const Chain& chain, const std::map<std::string, ImageReport>& images,
                        FileChecker* files, std::string* problem_file) {
  const ChainLink& base = chain.links.front();
  if (base.from.empty()) return "";
  std::string head =
      "chain " + chain.id + " is incomplete: its base is an incremental from " + chain.origin;
  if (chain.image_uuid.empty()) {
    *problem_file = base.stream.file;
    return head + ", which is not an image the destination holds";
  }
  auto it = images.find(chain.image_uuid);
  if (it == images.end()) {
    *problem_file = std::string(kImagesDir) + "/" + chain.image_uuid + kJsonSuffix;
    return head + " and the destination has no manifest of image " + chain.image_uuid;
  }
  const ImageReport& image = it->second;
  *problem_file = image.manifest;
  if (!image.manifest_ok) return head + " and the manifest of image " + image.uuid + " is invalid";
  if (image.image.guid != chain.origin_guid) {
    return head + " (guid " + std::to_string(chain.origin_guid) + ") but image " + image.uuid +
           " has guid " + std::to_string(image.image.guid);
  }
  std::string what = files->Check(image.image.stream);
  if (what.empty()) return "";
  *problem_file = image.image.stream.file;
  return head + " and the stream of image " + image.uuid + " does not verify: " + what;
}

ChainReport VerifyChain(const Chain& chain, const std::map<std::string, ImageReport>& images,
                        const std::map<std::string, bool>& configs, FileChecker* files,
                        std::vector<VerifyProblem>* problems) {
  ChainReport c;
  c.id = chain.id;
  c.dataset = chain.dataset;
  c.links = chain.links.size();
  if (chain.links.empty()) return c;  // the decoder refuses such a chain
  c.first = chain.links.front();
  c.tip = chain.links.back();
  if (!c.first.from.empty()) {
    c.origin = chain.origin;
    c.image_uuid = chain.image_uuid;
  }
  std::string base_file;
  std::string base_problem = BaseProblem(chain, images, files, &base_file);
  if (!base_problem.empty()) AddProblem(problems, base_file, base_problem);
  bool receivable = base_problem.empty();
  bool configs_ok = true;
  for (const ChainLink& link : chain.links) {
    c.bytes += link.stream.size;
    std::string what = files->Check(link.stream);
    if (!what.empty()) AddProblem(problems, link.stream.file, what);
    receivable = receivable && what.empty();
    if (receivable) {
      ++c.restorable_links;
      c.restorable_tip = link.snapshot;
    }
    auto config = configs.find(link.config);
    if (config == configs.end()) {
      AddProblem(problems, link.config,
                 "the config of snapshot " + link.snapshot + " in chain " + chain.id +
                     ", but the manifest has no config record of it");
    }
    configs_ok = configs_ok && config != configs.end() && config->second;
  }
  c.ok = configs_ok && c.restorable_links == c.links;
  return c;
}

void VerifyZone(const ZoneManifest& m, const std::map<std::string, ImageReport>& images,
                FileChecker* files, ZoneReport* r) {
  std::map<std::string, bool> configs;  // config file -> verifies
  for (const ConfigRecord& record : m.configs) {
    std::string what = files->Check(record.stored);
    if (!what.empty()) AddProblem(&r->problems, record.stored.file, what);
    auto [it, inserted] = configs.emplace(record.stored.file, what.empty());
    if (!inserted) it->second = it->second && what.empty();
  }
  for (const Chain& chain : m.chains) {
    r->chains.push_back(VerifyChain(chain, images, configs, files, &r->problems));
  }
}

// ---------------------------------------------------------------------------
// Unknown files

struct Known {
  std::set<std::string> files;               // named by a manifest, and the manifests read
  std::set<std::string> dirs;                // directories leading to them
  std::map<std::string, std::string> loose;  // listed in loose_files -> by which manifest
  std::vector<std::string> hidden;           // prefixes of files a bad manifest may name
};

void AddKnown(Known* known, const std::string& file) {
  known->files.insert(file);
  for (std::string dir = file; dir.find('/') != std::string::npos;) {
    dir = RelativeParent(dir);
    known->dirs.insert(dir);
  }
}

void AddZoneFiles(const ZoneManifest& m, Known* known) {
  for (const ConfigRecord& c : m.configs) AddKnown(known, c.stored.file);
  for (const Chain& chain : m.chains) {
    for (const ChainLink& link : chain.links) {
      AddKnown(known, link.stream.file);
      AddKnown(known, link.config);
    }
  }
}

Known KnownFiles(const LoadedHost& host) {
  Known known;
  known.files.insert(kImagesDir);  // when not a directory, LoadImages reports it
  for (const auto& [uuid, image] : host.images) {
    AddKnown(&known, image.manifest);
    if (image.manifest_ok) {
      AddKnown(&known, image.image.stream.file);
      if (!image.image.imgadm_record.file.empty()) {
        AddKnown(&known, image.image.imgadm_record.file);
      }
    } else {
      known.hidden.push_back(std::string(kImagesDir) + "/" + uuid + ".");
    }
  }
  for (const auto& [name, zone] : host.zones) {
    AddKnown(&known, zone.report.manifest);
    if (zone.report.manifest_ok) {
      AddZoneFiles(zone.manifest, &known);
      for (const std::string& file : zone.manifest.loose_files) {
        known.loose.emplace(file, zone.report.manifest);
      }
    } else {
      known.hidden.push_back(name + "/");
    }
  }
  return known;
}

bool IsHidden(const Known& known, const std::string& file) {
  return std::any_of(known.hidden.begin(), known.hidden.end(),
                     [&](const std::string& prefix) { return StartsWith(file, prefix); });
}

// Classifies every non-directory below `relative` (real directories only:
// a symlinked directory is an entry like a file). Nothing is removed.
void Walk(const HostDirectory& where, const std::string& relative, const Known& known, int depth,
          HostReport* out) {
  std::vector<std::string> names;
  Status st = where.tree->List(JoinPath(where.host, relative), &names);
  if (!st.ok()) {
    AddProblem(&out->problems, relative, st.message());
    return;
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string file = JoinPath(relative, name);
    std::string what;
    EntryKind kind = where.tree->Inspect(JoinPath(where.host, file), &what);
    if (kind == EntryKind::kMissing || kind == EntryKind::kError) continue;  // gone meanwhile
    if (IsHidden(known, file)) continue;
    auto loose = known.loose.find(file);
    if (loose != known.loose.end() && kind != EntryKind::kRegular) {
      AddProblem(&out->problems, file,
                 "listed in loose_files of " + loose->second +
                     " but not a regular file: apply refuses to remove it");
    } else if (kind == EntryKind::kDirectory) {
      if (depth < kMaxWalkDepth) {
        Walk(where, file, known, depth + 1, out);
      } else {
        AddProblem(&out->problems, file, "nested too deep to be checked for unknown files");
      }
    } else if (StartsWith(name, kTempPrefix)) {
      out->leftover_files.push_back(file);
    } else if (loose != known.loose.end()) {
      out->loose_files.push_back(file);
    } else if (known.files.count(file) == 0 && known.dirs.count(file) == 0) {
      out->unknown_files.push_back(file);
    }
  }
}

// ---------------------------------------------------------------------------
// Hosts and selection

bool IsHostDirectory(const std::string& dir, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (name == kImagesDir) return true;
    std::string sub = JoinPath(dir, name);
    if (IsDirectory(sub) && Exists(JoinPath(sub, kZoneManifestName))) return true;
  }
  return false;
}

// A host directory given directly: <path>/<host> from its real path when
// the name as given has no last component ("." or "dest/..").
Status SplitHostDirectory(const std::string& dir, HostDirectory* out) {
  std::string given = StripTrailingSlashes(dir);
  std::string host = BaseName(given);
  std::string path = DirName(given);
  if (host == "." || host == ".." || host.empty() || host == "/") {
    std::string real;
    if (int err = RealPath(given, &real)) {
      return Status::Error("cannot resolve " + dir + ": " + std::strerror(err));
    }
    host = BaseName(real);
    path = DirName(real);
  }
  if (host.empty() || host == "/") {
    return Status::Error(dir + ": cannot tell which host this directory belongs to");
  }
  out->path = path;
  out->host = host;
  out->dir = JoinPath(path, host);
  return Status::Ok();
}

// Removable media carry their own dot directories (.Trash-1000,
// .Spotlight-V100) and ext file systems a lost+found; host names have
// neither shape.
bool CouldBeHost(const std::string& name) { return name[0] != '.' && name != "lost+found"; }

bool Matches(const ZoneReport& zone, const std::string& wanted) {
  return zone.uuid == wanted || (zone.manifest_ok && !zone.alias.empty() && zone.alias == wanted);
}

Status CheckZoneFilter(const std::string& dir, const std::vector<LoadedHost>& hosts,
                       const std::vector<std::string>& wanted) {
  std::vector<std::string> names;
  for (const LoadedHost& host : hosts) {
    for (const auto& [uuid, zone] : host.zones) {
      names.push_back(uuid);
      if (!zone.report.alias.empty()) names.push_back(zone.report.alias);
    }
  }
  for (const std::string& w : wanted) {
    bool found = std::any_of(hosts.begin(), hosts.end(), [&](const LoadedHost& host) {
      return std::any_of(host.zones.begin(), host.zones.end(),
                         [&](const auto& entry) { return Matches(entry.second.report, w); });
    });
    if (found) continue;
    std::string hint = ClosestMatch(w, names);
    return Status::Error("no zone with uuid or alias " + Quoted(w) + " in " + dir +
                         (hint.empty() ? "" : " (did you mean " + Quoted(hint) + "?)"));
  }
  return Status::Ok();
}

bool Selected(const ZoneReport& zone, const std::vector<std::string>& wanted) {
  return wanted.empty() || std::any_of(wanted.begin(), wanted.end(),
                                       [&](const std::string& w) { return Matches(zone, w); });
}

// Images the selected zones' chains start from.
std::set<std::string> ImagesNeeded(const std::vector<const LoadedZone*>& zones) {
  std::set<std::string> out;
  for (const LoadedZone* zone : zones) {
    if (!zone->report.manifest_ok) continue;
    for (const Chain& chain : zone->manifest.chains) {
      if (!chain.image_uuid.empty()) out.insert(chain.image_uuid);
    }
  }
  return out;
}

void VerifyHost(const LoadedHost& host, const std::vector<std::string>& wanted,
                VerifyReport* report) {
  HostReport r;
  r.where = host.where;
  r.problems = host.problems;
  std::vector<const LoadedZone*> zones;
  for (const auto& [name, zone] : host.zones) {
    if (Selected(zone.report, wanted)) zones.push_back(&zone);
  }
  if (!wanted.empty() && zones.empty()) return;
  FileChecker files(host.where);
  std::set<std::string> needed = ImagesNeeded(zones);
  for (const auto& [uuid, image] : host.images) {
    if (!wanted.empty() && needed.count(uuid) == 0) continue;
    ImageReport ir = image;
    if (ir.manifest_ok) {
      std::string what = files.Check(ir.image.stream);
      if (!what.empty()) AddProblem(&ir.problems, ir.image.stream.file, what);
      if (!ir.image.imgadm_record.file.empty()) {
        what = files.Check(ir.image.imgadm_record);
        if (!what.empty()) AddProblem(&ir.problems, ir.image.imgadm_record.file, what);
      }
    }
    r.images.push_back(std::move(ir));
  }
  for (const LoadedZone* zone : zones) {
    ZoneReport zr = zone->report;
    if (zr.manifest_ok) VerifyZone(zone->manifest, host.images, &files, &zr);
    r.zones.push_back(std::move(zr));
  }
  if (host.readable) {
    Known known = KnownFiles(host);
    if (wanted.empty()) {
      Walk(host.where, "", known, 0, &r);
    } else {
      for (const LoadedZone* zone : zones) Walk(host.where, zone->report.uuid, known, 1, &r);
    }
  }
  std::sort(r.unknown_files.begin(), r.unknown_files.end());
  std::sort(r.leftover_files.begin(), r.leftover_files.end());
  std::sort(r.loose_files.begin(), r.loose_files.end());
  report->files_read += files.files_read();
  report->bytes_read += files.bytes_read();
  report->hosts.push_back(std::move(r));
}

Status SelectHost(const std::string& dir, const std::string& wanted,
                  std::vector<HostDirectory>* hosts) {
  if (wanted.empty()) return Status::Ok();
  std::vector<std::string> names;
  for (const HostDirectory& h : *hosts) {
    if (h.host == wanted) {
      *hosts = {h};
      return Status::Ok();
    }
    names.push_back(h.host);
  }
  return Status::Error("no host directory " + Quoted(wanted) + " in " + dir +
                       " (hosts: " + Join(names, ", ") + ")");
}

}  // namespace

bool HostReport::ok() const {
  auto zone_ok = [](const ZoneReport& z) { return z.ok(); };
  auto image_ok = [](const ImageReport& i) { return i.ok(); };
  return problems.empty() && unknown_files.empty() &&
         std::all_of(zones.begin(), zones.end(), zone_ok) &&
         std::all_of(images.begin(), images.end(), image_ok);
}

bool VerifyReport::ok() const {
  return std::all_of(hosts.begin(), hosts.end(), [](const HostReport& h) { return h.ok(); });
}

Status FindHosts(const std::string& dir, std::vector<HostDirectory>* out) {
  out->clear();
  Status status = CheckDirectory(dir);
  std::vector<std::string> names;
  if (status.ok()) status = ListDirectory(dir, &names);
  if (!status.ok()) return status;
  if (IsHostDirectory(dir, names)) {
    HostDirectory h;
    status = SplitHostDirectory(dir, &h);
    h.tree = LocalDestinationTree(h.path);
    if (status.ok()) out->push_back(std::move(h));
    return status;
  }
  std::string path = StripTrailingSlashes(dir);
  std::shared_ptr<DestinationTree> tree = LocalDestinationTree(path);
  for (const std::string& name : names) {
    if (!CouldBeHost(name) || !IsDirectory(JoinPath(path, name))) continue;
    out->push_back(HostDirectory{path, name, JoinPath(path, name), tree});
  }
  if (out->empty()) {
    return Status::Error(dir +
                         " holds no host directory (expected <host>/images/ or "
                         "<host>/<zone>/manifest.json below it): is the medium mounted?");
  }
  return Status::Ok();
}

Status FindTreeHosts(std::shared_ptr<DestinationTree> tree, const std::string& label,
                     std::vector<HostDirectory>* out) {
  out->clear();
  std::string unreachable = tree->CheckRoot();
  if (!unreachable.empty()) return Status::Error(unreachable);
  std::vector<std::string> names;
  Status status = tree->List("", &names);
  if (!status.ok()) return status;
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string what;
    if (!CouldBeHost(name) || tree->Inspect(name, &what) != EntryKind::kDirectory) continue;
    out->push_back(HostDirectory{label, name, tree->PathOf(name), tree});
  }
  if (out->empty()) {
    return Status::Error(label +
                         " holds no host directory (expected <host>/images/ or "
                         "<host>/<zone>/manifest.json below it)");
  }
  return Status::Ok();
}

Status VerifyStoredFiles(const HostDirectory& where, const std::vector<StoredFile>& files,
                         std::vector<std::string>* problems, const Interrupt* interrupt,
                         bool read_contents) {
  std::string what;
  switch (where.tree->Inspect(where.host, &what)) {
    case EntryKind::kDirectory:
    case EntryKind::kSymlink:  // each file says "reached through the host directory, a symlink"
      break;
    case EntryKind::kMissing:
      return Status::Error(where.dir + " does not exist");
    case EntryKind::kError:
      return Status::Error(where.dir + ": " + what);
    default:
      return Status::Error(where.dir + " is not a directory");
  }
  FileChecker checker(where, interrupt);
  for (const StoredFile& f : files) {
    std::string wrong = checker.Check(f, read_contents);
    if (interrupt != nullptr && interrupt->raised()) return Status::Error(interrupt->Describe());
    if (!wrong.empty()) problems->push_back(Printable(f.file) + ": " + wrong);
  }
  return Status::Ok();
}

Status VerifyDestination(const std::string& dir, const VerifyOptions& options, VerifyReport* out) {
  std::vector<HostDirectory> found;
  Status status = FindHosts(dir, &found);
  if (!status.ok()) {
    *out = VerifyReport();
    return status;
  }
  return VerifyHosts(std::move(found), dir, options, out);
}

Status VerifyHosts(std::vector<HostDirectory> found, const std::string& dir,
                   const VerifyOptions& options, VerifyReport* out) {
  *out = VerifyReport();
  Status status = SelectHost(dir, options.host, &found);
  if (!status.ok()) return status;
  std::vector<LoadedHost> hosts(found.size());
  for (size_t i = 0; i < found.size(); ++i) LoadHost(found[i], &hosts[i]);
  status = CheckZoneFilter(dir, hosts, options.zones);
  if (!status.ok()) return status;
  for (const LoadedHost& host : hosts) VerifyHost(host, options.zones, out);
  return Status::Ok();
}

}  // namespace zrecon
