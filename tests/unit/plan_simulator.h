#ifndef ZRECON_TESTS_UNIT_PLAN_SIMULATOR_H_
#define ZRECON_TESTS_UNIT_PLAN_SIMULATOR_H_

// Applies a plan to a model of a host and its destinations, for property
// tests: no process runs and no file is written.
//
// The zfs side is driven by each action's argv, as the real command would
// be (so an argv that disagrees with the action's declared snapshots is
// caught), and refuses what zfs refuses: an existing snapshot name, a
// missing snapshot, destroying a held snapshot or a clone origin, several
// names or comma lists in the legacy dialect. Holds are kept by tag; like
// the executor, a hold whose tag exists and a release whose tag does not
// are no-ops. Destination actions go through RecordingDestination, which
// edits its catalog with the checks DirectoryDestination applies.

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "reconciler/catalog/catalog.h"
#include "reconciler/host/zfs_dialect.h"
#include "reconciler/inventory/inventory.h"
#include "reconciler/plan/plan.h"
#include "reconciler/storage/recording_destination.h"
#include "reconciler/util/status.h"
#include "reconciler/util/strings.h"
#include "reconciler/util/time.h"
#include "tests/unit/random_host.h"

namespace zrecon {
namespace testing {

class PlanSimulator {
 public:
  PlanSimulator(const Inventory& inventory, const HoldTags& holds, const Catalogs& catalogs)
      : inventory_(inventory), holds_(holds), catalogs_(catalogs) {
    for (const Dataset& d : inventory_.datasets) {
      for (const Snapshot& s : d.snapshots) {
        next_txg_ = std::max(next_txg_, s.createtxg + 1);
        guids_.insert(s.guid);
      }
    }
    for (const auto& [name, cat] : catalogs_) {
      if (cat.reachable) destinations_[name] = std::make_unique<RecordingDestination>(name, cat);
    }
  }

  // Runs the actions in order and stops at the first one that zfs or a
  // destination would refuse, as apply does. The message names the action
  // (index, kind, target) and the refusal.
  Status Apply(const Plan& plan) {
    plan_ = &plan;
    for (size_t i = 0; i < plan.actions.size(); ++i) {
      const Action& a = plan.actions[i];
      Status st = ApplyAction(a);
      if (!st.ok()) {
        std::string target = a.snapshots.empty() ? a.snapshot : a.snapshots.front();
        return st.Prefixed("action #" + std::to_string(i) + " " + ActionKindName(a.kind) + " " +
                           target + " (" + ShellJoin(a.argv) + ")");
      }
    }
    inventory_.Index();
    return Status::Ok();
  }

  const Inventory& inventory() const { return inventory_; }
  const HoldTags& holds() const { return holds_; }

  // The catalogs after the plan: reachable ones as edited, others as read.
  Catalogs catalogs() const {
    Catalogs out = catalogs_;
    for (const auto& [name, dest] : destinations_) out[name] = dest->catalog();
    return out;
  }

 private:
  Status ApplyAction(const Action& a) {
    switch (a.kind) {
      case ActionKind::kSnapshot:
        return Snapshots(a);
      case ActionKind::kDestroy:
        return Destroy(a);
      case ActionKind::kHold:
      case ActionKind::kRelease:
      case ActionKind::kMarkTip:
        return TipCommand(a);
      case ActionKind::kSend:
      case ActionKind::kSaveImage:
        return Send(a);
      case ActionKind::kSaveConfig:
        return SaveConfig(a);
      case ActionKind::kSaveImageRecord:
        return SaveImageRecord(a);
      case ActionKind::kRemoveExport:
        return RemoveExport(a);
      case ActionKind::kRemoveLoose:
        return RemoveLoose(a);
      case ActionKind::kHook:  // an operator's command: nothing on the model changes
        return Status::Ok();
    }
    return Status::Error("unknown action kind");
  }

  // --- the zfs model ------------------------------------------------------

  Dataset* FindDataset(const std::string& name) {
    for (Dataset& d : inventory_.datasets) {
      if (d.name == name) return &d;
    }
    return nullptr;
  }

  Snapshot* FindSnapshot(const std::string& full) {
    size_t at = full.find('@');
    if (at == std::string::npos) return nullptr;
    Dataset* d = FindDataset(full.substr(0, at));
    if (d == nullptr) return nullptr;
    for (Snapshot& s : d->snapshots) {
      if (s.name == full.substr(at + 1)) return &s;
    }
    return nullptr;
  }

