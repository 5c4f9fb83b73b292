#include "reconciler/plan/planner.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "reconciler/inventory/zone_datasets.h"
#include "reconciler/plan/managed.h"
#include "reconciler/plan/retention.h"
#include "reconciler/plan/schedule.h"
#include "reconciler/plan/unprotect.h"
#include "reconciler/plan/zone_selection.h"
#include "reconciler/policy/naming.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

using DestinationSet = std::set<std::string>;

// ZFS_MAX_DATASET_NAME_LEN (256) less the terminating NUL, on illumos and zfs-fuse.
constexpr size_t kMaxZfsNameLength = 255;

std::string FullName(const Dataset& d, std::string_view snapshot) {
  std::string out;
  out.reserve(d.name.size() + 1 + snapshot.size());
  return out.append(d.name).append(1, '@').append(snapshot);
}

DestinationSet ParseDestinationSet(const std::string& value) {
  DestinationSet out;
  for (std::string_view part : Split(value, ',')) {
    if (!part.empty()) out.emplace(part);
  }
  return out;
}

std::string JoinDestinationSet(const DestinationSet& set) {
  return Join(std::vector<std::string>(set.begin(), set.end()), ",");
}

bool LooksLikeUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (dash ? c != '-' : !hex) return false;
  }
  return true;
}

// An image as imgadm installs it: <pool>/<uuid> with snapshot @final, where
// the uuid is not a zone. Clones of it are exported as incrementals from it.
bool ImageOfOrigin(const Inventory& inv, const std::string& origin, std::string* image_uuid) {
  size_t at = origin.find('@');
  if (at == std::string::npos || origin.compare(at + 1, std::string::npos, "final") != 0) {
    return false;
  }
  std::string dataset = origin.substr(0, at);
  size_t slash = dataset.find('/');
  if (slash == std::string::npos || dataset.find('/', slash + 1) != std::string::npos) return false;
  std::string uuid = dataset.substr(slash + 1);
  if (!LooksLikeUuid(uuid) || inv.FindZone(uuid) != nullptr) return false;
  *image_uuid = uuid;
  return true;
}

// A short, stable directory name for a zone's dataset on the destination.
// '+' cannot occur in ZFS names, so the mapping cannot collide.
std::string DatasetKey(const Zone& zone, const std::string& dataset) {
  std::string root = ZoneRootName(zone);
  auto plus = [](std::string s) {
    std::replace(s.begin(), s.end(), '/', '+');
    return s;
  };
  if (dataset == root) return "root";
  if (StartsWith(dataset, root + "/")) return "root+" + plus(dataset.substr(root.size() + 1));
  if (dataset == PoolOf(root) + "/cores/" + zone.name()) return "cores";
  size_t slash = dataset.rfind('/');
  std::string leaf = slash == std::string::npos ? dataset : dataset.substr(slash + 1);
  if (StartsWith(leaf, zone.uuid + "-")) return leaf.substr(zone.uuid.size() + 1);
  return plus(dataset);
}

// The chain exports continue: the last chain recorded for the dataset.
const Chain* CurrentChain(const ZoneManifest* manifest, const std::string& dataset) {
  if (manifest == nullptr) return nullptr;
  const Chain* current = nullptr;
  for (const Chain& c : manifest->chains) {
    if (c.dataset == dataset && !c.links.empty()) current = &c;
  }
  return current;
}

// The chain tip, if that very snapshot (same guid) is still on the host.
const Snapshot* TipOnHost(const Dataset& ds, const Chain* chain) {
  if (chain == nullptr) return nullptr;
  const Snapshot* s = ds.FindSnapshot(chain->tip()->snapshot);
  return s != nullptr && s->guid == chain->tip()->guid ? s : nullptr;
}

// base + suffix, or base-2 + suffix, base-3 + suffix ... whichever is free.
std::string Unique(const std::string& base, const std::set<std::string>& taken,
                   const std::string& suffix = "") {
  if (!taken.count(base + suffix)) return base + suffix;
  for (int i = 2;; ++i) {
    std::string candidate = base + "-" + std::to_string(i) + suffix;
    if (!taken.count(candidate)) return candidate;
  }
}

std::string Zero4(size_t n) {
  std::string s = std::to_string(n);
  return std::string(s.size() < 4 ? 4 - s.size() : 0, '0') + s;
}

// What one export rule does for one dataset.
struct ExportStep {
  bool send = false;
  bool new_chain = false;
  std::string reason;
  const ManagedSnapshot* target = nullptr;
  std::string from;  // full name, "" for a full stream
  uint64_t from_guid = 0;
  std::string image_uuid;        // new chain from an image origin
  const Chain* chain = nullptr;  // continued chain
};

// Per dataset and destination: which snapshot is the chain tip once the
// plan has run ("" when none).
using PostTips = std::map<std::string, std::map<std::string, std::string>>;

class Planner {
 public:
  explicit Planner(const PlannerInput& in) : in_(in), inv_(*in.inventory), policy_(*in.policy) {}

  Status Run(Plan* plan);

 private:
  struct ZoneContext {
    const SelectedZone* sel = nullptr;
    std::vector<DatasetState> datasets;
    PostTips post_tips;
    // dataset -> snapshot short name -> destinations it is the chain tip of
    std::map<std::string, std::map<std::string, DestinationSet, std::less<>>> desired;
    std::set<std::string> releasing;  // full names whose zrecon hold this plan releases
  };

