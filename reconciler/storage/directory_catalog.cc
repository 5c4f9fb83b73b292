#include "reconciler/storage/directory_catalog.h"

#include <utility>

#include "reconciler/catalog/catalog_json.h"
#include "reconciler/storage/directory_layout.h"
#include "reconciler/util/paths.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

// Files are named relative to the host directory `host`.
Status Problem(DestinationTree& tree, const std::string& host, const std::string& file,
               const std::string& what) {
  return Status::Error(tree.PathOf(JoinPath(host, file)) + ": " + what);
}

Status ReadImageManifest(DestinationTree& tree, const std::string& host, const std::string& name,
                         ImageManifest* out) {
  std::string file = std::string(kImagesDir) + "/" + name;
  std::string text;
  std::string what = tree.ReadFile(JoinPath(host, file), &text);
  if (!what.empty()) return Problem(tree, host, file, what);
  std::string path = tree.PathOf(JoinPath(host, file));
  Status status = DecodeImageManifest(text, out).Prefixed(path);
  if (status.ok() && out->uuid + kJsonSuffix != name) {
    status = Status::Error(path + ": image.uuid is " + Quoted(out->uuid) +
                           " but the file is named " + Quoted(name));
  }
  return status;
}

Status ReadZoneManifest(DestinationTree& tree, const std::string& host, const std::string& dir_name,
                        ZoneManifest* out) {
  std::string file = dir_name + "/" + kZoneManifestName;
  std::string text;
  std::string what = tree.ReadFile(JoinPath(host, file), &text);
  if (!what.empty()) return Problem(tree, host, file, what);
  std::string path = tree.PathOf(JoinPath(host, file));
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

Status ReadManifests(DestinationTree& tree, const std::string& host, const HostLayout& layout,
                     DestinationCatalog* out) {
  if (!layout.problems.empty()) {
    return Problem(tree, host, layout.problems.front().file, layout.problems.front().what);
  }
  for (const std::string& name : layout.image_manifests) {
    ImageManifest m;
    Status status = ReadImageManifest(tree, host, name, &m);
    if (!status.ok()) return status;
    out->images.emplace(m.uuid, std::move(m));
  }
  for (const std::string& name : layout.zones) {
    ZoneManifest m;
    Status status = ReadZoneManifest(tree, host, name, &m);
    if (!status.ok()) return status;
    out->zones.emplace(m.uuid, std::move(m));
  }
  return Status::Ok();
}

bool IsHostComponent(const std::string& host) {
  return IsSafeRelativePath(host) && host.find('/') == std::string::npos;
}

}  // namespace

Status ReadTreeCatalog(const std::string& destination_name, DestinationTree& tree,
                       const std::string& host, DestinationCatalog* out) {
  *out = DestinationCatalog();
  out->name = destination_name;
  if (!IsHostComponent(host)) {
    return Status::Error("invalid host directory name " + Quoted(host));
  }
  out->unreachable_reason = tree.CheckRoot();
  if (!out->unreachable_reason.empty()) return Status::Ok();
  out->reachable = true;
  HostLayout layout;
  ListHostLayout(tree, host, &layout);
  Status status = ReadManifests(tree, host, layout, out);
  if (!status.ok()) {
    out->zones.clear();
    out->images.clear();
  }
  return status;
}

Status ReadDirectoryCatalog(const std::string& destination_name, const std::string& path,
                            const std::string& host, DestinationCatalog* out) {
  return ReadTreeCatalog(destination_name, *LocalDestinationTree(path), host, out);
}

}  // namespace zrecon
