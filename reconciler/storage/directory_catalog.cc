#include "reconciler/storage/directory_catalog.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "reconciler/catalog/catalog_json.h"
#include "reconciler/storage/directory_layout.h"
#include "reconciler/util/paths.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

Status Problem(const std::string& host_dir, const std::string& file, const std::string& what) {
  return Status::Error(JoinPath(host_dir, file) + ": " + what);
}

Status ReadImageManifest(const std::string& host_dir, const std::string& name, ImageManifest* out) {
  std::string file = std::string(kImagesDir) + "/" + name;
  std::string text;
  std::string what = ReadStoredFile(host_dir, file, &text);
  if (!what.empty()) return Problem(host_dir, file, what);
  std::string path = JoinPath(host_dir, file);
  Status status = DecodeImageManifest(text, out).Prefixed(path);
  if (status.ok() && out->uuid + kJsonSuffix != name) {
    status = Status::Error(path + ": image.uuid is " + Quoted(out->uuid) +
                           " but the file is named " + Quoted(name));
  }
  return status;
}

Status ReadZoneManifest(const std::string& host_dir, const std::string& dir_name,
                        const std::string& host, ZoneManifest* out) {
  std::string file = dir_name + "/" + kZoneManifestName;
  std::string text;
  std::string what = ReadStoredFile(host_dir, file, &text);
  if (!what.empty()) return Problem(host_dir, file, what);
  std::string path = JoinPath(host_dir, file);
  Status status = DecodeZoneManifest(text, out).Prefixed(path);
  if (status.ok() && out->uuid != dir_name) {
    status = Status::Error(path + ": zone.uuid is " + Quoted(out->uuid) +
                           " but the manifest is in directory " + Quoted(dir_name));
  }
  if (status.ok() && out->host != host) {
    status = Status::Error(path + ": host is " + Quoted(out->host) +
                           " but the manifest is stored under host directory " + Quoted(host));
  }
  return status;
}

Status ReadManifests(const std::string& host_dir, const std::string& host, const HostLayout& layout,
                     DestinationCatalog* out) {
  if (!layout.problems.empty()) {
    return Problem(host_dir, layout.problems.front().file, layout.problems.front().what);
  }
  for (const std::string& name : layout.image_manifests) {
    ImageManifest m;
    Status status = ReadImageManifest(host_dir, name, &m);
    if (!status.ok()) return status;
    out->images.emplace(m.uuid, std::move(m));
  }
  for (const std::string& name : layout.zones) {
    ZoneManifest m;
    Status status = ReadZoneManifest(host_dir, name, host, &m);
    if (!status.ok()) return status;
    out->zones.emplace(m.uuid, std::move(m));
  }
  return Status::Ok();
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
  out->reachable = true;
  HostLayout layout;
  ListHostLayout(path, host, &layout);
  Status status = ReadManifests(JoinPath(path, host), host, layout, out);
  if (!status.ok()) {
    out->zones.clear();
    out->images.clear();
  }
  return status;
}

}  // namespace zrecon