  void PlanForZone(const SelectedZone& sel);
  bool SnapshotsRefused(const ZoneContext& z);
  // The zone's snapshot actions, between its policy's hooks.
  void PlanSnapshots(ZoneContext& z, const std::vector<DueClass>& due);
  void PlanSnapshotActions(ZoneContext& z, const std::vector<DueClass>& due);
  void PlanExports(ZoneContext& z);
  void NoteCatalogTips(ZoneContext& z);
  void PlanExportRule(ZoneContext& z, const ExportRule& rule);
  // What one rule's sends of a zone share: where they go and the names
  // taken there.
  struct RuleExports {
    const ExportRule* rule = nullptr;
    const DestinationCatalog* cat = nullptr;
    const DestinationSpec* dest = nullptr;
    const ZoneManifest* manifest = nullptr;  // the zone's, on this destination
    std::set<std::string> chain_ids;
    std::string config_file;
    std::vector<Action> images, sends;
    std::set<std::string> new_chain_datasets;
  };
  Action SendAction(ZoneContext& z, RuleExports& r, const DatasetState& d, const ExportStep& step);
  void PlanImageOf(const Zone& zone, RuleExports& r, const Dataset& ds, const ExportStep& step);
  ExportStep DecideExport(const ExportRule& rule, const DatasetState& d,
                          const DestinationCatalog& cat, const ZoneManifest* manifest);
  void PlanChainRemovals(ZoneContext& z, const ExportRule& rule, const ZoneManifest& manifest,
                         const std::set<std::string>& new_chain_datasets);
  void PlanTipProtection(ZoneContext& z);
  void PlanRetention(ZoneContext& z);
  void PlanLooseFileRemovals();
  void PlanUnprotected(const ZoneSelection& selection);

  const DestinationCatalog* Reachable(const std::string& destination);

  const PlannerInput& in_;
  const Inventory& inv_;
  const Policy& policy_;
  NamingTemplate naming_;
  std::vector<Action> cleanups_, snapshots_, exports_, destroys_, removals_;
  std::vector<std::string> warnings_, notes_;
  std::set<std::string> warned_unreachable_;
  std::set<std::pair<std::string, std::string>> images_planned_;  // (destination, image)
  std::deque<std::string> planned_names_;  // storage behind planned ManagedSnapshot names
};

const DestinationCatalog* Planner::Reachable(const std::string& destination) {
  auto it = in_.catalogs ? in_.catalogs->find(destination) : Catalogs::const_iterator();
  bool found = in_.catalogs && it != in_.catalogs->end();
  if (found && it->second.reachable) return &it->second;
  if (warned_unreachable_.insert(destination).second) {
    std::string why = found ? it->second.unreachable_reason : "its catalog was not read";
    warnings_.push_back("destination " + destination + " is unreachable (" + why +
                        "): its exports are skipped; chain tips recorded in " +
                        std::string(kExportedProperty) + " stay protected");
  }
  return nullptr;
}

Status Planner::Run(Plan* plan) {
  std::string why;
  if (!NamingTemplate::Compile(policy_.naming, policy_.ClassNames(), &naming_, &why)) {
    return Status::Error(policy_.file + ": naming: " + why);
  }
  ZoneSelection selection = SelectZones(policy_, inv_);
  if (!selection.errors.empty()) return Status::Error(Join(selection.errors, "\n"));
  warnings_ = selection.warnings;
  notes_ = selection.notes;
  PlanLooseFileRemovals();
  PlanUnprotected(selection);
  for (const SelectedZone& sel : selection.selected) PlanForZone(sel);

  plan->now = in_.now;
  plan->host = in_.host;
  plan->dialect = in_.commands.dialect;
  plan->zfs = in_.commands.zfs;
  plan->vmadm = in_.commands.vmadm;
  plan->max_destroy = policy_.max_destroy;
  plan->actions.clear();
  for (auto* phase : {&cleanups_, &snapshots_, &exports_, &destroys_, &removals_}) {
    for (Action& a : *phase) plan->actions.push_back(std::move(a));
  }
  int destroys = plan->Summary().destroys;
  if (destroys > policy_.max_destroy) {
    warnings_.push_back("this plan destroys " + std::to_string(destroys) +
                        " snapshots, more than limits.max_destroy (" +
                        std::to_string(policy_.max_destroy) +
                        "): apply refuses it unless --allow-destroy is given");
  }
  plan->destinations.clear();
  for (const auto& [name, dest] : policy_.destinations) {
    plan->destinations[name] = PlanDestination{dest.type, dest.path, dest.compression,
                                               dest.type == "ssh" ? dest.Ssh() : SshLocation(),
                                               dest.type == "s3" ? dest.s3 : S3Location()};
  }
  plan->zones.clear();
  for (const Action& a : plan->actions) {
    if (a.kind != ActionKind::kSend && a.kind != ActionKind::kSaveConfig &&
        a.kind != ActionKind::kSaveImage) {
      continue;
    }
    const Zone* zone = inv_.FindZone(a.zone);
    if (zone != nullptr) plan->zones[a.zone] = PlanZone{zone->alias, zone->brand, zone->image_uuid};
  }
  plan->warnings = std::move(warnings_);
  plan->notes = std::move(notes_);
  return Status::Ok();
}

