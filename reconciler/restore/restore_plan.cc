#include "reconciler/restore/restore_plan.h"

#include <algorithm>
#include <set>

#include "reconciler/catalog/imgadm_record.h"
#include "reconciler/restore/zone_payload.h"
#include "reconciler/util/strings.h"

namespace zrecon {

const char* RestoreStepLabel(RestoreStepKind kind) {
  switch (kind) {
    case RestoreStepKind::kDestroyLeftover:
      return "destroy leftover";
    case RestoreStepKind::kReleaseHold:
      return "release hold";
    case RestoreStepKind::kDeleteZone:
      return "delete zone";
    case RestoreStepKind::kReceive:
      return "receive";
    case RestoreStepKind::kRegisterImage:
      return "register image";
    case RestoreStepKind::kRename:
      return "rename";
    case RestoreStepKind::kCreateZone:
      return "create zone";
    case RestoreStepKind::kCheckDisks:
      return "check disks";
    case RestoreStepKind::kStopZone:
      return "stop zone";
    case RestoreStepKind::kUnmount:
      return "unmount";
    case RestoreStepKind::kCopyProperties:
      return "copy properties";
    case RestoreStepKind::kDestroyFresh:
      return "destroy fresh";
    case RestoreStepKind::kSetProperty:
      return "set";
    case RestoreStepKind::kMount:
      return "mount";
    case RestoreStepKind::kStartZone:
      return "start zone";
    case RestoreStepKind::kUpdateZone:
      return "update zone";
  }
  return "?";
}

namespace {

std::string ShortName(const std::string& name) {
  size_t at = name.find('@');
  return at == std::string::npos ? name : name.substr(at + 1);
}

std::string MovePool(const std::string& name, const std::string& pool) {
  if (pool.empty()) return name;
  size_t slash = name.find('/');
  return slash == std::string::npos ? pool : pool + name.substr(slash);
}

// The zone root's chains are the ones export keyed "root" (DatasetKey in
// the planner): the root is <pool>/<zonename>, and the zonename need not be
// the uuid.
bool IsRootChain(const Chain& c) { return StartsWith(c.id, "root/"); }

bool IsBelow(const std::string& name, const std::string& parent) {
  return StartsWith(name, parent + "/");
}

// The newest chain of `dataset` holding a link named `snapshot`.
bool FindLink(const ZoneManifest& zone, const std::string& dataset, const std::string& snapshot,
              const Chain** chain, size_t* index) {
  for (auto c = zone.chains.rbegin(); c != zone.chains.rend(); ++c) {
    if (c->dataset != dataset) continue;
    for (size_t i = 0; i < c->links.size(); ++i) {
      if (c->links[i].snapshot == snapshot) {
        *chain = &*c;
        *index = i;
        return true;
      }
    }
  }
  return false;
}

// The newest link of `dataset` created no later than `creation`.
bool FindLinkNotNewer(const ZoneManifest& zone, const std::string& dataset, int64_t creation,
                      const Chain** chain, size_t* index) {
  bool found = false;
  int64_t best = 0;
  for (const Chain& c : zone.chains) {
    if (c.dataset != dataset) continue;
    for (size_t i = 0; i < c.links.size(); ++i) {
      if (c.links[i].creation <= creation && (!found || c.links[i].creation >= best)) {
        found = true;
        best = c.links[i].creation;
        *chain = &c;
        *index = i;
      }
    }
  }
  return found;
}

RestoreStep Step(RestoreStepKind kind, std::string reason, Argv argv) {
  RestoreStep s;
  s.kind = kind;
  s.reason = std::move(reason);
  s.argv = std::move(argv);
  return s;
}

}  // namespace

Status SelectRestorePoint(const ZoneManifest& zone, const std::string& at, const std::string& pool,
                          RestorePoint* point) {
  RestorePoint p;
  std::set<std::string> datasets;
  std::string root;
  for (const Chain& c : zone.chains) {
    datasets.insert(c.dataset);
    if (IsRootChain(c)) root = c.dataset;
  }
  if (root.empty()) {
    return Status::Error("the catalog of zone " + zone.uuid + " has no chain of its zone root");
  }
  const Chain* chain = nullptr;
  size_t upto = 0;
  if (at.empty()) {
    for (const Chain& c : zone.chains) {
      if (c.dataset == root && !c.links.empty()) chain = &c;
    }
    upto = chain->links.size() - 1;
  } else if (!FindLink(zone, root, ShortName(at), &chain, &upto)) {
    std::vector<std::string> available;
    for (const Chain& c : zone.chains) {
      if (c.dataset != root) continue;
      for (const ChainLink& l : c.links) available.push_back("@" + l.snapshot);
    }
    return Status::Error("no export of " + root + "@" + ShortName(at) +
                         " in the catalog; exported snapshots: " + Join(available, ", "));
  }
  const ChainLink& root_link = chain->links[upto];
  p.snapshot = root_link.snapshot;
  p.config_file = root_link.config;
  p.datasets.push_back({root, MovePool(root, pool), chain, upto});
  for (const std::string& ds : datasets) {
    if (ds == root) continue;
    const Chain* c = nullptr;
    size_t i = 0;
    if (!FindLink(zone, ds, p.snapshot, &c, &i)) {
      if (!FindLinkNotNewer(zone, ds, root_link.creation, &c, &i)) {
        p.warnings.push_back(ds + " has no export at or before @" + p.snapshot +
                             "; it is not restored");
        continue;
      }
      p.warnings.push_back(ds + " has no export of @" + p.snapshot + "; restoring its @" +
                           c->links[i].snapshot + " instead");
    }
    p.datasets.push_back({ds, MovePool(ds, pool), c, i});
  }
  *point = std::move(p);
  return Status::Ok();
}

std::string ImgadmDatabaseFile(const std::string& imgadm_db, const std::string& pool,
                               const std::string& image_uuid) {
  return imgadm_db + "/images/" + pool + "-" + image_uuid + ".json";
}

namespace {

// kvm <pool>/<uuid>-diskN and bhyve <pool>/<uuid>/diskN are volumes: never
// mounted (VM.js:3189 names them).
bool IsDiskVolume(const std::string& name, const std::string& uuid) {
  for (const std::string& marker : {"/" + uuid + "-disk", "/" + uuid + "/disk"}) {
    size_t at = name.find(marker);
    if (at == std::string::npos || name.find('/', at + marker.size()) != std::string::npos) {
      continue;
    }
    std::string n = name.substr(at + marker.size());
    if (!n.empty() && n.find_first_not_of("0123456789") == std::string::npos) return true;
  }
  return false;
}

// The volume names vmadm create gives a VM's disks: by position, kvm
// <pool>/<uuid>-disk<i>, bhyve <pool>/<uuid>/disk<i> (createVolumes,
// VM.js:3189, 3205-3222).
std::string CreatedDiskName(const std::string& brand, const std::string& pool,
                            const std::string& uuid, size_t index) {
  return pool + "/" + uuid + (brand == "bhyve" ? "/disk" : "-disk") + std::to_string(index);
}

// Plans one restore in phases that read in the order of the plan they
// build; each phase that can refuse returns a Status, and a refusal leaves
// nothing planned.
class RestorePlanner {
 public:
  explicit RestorePlanner(const RestoreInput& in)
      : in_(in),
        inv_(*in.inventory),
        zfs_(in.commands),
        uuid_(in.zone->uuid),
        root_(in.point.datasets.front()),
        pool_(in.pool.empty() ? PoolOf(root_.dataset) : in.pool),
        root_target_(root_.target),
        partial_(root_target_ + "-partial"),
        // <pool>/cores/<zonename> (vmadmd.js:1915); the zonename is the root's.
        cores_(pool_ + "/cores/" + root_target_.substr(root_target_.find('/') + 1)) {}