  bool IsCloneOrigin(const std::string& full) const {
    return std::any_of(inventory_.datasets.begin(), inventory_.datasets.end(),
                       [&](const Dataset& d) { return d.origin == full; });
  }

  bool Legacy() const { return plan_->dialect == ZfsDialect::kLegacy; }

  Status Expect(bool ok, const std::string& why) const {
    return ok ? Status::Ok() : Status::Error(why);
  }

  Status CheckZfs(const Action& a, const std::string& subcommand) const {
    return Expect(a.argv.size() >= 3 && a.argv[0] == plan_->zfs && a.argv[1] == subcommand,
                  "expected `" + plan_->zfs + " " + subcommand + " ...`");
  }

  // What the argv would declare equals what the action says it does.
  static Status SameNames(std::vector<std::string> by_argv, std::vector<std::string> declared) {
    std::sort(by_argv.begin(), by_argv.end());
    std::sort(declared.begin(), declared.end());
    if (by_argv == declared) return Status::Ok();
    return Status::Error("the argv acts on {" + Join(by_argv, " ") + "} but the action declares {" +
                         Join(declared, " ") + "}");
  }

  // `zfs snapshot [-r] a@x [b@x ...]`: all or nothing, one txg.
  Status Snapshots(const Action& a) {
    Status st = CheckZfs(a, "snapshot");
    if (!st.ok()) return st;
    bool recursive = a.argv[2] == "-r";
    std::vector<std::string> names(a.argv.begin() + (recursive ? 3 : 2), a.argv.end());
    if (Legacy() && names.size() != 1) return Status::Error("zfs-fuse: too many arguments");
    if (recursive) {
      if (names.size() != 1) return Status::Error("-r takes one name");
      std::string top = names[0].substr(0, names[0].find('@'));
      std::string tail = names[0].substr(names[0].find('@'));
      for (const Dataset& d : inventory_.datasets) {
        if (StartsWith(d.name, top + "/")) names.push_back(d.name + tail);
      }
    }
    for (const std::string& n : names) {
      size_t at = n.find('@');
      if (at == std::string::npos || FindDataset(n.substr(0, at)) == nullptr) {
        return Status::Error("cannot open '" + n + "': dataset does not exist");
      }
      if (FindSnapshot(n) != nullptr) {
        return Status::Error("cannot create snapshot '" + n + "': dataset already exists");
      }
    }
    uint64_t txg = next_txg_++;
    for (const std::string& n : names) {
      size_t at = n.find('@');
      Snapshot s;
      s.name = n.substr(at + 1);
      s.creation = plan_->now;
      s.guid = NewGuid();
      s.createtxg = txg;
      FindDataset(n.substr(0, at))->snapshots.push_back(s);
    }
    return SameNames(names, a.snapshots);
  }

  // `zfs destroy ds@a[,b,...]` only: no flags, no dataset, no range.
  Status Destroy(const Action& a) {
    Status st = CheckZfs(a, "destroy");
    if (!st.ok()) return st;
    if (a.argv.size() != 3) return Status::Error("zfs destroy takes exactly one argument here");
    const std::string& spec = a.argv[2];
    size_t at = spec.find('@');
    if (spec.empty() || spec[0] == '-' || at == std::string::npos ||
        spec.find('%') != std::string::npos) {
      return Status::Error("not a snapshot list: " + spec);
    }
    std::string dataset = spec.substr(0, at);
    std::vector<std::string> names;
    for (std::string_view s : Split(std::string_view(spec).substr(at + 1), ',')) {
      names.push_back(dataset + "@" + std::string(s));
    }
    if (Legacy() && names.size() != 1) return Status::Error("zfs-fuse has no comma lists");
    for (const std::string& n : names) {
      const Snapshot* s = FindSnapshot(n);
      if (s == nullptr) return Status::Error("could not find snapshot " + n + " to destroy");
      if (s->userrefs > 0) return Status::Error("cannot destroy '" + n + "': dataset is busy");
      if (IsCloneOrigin(n)) {
        return Status::Error("cannot destroy '" + n + "': snapshot has dependent clones");
      }
    }
    for (const std::string& n : names) {
      Dataset* d = FindDataset(dataset);
      std::string short_name = n.substr(at + 1);
      d->snapshots.erase(std::find_if(d->snapshots.begin(), d->snapshots.end(),
                                      [&](const Snapshot& s) { return s.name == short_name; }));
      holds_.erase(n);
    }
    return SameNames(names, a.snapshots);
  }