void Planner::PlanForZone(const SelectedZone& sel) {
  const Zone& zone = *sel.zone;
  ZoneContext z;
  z.sel = &sel;
  // The longest snapshot name the template can produce now; a dataset whose
  // name leaves no room for it would make the zone's whole atomic `zfs
  // snapshot` fail, so it is left out, loudly.
  size_t longest = 0;
  for (const SnapshotClass& c : policy_.classes) {
    auto kept = sel.keep.find(c.name);
    if (kept == sel.keep.end() || kept->second <= 0) continue;  // never taken here
    longest = std::max(longest, naming_.Format(c.name, in_.now).size());
  }
  for (const Dataset* d : ZoneDatasets(inv_, zone, sel.policy->datasets)) {
    if (d->name.size() + 1 + longest > kMaxZfsNameLength) {
      warnings_.push_back("zone " + zone.uuid + ": " + d->name + " is left out: with a " +
                          std::to_string(longest) + "-character snapshot name it exceeds the " +
                          std::to_string(kMaxZfsNameLength) +
                          "-character limit of ZFS names; shorten the dataset name or the "
                          "naming template");
      continue;
    }
    z.datasets.push_back(ReadDatasetState(*d, naming_));
  }
  if (z.datasets.empty()) {
    std::string why = inv_.FindDataset(ZoneRootName(zone)) == nullptr
                          ? "zone root " + ZoneRootName(zone) + " is not in the zfs listing"
                          : "the policy's datasets select none of its datasets";
    warnings_.push_back("zone " + zone.uuid + ": " + why + "; skipped");
    return;
  }
  std::vector<DueClass> due = DueClasses(policy_.classes, sel.keep, z.datasets, in_.now);
  if (!due.empty() && !SnapshotsRefused(z)) PlanSnapshots(z, due);
  PlanExports(z);
  PlanTipProtection(z);
  PlanRetention(z);
}

// A bhyve zone without flexible_disk_size cannot have its disks
// snapshotted: vmadm sets refreservation=auto on each volume and caps the
// tree (root quota = reservation = refquota + the volumes' refreservation,
// setQuotaBhyve VM.js:1502-1690), leaving about 1 MiB free; a snapshot of a
// volume needs min(unique, refreservation) bytes available, so `zfs
// snapshot` fails with ENOSPC ("If this value is not set, it will not be
// possible to create snapshots of the instance", vmadm(8)
// flexible_disk_size). The zone's atomic snapshot would fail as a whole, so
// none is planned and the plan says why; what it already has is still
// exported and kept. Zones from the recorded line format, which cannot
// tell, are planned as before.
bool Planner::SnapshotsRefused(const ZoneContext& z) {
  const Zone& zone = *z.sel->zone;
  if (zone.brand != "bhyve" || !zone.flexible_disk_size_known || zone.flexible_disk_size > 0) {
    return false;
  }
  const std::string disk_prefix = ZoneRootName(zone) + "/disk";
  std::vector<std::string> disks;
  for (const DatasetState& d : z.datasets) {
    const std::string& name = d.dataset->name;
    bool positional = StartsWith(name, disk_prefix) && name.size() > disk_prefix.size() &&
                      name.find_first_not_of("0123456789", disk_prefix.size()) == std::string::npos;
    if (d.dataset->type == DatasetType::kVolume || positional) disks.push_back(name);
  }
  if (disks.empty()) return false;
  warnings_.push_back("zone " + zone.uuid +
                      ": no snapshots: bhyve zone without flexible_disk_size, "
                      "so ZFS refuses snapshots of its disks (" +
                      Join(disks, ", ") + "); set it with `vmadm update " + zone.uuid +
                      " flexible_disk_size=<MiB>` (at least the sum of the disk sizes)");
  return true;
}

void Planner::PlanSnapshots(ZoneContext& z, const std::vector<DueClass>& due) {
  const size_t first = snapshots_.size();
  PlanSnapshotActions(z, due);
  if (snapshots_.size() == first) return;
  // The policy's hooks around the zone's snapshot actions, through env(1)
  // so that one command serves every zone of the policy.
  const PolicyDef& def = *z.sel->policy;
  const Zone& zone = *z.sel->zone;
  std::vector<std::string> names;
  for (const DueClass& d : due) names.push_back(naming_.Format(d.snapshot_class->name, in_.now));
  auto hook = [&](const char* which, const std::vector<std::string>& command) {
    Action a = ZoneAction(ActionKind::kHook, zone,
                          std::string("hooks.") + which + " of policy " + def.name);
    a.hook = which;
    a.timeout_seconds = def.hook_timeout_seconds;
    a.argv = {"/usr/bin/env", std::string("ZRECON_HOOK=") + which, "ZRECON_ZONE=" + zone.uuid,
              "ZRECON_ALIAS=" + zone.alias, "ZRECON_SNAPSHOT_NAME=" + Join(names, " ")};
    a.argv.insert(a.argv.end(), command.begin(), command.end());
    return a;
  };
  if (!def.pre_snapshot.empty()) {
    snapshots_.insert(snapshots_.begin() + static_cast<std::ptrdiff_t>(first),
                      hook("pre_snapshot", def.pre_snapshot));
  }
  if (!def.post_snapshot.empty()) snapshots_.push_back(hook("post_snapshot", def.post_snapshot));
}