  Status Plan(RestorePlan* out) {
    Status s = Start();
    if (s.ok() && !PlanAlreadyRestored()) {
      s = PlanReplacement();
      if (s.ok()) s = PlanImages();
      if (s.ok()) PlanReceives();
      if (s.ok()) s = CheckSpace();
      if (s.ok()) {
        for (auto* stage : {&prepare_zone_, &prepare_image_, &receive_image_, &receive_zone_,
                            &image_ready_, &replace_}) {
          for (RestoreStep& step : *stage) plan_.steps.push_back(std::move(step));
        }
        PlanSwap();
        PlanFinish(false);
      }
    }
    if (s.ok()) *out = std::move(plan_);
    return s;
  }

 private:
  // The plan's identity, the create payload from the saved config, and the
  // names vmadm create will give what it makes.
  Status Start() {
    plan_.commands = zfs_;
    plan_.zone = uuid_;
    plan_.alias = in_.zone->alias;
    plan_.brand = in_.zone->brand;
    plan_.point = in_.point;
    plan_.warnings = in_.point.warnings;
    plan_.pool = pool_;
    Status s = MakeCreatePayload(in_.config_json, uuid_, pool_, &payload_);
    if (!s.ok()) return s.Prefixed(in_.point.config_file);

    // vmadm create makes the zone root <pool>/<zonename> (VM.js:9703): the
    // received root must land on that name.
    const std::string created_root =
        pool_ + "/" + (payload_.zonename.empty() ? uuid_ : payload_.zonename);
    if (root_target_ != created_root) {
      return Status::Error("the zone root on the media is " + root_.dataset +
                           ", but vmadm create would make " + created_root +
                           " from the saved config (" + in_.point.config_file +
                           "); nothing was changed");
    }
    // vmadm create names HVM volumes by position; a received disk must land
    // on the name vmadm gives it, or the zone would use an empty fresh volume.
    for (size_t i = 0; i < payload_.disks.size(); ++i) {
      std::string created = CreatedDiskName(payload_.brand, pool_, uuid_, i);
      if (!payload_.disks[i].empty() && payload_.disks[i] != created) {
        return Status::Error("disk " + std::to_string(i) + " of zone " + uuid_ + " was " +
                             payload_.disks[i] + ", but vmadm create would name it " + created +
                             " (it numbers disks by position); zrecon cannot restore this "
                             "layout, nothing was changed");
      }
    }
    existing_ = inv_.FindZone(uuid_);
    partial_exists_ = inv_.FindDataset(partial_) != nullptr;
    // vmadm create ran in an interrupted earlier restore (the -partial
    // dataset is zrecon's): continue it rather than refuse. Such a zone's
    // root is as vmadm create left it, without snapshots, or already
    // destroyed for the swap; a zone whose root has snapshots is one --force
    // was to replace (its replacement is received before it goes), never
    // continued.
    const Dataset* existing_root = inv_.FindDataset(root_target_);
    bool fresh_root = existing_root == nullptr || existing_root->snapshots.empty();
    resume_ = existing_ != nullptr && partial_exists_ && fresh_root;
    return Status::Ok();
  }