  // hold, release, set zrecon:exported=..., inherit zrecon:exported.
  Status TipCommand(const Action& a) {
    const char* sub = a.kind == ActionKind::kHold      ? "hold"
                      : a.kind == ActionKind::kRelease ? "release"
                      : a.property_value.empty()       ? "inherit"
                                                       : "set";
    Status st = CheckZfs(a, sub);
    if (st.ok()) st = Expect(a.argv.size() == 4, "expected 4 arguments");
    if (!st.ok()) return st;
    const std::string& target = a.argv[3];
    Snapshot* s = FindSnapshot(target);
    if (s == nullptr) return Status::Error("cannot open '" + target + "': dataset does not exist");
    if (a.kind == ActionKind::kHold || a.kind == ActionKind::kRelease) {
      st = Expect(a.argv[2] == kHoldTag, "a hold tag other than zrecon's: " + a.argv[2]);
    }
    std::set<std::string>& tags = holds_[target];
    if (a.kind == ActionKind::kHold) {
      tags.insert(a.argv[2]);
    } else if (a.kind == ActionKind::kRelease) {
      tags.erase(a.argv[2]);
    } else if (a.property_value.empty()) {
      st = Expect(a.argv[2] == kExportedProperty, "inherits " + a.argv[2]);
      s->exported.clear();
    } else {
      st = Expect(a.argv[2] == std::string(kExportedProperty) + "=" + a.property_value,
                  "sets " + a.argv[2]);
      s->exported = a.property_value;
    }
    s->userrefs = static_cast<int64_t>(tags.size());
    if (tags.empty()) holds_.erase(target);
    if (!st.ok()) return st;
    return SameNames({target}, a.snapshots);
  }

  // --- destinations -------------------------------------------------------

  Status Destination(const std::string& name, RecordingDestination** out) {
    auto it = destinations_.find(name);
    if (it == destinations_.end()) {
      return Status::Error("destination " + name + " is not reachable in this case");
    }
    *out = it->second.get();
    return Status::Ok();
  }

  Status Write(RecordingDestination* dest, const std::string& file, const std::string& compression,
               StoredFile* stored) {
    std::unique_ptr<StreamFile> f;
    Status st = dest->Create(file, compression, &f);
    if (st.ok()) st = f->Commit(stored);
    return st;
  }

  ZoneManifest ZoneIdentity(const std::string& uuid) const {
    ZoneManifest z;
    z.host = plan_->host;
    z.uuid = uuid;
    auto it = plan_->zones.find(uuid);
    if (it != plan_->zones.end()) {
      z.alias = it->second.alias;
      z.brand = it->second.brand;
      z.image_uuid = it->second.image_uuid;
    }
    return z;
  }

  std::string Compression(const std::string& destination) const {
    auto it = plan_->destinations.find(destination);
    return it == plan_->destinations.end() ? "none" : it->second.compression;
  }

