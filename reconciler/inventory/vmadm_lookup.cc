#include <nlohmann/json.hpp>

#include "reconciler/inventory/parsers.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

using Json = nlohmann::json;

bool IsUuidText(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (dash ? c != '-' : !hex) return false;
  }
  return true;
}

// Brands and states are vmadm's own lowercase words (joyent-minimal,
// provisioning); pool names are ZFS's. Anything else is not vmadm talking,
// and would not survive the recorded line format (a ':' splits fields).
bool IsWord(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  return true;
}

bool IsPoolName(std::string_view s) {
  if (s.empty() || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// A zone name as zonecfg takes it: an alphanumeric first character, then
// alphanumerics, '-', '_' and '.', at most 64 characters (zonename(5)).
bool IsZoneName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.'))) return false;
  }
  return true;
}

// vmadm's fake `type` column (vmadm.js addFakeFields): the brand's feature
// type truncated to four characters.
std::string TypeOfBrand(const std::string& brand) {
  if (brand == "lx") return "LX";
  if (brand == "kvm") return "KVM";
  if (brand == "bhyve") return "BHYV";
  return "OS";
}

}  // namespace

std::vector<std::string> VmadmLookupArgv(const std::string& vmadm) {
  return {vmadm, "lookup", "-j", "-o",
          "uuid,brand,state,image_uuid,zpool,zonename,flexible_disk_size,alias"};
}

Status ParseVmadmLookup(std::string_view text, Inventory* inv) {
  // No zones at all may come as "[]" or as nothing.
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return Status::Ok();
  Json j;
  try {
    j = Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    return Status::Error(std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_array()) return Status::Error("expected a JSON array of zones");
  std::vector<Zone> zones;
  for (size_t i = 0; i < j.size(); ++i) {
    const Json& o = j[i];
    std::string at = "[" + std::to_string(i) + "]";
    if (!o.is_object()) return Status::Error(at + ": expected an object");
    Zone z;
    for (auto [key, field] : {std::pair<const char*, std::string*>{"uuid", &z.uuid},
                              {"brand", &z.brand},
                              {"state", &z.state},
                              {"image_uuid", &z.image_uuid},
                              {"zpool", &z.zpool},
                              {"zonename", &z.zonename},
                              {"alias", &z.alias}}) {
      auto it = o.find(key);
      if (it == o.end() || it->is_null()) continue;  // vmadm omits unset keys
      if (!it->is_string()) {
        return Status::Error(at + "." + key + ": expected a string, got " +
                             Printable(it->dump(-1, ' ', false, Json::error_handler_t::replace)));
      }
      *field = it->get<std::string>();
    }
    if (auto it = o.find("flexible_disk_size"); it != o.end() && !it->is_null()) {
      // type: integer (number of MiB), vmadm(8).
      if (!it->is_number_integer() || it->get<int64_t>() < 0) {
        return Status::Error(at + ".flexible_disk_size: expected a MiB count, got " +
                             Printable(it->dump(-1, ' ', false, Json::error_handler_t::replace)));
      }
      z.flexible_disk_size = it->get<int64_t>();
    }
    if (!IsUuidText(z.uuid))
      return Status::Error(at + ".uuid: bad uuid \"" + Printable(z.uuid) + "\"");
    if (!z.image_uuid.empty() && !IsUuidText(z.image_uuid)) {
      return Status::Error(at + ".image_uuid: bad uuid \"" + Printable(z.image_uuid) + "\"");
    }
    if (z.brand.empty()) return Status::Error(at + ": zone " + z.uuid + " has no brand");
    if (z.state.empty()) return Status::Error(at + ": zone " + z.uuid + " has no state");
    if (!IsWord(z.brand))
      return Status::Error(at + ".brand: bad brand \"" + Printable(z.brand) + "\"");
    if (!IsWord(z.state))
      return Status::Error(at + ".state: bad state \"" + Printable(z.state) + "\"");
    if (!z.zpool.empty() && !IsPoolName(z.zpool)) {
      return Status::Error(at + ".zpool: bad pool name \"" + Printable(z.zpool) + "\"");
    }
    if (!z.zonename.empty() && !IsZoneName(z.zonename)) {
      return Status::Error(at + ".zonename: bad zone name \"" + Printable(z.zonename) + "\"");
    }
    if (z.zonename == z.uuid) z.zonename.clear();  // the usual case, kept implicit
    for (const Zone& seen : zones) {
      if (seen.uuid == z.uuid) return Status::Error(at + ": zone " + z.uuid + " is listed twice");
    }
    for (const Zone& seen : inv->zones) {
      if (seen.uuid == z.uuid) return Status::Error(at + ": zone " + z.uuid + " is listed twice");
    }
    z.type = TypeOfBrand(z.brand);
    zones.push_back(std::move(z));
  }
  for (Zone& z : zones) inv->zones.push_back(std::move(z));
  inv->Index();
  return Status::Ok();
}

std::string FormatVmadmLookup(const Inventory& inv) {
  Json out = Json::array();
  for (const Zone& z : inv.zones) {
    // As vmadm prints a zone: unset keys are left out.
    Json o = Json::object();
    o["uuid"] = z.uuid;
    o["brand"] = z.brand;
    o["state"] = z.state;
    if (!z.image_uuid.empty()) o["image_uuid"] = z.image_uuid;
    if (!z.zpool.empty()) o["zpool"] = z.zpool;
    o["zonename"] = z.name();
    if (z.flexible_disk_size > 0) o["flexible_disk_size"] = z.flexible_disk_size;
    if (!z.alias.empty()) o["alias"] = z.alias;
    out.push_back(std::move(o));
  }
  // Aliases are whatever bytes vmadm was given: written as they are read.
  return out.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace zrecon