  // A dataset "holds" the restore point when its newest snapshot is that
  // very snapshot (same guid): an older --at over a zone that moved on is a
  // real restore (a rollback), not something already done.
  bool HoldsPoint(const std::string& name, const DatasetRestore& d) const {
    const Dataset* ds = inv_.FindDataset(name);
    const ChainLink& l = d.chain->links[d.upto];
    return ds != nullptr && !ds->snapshots.empty() && ds->snapshots.back().guid == l.guid;
  }
  bool HasLink(const DatasetRestore& d) const { return HoldsPoint(d.target, d); }
  bool BelowRoot(const std::string& name) const {
    return name == root_target_ || IsBelow(name, root_target_);
  }
  // Where `d` is received: below the root's -partial name when it lies below
  // the root, else beside itself.
  std::string PartialName(const DatasetRestore& d) const {
    return BelowRoot(d.target) ? partial_ + d.target.substr(root_target_.size())
                               : d.target + "-partial";
  }
  // A dataset outside the root (cores, kvm disks) that a run stopped after
  // the root's rename received but did not rename into place.
  bool OutsidePending(const DatasetRestore& d) const {
    return !BelowRoot(d.target) && !HasLink(d) && HoldsPoint(d.target + "-partial", d);
  }
  // The zone's datasets on this host.
  bool ZonesDataset(const std::string& name) const {
    return BelowRoot(name) || name == cores_ || StartsWith(name, root_target_ + "-disk");
  }

  // A run that finished its datasets earlier: only what may remain. A run
  // stopped after the zone root's rename may have left datasets outside the
  // root (cores, kvm disks) received but not yet renamed into place: their
  // complete -partial datasets are swapped in now. False when there is more
  // to do than that.
  bool PlanAlreadyRestored() {
    const auto& datasets = in_.point.datasets;
    bool complete = std::all_of(datasets.begin(), datasets.end(),
                                [&](const DatasetRestore& d) { return HasLink(d); });
    bool finishing = std::all_of(datasets.begin(), datasets.end(), [&](const DatasetRestore& d) {
      return HasLink(d) || OutsidePending(d);
    });
    if (existing_ == nullptr || !(complete || finishing) || partial_exists_) return false;
    plan_.notes.push_back("zone " + uuid_ + " is already restored to @" + in_.point.snapshot +
                          " (its datasets hold that snapshot with the exported guid)" +
                          (complete ? "" : ", but for datasets received and not yet renamed"));
    for (const DatasetRestore& d : datasets) {
      if (OutsidePending(d)) PlanSwapIn(d.target);
    }
    PlanFinish(existing_->state == "running");
    return true;
  }

  // The fresh `target` goes, its received -partial dataset takes its place.
  void PlanSwapIn(const std::string& target) {
    RestoreStep fresh = Step(RestoreStepKind::kDestroyFresh, "replaced by the received one",
                             zfs_.DestroyTree(target, true));
    fresh.retry_when_busy = true;
    fresh.tolerate = {"does not exist"};
    plan_.steps.push_back(fresh);
    plan_.steps.push_back(Step(RestoreStepKind::kRename, "the received dataset takes its place",
                               zfs_.Rename(target + "-partial", target)));
  }

