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
  return {vmadm, "lookup", "-j", "-o", "uuid,brand,state,image_uuid,zpool,alias"};
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
                              {"alias", &z.alias}}) {
      auto it = o.find(key);
      if (it == o.end() || it->is_null()) continue;  // vmadm omits unset keys
      if (!it->is_string()) {
        return Status::Error(at + "." + key + ": expected a string, got " +
                             Printable(it->dump(-1, ' ', false, Json::error_handler_t::replace)));
      }
      *field = it->get<std::string>();
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

}  // namespace zrecon
