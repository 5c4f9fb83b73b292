#include "reconciler/catalog/imgadm_record.h"

#include <nlohmann/json.hpp>

#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

// Key order as imgadm wrote it, so a registered record reads like its own.
using Json = nlohmann::ordered_json;

Status Parse(std::string_view text, const std::string& image_uuid, Json* out, std::string* type) {
  Json j;
  try {
    j = Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    return Status::Error(std::string("imgadm's record is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) return Status::Error("imgadm's record is not a JSON object");
  auto manifest = j.find("manifest");
  if (manifest == j.end() || !manifest->is_object()) {
    return Status::Error("imgadm's record has no \"manifest\" object");
  }
  auto uuid = manifest->find("uuid");
  if (uuid == manifest->end() || !uuid->is_string() || uuid->get<std::string>() != image_uuid) {
    return Status::Error(
        "imgadm's record is not of image " + image_uuid + " (manifest.uuid " +
        (uuid == manifest->end() ? std::string("missing") : Printable(uuid->dump())) + ")");
  }
  auto t = manifest->find("type");
  *type = t != manifest->end() && t->is_string() ? t->get<std::string>() : std::string();
  *out = std::move(j);
  return Status::Ok();
}

}  // namespace

Status ParseImgadmRecord(std::string_view text, const std::string& image_uuid, std::string* type) {
  Json j;
  return Parse(text, image_uuid, &j, type);
}

Status MakeImgadmDatabaseRecord(std::string_view saved, const std::string& image_uuid,
                                const std::string& pool, std::string* out) {
  Json j;
  std::string type;
  Status s = Parse(saved, image_uuid, &j, &type);
  if (!s.ok()) return s;
  if (type.empty()) {
    return Status::Error("imgadm's record of image " + image_uuid +
                         " has no manifest type: imgadm did not know the image on the exporting "
                         "host, and vmadm create would refuse it");
  }
  j["zpool"] = pool;
  *out = j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  return Status::Ok();
}

}  // namespace zrecon