  // What is on the host under the zone's names: a zone (replaced with
  // --force), or datasets without a zone (destroyed with --force). Both go
  // only once the replacement is received.
  Status PlanReplacement() {
    // The zone's datasets on this host, one per line, for the messages.
    std::string what;
    for (const Dataset& d : inv_.datasets) {
      if (ZonesDataset(d.name)) {
        what += "\n    " + d.name + " (" + std::to_string(d.snapshots.size()) + " snapshots)";
      }
    }
    if (existing_ != nullptr && !resume_) {
      if (!in_.force) {
        return Status::Error("zone " + uuid_ + " (" + Printable(existing_->alias) +
                             ") already exists on this host; nothing was changed. --force "
                             "would delete it and its datasets first:" +
                             what);
      }
      plan_.notes.push_back("--force: zone " + uuid_ + " (" + Printable(existing_->alias) +
                            ") is deleted once its replacement is received and verified, with "
                            "its datasets:" +
                            what);
      PlanReleaseHolds();
      replace_.push_back(Step(RestoreStepKind::kDeleteZone, "--force replaces the existing zone",
                              zfs_.VmadmDelete(uuid_)));
    } else if (existing_ == nullptr && inv_.FindDataset(root_target_) != nullptr) {
      // What a vmadm create that died with its restore (a whole process
      // group killed) or a partial `vmadm delete` leaves: vmadm create would
      // fail on it, so --force destroys it (the cores dataset too, and kvm
      // disks).
      if (!in_.force) {
        return Status::Error("dataset " + root_target_ +
                             " exists but no zone has that uuid; nothing was changed. Remove "
                             "it, or use --force to destroy first:" +
                             what);
      }
      plan_.notes.push_back(
          "--force: no zone has uuid " + uuid_ +
          "; these datasets are destroyed once the replacement is received:" + what);
      PlanReleaseHolds();
      // The cores dataset first: it is mounted inside the zone root.
      std::vector<std::string> doomed;
      if (inv_.FindDataset(cores_) != nullptr) doomed.push_back(cores_);
      doomed.push_back(root_target_);
      for (const Dataset& d : inv_.datasets) {
        if (StartsWith(d.name, root_target_ + "-disk") && !EndsWith(d.name, "-partial")) {
          doomed.push_back(d.name);
        }
      }
      for (const std::string& name : doomed) {
        RestoreStep destroy = Step(RestoreStepKind::kDestroyLeftover,
                                   "--force: no zone has this uuid", zfs_.DestroyTree(name, true));
        destroy.retry_when_busy = true;
        replace_.push_back(destroy);
      }
    }
    return Status::Ok();
  }

  // zrecon's own holds on the zone's chain tips: the brand's `zfs destroy
  // -rF` retries a held snapshot forever, so `vmadm delete` would hang
  // (smartos-live#292). Released first; a kill after that leaves tips a
  // next apply holds again.
  void PlanReleaseHolds() {
    for (const Dataset& d : inv_.datasets) {
      if (!ZonesDataset(d.name) || EndsWith(d.name, "-partial")) continue;
      for (const Snapshot& snap : d.snapshots) {
        if (snap.userrefs <= 0 || snap.exported.empty()) continue;
        RestoreStep release =
            Step(RestoreStepKind::kReleaseHold,
                 "zrecon's hold on a chain tip (vmadm delete hangs on held snapshots)",
                 zfs_.Release("zrecon", d.name + "@" + snap.name));
        release.tolerate = {"no such tag"};
        replace_.push_back(release);
      }
    }
  }