  // Checks what `zfs send [-i from] snap` needs, then records the stream as
  // the executor does (looking up a planned snapshot's guid).
  Status Send(const Action& a) {
    ZfsCommands zfs;
    zfs.zfs = plan_->zfs;
    Status st =
        Expect(a.argv == zfs.Send(a.snapshot, a.from), "argv is not the send of the action");
    if (!st.ok()) return st;
    const Snapshot* s = FindSnapshot(a.snapshot);
    if (s == nullptr) return Status::Error("WARNING: could not send " + a.snapshot);
    StreamTarget t = a.stream;
    if (t.guid == 0) {
      t.guid = s->guid;
      t.createtxg = s->createtxg;
      t.creation = s->creation;
    }
    if (t.guid != s->guid) return Status::Error("the plan's guid is not the snapshot's");
    if (!a.from.empty()) {
      const Snapshot* from = FindSnapshot(a.from);
      if (from == nullptr) return Status::Error("incremental source " + a.from + " does not exist");
      if (from->guid != t.from_guid) return Status::Error("from_guid is not the guid of " + a.from);
      bool same_dataset = a.from.substr(0, a.from.find('@')) == t.dataset;
      if (same_dataset && from->createtxg >= s->createtxg) {
        return Status::Error("incremental source " + a.from + " is not earlier than it");
      }
    }
    RecordingDestination* dest = nullptr;
    st = Destination(a.destination, &dest);
    StoredFile stored;
    if (st.ok()) st = Write(dest, a.file, Compression(a.destination), &stored);
    if (!st.ok()) return st;
    std::string written = FormatRfc3339(plan_->now);
    if (a.kind == ActionKind::kSaveImage) {
      ImageManifest image;
      image.uuid = t.image_uuid;
      image.snapshot = a.snapshot;
      image.guid = t.guid;
      image.createtxg = t.createtxg;
      image.stream = stored;
      image.written = written;
      return dest->RecordImage(image);
    }
    Chain chain;
    chain.id = t.chain_id;
    chain.dataset = t.dataset;
    chain.origin = t.origin;
    chain.origin_guid = t.origin_guid;
    chain.image_uuid = t.image_uuid;
    ChainLink link;
    link.snapshot = a.snapshot.substr(a.snapshot.find('@') + 1);
    link.guid = t.guid;
    link.createtxg = t.createtxg;
    link.creation = t.creation;
    link.from = a.from;
    link.from_guid = t.from_guid;
    link.stream = stored;
    link.config = t.config_file;
    link.written = written;
    return dest->RecordLink(ZoneIdentity(a.zone), chain, link);
  }

  Status SaveConfig(const Action& a) {
    Status st = Expect(a.argv == Argv{plan_->vmadm, "get", a.zone}, "expected `vmadm get <zone>`");
    RecordingDestination* dest = nullptr;
    if (st.ok()) st = Destination(a.destination, &dest);
    StoredFile stored;
    if (st.ok()) st = Write(dest, a.file, "none", &stored);
    if (!st.ok()) return st;
    return dest->RecordConfig(ZoneIdentity(a.zone),
                              ConfigRecord{stored, FormatRfc3339(plan_->now)});
  }

  // imgadm's record of an image the host has, which the destination must
  // record already (save_image comes first when it does not).
  Status SaveImageRecord(const Action& a) {
    const std::string& image = a.stream.image_uuid;
    Status st = Expect(a.argv.size() == 5 && a.argv[1] == "get" && a.argv[2] == "-P" &&
                           a.argv[4] == image && FindDataset(a.argv[3] + "/" + image) != nullptr,
                       "expected `imgadm get -P <pool> <image>` of an image on the host");
    RecordingDestination* dest = nullptr;
    if (st.ok()) st = Destination(a.destination, &dest);
    StoredFile stored;
    if (st.ok()) st = Write(dest, a.file, "none", &stored);
    if (!st.ok()) return st;
    return dest->RecordImageRecord(image, stored, "zone-dataset");
  }

  Status RemoveExport(const Action& a) {
    Status st = Expect(a.argv.empty(), "remove_export runs no command");
    RecordingDestination* dest = nullptr;
    if (st.ok()) st = Destination(a.destination, &dest);
    if (!st.ok()) return st;
    return dest->RemoveChain(a.zone, a.chain_id, a.files);
  }

  Status RemoveLoose(const Action& a) {
    Status st = Expect(a.argv.empty(), "remove_loose runs no command");
    RecordingDestination* dest = nullptr;
    if (st.ok()) st = Destination(a.destination, &dest);
    if (!st.ok()) return st;
    return dest->RemoveLooseFiles(a.zone, a.files);
  }

  uint64_t NewGuid() {
    while (!guids_.insert(next_guid_).second) next_guid_ += 2;
    return next_guid_;
  }

  const Plan* plan_ = nullptr;
  Inventory inventory_;
  HoldTags holds_;
  Catalogs catalogs_;
  std::map<std::string, std::unique_ptr<RecordingDestination>> destinations_;
  uint64_t next_txg_ = 1;
  uint64_t next_guid_ = 0x5a5a000000000001ull;
  std::set<uint64_t> guids_;
};

}  // namespace testing
}  // namespace zrecon

#endif  // ZRECON_TESTS_UNIT_PLAN_SIMULATOR_H_
