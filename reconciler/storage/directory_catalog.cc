#include "reconciler/storage/directory_catalog.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "reconciler/catalog/catalog_json.h"
#include "reconciler/storage/atomic_file.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

constexpr char kImagesDir[] = "images";
constexpr char kZoneManifest[] = "manifest.json";
constexpr char kJsonSuffix[] = ".json";
constexpr char kTempPrefix[] = ".tmp";

enum class Kind { kMissing, kDirectory, kRegular, kOther };

std::string PathJoin(const std::string& dir, const std::string& name) { return dir + "/" + name; }


Status RealPath(const std::string& path, std::string* out) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) {
    return Status::Error("cannot resolve " + path + ": " + std::strerror(errno));
  }
  *out = resolved;
  std::free(resolved);
  return Status::Ok();
}

Kind KindOf(mode_t mode) {
  if (S_ISDIR(mode)) return Kind::kDirectory;
  if (S_ISREG(mode)) return Kind::kRegular;
  return Kind::kOther;
}

// What `path` is, by lstat. Below the destination path nothing is followed
// through a symlink, as the writer (directory_destination.cc) never follows
// one: a destination must not pull manifests, and later deletions, from
// elsewhere, and plan must not accept what apply then refuses.
Status Inspect(const std::string& path, const std::string& root, Kind* kind) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      *kind = Kind::kMissing;
      return Status::Ok();
    }
    return Status::Error("cannot stat " + path + ": " + std::strerror(errno));
  }
  if (!S_ISLNK(st.st_mode)) {
    *kind = KindOf(st.st_mode);
    return Status::Ok();
  }
  std::string target;
  Status status = RealPath(path, &target);
  std::string where = status.ok() ? " -> " + target : "";
  return Status::Error("refusing symlink " + path + where +
                       ": zrecon follows no symlink inside the destination " + root);
}

// Names in `dir`, sorted, without unfinished ".tmp*" writes.
Status ListEntries(const std::string& dir, std::vector<std::string>* names) {
  Status st = ListDirectory(dir, names);
  names->erase(std::remove_if(names->begin(), names->end(),
                              [](const std::string& n) { return StartsWith(n, kTempPrefix); }),
               names->end());
  return st;
}

Status ReadImageManifest(const std::string& file, const std::string& name, ImageManifest* out) {
  std::string text;
  Status status = ReadFile(file, &text);
  if (status.ok()) status = DecodeImageManifest(text, out).Prefixed(file);
  if (status.ok() && out->uuid + kJsonSuffix != name) {
    status = Status::Error(file + ": image.uuid is " + Quoted(out->uuid) +
                           " but the file is named " + Quoted(name));
  }
  return status;
}

Status ReadImages(const std::string& images_dir, const std::string& root, DestinationCatalog* out) {
  std::vector<std::string> names;
  Status status = ListEntries(images_dir, &names);
  for (size_t i = 0; i < names.size() && status.ok(); ++i) {
    if (!EndsWith(names[i], kJsonSuffix)) continue;
    std::string file = PathJoin(images_dir, names[i]);
    Kind kind = Kind::kMissing;
    status = Inspect(file, root, &kind);
    if (status.ok() && kind != Kind::kRegular) {
      status = Status::Error(file + ": not a regular file");
    }
    ImageManifest m;
    if (status.ok()) status = ReadImageManifest(file, names[i], &m);
    if (status.ok()) out->images.emplace(m.uuid, std::move(m));
  }
  return status;
}

Status ReadZoneManifest(const std::string& file, const std::string& dir_name,
                        const std::string& host, ZoneManifest* out) {
  std::string text;
  Status status = ReadFile(file, &text);
  if (status.ok()) status = DecodeZoneManifest(text, out).Prefixed(file);
  if (status.ok() && out->uuid != dir_name) {
    status = Status::Error(file + ": zone.uuid is " + Quoted(out->uuid) +
                           " but the manifest is in directory " + Quoted(dir_name));
  }
  if (status.ok() && out->host != host) {
    status = Status::Error(file + ": host is " + Quoted(out->host) +
                           " but the manifest is stored under host directory " + Quoted(host));
  }
  return status;
}

// A zone directory is committed once its manifest.json exists: the export
// writes streams first and the manifest last.
Status ReadZone(const std::string& zone_dir, const std::string& name, const std::string& host,
                const std::string& root, DestinationCatalog* out) {
  std::string file = PathJoin(zone_dir, kZoneManifest);
  Kind kind = Kind::kMissing;
  Status status = Inspect(file, root, &kind);
  if (!status.ok() || kind == Kind::kMissing) return status;
  if (kind != Kind::kRegular) return Status::Error(file + ": not a regular file");
  ZoneManifest m;
  status = ReadZoneManifest(file, name, host, &m);
  if (status.ok()) out->zones.emplace(m.uuid, std::move(m));
  return status;
}

Status ReadHost(const std::string& host_dir, const std::string& host, const std::string& root,
                DestinationCatalog* out) {
  std::vector<std::string> names;
  Status status = ListEntries(host_dir, &names);
  for (size_t i = 0; i < names.size() && status.ok(); ++i) {
    std::string entry = PathJoin(host_dir, names[i]);
    Kind kind = Kind::kMissing;
    status = Inspect(entry, root, &kind);
    if (!status.ok()) break;
    if (names[i] == kImagesDir) {
      status = kind == Kind::kDirectory ? ReadImages(entry, root, out)
                                        : Status::Error(entry + ": not a directory");
    } else if (kind == Kind::kDirectory) {
      status = ReadZone(entry, names[i], host, root, out);
    }
  }
  return status;
}

bool IsHostComponent(const std::string& host) {
  return IsSafeRelativePath(host) && host.find('/') == std::string::npos;
}

// Stat failures of the destination itself (absent mount point, EIO from a
// pulled disk, EACCES) all mean "not reachable now", which the planner
// reports and works around; they are not catalog corruption.
bool CheckReachable(const std::string& path, std::string* reason) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    *reason = err == ENOENT ? path + " does not exist" : path + ": " + std::strerror(err);
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    *reason = path + " is not a directory";
    return false;
  }
  return true;
}

}  // namespace

Status ReadDirectoryCatalog(const std::string& destination_name, const std::string& path,
                            const std::string& host, DestinationCatalog* out) {
  *out = DestinationCatalog();
  out->name = destination_name;
  if (!IsHostComponent(host)) {
    return Status::Error("invalid host directory name " + Quoted(host));
  }
  if (!CheckReachable(path, &out->unreachable_reason)) return Status::Ok();
  std::string root;
  Status status = RealPath(path, &root);
  if (!status.ok()) {
    out->unreachable_reason = status.message();
    return Status::Ok();
  }
  out->reachable = true;
  std::string host_dir = PathJoin(path, host);
  Kind kind = Kind::kMissing;
  status = Inspect(host_dir, root, &kind);
  if (status.ok() && kind == Kind::kDirectory) status = ReadHost(host_dir, host, root, out);
  if (status.ok() && kind != Kind::kDirectory && kind != Kind::kMissing) {
    status = Status::Error(host_dir + ": not a directory");
  }
  if (!status.ok()) {
    out->zones.clear();
    out->images.clear();
  }
  return status;
}

}  // namespace zrecon
