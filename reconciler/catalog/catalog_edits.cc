#include "reconciler/catalog/catalog_edits.h"

#include <algorithm>
#include <utility>

#include "reconciler/catalog/catalog_json.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

bool IsSingleComponent(const std::string& name) {
  return IsSafeRelativePath(name) && name.find('/') == std::string::npos;
}

bool StoredIs(const StoredFile& stored, const std::string& file) { return stored.file == file; }

bool ZoneRecordsFile(const ZoneManifest& zone, const std::string& file) {
  for (const ConfigRecord& config : zone.configs) {
    if (StoredIs(config.stored, file)) return true;
  }
  for (const Chain& chain : zone.chains) {
    for (const ChainLink& link : chain.links) {
      if (StoredIs(link.stream, file) || link.config == file) return true;
    }
  }
  return false;
}

Status RefuseRecorded(const DestinationCatalog& catalog, const std::string& file) {
  if (!CatalogRecordsFile(catalog, file)) return Status::Ok();
  return Status::Error(Quoted(file) + " is already recorded in the catalog of destination " +
                       catalog.name);
}

// The decoded form of what would be written: what the reader will see.
Status ValidatedZone(const ZoneManifest& zone, ZoneManifest* out) {
  ZoneManifest decoded;
  Status st = DecodeZoneManifest(EncodeZoneManifest(zone), &decoded);
  if (!st.ok()) {
    return st.Prefixed("refusing to write the manifest of zone " + Quoted(zone.uuid) +
                       ": it would not decode");
  }
  *out = std::move(decoded);
  return Status::Ok();
}

ZoneManifest StartZone(const DestinationCatalog& catalog, const std::string& host,
                       const ZoneManifest& zone) {
  auto it = catalog.zones.find(zone.uuid);
  if (it != catalog.zones.end()) return it->second;
  ZoneManifest m;
  m.host = host;
  m.uuid = zone.uuid;
  m.alias = zone.alias;
  m.brand = zone.brand;
  m.image_uuid = zone.image_uuid;
  return m;
}

Chain* FindChain(ZoneManifest* zone, const std::string& id) {
  for (Chain& chain : zone->chains) {
    if (chain.id == id) return &chain;
  }
  return nullptr;
}

// The files a zone manifest may list, and a chain removal delete.
bool InZoneDirectory(const std::string& zone_uuid, const std::string& file) {
  return IsSafeRelativePath(file) && StartsWith(file, zone_uuid + "/") &&
         file != zone_uuid + "/" + kZoneManifestName;
}

}  // namespace

Status CheckRemovableFile(const std::string& zone_uuid, const std::string& file) {
  if (InZoneDirectory(zone_uuid, file)) return Status::Ok();
  return Status::Error("refusing to remove " + Quoted(file) + ": not a stream or config of zone " +
                       Quoted(zone_uuid));
}

bool CatalogRecordsFile(const DestinationCatalog& catalog, const std::string& file) {
  for (const auto& [uuid, image] : catalog.images) {
    if (StoredIs(image.stream, file) || StoredIs(image.imgadm_record, file)) return true;
  }
  for (const auto& [uuid, zone] : catalog.zones) {
    if (ZoneRecordsFile(zone, file)) return true;
  }
  return false;
}

Status CheckNewFile(const DestinationCatalog& catalog, const std::string& file,
                    const std::string& compression) {
  if (!IsSafeRelativePath(file)) {
    return Status::Error("refusing to write " + Quoted(file) +
                         ": not a relative path of ordinary components");
  }
  for (std::string_view part : Split(file, '/')) {
    // Prepare deletes such names and the catalog reader skips them.
    if (StartsWith(part, kTempPrefix)) {
      return Status::Error("refusing to write " + Quoted(file) + ": a name starting with \"" +
                           kTempPrefix + "\" is reserved for temporary files");
    }
  }
  if (compression != "none" && compression != "zstd") {
    return Status::Error("cannot write " + Quoted(file) + ": unknown compression " +
                         Quoted(compression) + " (expected \"none\" or \"zstd\")");
  }
  return RefuseRecorded(catalog, file);
}

Status ImageToRecord(const DestinationCatalog& catalog, const ImageManifest& image,
                     ImageManifest* out) {
  if (catalog.images.count(image.uuid) != 0) {
    return Status::Error("image " + Quoted(image.uuid) +
                         " is already recorded in the catalog of destination " + catalog.name);
  }
  Status st = RefuseRecorded(catalog, image.stream.file);
  if (st.ok() && image.guid == 0) st = Status::Error("its guid is 0");
  ImageManifest decoded;
  if (st.ok()) st = DecodeImageManifest(EncodeImageManifest(image), &decoded);
  if (!st.ok()) {
    return st.Prefixed("refusing to record image " + Quoted(image.uuid));
  }
  *out = std::move(decoded);
  return Status::Ok();
}

Status ImageWithRecord(const DestinationCatalog& catalog, const std::string& image_uuid,
                       const StoredFile& record, const std::string& imgadm_type,
                       ImageManifest* out) {
  auto it = catalog.images.find(image_uuid);
  Status st;
  if (it == catalog.images.end()) {
    st = Status::Error("the image is not recorded in the catalog of destination " + catalog.name);
  } else if (!it->second.imgadm_record.file.empty()) {
    st = Status::Error("it already has one");
  }
  if (st.ok()) st = RefuseRecorded(catalog, record.file);
  ImageManifest decoded;
  if (st.ok()) {
    ImageManifest m = it->second;
    m.imgadm_record = record;
    m.imgadm_type = imgadm_type;
    st = DecodeImageManifest(EncodeImageManifest(m), &decoded);
  }
  if (!st.ok()) {
    return st.Prefixed("refusing to record imgadm's record of image " + Quoted(image_uuid));
  }
  *out = std::move(decoded);
  return Status::Ok();
}