void Planner::PlanSnapshotActions(ZoneContext& z, const std::vector<DueClass>& due) {
  const Zone& zone = *z.sel->zone;
  std::string reason;
  for (const DueClass& d : due) reason += (reason.empty() ? "" : "; ") + d.reason;

  // A zone's datasets are snapshotted together. zfs can only snapshot
  // atomically within one pool, so the group is split per pool (kvm disks
  // may live on another pool).
  std::map<std::string, std::vector<std::string>> by_pool;
  std::string root = ZoneRootName(zone);
  // `zfs snapshot -r root@x` takes every dataset below the root, so it fits
  // only when the group is exactly that tree (nothing left out, nothing else).
  size_t in_tree = 0;
  for (auto it = std::lower_bound(inv_.datasets.begin(), inv_.datasets.end(), root,
                                  [](const Dataset&d, const std::string&n) { return d.name < n; });
       it != inv_.datasets.end() && StartsWith(it->name, root); ++it) {
    if (it->name == root || StartsWith(it->name, root + "/")) ++in_tree;
  }
  bool whole_tree = in_tree == z.datasets.size();
  for (const DatasetState& d : z.datasets) {
    if (d.dataset->name != root && !StartsWith(d.dataset->name, root + "/")) whole_tree = false;
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> legacy_recursive;
  for (const DueClass& d : due) {
    const std::string& name =
        planned_names_.emplace_back(naming_.Format(d.snapshot_class->name, in_.now));
    std::vector<std::string> full;
    bool name_taken = false;
    for (DatasetState& state : z.datasets) {
      if (state.dataset->FindSnapshot(name) != nullptr) {
        name_taken = true;  // same --now replayed: that dataset already has it
        continue;
      }
      full.push_back(FullName(*state.dataset, name));
      state.AddPlanned(name, d.snapshot_class->name, in_.now);
    }
    if (in_.commands.dialect == ZfsDialect::kLegacy && whole_tree && !name_taken) {
      // zfs-fuse takes one name per call; `-r` keeps the tree atomic.
      legacy_recursive.push_back({root + "@" + name, full});
      continue;
    }
    for (std::string& f : full) by_pool[PoolOf(f)].push_back(std::move(f));
  }
  for (auto& [recursive_name, names] : legacy_recursive) {
    Action a = ZoneAction(ActionKind::kSnapshot, zone, reason);
    a.argv = in_.commands.SnapshotRecursive(recursive_name);
    a.snapshots = names;
    snapshots_.push_back(std::move(a));
  }
  if (by_pool.size() > 1) {
    warnings_.push_back("zone " + zone.uuid + " has datasets in " + std::to_string(by_pool.size()) +
                        " pools; its snapshots are atomic per pool only");
  }
  for (auto& [pool, names] : by_pool) {
    std::vector<Argv> argvs = in_.commands.Snapshot(names);
    size_t next = 0;
    for (Argv& argv : argvs) {
      Action a = ZoneAction(ActionKind::kSnapshot, zone, reason);
      // Every argument after "snapshot" is one full snapshot name.
      size_t count = argv.size() - 2;
      a.snapshots.assign(names.begin() + next, names.begin() + next + count);
      next += count;
      a.argv = std::move(argv);
      snapshots_.push_back(std::move(a));
    }
  }
}

ExportStep Planner::DecideExport(const ExportRule& rule, const DatasetState& d,
                                 const DestinationCatalog& cat, const ZoneManifest* manifest) {
  ExportStep step;
  const Dataset& ds = *d.dataset;
  step.target = d.NewestOfClass(rule.snapshot_class);
  if (step.target == nullptr) return step;
  const Chain* chain = CurrentChain(manifest, ds.name);
  const Snapshot* tip = TipOnHost(ds, chain);

  // Continue the current chain unless one of these forces a new one.
  std::string restart;
  if (chain == nullptr) {
    restart = "first export of " + ds.name + " to " + rule.destination;
  } else {
    const Snapshot* origin = ds.origin.empty() ? nullptr : inv_.FindSnapshot(ds.origin);
    uint64_t origin_guid = origin ? origin->guid : 0;
    if (chain->origin != ds.origin || (!ds.origin.empty() && chain->origin_guid != origin_guid)) {
      restart = "origin changed: chain " + chain->id + " started from " +
                (chain->origin.empty() ? std::string("no origin") : chain->origin) + ", " +
                ds.name + " is now " +
                (ds.origin.empty() ? std::string("not a clone") : "a clone of " + ds.origin) +
                " (zone reprovisioned?)";
    } else if (tip == nullptr) {
      restart = "chain " + chain->id + " tip @" + chain->tip()->snapshot + " (guid " +
                std::to_string(chain->tip()->guid) + ") is no longer on the host";
    } else if (rule.full_every) {
      const ChainLink& base = chain->links.front();
      std::string_view cls;
      EpochSeconds started = base.creation;
      naming_.Parse(base.snapshot, &cls, &started);
      EpochSeconds expires = rule.full_every->AddTo(started);
      // A new chain is only worth starting from a snapshot young enough to
      // begin an unexpired chain; otherwise (no newer snapshot of the class
      // is being made) every run would start the same expired chain again.
      bool fresh_base = rule.full_every->AddTo(step.target->time) > in_.now;
      if (in_.now >= expires && fresh_base) {
        restart = "chain " + chain->id + " started " + FormatRfc3339(started) + "; full_every " +
                  rule.full_every->ToString() + " expired " + FormatRfc3339(expires);
      }
    }
  }

  if (restart.empty()) {
    step.chain = chain;
    if (!step.target->planned() && step.target->existing->guid == tip->guid) return step;
    if (!step.target->planned() && step.target->existing->createtxg <= tip->createtxg) {
      return step;  // the tip is newer than the newest of this class: wait
    }
    step.send = true;
    step.from = FullName(ds, tip->name);
    step.from_guid = tip->guid;
    step.reason = "incremental: newest " + rule.snapshot_class + " @" +
                  std::string(step.target->name) + " follows tip @" + tip->name + " of chain " +
                  chain->id;
    return step;
  }

  step.send = true;
  step.new_chain = true;
  step.reason = "new chain: " + restart;
  if (ds.origin.empty()) {
    step.reason += "; full stream";
    return step;
  }
  const Snapshot* origin = inv_.FindSnapshot(ds.origin);
  std::string image;
  if (origin == nullptr || !ImageOfOrigin(inv_, ds.origin, &image)) {
    step.reason += "; full stream (origin " + ds.origin + " is not an image @final)";
    return step;
  }
  auto have = cat.images.find(image);
  if (have != cat.images.end() && have->second.guid != origin->guid) {
    step.reason += "; full stream (image " + image + " on " + rule.destination + " has guid " +
                   std::to_string(have->second.guid) + ", the host's @final has " +
                   std::to_string(origin->guid) + ")";
    return step;
  }
  step.from = ds.origin;
  step.from_guid = origin->guid;
  step.image_uuid = image;
  step.reason += "; incremental from image origin " + ds.origin;
  return step;
}

void Planner::PlanExports(ZoneContext& z) {
  NoteCatalogTips(z);
  std::vector<const ExportRule*> rules;
  for (const ExportRule& r : z.sel->policy->exports) rules.push_back(&r);
  std::sort(rules.begin(), rules.end(), [](const ExportRule* a, const ExportRule* b) {
    return a->destination < b->destination;
  });
  for (const ExportRule* rule : rules) PlanExportRule(z, *rule);
}

// Tips as recorded by every reachable destination's catalog; planned sends
// move them.
void Planner::NoteCatalogTips(ZoneContext& z) {
  const Zone& zone = *z.sel->zone;
  for (const auto& [name, dest] : policy_.destinations) {
    (void)dest;
    auto it = in_.catalogs ? in_.catalogs->find(name) : Catalogs::const_iterator();
    if (!in_.catalogs || it == in_.catalogs->end() || !it->second.reachable) continue;
    auto m = it->second.zones.find(zone.uuid);
    const ZoneManifest* manifest = m == it->second.zones.end() ? nullptr : &m->second;
    for (const DatasetState& d : z.datasets) {
      const Snapshot* tip = TipOnHost(*d.dataset, CurrentChain(manifest, d.dataset->name));
      z.post_tips[d.dataset->name][name] = tip ? tip->name : "";
    }
  }
}

void Planner::PlanExportRule(ZoneContext& z, const ExportRule& rule) {
  const Zone& zone = *z.sel->zone;
  RuleExports r;
  r.rule = &rule;
  r.cat = Reachable(rule.destination);
  if (r.cat == nullptr) return;
  r.dest = &policy_.destinations.at(rule.destination);
  auto m = r.cat->zones.find(zone.uuid);
  r.manifest = m == r.cat->zones.end() ? nullptr : &m->second;
  std::set<std::string> config_files;
  if (r.manifest != nullptr) {
    for (const Chain& c : r.manifest->chains) r.chain_ids.insert(c.id);
    for (const ConfigRecord& c : r.manifest->configs) config_files.insert(c.stored.file);
  }
  // A rerun at the same time after a failed export finds this run's config
  // already recorded: the new one gets another name.
  r.config_file = Unique(zone.uuid + "/config/" + FormatCompact(in_.now), config_files, ".json");

  for (const DatasetState& d : z.datasets) {
    ExportStep step = DecideExport(rule, d, *r.cat, r.manifest);
    if (!step.send) continue;
    Action send = SendAction(z, r, d, step);
    PlanImageOf(zone, r, *d.dataset, step);
    r.sends.push_back(std::move(send));
  }
  if (!r.sends.empty()) {
    for (Action& a : r.images) exports_.push_back(std::move(a));
    // The config goes first so that every link recorded in the catalog
    // refers to a config file already on the media.
    Action cfg = ZoneAction(ActionKind::kSaveConfig, zone,
                            "zone config (vmadm get) saved with every export run");
    cfg.destination = rule.destination;
    cfg.argv = in_.commands.VmadmGet(zone.uuid);
    cfg.file = r.config_file;
    exports_.push_back(std::move(cfg));
    for (Action& a : r.sends) exports_.push_back(std::move(a));
  }
  if (r.manifest != nullptr) PlanChainRemovals(z, rule, *r.manifest, r.new_chain_datasets);
}

// The send of `step`: a new chain's base, or the next link of a chain.
Action Planner::SendAction(ZoneContext& z, RuleExports& r, const DatasetState& d,
                           const ExportStep& step) {
  const Zone& zone = *z.sel->zone;
  const Dataset& ds = *d.dataset;
  Action a = ZoneAction(ActionKind::kSend, zone, step.reason);
  a.destination = r.rule->destination;
  a.snapshot = FullName(ds, step.target->name);
  a.from = step.from;
  a.argv = in_.commands.Send(a.snapshot, a.from);
  StreamTarget& t = a.stream;
  t.dataset = ds.name;
  if (!step.target->planned()) {
    t.guid = step.target->existing->guid;
    t.createtxg = step.target->existing->createtxg;
    t.creation = step.target->existing->creation;
  }
  t.from_guid = step.from_guid;
  t.new_chain = step.new_chain;
  t.config_file = r.config_file;
  size_t sequence = 1;
  if (step.new_chain) {
    t.chain_id =
        Unique(DatasetKey(zone, ds.name) + "/" + FormatCompact(step.target->time), r.chain_ids);
    r.chain_ids.insert(t.chain_id);
    t.origin = ds.origin;
    const Snapshot* origin = ds.origin.empty() ? nullptr : inv_.FindSnapshot(ds.origin);
    t.origin_guid = origin ? origin->guid : 0;
    t.image_uuid = step.image_uuid;
    r.new_chain_datasets.insert(ds.name);
  } else {
    t.chain_id = step.chain->id;
    sequence = step.chain->links.size() + 1;
  }
  a.file = zone.uuid + "/" + t.chain_id + "/" + Zero4(sequence) + "-" +
           std::string(step.target->name) + ".zfs" + (r.dest->compression == "zstd" ? ".zst" : "");
  z.post_tips[ds.name][r.rule->destination] = step.target->name;
  return a;
}

// The image a chain of this dataset needs on restore: its stream, and
// imgadm's record of it (vmadm create refuses an image imgadm does not
// know). Exports made before zrecon saved the record get it with their
// zone's next export, while the image is still on the host.
void Planner::PlanImageOf(const Zone& zone, RuleExports& r, const Dataset& ds,
                          const ExportStep& step) {
  const std::string& destination = r.rule->destination;
  const std::string image = !step.image_uuid.empty()
                                ? step.image_uuid
                                : (step.chain != nullptr ? step.chain->image_uuid : "");
  if (image.empty() || !images_planned_.insert({destination, image}).second) return;
  auto have = r.cat->images.find(image);
  if (have == r.cat->images.end() && !step.image_uuid.empty()) {
    const Snapshot* origin = inv_.FindSnapshot(ds.origin);
    Action img = ZoneAction(ActionKind::kSaveImage, zone,
                            "image " + image + " is not on " + destination +
                                " yet; chains of its clones start from it");
    img.destination = destination;
    img.snapshot = ds.origin;
    img.argv = in_.commands.Send(ds.origin, "");
    img.file = "images/" + image + ".zfs" + (r.dest->compression == "zstd" ? ".zst" : "");
    img.stream.dataset = ds.origin.substr(0, ds.origin.find('@'));
    img.stream.guid = origin->guid;
    img.stream.createtxg = origin->createtxg;
    img.stream.creation = origin->creation;
    img.stream.image_uuid = image;
    r.images.push_back(std::move(img));
  }
  const std::string origin_name = step.image_uuid.empty() ? step.chain->origin : ds.origin;
  const std::string image_ds = origin_name.substr(0, origin_name.find('@'));
  bool saved = have != r.cat->images.end() && !have->second.imgadm_record.file.empty();
  if (saved && have->second.imgadm_type.empty()) {
    warnings_.push_back(
        "image " + image + " on " + destination +
        ": imgadm had no manifest of it when it was exported (`imgadm get` showed no "
        "type), so vmadm create would refuse it on a host without it; a restore there "
        "needs `imgadm import " +
        image + "` first");
  }
  if (!saved && (have != r.cat->images.end() || !step.image_uuid.empty()) &&
      inv_.FindDataset(image_ds) != nullptr) {
    Action rec = ZoneAction(
        ActionKind::kSaveImageRecord, zone,
        have == r.cat->images.end()
            ? "imgadm's record of image " + image + ", which vmadm create checks on restore"
            : "image " + image + " on " + destination +
                  " has no imgadm record yet (exported before zrecon saved it)");
    rec.destination = destination;
    rec.snapshot = origin_name;
    rec.argv = in_.commands.ImgadmGet(image_ds.substr(0, image_ds.find('/')), image);
    rec.file = "images/" + image + ".imgadm";
    rec.stream.dataset = image_ds;
    rec.stream.image_uuid = image;
    r.images.push_back(std::move(rec));
  }
}

void Planner::PlanChainRemovals(ZoneContext& z, const ExportRule& rule,
                                const ZoneManifest& manifest,
                                const std::set<std::string>& new_chain_datasets) {
  const Zone& zone = *z.sel->zone;
  std::set<const Chain*> removed;
  for (const DatasetState& d : z.datasets) {
    std::vector<const Chain*> chains;
    for (const Chain& c : manifest.chains) {
      if (c.dataset == d.dataset->name && !c.links.empty()) chains.push_back(&c);
    }
    size_t total = chains.size() + (new_chain_datasets.count(d.dataset->name) ? 1 : 0);
    if (total <= static_cast<size_t>(rule.keep_chains)) continue;
    size_t excess = total - static_cast<size_t>(rule.keep_chains);
    for (size_t i = 0; i < excess && i < chains.size(); ++i) removed.insert(chains[i]);
  }
  if (removed.empty()) return;
  // A config file is removed only when no kept chain refers to it, and
  // with the last removal whose chain does (they run in manifest order):
  // an apply killed between two removals must leave no chain in the
  // manifest whose config is gone (found by kill_test).
  std::set<std::string> config_kept;
  std::map<std::string, const Chain*> config_last;
  for (const Chain& c : manifest.chains) {
    for (const ChainLink& l : c.links) {
      if (!removed.count(&c)) {
        config_kept.insert(l.config);
      } else {
        config_last[l.config] = &c;
      }
    }
  }
  for (const Chain& c : manifest.chains) {
    if (!removed.count(&c)) continue;
    Action a =
        ZoneAction(ActionKind::kRemoveExport, zone,
                   "keep_chains " + std::to_string(rule.keep_chains) + ": chain " + c.id + " (" +
                       std::to_string(c.links.size()) + (c.links.size() == 1 ? " link" : " links") +
                       ", @" + c.links.front().snapshot + " .. @" + c.tip()->snapshot +
                       ") is older than the " + std::to_string(rule.keep_chains) + " newest");
    a.destination = rule.destination;
    a.chain_id = c.id;
    std::set<std::string> files;
    for (const ChainLink& l : c.links) {
      files.insert(l.stream.file);
      if (!l.config.empty() && !config_kept.count(l.config) && config_last[l.config] == &c) {
        files.insert(l.config);
      }
    }
    a.files.assign(files.begin(), files.end());
    removals_.push_back(std::move(a));
  }
}

// Files an interrupted apply left on a destination, listed in a zone
// manifest's loose_files (Destination::JournalFile), whatever the zone: it
// may no longer be selected or even exist. They go first, before anything
// is written there again. An unreachable destination keeps them for later.
void Planner::PlanLooseFileRemovals() {
  if (in_.catalogs == nullptr) return;
  for (const auto& [name, dest] : policy_.destinations) {
    auto cat = in_.catalogs->find(name);
    if (cat == in_.catalogs->end() || !cat->second.reachable) continue;
    for (const auto& [uuid, manifest] : cat->second.zones) {
      if (manifest.loose_files.empty()) continue;
      Action a;
      a.kind = ActionKind::kRemoveLoose;
      a.zone = uuid;
      a.alias = manifest.alias;
      a.reason =
          "left by an interrupted apply: listed as loose in the zone's manifest, "
          "recorded in no chain or config";
      a.destination = name;
      a.files.assign(manifest.loose_files.begin(), manifest.loose_files.end());
      cleanups_.push_back(std::move(a));
    }
  }
}

// zrecon's holds outlive the policy that made them: a zone that leaves the
// policy (no match, excluded, its datasets' role dropped) keeps held chain
// tips, on which `vmadm delete` hangs and reprovision and rollback-snapshot
// fail (smartos-live#292). Its marked tips (names zrecon owns) are released
// and unmarked in the first phase (unprotect.h says why the mark goes too).
void Planner::PlanUnprotected(const ZoneSelection& selection) {
  std::map<std::string, const SelectedZone*> selected;
  for (const SelectedZone& sel : selection.selected) selected[sel.zone->uuid] = &sel;
  const std::vector<DatasetRole> all = {DatasetRole::kZoneRoot, DatasetRole::kDisks,
                                        DatasetRole::kCores};
  for (const Zone& zone : inv_.zones) {
    auto it = selected.find(zone.uuid);
    std::set<const Dataset*> covered;
    if (it != selected.end()) {
      for (const Dataset* d : ZoneDatasets(inv_, zone, it->second->policy->datasets)) {
        covered.insert(d);
      }
    }
    const std::string why = it == selected.end()
                                ? "zone is no longer protected by the policy"
                                : "dataset is no longer covered by the zone's policy";
    std::vector<const Dataset*> uncovered;
    for (const Dataset* ds : ZoneDatasets(inv_, zone, all)) {
      if (covered.count(ds) == 0) uncovered.push_back(ds);
    }
    AppendUnprotectActions(zone, uncovered, naming_, in_.commands, why, &cleanups_);
  }
}

void Planner::PlanTipProtection(ZoneContext& z) {
  const Zone& zone = *z.sel->zone;
  std::vector<Action> gaining, losing;
  for (const DatasetState& d : z.datasets) {
    const Dataset& ds = *d.dataset;
    auto& desired = z.desired[ds.name];
    // A mark moves only on positive evidence: a reachable destination whose
    // catalog (after this plan) has a chain tip for the dataset. Marks for
    // media that is offline, for destinations outside this policy, or for a
    // destination whose catalog knows no chain of this dataset (another
    // medium, a lost catalog) stay where they are.
    std::map<std::string, DestinationSet, std::less<>> current;
    for (const ManagedSnapshot& m : d.managed) {
      if (m.planned() || m.existing->exported.empty()) continue;
      std::string name(m.name);
      current[name] = ParseDestinationSet(m.existing->exported);
      desired[name] = current[name];
    }
    for (const auto& [dest, tip] : z.post_tips[ds.name]) {
      if (tip.empty()) continue;
      for (auto& [name, set] : desired) set.erase(dest);
      desired[tip].insert(dest);
    }
    const DestinationSet none;
    for (const ManagedSnapshot& m : d.managed) {
      auto want_it = desired.find(m.name);
      const DestinationSet& want = want_it == desired.end() ? none : want_it->second;
      auto have_it = current.find(m.name);
      const DestinationSet& have = have_it == current.end() ? none : have_it->second;
      // Almost every snapshot is no tip before or after the plan.
      if (want.empty() && have.empty()) continue;
      std::string full = FullName(ds, m.name);
      int64_t userrefs = m.planned() ? 0 : m.existing->userrefs;
      if (!want.empty()) {
        if (have.empty() || userrefs == 0) {
          Action a =
              ZoneAction(ActionKind::kHold, zone,
                         "chain tip for " + JoinDestinationSet(want) +
                             ": a hold keeps a hand-run zfs destroy from breaking the chain");
          a.argv = in_.commands.Hold(std::string(kHoldTag), full);
          a.snapshots = {full};
          gaining.push_back(std::move(a));
        }
        if (want != have) {
          Action a =
              ZoneAction(ActionKind::kMarkTip, zone,
                         "chain tip for " + JoinDestinationSet(want) +
                             (have.empty() ? "" : " (was " + JoinDestinationSet(have) + ")"));
          a.argv = in_.commands.SetProperty(full, kExportedProperty, JoinDestinationSet(want));
          a.snapshots = {full};
          a.property_value = JoinDestinationSet(want);
          gaining.push_back(std::move(a));
        }
      } else if (!have.empty()) {
        // Release before clearing the mark: the mark is the record that
        // zrecon's hold may exist, so it must outlive the hold.
        if (userrefs > 0) {
          Action a = ZoneAction(ActionKind::kRelease, zone,
                                "no longer a chain tip (was " + JoinDestinationSet(have) + ")");
          a.argv = in_.commands.Release(std::string(kHoldTag), full);
          a.snapshots = {full};
          losing.push_back(std::move(a));
          z.releasing.insert(full);
        }
        Action a = ZoneAction(ActionKind::kMarkTip, zone,
                              "no longer a chain tip (was " + JoinDestinationSet(have) + ")");
        a.argv = in_.commands.InheritProperty(full, kExportedProperty);
        a.snapshots = {full};
        losing.push_back(std::move(a));
      }
    }
  }
  // New tips are protected before old ones lose protection.
  for (auto* list : {&gaining, &losing}) {
    for (Action& a : *list) exports_.push_back(std::move(a));
  }
}

void Planner::PlanRetention(ZoneContext& z) {
  const Zone& zone = *z.sel->zone;
  for (const DatasetState& d : z.datasets) {
    const Dataset& ds = *d.dataset;
    const auto& desired = z.desired[ds.name];
    Protection protect = [&](const ManagedSnapshot& m) -> std::string {
      std::string full = FullName(ds, m.name);
      std::vector<std::string> why;
      int64_t holds = m.existing->userrefs - (z.releasing.count(full) ? 1 : 0);
      if (holds > 0)
        why.push_back("held (" + std::to_string(holds) + (holds == 1 ? " hold)" : " holds)"));
      if (inv_.IsCloneOrigin(full)) why.push_back("origin of a clone");
      // The snapshot that satisfies its class for the current period stays,
      // even when snapshots dated in the future (a clock that was ahead)
      // outrank it: pruning it would make the class due again next run.
      const SnapshotClass* cls = policy_.FindClass(std::string(m.snapshot_class));
      auto kept = z.sel->keep.find(std::string(m.snapshot_class));
      if (cls != nullptr && kept != z.sel->keep.end() && kept->second > 0 &&
          cls->period.PeriodIndex(m.time) == cls->period.PeriodIndex(in_.now)) {
        why.push_back("the " + cls->name + " of the current period");
      }
      auto it = desired.find(m.name);
      if (it != desired.end() && !it->second.empty()) {
        why.push_back("export chain tip for " + JoinDestinationSet(it->second));
      }
      return Join(why, ", ");
    };
    RetentionDecision decision = DecideRetention(d, z.sel->keep, protect);
    for (const RetentionVerdict& v : decision.spared) {
      notes_.push_back("keeping " + FullName(ds, v.snapshot->name) + ": " + v.reason);
    }
    if (decision.destroy.empty()) continue;
    std::map<std::string, int> over;
    std::vector<std::string> names;
    for (const RetentionVerdict& v : decision.destroy) {
      names.emplace_back(v.snapshot->name);
      ++over[std::string(v.snapshot->snapshot_class)];
    }
    std::string reason = "retention:";
    for (const auto& [cls, n] : over) {
      auto k = z.sel->keep.find(cls);
      reason += " " + cls + " keeps " + std::to_string(k == z.sel->keep.end() ? 0 : k->second) +
                ", " + std::to_string(n) + " older;";
    }
    reason.pop_back();
    for (Argv& argv : in_.commands.DestroySnapshots(ds.name, names)) {
      Action a = ZoneAction(ActionKind::kDestroy, zone, reason);
      // The last argument is "<dataset>@a,b,c": exactly this action's names.
      const std::string& spec = argv.back();
      for (std::string_view s : Split(std::string_view(spec).substr(spec.find('@') + 1), ',')) {
        a.snapshots.push_back(ds.name + "@" + std::string(s));
      }
      a.argv = std::move(argv);
      destroys_.push_back(std::move(a));
    }
  }
}

}  // namespace

Status BuildPlan(const PlannerInput& input, Plan* plan) {
  if (input.policy == nullptr || input.inventory == nullptr) {
    return Status::Error("BuildPlan: policy and inventory are required");
  }
  return Planner(input).Run(plan);
}

}  // namespace zrecon