  // The image: clones are received as incrementals from its @final. A chain
  // that starts with a full stream needs no origin (cinstall clones from a
  // per-zone snapshot when the image has no @final; such origins go with
  // the zone).
  Status PlanImages() {
    for (const DatasetRestore& d : in_.point.datasets) {
      const Chain& c = *d.chain;
      if (c.origin.empty() || c.links.empty() || c.links.front().from.empty()) continue;
      const std::string& image_uuid = c.image_uuid;
      // imgadm's database record, made from the media's record.
      ImageRecord record;
      record.status =
          Status::Error("the media has no imgadm record of it (exported before zrecon saved one)");
      auto it = in_.image_records.find(image_uuid);
      if (!image_uuid.empty() && it != in_.image_records.end()) {
        record.status = MakeImgadmDatabaseRecord(it->second, image_uuid, pool_, &record.json);
      }
      std::string origin = MovePool(c.origin, pool_);
      const Snapshot* have = inv_.FindSnapshot(origin);
      Status s = have != nullptr ? PlanImageOnHost(c, origin, *have, record)
                                 : PlanImageFromMedia(c, origin, record);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  struct ImageRecord {
    Status status;
    std::string json;
  };

  // The origin is on this host: it must be the image the chain was made
  // from, mounted, and known to imgadm.
  Status PlanImageOnHost(const Chain& c, const std::string& origin, const Snapshot& have,
                         const ImageRecord& record) {
    const std::string& image_uuid = c.image_uuid;
    if (have.guid != c.origin_guid) {
      return Status::Error("the host's " + origin + " (guid " + std::to_string(have.guid) +
                           ") is not the image the export was made from (guid " +
                           std::to_string(c.origin_guid) + "); nothing was changed");
    }
    if (image_uuid.empty() || !images_done_.insert(image_uuid).second) return Status::Ok();
    // vmadm create reads zoneinit.json in the image for joyent and builder
    // zones (VM.js:9574-9675): mounted as imgadm leaves it, also when a
    // killed restore renamed it and did not get to mount it.
    RestoreStep mount = Step(RestoreStepKind::kMount,
                             "the image must be mounted for vmadm create (as imgadm leaves it)",
                             zfs_.Mount(pool_ + "/" + image_uuid));
    mount.tolerate = {"already mounted"};
    if (!resume_) image_ready_.push_back(mount);
    // vmadm create checks the image with `imgadm get` (VM.js:822-945).
    if (in_.registered_images.count(image_uuid) != 0) return Status::Ok();
    if (!record.status.ok()) {
      return Status::Error(
          "image " + image_uuid +
          " is on this host but imgadm has no record of it, so vmadm "
          "create would refuse it, and " +
          record.status.message() + "; nothing was changed. Import the image with `imgadm import " +
          image_uuid + "` (or restore its record with `imgadm update " + image_uuid + "`) first.");
    }
    RestoreStep reg = Step(RestoreStepKind::kRegisterImage,
                           "imgadm does not know image " + image_uuid +
                               " on this host; its record from the media (vmadm create "
                               "checks it)",
                           {});
    reg.file = ImgadmDatabaseFile(in_.imgadm_db, pool_, image_uuid);
    reg.input = record.json;
    image_ready_.push_back(reg);
    return Status::Ok();
  }

  // The origin is not on this host: the image's stream from the media is
  // received as imgadm import would, under a -partial name until all is in.
  Status PlanImageFromMedia(const Chain& c, const std::string& origin, const ImageRecord& record) {
    const std::string& image_uuid = c.image_uuid;
    const ImageManifest* img = nullptr;
    if (!image_uuid.empty() && in_.images != nullptr) {
      auto it = in_.images->find(image_uuid);
      if (it != in_.images->end() && it->second.guid == c.origin_guid) img = &it->second;
    }
    if (img == nullptr) {
      return Status::Error(origin + " is not on this host and its stream is not on the media (" +
                           (image_uuid.empty() ? std::string("origin is not an image")
                                               : "images/" + image_uuid + ".json") +
                           "); nothing was changed. Import the image first (imgadm import " +
                           image_uuid + ").");
    }
    if (!record.status.ok()) {
      return Status::Error("image " + image_uuid + " is not on this host and " +
                           record.status.message() +
                           ": vmadm create would refuse an image imgadm does not know; nothing "
                           "was changed. Import the image first (imgadm import " +
                           image_uuid + "), then restore again.");
    }
    if (!images_done_.insert(image_uuid).second) return Status::Ok();
    std::string image_ds = pool_ + "/" + image_uuid;
    // An interrupted run that received the image completely (its @final,
    // the exported guid) may have received zone datasets as its clones:
    // it is used as it is. An incomplete one has no clones: received again.
    const Snapshot* partial_final = inv_.FindSnapshot(image_ds + "-partial@final");
    if (partial_final != nullptr && partial_final->guid == c.origin_guid) {
      plan_.notes.push_back("image " + image_uuid + " was received by an interrupted restore (" +
                            image_ds + "-partial); it is used as it is");
    } else {
      if (inv_.FindDataset(image_ds + "-partial") != nullptr) {
        prepare_image_.push_back(Step(RestoreStepKind::kDestroyLeftover,
                                      "left by an interrupted image receive",
                                      zfs_.DestroyTree(image_ds + "-partial", false)));
      }
      RestoreStep recv = Step(RestoreStepKind::kReceive,
                              "image " + image_uuid + " is not on this host (as imgadm import)",
                              zfs_.Receive(image_ds + "-partial", false));
      recv.file = img->stream.file;
      recv.stored = img->stream;
      receive_image_.push_back(recv);
      plan_.files_to_verify.push_back(img->stream);
    }
    plan_.files_to_verify.push_back(img->imgadm_record);
    // As imgadm's own install does: the record before the dataset
    // (imgadm.js:2825 "it is the presence of the file in the zpool that
    // decides if there is actually an image"). The zone datasets received
    // as its clones follow it through the rename.
    RestoreStep reg = Step(
        RestoreStepKind::kRegisterImage,
        "imgadm's record of image " + image_uuid + " from the media (vmadm create checks it)", {});
    reg.file = ImgadmDatabaseFile(in_.imgadm_db, pool_, image_uuid);
    reg.input = record.json;
    image_ready_.push_back(reg);
    image_ready_.push_back(Step(RestoreStepKind::kRename, "the image is complete",
                                zfs_.Rename(image_ds + "-partial", image_ds)));
    // imgadm leaves its images mounted; vmadm create reads zoneinit.json in
    // them for joyent and builder zones (VM.js:9574-9675).
    RestoreStep mount =
        Step(RestoreStepKind::kMount, "imgadm leaves images mounted; vmadm create reads them",
             zfs_.Mount(image_ds));
    mount.tolerate = {"already mounted"};
    image_ready_.push_back(mount);
    // After the zone's -partial datasets, which may be its clones.
    cleanup_image_.push_back(zfs_.DestroyTree(image_ds + "-partial", false));
    return Status::Ok();
  }

  // Every dataset is received under a -partial name first, so a failure
  // never leaves a half-received dataset under the zone's real name. A run
  // interrupted after its receives left complete -partial datasets: keep
  // them. Incomplete ones are received again.
  void PlanReceives() {
    const auto& datasets = in_.point.datasets;
    partial_complete_ = partial_exists_ &&
                        std::all_of(datasets.begin(), datasets.end(), [&](const DatasetRestore& d) {
                          return HoldsPoint(PartialName(d), d);
                        });
    if (partial_complete_) {
      plan_.notes.push_back(
          "the -partial datasets of an interrupted restore are complete; they "
          "are used as they are");
    } else if (partial_exists_) {
      prepare_zone_.push_back(Step(RestoreStepKind::kDestroyLeftover,
                                   "left by an interrupted restore",
                                   zfs_.DestroyTree(partial_, false)));
    }
    for (const DatasetRestore& d : datasets) {
      std::string into = PartialName(d);
      if (!BelowRoot(d.target)) {
        outside_.push_back(&d);
        if (partial_complete_) continue;
        if (inv_.FindDataset(into) != nullptr) {
          prepare_zone_.push_back(Step(RestoreStepKind::kDestroyLeftover,
                                       "left by an interrupted restore",
                                       zfs_.DestroyTree(into, false)));
        }
        plan_.cleanup.push_back(zfs_.DestroyTree(into, false));
      }
      for (size_t i = 0; i <= d.upto && !partial_complete_; ++i) PlanReceive(d, i, into);
    }
    plan_.cleanup.push_back(zfs_.DestroyTree(partial_, false));
    for (Argv& a : cleanup_image_) plan_.cleanup.push_back(std::move(a));
    for (const ConfigRecord& c : in_.zone->configs) {
      if (c.stored.file == in_.point.config_file) plan_.files_to_verify.push_back(c.stored);
    }
  }

  // Link `i` of `d`'s chain into `into`. -F rolls back anything that
  // touched the received dataset between two links (a mount updating
  // atime); it never destroys another's data because the target is our own
  // -partial dataset.
  void PlanReceive(const DatasetRestore& d, size_t i, const std::string& into) {
    const ChainLink& l = d.chain->links[i];
    std::string why =
        i == 0 ? (l.from.empty() ? "chain " + d.chain->id + " base: full stream"
                                 : "chain " + d.chain->id + " base: incremental from " + l.from)
               : "chain " + d.chain->id + " link " + std::to_string(i + 1) +
                     ": incremental from @" + ShortName(l.from);
    RestoreStep recv = Step(RestoreStepKind::kReceive, why + " -> " + d.target + "@" + l.snapshot,
                            zfs_.Receive(into, i > 0));
    recv.file = l.stream.file;
    recv.stored = l.stream;
    receive_zone_.push_back(recv);
    plan_.files_to_verify.push_back(l.stream);
  }

  // Room for everything at once: what is received lands beside the zone it
  // replaces (deleted only once all is received), and vmadm create then
  // reserves the fresh volumes of an HVM zone while the received ones exist
  // (F11e). A stream takes at most its size on the pool (less where the
  // pool compresses), so the check errs on the side of refusing.
  Status CheckSpace() {
    if (in_.pool_available < 0) return Status::Ok();
    uint64_t streams = 0;
    size_t unsized = 0;
    for (const auto* stage : {&receive_image_, &receive_zone_}) {
      for (const RestoreStep& r : *stage) {
        uint64_t bytes = r.stored.StreamBytes();
        if (bytes == 0 && r.stored.size > 0) {
          ++unsized;
          bytes = r.stored.size;
        }
        streams += bytes;
      }
    }
    uint64_t volumes = resume_ ? 0 : payload_.fresh_volume_bytes;
    uint64_t needed = streams + volumes;
    uint64_t available = static_cast<uint64_t>(in_.pool_available);
    std::string parts = FormatBytes(streams) + " of streams" +
                        (volumes > 0 ? " and " + FormatBytes(volumes) + " of fresh volumes" : "");
    if (needed > available) {
      return Status::Error("pool " + pool_ + " has " + FormatBytes(available) +
                           " available, this restore needs " + FormatBytes(needed) + " (" + parts +
                           "): " + FormatBytes(needed - available) +
                           " missing; nothing was changed. Free space, restore into another "
                           "pool (--pool), or skip this check (--no-space-check) if the pool "
                           "compresses the data well.");
    }
    if (unsized > 0) {
      plan_.warnings.push_back(std::to_string(unsized) +
                               " compressed stream(s) from exports made before zrecon recorded "
                               "stream sizes are counted at their compressed size in the space "
                               "check");
    }
    plan_.notes.push_back("space: needs " + FormatBytes(needed) + " (" + parts + "), pool " +
                          pool_ + " has " + FormatBytes(available) + " available");
    return Status::Ok();
  }

  // The zone itself, from its saved config, then its fresh datasets are
  // swapped for the received ones (receive -F into a fresh clone fails: the
  // seed's pitfall).
  void PlanSwap() {
    if (!resume_) {
      RestoreStep create =
          Step(RestoreStepKind::kCreateZone,
               "zone config saved with @" + in_.point.snapshot + " (" + in_.point.config_file +
                   "), autoboot false: it must not boot before its datasets are swapped",
               zfs_.VmadmCreate());
      create.input = payload_.json;
      plan_.steps.push_back(create);
    } else {
      plan_.notes.push_back(
          "zone " + uuid_ + " was created by an interrupted restore: continuing it" +
          (partial_complete_ ? std::string() : " (its -partial datasets are received again)"));
    }
    // vmadm names the volumes itself (by position, VM.js:3189-3222): what it
    // created is read back before anything of the fresh zone is replaced,
    // and a zone whose volumes are not the names the disks were received
    // for is deleted again (the executor), leaving the host as it was.
    if (!payload_.disks.empty()) {
      RestoreStep check =
          Step(RestoreStepKind::kCheckDisks,
               "the received disks must replace the volumes vmadm created", zfs_.VmadmGet(uuid_));
      for (size_t i = 0; i < payload_.disks.size(); ++i) {
        check.input += CreatedDiskName(payload_.brand, pool_, uuid_, i) + "\n";
      }
      plan_.steps.push_back(check);
    }
    // Created with autoboot false it is not running; a zone an interrupted
    // restore created may have been started since. -F: no graceful shutdown
    // of a throw-away zone (VM.js waits up to 180 s for kvm and bhyve).
    plan_.steps.push_back(Step(RestoreStepKind::kStopZone, "its datasets are about to be replaced",
                               zfs_.VmadmStopForce(uuid_)));
    PlanUnmount(cores_, "mounted inside the zone root, it would keep it busy");
    for (const std::string& d : payload_.delegated) PlanUnmount(d, "part of the fresh zone root");
    PlanUnmount(root_target_, "the fresh zone root is replaced");
    // What vmadm set on the fresh datasets (quota, refquota, reservations,
    // mountpoint, devices, compression, recordsize...) goes onto the
    // received ones before the fresh ones are destroyed: a receive without
    // -p carries no properties, and the values follow VM.js's rules per
    // brand.
    for (const DatasetRestore& d : in_.point.datasets) {
      RestoreStep copy =
          Step(RestoreStepKind::kCopyProperties, "what vmadm set on the fresh " + d.target,
               zfs_.LocalProperties(d.target));
      copy.target = PartialName(d);
      copy.tolerate = {"does not exist"};  // no fresh counterpart: nothing to copy
      plan_.steps.push_back(copy);
    }
    RestoreStep destroy = Step(RestoreStepKind::kDestroyFresh,
                               "vmadm create made a fresh clone; the received one replaces it",
                               zfs_.DestroyTree(root_target_, true));
    destroy.retry_when_busy = true;
    destroy.tolerate = {"does not exist"};
    plan_.steps.push_back(destroy);
    // The exact quota goes on the received root before its rename, so that
    // only mounts follow the rename (see PlanFinish).
    if (payload_.fractional_quota_bytes > 0) {
      plan_.steps.push_back(Step(
          RestoreStepKind::kSetProperty,
          "the zone's exact quota (vmadm create took it rounded up to whole GiB)",
          zfs_.SetProperty(partial_, "quota", std::to_string(payload_.fractional_quota_bytes))));
    }
    plan_.steps.push_back(Step(RestoreStepKind::kRename, "the received zone root takes its place",
                               zfs_.Rename(partial_, root_target_)));
    for (const DatasetRestore* d : outside_) PlanSwapIn(d->target);
  }

  void PlanUnmount(const std::string& ds, const std::string& why) {
    RestoreStep u = Step(RestoreStepKind::kUnmount, why, zfs_.Unmount(ds));
    // A rerun after an interruption may find it gone already.
    u.tolerate = {"not currently mounted", "does not exist"};
    plan_.steps.push_back(u);
  }

  // The last steps of every restore. When every dataset lives below the
  // zone root (all but kvm and bhyve), only these follow the root's rename,
  // so a run stopped among them (killed, interrupted, a mount that failed)
  // is finished by the "already restored" plan, which repeats them all. A
  // running zone has taken over its delegated datasets: they are not
  // mounted in the global zone then.
  void PlanFinish(bool running) {
    // Every received filesystem, parents first: the zone root and what is
    // below it (names sort that way), then the others, whose mountpoints lie
    // inside the zone root (cores: /zones/<uuid>/cores). A receive with -u
    // leaves them unmounted and a rename remounts only what was mounted.
    // Volumes are never mounted.
    std::vector<std::string> mounts;
    for (const DatasetRestore& d : in_.point.datasets) {
      bool delegated = std::find(payload_.delegated.begin(), payload_.delegated.end(), d.target) !=
                       payload_.delegated.end();
      if (IsDiskVolume(d.target, uuid_) || (running && delegated)) continue;
      mounts.push_back(d.target);
    }
    std::sort(mounts.begin(), mounts.end(), [&](const std::string& a, const std::string& b) {
      bool a_out = !BelowRoot(a);
      bool b_out = !BelowRoot(b);
      return a_out != b_out ? b_out : a < b;
    });
    for (const std::string& m : mounts) {
      RestoreStep mount = Step(
          RestoreStepKind::kMount,
          m == root_target_ ? "the zone root" : "a received dataset, unmounted since its receive",
          zfs_.Mount(m));
      // A zone that booted meanwhile has taken its delegated dataset
      // (zfs_main.c share_mount_one).
      mount.tolerate = {"already mounted", "dataset is exported to a local zone"};
      plan_.steps.push_back(mount);
    }
    if (std::find(mounts.begin(), mounts.end(), cores_) == mounts.end()) {
      RestoreStep mount_cores =
          Step(RestoreStepKind::kMount, "the zone's cores dataset", zfs_.Mount(cores_));
      mount_cores.tolerate = {"already mounted", "does not exist"};
      plan_.steps.push_back(mount_cores);
    }
    if (in_.start) {
      plan_.steps.push_back(Step(RestoreStepKind::kStartZone, "--start", zfs_.VmadmStart(uuid_)));
    }
    // The create payload had autoboot false and no indestructible_*; now
    // they become what the saved config says (after a start, which sets
    // autoboot true: VM.js startZone).
    std::vector<std::string> assignments = {std::string("autoboot=") +
                                            (payload_.autoboot ? "true" : "false")};
    if (payload_.indestructible_zoneroot) assignments.push_back("indestructible_zoneroot=true");
    if (payload_.indestructible_delegated && !payload_.delegated.empty()) {
      assignments.push_back("indestructible_delegated=true");
    }
    Argv update = zfs_.VmadmUpdate(uuid_, assignments);
    plan_.steps.push_back(
        Step(RestoreStepKind::kUpdateZone,
             "autoboot" + std::string(update.size() > 4 ? " and indestructible_*" : "") +
                 " as in the saved config (the throw-away zone was created without)",
             update));
  }

  const RestoreInput& in_;
  const Inventory& inv_;
  const ZfsCommands& zfs_;
  const std::string uuid_;
  const DatasetRestore& root_;
  const std::string pool_;
  const std::string root_target_;
  const std::string partial_;  // the zone root's -partial name
  const std::string cores_;
  ZonePayload payload_;
  const Zone* existing_ = nullptr;  // the zone of this uuid on the host
  bool partial_exists_ = false;     // the root's -partial dataset is there
  bool resume_ = false;             // continuing a restore whose vmadm create ran
  bool partial_complete_ = false;   // its -partial datasets hold the point
  std::set<std::string> images_done_;
  std::vector<const DatasetRestore*> outside_;  // kvm disks, cores: not below the root
  RestorePlan plan_;
  // Steps are gathered per stage and put in order by Plan: nothing outside
  // -partial datasets changes until every file has been received (and so
  // verified: each receive checks its file's size and SHA-256 as it reads).
  std::vector<RestoreStep> prepare_zone_, prepare_image_, receive_image_, receive_zone_,
      image_ready_, replace_;
  std::vector<Argv> cleanup_image_;
};

}  // namespace

Status PlanRestore(const RestoreInput& in, RestorePlan* out) {
  return RestorePlanner(in).Plan(out);
}

std::string RenderRestorePlan(const RestorePlan& plan) {
  std::string out = "zrecon restore of zone " + plan.zone +
                    (plan.alias.empty() ? std::string() : " (" + Printable(plan.alias) + ")") +
                    " to @" + plan.point.snapshot + " on pool " + plan.pool + "\n";
  for (const std::string& w : plan.warnings) out += "\nWarning: " + Printable(w) + "\n";
  for (const std::string& n : plan.notes) {
    // Notes may list datasets one per line: escape each line, keep the breaks.
    std::string text;
    for (std::string_view line : Split(n, '\n')) {
      text += (text.empty() ? "" : "\n") + Printable(line);
    }
    out += "\nNote: " + text + "\n";
  }
  out += "\n";
  uint64_t bytes = 0;
  for (const StoredFile& f : plan.files_to_verify) bytes += f.size;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const RestoreStep& s = plan.steps[i];
    char symbol =
        s.kind == RestoreStepKind::kReceive ? '<'
        : s.kind == RestoreStepKind::kDestroyLeftover || s.kind == RestoreStepKind::kDestroyFresh ||
                s.kind == RestoreStepKind::kDeleteZone
            ? '-'
        : s.kind == RestoreStepKind::kCreateZone || s.kind == RestoreStepKind::kRegisterImage ? '+'
                                                                                              : '~';
    std::string label = RestoreStepLabel(s.kind);
    out += std::string("  ") + symbol + " " + label +
           std::string(label.size() < 17 ? 17 - label.size() : 1, ' ') + Printable(s.reason) + "\n";
    if (s.kind == RestoreStepKind::kRegisterImage) {
      out += "      write " + Printable(s.file) + " (imgadm's database)\n";
      continue;
    }
    out += "      $ " + Printable(ShellJoin(s.argv));
    if (!s.file.empty()) out += " < " + Printable(s.file);
    if (s.kind == RestoreStepKind::kCreateZone) out += " < (the saved config, adjusted)";
    if (s.kind == RestoreStepKind::kCopyProperties) {
      out += "  (each: zfs set <property>=<value> " + Printable(s.target) + ")";
    }
    out += "\n";
  }
  if (!plan.cleanup.empty()) {
    out += "\nIf a receive fails: ";
    for (size_t i = 0; i < plan.cleanup.size(); ++i) {
      out += (i ? "; " : "") + Printable(ShellJoin(plan.cleanup[i]));
    }
    out += "\n";
  }
  out += "\nRestore: " + std::to_string(plan.steps.size()) + " steps, " +
         std::to_string(plan.files_to_verify.size()) + " files (" + std::to_string(bytes) +
         " bytes) verified before any change.\n";
  return out;
}

}  // namespace zrecon