Status ZoneWithConfig(const DestinationCatalog& catalog, const std::string& host,
                      const ZoneManifest& zone, const ConfigRecord& config, ZoneManifest* out) {
  Status st = RefuseRecorded(catalog, config.stored.file);
  if (!st.ok()) return st;
  ZoneManifest m = StartZone(catalog, host, zone);
  m.configs.push_back(config);
  m.loose_files.erase(config.stored.file);
  return ValidatedZone(m, out);
}

Status ZoneWithLink(const DestinationCatalog& catalog, const std::string& host,
                    const ZoneManifest& zone, const Chain& chain, const ChainLink& link,
                    ZoneManifest* out) {
  // ZFS never hands out guid 0; here it would be a field left unset, which
  // the manifest format cannot tell from a real guid (its schema allows "0").
  if (link.guid == 0) {
    return Status::Error("refusing to record snapshot " + Quoted(link.snapshot) + " of chain " +
                         Quoted(chain.id) + ": its guid is 0");
  }
  Status st = RefuseRecorded(catalog, link.stream.file);
  if (!st.ok()) return st;
  ZoneManifest m = StartZone(catalog, host, zone);
  Chain* target = FindChain(&m, chain.id);
  if (target == nullptr) {
    m.chains.push_back(chain);
    target = &m.chains.back();
    target->links.clear();
  }
  target->links.push_back(link);
  m.loose_files.erase(link.stream.file);
  return ValidatedZone(m, out);
}

Status ZoneWithLooseFile(const DestinationCatalog& catalog, const std::string& host,
                         const ZoneManifest& zone, const std::string& file, ZoneManifest* out,
                         bool* changed) {
  *changed = false;
  if (!IsSingleComponent(zone.uuid) || !InZoneDirectory(zone.uuid, file)) {
    return Status::Error("refusing to journal " + Quoted(file) +
                         ": not a file in the directory of zone " + Quoted(zone.uuid));
  }
  Status st = RefuseRecorded(catalog, file);
  if (!st.ok()) return st;
  ZoneManifest m = StartZone(catalog, host, zone);
  if (!m.loose_files.insert(file).second) return Status::Ok();
  st = ValidatedZone(m, out);
  *changed = st.ok();
  return st;
}

Status CheckLooseFiles(const DestinationCatalog& catalog, const std::string& zone_uuid,
                       const std::vector<std::string>& files) {
  auto it = catalog.zones.find(zone_uuid);
  for (const std::string& file : files) {
    if (it == catalog.zones.end() || !it->second.loose_files.count(file)) {
      return Status::Error("refusing to remove " + Quoted(file) + ": the manifest of zone " +
                           Quoted(zone_uuid) + " does not list it as loose");
    }
  }
  return Status::Ok();
}

Status ZoneWithoutLooseFiles(const DestinationCatalog& catalog, const std::string& zone_uuid,
                             const std::vector<std::string>& files, ZoneManifest* out,
                             bool* changed) {
  *changed = false;
  auto it = catalog.zones.find(zone_uuid);
  if (it == catalog.zones.end()) return Status::Ok();
  ZoneManifest m = it->second;
  bool erased = false;
  for (const std::string& file : files) erased = m.loose_files.erase(file) > 0 || erased;
  if (!erased) return Status::Ok();
  Status st = ValidatedZone(m, out);
  *changed = st.ok();
  return st;
}

Status ZoneWithoutChain(const DestinationCatalog& catalog, const std::string& zone_uuid,
                        const std::string& chain_id, const std::vector<std::string>& files,
                        ZoneManifest* out, bool* changed) {
  *changed = false;
  if (!IsSingleComponent(zone_uuid)) {
    return Status::Error("refusing to remove chains of zone " + Quoted(zone_uuid) +
                         ": not a zone directory name");
  }
  for (const std::string& file : files) {
    Status st = CheckRemovableFile(zone_uuid, file);
    if (!st.ok()) return st;
  }
  auto it = catalog.zones.find(zone_uuid);
  if (it == catalog.zones.end()) return Status::Ok();
  ZoneManifest m = it->second;
  std::set<std::string> doomed(files.begin(), files.end());
  auto chain_end = std::remove_if(m.chains.begin(), m.chains.end(),
                                  [&](const Chain& c) { return c.id == chain_id; });
  auto config_end = std::remove_if(m.configs.begin(), m.configs.end(), [&](const ConfigRecord& c) {
    return doomed.count(c.stored.file) != 0;
  });
  *changed = chain_end != m.chains.end() || config_end != m.configs.end();
  m.chains.erase(chain_end, m.chains.end());
  m.configs.erase(config_end, m.configs.end());
  for (const Chain& chain : m.chains) {
    for (const ChainLink& link : chain.links) {
      if (doomed.count(link.stream.file) == 0) continue;
      *changed = false;
      return Status::Error("refusing to remove " + Quoted(link.stream.file) +
                           ": it is the stream of snapshot " + Quoted(link.snapshot) +
                           " in chain " + Quoted(chain.id) + ", which remains");
    }
  }
  if (!*changed) return Status::Ok();
  m.loose_files.insert(files.begin(), files.end());
  Status st = ValidatedZone(m, out);
  if (!st.ok()) *changed = false;
  return st;
}

}  // namespace zrecon
