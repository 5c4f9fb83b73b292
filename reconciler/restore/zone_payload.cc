#include "reconciler/restore/zone_payload.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

using Json = nlohmann::ordered_json;

// Properties vmadm reports but computes itself, or that describe the zone
// instance rather than its configuration (VM.js, reference section 1.4).
constexpr const char* kDerived[] = {
    "zonepath",
    "zonename",
    "zoneid",
    "zonedid",
    "pid",
    "state",
    "zone_state",
    "create_timestamp",
    "boot_timestamp",
    "last_modified",
    "exit_status",
    "exit_timestamp",
    "transition_to",
    "transition_expire",
    "server_uuid",
    "snapshots",
    "zfs_filesystem",
    "datasets",
    "missing",
    "platform_buildstamp",
    "indestructible_zoneroot",
    "indestructible_delegated",
    "free_space",
};

// "<old pool>/rest" -> "<pool>/rest".
std::string MovePool(const std::string& name, const std::string& pool) {
  size_t slash = name.find('/');
  return slash == std::string::npos ? name : pool + name.substr(slash);
}

}  // namespace

Status MakeCreatePayload(std::string_view text, const std::string& uuid, const std::string& pool,
                         ZonePayload* out) {
  Json j;
  try {
    j = Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    return Status::Error(std::string("saved zone config is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) return Status::Error("saved zone config is not a JSON object");
  auto get_string = [&](const char* key) -> std::string {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (get_string("uuid") != uuid) {
    return Status::Error("saved zone config is for uuid \"" + Printable(get_string("uuid")) +
                         "\", not " + uuid);
  }
  ZonePayload p;
  p.brand = get_string("brand");
  if (p.brand.empty()) return Status::Error("saved zone config has no brand");
  p.alias = get_string("alias");
  auto get_bool = [&](const char* key, bool fallback) {
    auto it = j.find(key);
    return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
  };
  p.autoboot = get_bool("autoboot", true);
  p.indestructible_zoneroot = get_bool("indestructible_zoneroot", false);
  p.indestructible_delegated = get_bool("indestructible_delegated", false);
  auto quota = j.find("quota");
  if (quota != j.end() && quota->is_number_float()) {
    double gib = quota->get<double>();
    if (!(gib >= 0) || gib > 1e9) {
      return Status::Error("saved zone config has an invalid quota " + quota->dump());
    }
    if (gib != std::floor(gib)) {
      // vmload: quota = bytes / 2^30; the nearest whole byte count is exact.
      p.fractional_quota_bytes = static_cast<uint64_t>(std::llround(gib * 1073741824.0));
      *quota = static_cast<int64_t>(std::ceil(gib));
    } else {
      *quota = static_cast<int64_t>(gib);
    }
  }

  auto datasets = j.find("datasets");
  if (datasets != j.end() && datasets->is_array()) {
    for (const Json& d : *datasets) {
      if (d.is_string()) p.delegated.push_back(MovePool(d.get<std::string>(), pool));
    }
  }
  // A zone created with its own zonename keeps it, and with it the names of
  // its zone root and cores datasets (VM.js:9703, vmadmd.js:1915).
  // vmadm(8) says "OS VMs only"; proptable.js:2275-2285 allows it on create
  // for every brand, which is what VM.js enforces.
  std::string zonename = get_string("zonename");
  bool keep_zonename = !zonename.empty() && zonename != uuid;
  for (const char* key : kDerived) {
    // Kept where it is: a payload made again from this one is the same.
    if (keep_zonename && std::string_view(key) == "zonename") continue;
    j.erase(key);
  }
  if (keep_zonename) p.zonename = zonename;
  if (!p.delegated.empty()) j["delegate_dataset"] = true;
  j["zpool"] = pool;
  j["autoboot"] = false;
  auto disks = j.find("disks");
  if (disks != j.end() && disks->is_array()) {
    for (Json& disk : *disks) {
      if (!disk.is_object()) continue;
      auto media = disk.find("media");
      if (media != disk.end() && *media == "cdrom") continue;
      auto size = disk.find("size");
      if (size != disk.end() && size->is_number_unsigned()) {
        p.fresh_volume_bytes += size->get<uint64_t>() * 1024 * 1024;
      }
      auto fs = disk.find("zfs_filesystem");
      p.disks.push_back(fs != disk.end() && fs->is_string() ? MovePool(fs->get<std::string>(), pool)
                                                            : std::string());
      disk.erase("zfs_filesystem");
      disk.erase("path");
      if (disk.contains("image_uuid")) disk.erase("block_size");
      disk.erase("zpool");
      disk["zpool"] = pool;
    }
  }
  p.json = j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  *out = std::move(p);
  return Status::Ok();
}

Status DiskVolumes(std::string_view text, std::vector<std::string>* out) {
  Json j;
  try {
    j = Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    return Status::Error(std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) return Status::Error("not a JSON object");
  std::vector<std::string> volumes;
  auto disks = j.find("disks");
  if (disks != j.end() && disks->is_array()) {
    for (size_t i = 0; i < disks->size(); ++i) {
      const Json& disk = (*disks)[i];
      if (!disk.is_object()) return Status::Error("disks." + std::to_string(i) + ": not an object");
      auto media = disk.find("media");
      if (media != disk.end() && *media == "cdrom") continue;
      auto fs = disk.find("zfs_filesystem");
      if (fs == disk.end() || !fs->is_string()) {
        return Status::Error("disks." + std::to_string(i) + " has no zfs_filesystem");
      }
      volumes.push_back(fs->get<std::string>());
    }
  }
  *out = std::move(volumes);
  return Status::Ok();
}

}  // namespace zrecon
