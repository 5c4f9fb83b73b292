#include "reconciler/storage/manifest_destination.h"

#include <utility>

#include "reconciler/catalog/catalog_edits.h"
#include "reconciler/util/strings.h"

namespace zrecon {

ManifestDestination::ManifestDestination(std::string name, std::string host,
                                         DestinationCatalog catalog)
    : name_(std::move(name)), host_(std::move(host)), catalog_(std::move(catalog)) {
  catalog_.name = name_;
}

Status ManifestDestination::WriteZone(const ZoneManifest& manifest) {
  Status st = PutZoneManifest(manifest);
  if (st.ok()) catalog_.zones[manifest.uuid] = manifest;
  return st;
}

Status ManifestDestination::WriteImage(const ImageManifest& manifest) {
  Status st = PutImageManifest(manifest);
  if (st.ok()) catalog_.images[manifest.uuid] = manifest;
  return st;
}

// Every file is gone before the list is updated: a crash in between leaves
// names of missing files, which the next plan lists and this skips.
Status ManifestDestination::RemoveLooseFiles(const std::string& zone_uuid,
                                             const std::vector<std::string>& files) {
  Status st = Ready();
  if (st.ok()) st = CheckLooseFiles(catalog_, zone_uuid, files);
  for (auto it = files.begin(); it != files.end() && st.ok(); ++it) {
    st = CheckRemovableFile(zone_uuid, *it);
    if (st.ok()) st = RemoveFile(*it, zone_uuid, true);
  }
  if (st.ok()) st = ForgetLooseFiles(zone_uuid, files);
  return st.Prefixed("cannot remove the loose files of zone " + Quoted(zone_uuid));
}

Status ManifestDestination::ForgetLooseFiles(const std::string& zone_uuid,
                                             const std::vector<std::string>& files) {
  ZoneManifest m;
  bool changed = false;
  Status st = ZoneWithoutLooseFiles(catalog_, zone_uuid, files, &m, &changed);
  return st.ok() && changed ? WriteZone(m) : st;
}

Status ManifestDestination::JournalFile(const ZoneManifest& zone, const std::string& file) {
  ZoneManifest m;
  bool changed = false;
  Status st = Ready();
  if (st.ok()) st = ZoneWithLooseFile(catalog_, host_, zone, file, &m, &changed);
  return st.ok() && changed ? WriteZone(m) : st;
}

Status ManifestDestination::RecordImage(const ImageManifest& image) {
  ImageManifest m;
  Status st = Ready();
  if (st.ok()) st = ImageToRecord(catalog_, image, &m);
  if (st.ok()) st = CheckCommitted(m.stream);
  return st.ok() ? WriteImage(m) : st;
}

Status ManifestDestination::RecordImageRecord(const std::string& image_uuid,
                                              const StoredFile& record,
                                              const std::string& imgadm_type) {
  ImageManifest m;
  Status st = Ready();
  if (st.ok()) st = ImageWithRecord(catalog_, image_uuid, record, imgadm_type, &m);
  if (st.ok() && record.size == 0) {
    st = Status::Error("refusing to record imgadm's record of image " + Quoted(image_uuid) + ": " +
                       record.file + " is empty");
  }
  if (st.ok()) st = CheckCommitted(m.imgadm_record);
  return st.ok() ? WriteImage(m) : st;
}

Status ManifestDestination::RecordConfig(const ZoneManifest& zone, const ConfigRecord& config) {
  ZoneManifest m;
  Status st = Ready();
  if (st.ok()) st = ZoneWithConfig(catalog_, host_, zone, config, &m);
  if (st.ok()) st = CheckCommitted(config.stored);
  return st.ok() ? WriteZone(m) : st;
}

Status ManifestDestination::RecordLink(const ZoneManifest& zone, const Chain& chain,
                                       const ChainLink& link) {
  ZoneManifest m;
  Status st = Ready();
  if (st.ok()) st = ZoneWithLink(catalog_, host_, zone, chain, link, &m);
  if (st.ok()) st = CheckCommitted(link.stream);
  return st.ok() ? WriteZone(m) : st;
}

Status ManifestDestination::RemoveChain(const std::string& zone_uuid, const std::string& chain_id,
                                        const std::vector<std::string>& files) {
  ZoneManifest m;
  bool changed = false;
  Status st = Ready();
  if (st.ok()) st = ZoneWithoutChain(catalog_, zone_uuid, chain_id, files, &m, &changed);
  if (st.ok() && changed) st = WriteZone(m);
  for (size_t i = 0; i < files.size() && st.ok(); ++i) {
    st = RemoveFile(files[i], zone_uuid, false);
  }
  return st.ok() ? ForgetLooseFiles(zone_uuid, files) : st;
}

}  // namespace zrecon
