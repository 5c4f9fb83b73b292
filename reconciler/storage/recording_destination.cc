#include "reconciler/storage/recording_destination.h"

#include <functional>
#include <utility>

#include "reconciler/catalog/catalog_edits.h"
#include "reconciler/util/sha256.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

class DiscardingStreamFile : public StreamFile {
 public:
  DiscardingStreamFile(std::string file, std::string compression, std::vector<std::string>* actions)
      : file_(std::move(file)), compression_(std::move(compression)), actions_(actions) {}

  Status Write(const char*, size_t size) override {
    bytes_in_ += size;
    return Status::Ok();
  }

  Status Commit(StoredFile* stored) override {
    stored->file = file_;
    stored->size = 0;
    stored->sha256 = Sha256::Hex("");
    stored->compression = compression_;
    actions_->push_back("write " + file_ +
                        (compression_ == "none" ? "" : " (" + compression_ + ")"));
    return Status::Ok();
  }

  uint64_t bytes_in() const override { return bytes_in_; }

 private:
  std::string file_;
  std::string compression_;
  std::vector<std::string>* actions_;
  uint64_t bytes_in_ = 0;
};

}  // namespace

RecordingDestination::RecordingDestination(std::string name, DestinationCatalog catalog)
    : name_(std::move(name)), catalog_(std::move(catalog)) {
  catalog_.name = name_;
}

Status RecordingDestination::Prepare() { return Status::Ok(); }

Status RecordingDestination::RemoveLooseFiles(const std::string& zone_uuid,
                                              const std::vector<std::string>& files) {
  Status st = CheckLooseFiles(catalog_, zone_uuid, files);
  ZoneManifest m;
  bool changed = false;
  if (st.ok()) st = ZoneWithoutLooseFiles(catalog_, zone_uuid, files, &m, &changed);
  if (!st.ok()) {
    return st.Prefixed("cannot remove the loose files of zone \"" + Printable(zone_uuid) + "\"");
  }
  for (const std::string& file : files) {
    actions_.push_back("remove loose file " + file + " (if present)");
  }
  if (changed) catalog_.zones[zone_uuid] = std::move(m);
  return Status::Ok();
}

Status RecordingDestination::Create(const std::string& file, const std::string& compression,
                                    std::unique_ptr<StreamFile>* out) {
  Status st = CheckNewFile(catalog_, file, compression);
  if (st.ok()) *out = std::make_unique<DiscardingStreamFile>(file, compression, &actions_);
  return st;
}

Status RecordingDestination::JournalFile(const ZoneManifest& zone, const std::string& file) {
  ZoneManifest m;
  bool changed = false;
  Status st = ZoneWithLooseFile(catalog_, zone.host, zone, file, &m, &changed);
  if (st.ok() && changed) catalog_.zones[m.uuid] = std::move(m);
  return st;
}

Status RecordingDestination::RecordImage(const ImageManifest& image) {
  ImageManifest m;
  Status st = ImageToRecord(catalog_, image, &m);
  if (!st.ok()) return st;
  actions_.push_back("record image " + m.uuid + " (" + m.stream.file + ")");
  catalog_.images[m.uuid] = std::move(m);
  return st;
}

Status RecordingDestination::RecordImageRecord(const std::string& image_uuid,
                                               const StoredFile& record,
                                               const std::string& imgadm_type) {
  ImageManifest m;
  Status st = ImageWithRecord(catalog_, image_uuid, record, imgadm_type, &m);
  if (!st.ok()) return st;
  actions_.push_back("record imgadm record of image " + m.uuid + " (" + record.file + ")");
  catalog_.images[m.uuid] = std::move(m);
  return st;
}

Status RecordingDestination::RecordConfig(const ZoneManifest& zone, const ConfigRecord& config) {
  ZoneManifest m;
  Status st = ZoneWithConfig(catalog_, zone.host, zone, config, &m);
  if (!st.ok()) return st;
  actions_.push_back("record config " + config.stored.file + " of zone " + m.uuid);
  catalog_.zones[m.uuid] = std::move(m);
  return st;
}

Status RecordingDestination::RecordLink(const ZoneManifest& zone, const Chain& chain,
                                        const ChainLink& given) {
  // A dry run cannot know the guid and createtxg of a snapshot the same run
  // would create (it does not exist): stand-ins that satisfy the catalog's
  // rules let every other check run exactly as apply's would.
  ChainLink link = given;
  std::string note;
  if (link.guid == 0) {
    uint64_t tip_txg = 0;
    auto z = catalog_.zones.find(zone.uuid);
    if (z != catalog_.zones.end()) {
      for (const Chain& c : z->second.chains) {
        if (c.id == chain.id && !c.links.empty()) tip_txg = c.links.back().createtxg;
      }
    }
    link.guid = std::hash<std::string>{}(chain.id + "@" + link.snapshot) | 1;
    link.createtxg = tip_txg + 1;
    note = " (guid known once the snapshot exists)";
  }
  ZoneManifest m;
  Status st = ZoneWithLink(catalog_, zone.host, zone, chain, link, &m);
  if (!st.ok()) return st;
  std::string dataset;
  for (const Chain& c : m.chains) {
    if (c.id == chain.id) dataset = c.dataset;
  }
  actions_.push_back("record link " + dataset + "@" + link.snapshot + " in chain " + chain.id +
                     " of zone " + m.uuid + note);
  catalog_.zones[m.uuid] = std::move(m);
  return st;
}

Status RecordingDestination::RemoveChain(const std::string& zone_uuid, const std::string& chain_id,
                                         const std::vector<std::string>& files) {
  ZoneManifest m;
  bool changed = false;
  Status st = ZoneWithoutChain(catalog_, zone_uuid, chain_id, files, &m, &changed);
  if (!st.ok()) return st;
  if (changed) {
    actions_.push_back("remove chain " + chain_id + " of zone " + zone_uuid);
    catalog_.zones[zone_uuid] = std::move(m);
  }
  for (const std::string& file : files) actions_.push_back("remove " + file);
  st = ZoneWithoutLooseFiles(catalog_, zone_uuid, files, &m, &changed);
  if (st.ok() && changed) catalog_.zones[zone_uuid] = std::move(m);
  return st;
}

}  // namespace zrecon
