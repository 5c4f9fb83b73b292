#ifndef ZRECON_TESTS_UNIT_RANDOM_HOST_H_
#define ZRECON_TESTS_UNIT_RANDOM_HOST_H_

// Random but plausible planner inputs for property tests: a policy file, the
// zfs and vmadm state of a SmartOS global zone, and the catalogs of its
// export destinations, all drawn from one seed, so that a failing case is
// replayed from its seed alone (on the same build: the standard library's
// distributions are not portable).
//
// The host is built like a real one ages: images, zones cloned from them,
// zone-wide snapshot groups over weeks (some dated in the future, as after
// a clock jump), other tools' snapshots, exports recorded in catalogs, then
// drift: snapshots destroyed or recreated by hand, holds, marks that no
// longer agree with the catalogs.

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "reconciler/catalog/catalog.h"
#include "reconciler/catalog/catalog_json.h"
#include "reconciler/host/zfs_dialect.h"
#include "reconciler/inventory/inventory.h"
#include "reconciler/policy/naming.h"
#include "reconciler/policy/policy.h"
#include "reconciler/policy/policy_loader.h"
#include "reconciler/util/duration.h"
#include "reconciler/util/status.h"
#include "reconciler/util/strings.h"
#include "reconciler/util/time.h"

namespace zrecon {
namespace testing {

// Hold tags by full snapshot name: `userrefs` is their count. The planner
// sees only the count; a simulator needs to know which hold is zrecon's.
using HoldTags = std::map<std::string, std::set<std::string>>;

struct RandomCase {
  uint64_t seed = 0;
  std::string policy_yaml;  // the text `policy` was loaded from
  Policy policy;
  Inventory inventory;  // Index()ed
  HoldTags holds;
  // Full names of snapshots made to resemble zrecon's without being its
  // own (other tools', near misses of the template): ground truth that does
  // not depend on NamingTemplate.
  std::set<std::string> foreign;
  Catalogs catalogs;
  EpochSeconds now = 0;
  ZfsDialect dialect = ZfsDialect::kIllumos;
  std::string host = "demo01";
};

// Uniform choices over one std::mt19937_64.
class Dice {
 public:
  explicit Dice(uint64_t seed) : rng_(seed) {}

  bool Chance(double p) { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < p; }
  // lo..hi inclusive.
  int64_t Between(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[static_cast<size_t>(Between(0, static_cast<int64_t>(items.size()) - 1))];
  }
  uint64_t Bits() { return rng_(); }
  std::mt19937_64& engine() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

class RandomHost {
 public:
  explicit RandomHost(uint64_t seed) : dice_(seed), seed_(seed) {}

  // Fails only when the generator wrote a policy the loader rejects: a bug
  // here.
  Status Generate(RandomCase* out) {
    out_ = out;
    out->seed = seed_;
    PickClock();
    AddPool();
    AddImages();
    int zones = static_cast<int>(dice_.Between(1, 5));
    for (int i = 0; i < zones; ++i) AddZone();
    Status st = LoadRandomPolicy();
    if (!st.ok()) return st;
    for (const Zone& z : zones_) AddZoneHistory(z);
    AddClones();
    AddBookmarks();
    AddCatalogs();
    DestroyByHand();
    MarkTips();
    AddForeignHolds();
    out->inventory.datasets = datasets_;
    out->inventory.zones = zones_;
    out->inventory.bookmarks = bookmarks_;
    out->inventory.Index();
    out->dialect = dice_.Chance(0.25) ? ZfsDialect::kLegacy : ZfsDialect::kIllumos;
    return Status::Ok();
  }

 private:
  // --- names and numbers ------------------------------------------------

  std::string Uuid() {
    static const char kHex[] = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < 32; ++i) {
      if (i == 8 || i == 12 || i == 16 || i == 20) s += '-';
      s += kHex[dice_.Between(0, 15)];
    }
    return s;
  }

  uint64_t Guid() {
    for (;;) {
      uint64_t g = dice_.Bits();
      if (g != 0 && guids_.insert(g).second) return g;
    }
  }

  uint64_t NextTxg() { return txg_ += static_cast<uint64_t>(dice_.Between(1, 3)); }

  static std::string Quote(const std::string& s) { return "\"" + s + "\""; }

  // --- datasets and snapshots -------------------------------------------

  Dataset* FindDataset(const std::string& name) {
    for (Dataset& d : datasets_) {
      if (d.name == name) return &d;
    }
    return nullptr;
  }

  Snapshot* FindSnapshot(const std::string& full) {
    size_t at = full.find('@');
    Dataset* d = FindDataset(full.substr(0, at));
    if (d == nullptr) return nullptr;
    for (Snapshot& s : d->snapshots) {
      if (s.name == full.substr(at + 1)) return &s;
    }
    return nullptr;
  }

  void AddDataset(const std::string& name, const std::string& origin = "",
                  DatasetType type = DatasetType::kFilesystem) {
    Dataset d;
    d.name = name;
    d.origin = origin;
    d.type = type;
    d.guid = Guid();
    d.createtxg = NextTxg();
    d.creation = now_ - 90 * 86400;
    d.used = static_cast<uint64_t>(dice_.Between(1 << 12, 1 << 30));
    datasets_.push_back(d);
  }

  // Appends a snapshot (the newest by createtxg) to an existing dataset.
  void AddSnapshot(const std::string& dataset, const std::string& short_name, int64_t creation,
                   uint64_t txg) {
    Snapshot s;
    s.name = short_name;
    s.creation = creation;
    s.guid = Guid();
    s.createtxg = txg;
    s.used = static_cast<uint64_t>(dice_.Between(0, 1 << 24));
    FindDataset(dataset)->snapshots.push_back(s);
  }

  bool IsManaged(const std::string& short_name) const {
    std::string_view cls;
    EpochSeconds t;
    return naming_.Parse(short_name, &cls, &t);
  }

  bool IsCloneOrigin(const std::string& full) const {
    return std::any_of(datasets_.begin(), datasets_.end(),
                       [&](const Dataset& d) { return d.origin == full; });
  }

  // --- the host ---------------------------------------------------------

  void PickClock() {
    // 2025-01-01 .. 2027-12-31, any second.
    now_ = dice_.Between(1735689600, 1830297599);
    out_->now = now_;
  }

  void AddPool() {
    AddDataset("zones");
    AddDataset("zones/cores");
  }

  void AddImages() {
    int n = static_cast<int>(dice_.Between(1, 3));
    for (int i = 0; i < n; ++i) {
      std::string uuid = Uuid();
      AddDataset("zones/" + uuid);
      AddSnapshot("zones/" + uuid, "final", now_ - 200 * 86400, NextTxg());
      images_.push_back(uuid);
    }
  }

  std::string ImageFor(const std::string& brand) {
    bool hvm = brand == "kvm" || brand == "bhyve";
    if (dice_.Chance(hvm ? 0.7 : 0.1)) return "";
    // An image the zone names but the host no longer has (imgadm delete).
    if (dice_.Chance(0.05)) return Uuid();
    return dice_.Pick(images_);
  }

  bool ImageInstalled(const std::string& uuid) const {
    return std::find(images_.begin(), images_.end(), uuid) != images_.end();
  }

  // The origin an OS zone root (or an HVM disk) gets from its image: the
  // image's @final, or a per-VM snapshot of the image when it had none.
  std::string OriginFromImage(const std::string& image, const std::string& uuid) {
    if (image.empty() || !ImageInstalled(image)) return "";
    if (dice_.Chance(0.1)) {
      AddSnapshot("zones/" + image, uuid, now_ - 100 * 86400, NextTxg());
      return "zones/" + image + "@" + uuid;
    }
    return "zones/" + image + "@final";
  }

  void AddZone() {
    static const std::vector<std::string> kBrands = {"joyent", "joyent-minimal", "lx", "kvm",
                                                     "bhyve"};
    static const std::vector<std::string> kAliases = {
        "web01", "web02", "db1", "prod-db-2", "cache", "scratch1", "", "no", "build:7", "win10"};
    Zone z;
    z.uuid = Uuid();
    z.brand = dice_.Pick(kBrands);
    z.type = z.brand == "lx" ? "LX" : z.brand == "kvm" ? "KVM" : z.brand == "bhyve" ? "BHYV" : "OS";
    z.state = dice_.Chance(0.8) ? "running" : dice_.Chance(0.8) ? "stopped" : "provisioning";
    z.image_uuid = ImageFor(z.brand);
    z.zpool = dice_.Chance(0.95) ? "zones" : "";
    z.alias = dice_.Pick(kAliases);
    zones_.push_back(z);
    AddZoneDatasets(z);
  }

  void AddZoneDatasets(const Zone& z) {
    std::vector<std::string>& names = zone_datasets_[z.uuid];
    std::string root = "zones/" + z.uuid;
    if (dice_.Chance(0.03)) return;  // the zone row outlived its datasets
    bool hvm = z.brand == "kvm" || z.brand == "bhyve";
    AddDataset(root, hvm ? "" : OriginFromImage(z.image_uuid, z.uuid));
    names.push_back(root);
    auto add = [&](const std::string& name, const std::string& origin, DatasetType type) {
      AddDataset(name, origin, type);
      names.push_back(name);
    };
    if (z.brand == "kvm") {
      std::string image = z.image_uuid.empty() && dice_.Chance(0.6) ? dice_.Pick(images_) : "";
      add(root + "-disk0", OriginFromImage(image, z.uuid), DatasetType::kVolume);
      if (dice_.Chance(0.3)) add(root + "-disk1", "", DatasetType::kVolume);
      if (dice_.Chance(0.05)) {
        if (FindDataset("data") == nullptr) AddDataset("data");
        add("data/" + z.uuid + "-disk2", "", DatasetType::kVolume);
      }
    } else if (z.brand == "bhyve") {
      std::string image = dice_.Chance(0.5) ? dice_.Pick(images_) : "";
      add(root + "/disk0", OriginFromImage(image, z.uuid), DatasetType::kVolume);
      if (dice_.Chance(0.3)) add(root + "/disk1", "", DatasetType::kVolume);
    } else {
      if (dice_.Chance(0.4)) add(root + "/data", "", DatasetType::kFilesystem);
      if (dice_.Chance(0.05)) {
        AddDataset(root + "/volumes");
        add(root + "/volumes/v1", "", DatasetType::kFilesystem);
      }
    }
    if (dice_.Chance(0.9)) add("zones/cores/" + z.uuid, "", DatasetType::kFilesystem);
  }

  // --- the policy -------------------------------------------------------

  Status LoadRandomPolicy() {
    out_->policy_yaml = PolicyYaml();
    Diagnostics diags;
    if (!LoadPolicy("random.yaml", out_->policy_yaml, &out_->policy, &diags)) {
      std::string why;
      for (const Diagnostic& d : diags.items()) why += d.ToString() + "\n";
      return Status::Error("generated policy does not load:\n" + why + out_->policy_yaml);
    }
    std::string why;
    if (!NamingTemplate::Compile(out_->policy.naming, out_->policy.ClassNames(), &naming_, &why)) {
      return Status::Error("generated naming does not compile: " + why);
    }
    return Status::Ok();
  }

  std::string PolicyYaml() {
    std::string y = "version: 1\n";
    static const std::vector<std::string> kNamings = {
        "zrecon-{class}-{time}", "auto_{time}_{class}", "{class}.{time}", "zr:{class}:{time}"};
    if (dice_.Chance(0.5)) y += "naming: " + Quote(dice_.Pick(kNamings)) + "\n";
    std::vector<std::string> classes = {"daily",   "frequent", "hourly",
                                        "monthly", "weekly",   "yearly"};
    if (dice_.Chance(0.35)) {
      y += "classes:\n";
      if (dice_.Chance(0.5)) y += "  frequent: 10m\n";
      y += "  sixhourly: 6h\n  quarterly: 3mo\n";
      classes.push_back("sixhourly");
      classes.push_back("quarterly");
    }
    y += DestinationsYaml();
    y += PoliciesYaml(classes);
    y += ZonesYaml(classes);
    if (dice_.Chance(0.3)) {
      static const std::vector<std::string> kExcludes = {
          "{alias: \"scratch*\"}", "{brand: \"bhyve\"}", "{alias_regex: \"^no$\"}"};
      y += "exclude:\n  - " + dice_.Pick(kExcludes) + "\n";
    }
    if (dice_.Chance(0.35)) {
      y += "limits:\n  max_destroy: " + std::to_string(dice_.Between(0, 8)) + "\n";
    }
    return y;
  }

  std::string DestinationsYaml() {
    destinations_ = {"usb"};
    if (dice_.Chance(0.45)) destinations_.push_back("nas");
    std::string y = "destinations:\n";
    for (const std::string& d : destinations_) {
      y += "  " + d + ":\n    path: /mnt/" + d + "/zrecon\n";
      if (dice_.Chance(0.3)) y += "    compression: zstd\n";
    }
    return y;
  }

  std::string KeepYaml(const std::vector<std::string>& classes, std::map<std::string, int>* keep) {
    static const std::vector<int> kCounts = {0, 1, 1, 2, 3, 4, 6, 24};
    std::string y;
    for (const std::string& c : classes) {
      if (!dice_.Chance(0.45)) continue;
      int n = dice_.Pick(kCounts);
      (*keep)[c] = n;
      y += (y.empty() ? "" : ", ") + c + ": " + std::to_string(n);
    }
    return "{" + y + "}";
  }

  std::string PoliciesYaml(const std::vector<std::string>& classes) {
    static const std::vector<std::string> kRoles = {"zoneroot", "disks", "cores"};
    static const std::vector<std::string> kFullEvery = {"1h", "1d", "7d", "30d", "1mo"};
    std::string y = "policies:\n";
    int n = static_cast<int>(dice_.Between(1, 2));
    for (int i = 0; i < n; ++i) {
      std::string name = "p" + std::to_string(i);
      std::map<std::string, int>& keep = policy_keep_[name];
      y += "  " + name + ":\n    keep: " + KeepYaml(classes, &keep) + "\n";
      if (dice_.Chance(0.6)) {
        std::vector<std::string> roles;
        for (const std::string& r : kRoles) {
          if (dice_.Chance(0.5)) roles.push_back(r);
        }
        if (roles.empty()) roles.push_back(dice_.Pick(kRoles));
        std::shuffle(roles.begin(), roles.end(), dice_.engine());
        y += "    datasets: [" + Join(roles, ", ") + "]\n";
      }
      std::vector<std::string> taken;
      for (const auto& [cls, count] : keep) {
        if (count > 0) taken.push_back(cls);
      }
      std::string rules;
      for (const std::string& d : destinations_) {
        if (taken.empty() || !dice_.Chance(0.65)) continue;
        std::string cls = dice_.Pick(taken);
        exported_[name].insert(cls);
        rules += "      - {destination: " + d + ", class: " + cls;
        if (dice_.Chance(0.5)) rules += ", full_every: " + dice_.Pick(kFullEvery);
        if (dice_.Chance(0.6)) rules += ", keep_chains: " + std::to_string(dice_.Between(1, 3));
        rules += "}\n";
      }
      if (!rules.empty()) y += "    export:\n" + rules;
    }
    return y;
  }

  std::string MatchYaml() {
    static const std::vector<std::string> kAliasGlobs = {"web*", "db*",  "*db*",       "scratch*",
                                                         "*",    "win*", "?eb0[12]",   "cache",
                                                         "",     "no",   "build:[0-9]"};
    static const std::vector<std::string> kBrandGlobs = {"kvm",     "bhyve",  "lx",
                                                         "joyent*", "joyent", "*"};
    static const std::vector<std::string> kRegexes = {"^db[0-9]+$", "db", "web|cache",
                                                      "^(win|bsd)[0-9]+$", "^$"};
    std::vector<std::string> keys;
    while (keys.empty()) {
      if (dice_.Chance(0.45)) keys.push_back("alias: " + Quote(dice_.Pick(kAliasGlobs)));
      if (dice_.Chance(0.3)) {
        const std::string& uuid = dice_.Pick(zones_).uuid;
        keys.push_back("uuid: " + Quote(dice_.Chance(0.8) ? uuid : uuid.substr(0, 1) + "*"));
      }
      if (dice_.Chance(0.3)) keys.push_back("brand: " + Quote(dice_.Pick(kBrandGlobs)));
      if (dice_.Chance(0.2)) keys.push_back("alias_regex: " + Quote(dice_.Pick(kRegexes)));
    }
    return "{" + Join(keys, ", ") + "}";
  }

  std::string ZonesYaml(const std::vector<std::string>& classes) {
    std::string y = "zones:\n";
    int n = static_cast<int>(dice_.Between(1, 3));
    for (int i = 0; i < n; ++i) {
      std::string policy =
          "p" + std::to_string(dice_.Between(0, static_cast<int64_t>(policy_keep_.size()) - 1));
      y += "  - match: " + MatchYaml() + "\n    policy: " + policy + "\n";
      if (!dice_.Chance(0.3)) continue;
      // An override may not stop taking a class the policy exports.
      std::string cls = dice_.Pick(classes);
      int count = static_cast<int>(dice_.Between(exported_[policy].count(cls) ? 1 : 0, 5));
      y += "    keep: {" + cls + ": " + std::to_string(count) + "}\n";
    }
    return y;
  }

  // --- snapshot history ---------------------------------------------------

  struct Event {
    std::string name;  // short snapshot name
    EpochSeconds time = 0;
    bool managed = false;
    std::string dataset;  // foreign events: the one dataset it is on; "" = all
    std::string hold_tag;
    bool partial = false;  // on about half the datasets only
  };

  // Times of the class's snapshots, newest first: one per period going back
  // from the current one, skipping some periods.
  std::vector<EpochSeconds> ClassTimes(const SnapshotClass& c) {
    int64_t span = c.period.ApproxSeconds();
    int max = span <= 3600 ? 14 : span <= 86400 ? 8 : 4;
    int count = static_cast<int>(dice_.Between(0, max));
    int64_t index = c.period.PeriodIndex(now_) - (dice_.Chance(0.5) ? 0 : 1);
    std::vector<EpochSeconds> out;
    for (int i = 0; i < count; ++i, --index) {
      if (dice_.Chance(0.1)) continue;
      EpochSeconds start = c.period.PeriodStart(index);
      EpochSeconds length = c.period.PeriodStart(index + 1) - start;
      EpochSeconds t = start + dice_.Between(0, std::min<int64_t>(length - 1, 900));
      out.push_back(std::min(t, now_));
    }
    return out;
  }

  std::vector<Event> ManagedEvents() {
    std::vector<Event> events;
    std::set<std::string> names;
    auto add = [&](const std::string& cls, EpochSeconds t) {
      Event e;
      e.name = naming_.Format(cls, t);
      e.time = t;
      e.managed = true;
      if (names.insert(e.name).second) events.push_back(e);
    };
    for (const SnapshotClass& c : out_->policy.classes) {
      if (!dice_.Chance(0.6)) continue;
      for (EpochSeconds t : ClassTimes(c)) add(c.name, t);
    }
    std::sort(events.begin(), events.end(),
              [](const Event& a, const Event& b) { return a.time < b.time; });
    // Snapshots named by a clock that ran ahead: created at some point in
    // the past (their createtxg) but dated after `now`.
    if (dice_.Chance(0.12)) {
      const std::vector<std::string> classes = out_->policy.ClassNames();
      int n = static_cast<int>(dice_.Between(1, 3));
      for (int i = 0; i < n; ++i) {
        Event e;
        e.time = now_ + dice_.Between(60, 3 * 86400);
        e.name = naming_.Format(dice_.Pick(classes), e.time);
        e.managed = true;
        if (!names.insert(e.name).second) continue;
        events.insert(events.begin() + dice_.Between(0, static_cast<int64_t>(events.size())), e);
      }
    }
    // A run at this very `now` that snapshotted some datasets, then failed.
    if (dice_.Chance(0.08)) {
      Event e;
      e.time = now_;
      e.name = naming_.Format(dice_.Pick(out_->policy.classes).name, now_);
      e.managed = true;
      e.partial = true;
      if (names.insert(e.name).second) events.push_back(e);
    }
    // Two snapshots created in the other order than their names say.
    if (events.size() > 1 && dice_.Chance(0.05)) {
      size_t i = static_cast<size_t>(dice_.Between(0, static_cast<int64_t>(events.size()) - 2));
      std::swap(events[i], events[i + 1]);
    }
    return events;
  }

  // Names another tool, vmadm or a hand gave, and near misses of the
  // template that a careless parser would take for zrecon's.
  std::string ForeignName(EpochSeconds t) {
    std::string compact = FormatCompact(t);
    const std::vector<std::string> classes = out_->policy.ClassNames();
    std::string cls = dice_.Pick(classes);
    switch (dice_.Between(0, 9)) {
      case 0:
        return "vmsnap-" + std::to_string(dice_.Between(1000, 9999));
      case 1:
        return "first_snap";
      case 2:
        return "autosnap_" + FormatRfc3339(t).substr(0, 10) + "_00:00:00_daily";
      case 3:
        return "zfs-auto-snap_daily-" + compact.substr(0, 8);
      case 4:
        return naming_.Format("fortnightly", t);  // not a class of this policy
      case 5: {
        // Matches the template's shape, but Nov 31 is no date.
        std::string name = naming_.Format(cls, t);
        return name.replace(name.find(compact), compact.size(), "20261131T000000Z");
      }
      case 6:
        return naming_.Format(cls, t) + "-keep";
      case 7:
        return "x" + naming_.Format(cls, t);
      case 8:
        return out_->policy.naming == "zrecon-{class}-{time}" ? "auto_" + compact + "_" + cls
                                                              : "zrecon-" + cls + "-" + compact;
      default:
        return naming_.Format(cls == "daily" ? "Daily" : "hourly2", t);
    }
  }

  std::vector<Event> ForeignEvents(const std::vector<std::string>& datasets) {
    std::vector<Event> events;
    int n = static_cast<int>(dice_.Between(0, 3));
    for (int i = 0; i < n; ++i) {
      Event e;
      e.time = now_ - dice_.Between(0, 40 * 86400);
      e.name = ForeignName(e.time);
      e.dataset = dice_.Pick(datasets);
      events.push_back(e);
    }
    if (dice_.Chance(0.05)) {
      Event e;
      e.name = "indestructible";
      e.time = now_ - 50 * 86400;
      e.dataset = datasets.front();
      e.hold_tag = "do_not_destroy";
      events.push_back(e);
    }
    return events;
  }

  // All snapshots of a zone's datasets, oldest first. A managed event is a
  // group snapshot: one txg on every dataset that existed then (a dataset
  // created later misses the older ones, a few were destroyed by hand).
  void AddZoneHistory(const Zone& z) {
    const std::vector<std::string>& datasets = zone_datasets_[z.uuid];
    if (datasets.empty()) return;
    std::vector<Event> events = ManagedEvents();
    for (Event& e : ForeignEvents(datasets)) {
      auto at = events.begin() + dice_.Between(0, static_cast<int64_t>(events.size()));
      events.insert(at, e);
    }
    std::map<std::string, size_t> born;
    for (const std::string& d : datasets) {
      born[d] = dice_.Chance(0.15) ? static_cast<size_t>(dice_.Between(0, events.size())) : 0;
    }
    for (size_t i = 0; i < events.size(); ++i) {
      const Event& e = events[i];
      uint64_t txg = NextTxg();
      for (const std::string& d : datasets) {
        if (!e.dataset.empty() && e.dataset != d) continue;
        if (i < born[d] || FindDataset(d)->FindSnapshot(e.name) != nullptr) continue;
        if (e.managed && dice_.Chance(e.partial ? 0.5 : 0.04)) continue;
        AddSnapshot(d, e.name, e.time + dice_.Between(0, 5), txg);
        std::string full = d + "@" + e.name;
        if (!e.managed) out_->foreign.insert(full);
        if (!e.hold_tag.empty()) out_->holds[full].insert(e.hold_tag);
      }
    }
  }

  std::vector<std::string> AllSnapshotsOf(const std::vector<std::string>& datasets) {
    std::vector<std::string> out;
    for (const std::string& d : datasets) {
      for (const Snapshot& s : FindDataset(d)->snapshots) out.push_back(d + "@" + s.name);
    }
    return out;
  }

  // Hand-made clones (a debug copy, a restore test) of zone snapshots.
  void AddClones() {
    if (!dice_.Chance(0.35)) return;
    std::vector<std::string> candidates;
    for (const auto& [uuid, datasets] : zone_datasets_) {
      for (const std::string& s : AllSnapshotsOf(datasets)) candidates.push_back(s);
    }
    if (candidates.empty()) return;
    int n = static_cast<int>(dice_.Between(1, 2));
    if (FindDataset("zones/copies") == nullptr) AddDataset("zones/copies");
    for (int i = 0; i < n; ++i) {
      AddDataset("zones/copies/c" + std::to_string(i), dice_.Pick(candidates));
    }
  }

  void AddBookmarks() {
    for (const auto& [uuid, datasets] : zone_datasets_) {
      if (datasets.empty() || !dice_.Chance(0.3)) continue;
      const Dataset* d = FindDataset(datasets.front());
      if (d->snapshots.empty()) continue;
      const Snapshot& s = dice_.Pick(d->snapshots);
      Bookmark b;
      b.name = d->name + "#" + s.name;
      b.creation = s.creation;
      b.guid = s.guid;
      b.createtxg = s.createtxg;
      bookmarks_.push_back(b);
    }
  }

  // --- catalogs -----------------------------------------------------------

  std::string Sha256Like() {
    static const char kHex[] = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < 64; ++i) s += kHex[dice_.Between(0, 15)];
    return s;
  }

  StoredFile Stored(const std::string& file) {
    StoredFile f;
    f.file = file;
    f.size = static_cast<uint64_t>(dice_.Between(0, 1 << 30));
    f.sha256 = Sha256Like();
    return f;
  }

  // The planner's directory name for a zone dataset (DatasetKey).
  static std::string DatasetKey(const Zone& z, const std::string& dataset) {
    std::string root = "zones/" + z.uuid;
    auto plus = [](std::string s) {
      std::replace(s.begin(), s.end(), '/', '+');
      return s;
    };
    if (dataset == root) return "root";
    if (StartsWith(dataset, root + "/")) return "root+" + plus(dataset.substr(root.size() + 1));
    if (dataset == "zones/cores/" + z.uuid) return "cores";
    std::string leaf = dataset.substr(dataset.rfind('/') + 1);
    if (StartsWith(leaf, z.uuid + "-")) return leaf.substr(z.uuid.size() + 1);
    return plus(dataset);
  }

  void AddCatalogs() {
    for (const std::string& name : destinations_) {
      double r = static_cast<double>(dice_.Between(0, 99)) / 100.0;
      if (r < 0.12) continue;  // never read: counts as unreachable
      DestinationCatalog& cat = out_->catalogs[name];
      cat.name = name;
      if (r < 0.3) {
        cat.unreachable_reason = "/mnt/" + name + "/zrecon does not exist";
        continue;
      }
      cat.reachable = true;
      for (const std::string& image : images_) {
        if (dice_.Chance(0.5)) AddImageRecord(image, &cat);
      }
      for (const Zone& z : zones_) {
        if (dice_.Chance(0.65)) AddZoneManifest(z, &cat);
      }
      if (dice_.Chance(0.1)) AddDeletedZoneManifest(&cat);
    }
  }

  // The exports of a zone deleted from the host since.
  void AddDeletedZoneManifest(DestinationCatalog* cat) {
    Zone z;
    z.uuid = Uuid();
    z.brand = "joyent";
    z.alias = "gone";
    Dataset ds;
    ds.name = "zones/" + z.uuid;
    for (int i = 3; i > 0; --i) {
      Snapshot s;
      s.creation = now_ - i * 86400;
      s.name = naming_.Format("daily", s.creation);
      s.guid = Guid();
      s.createtxg = NextTxg();
      ds.snapshots.push_back(s);
    }
    ZoneManifest m;
    m.host = out_->host;
    m.uuid = z.uuid;
    m.alias = z.alias;
    m.brand = z.brand;
    AddChains(z, ds, &m);
    cat->zones[z.uuid] = m;
  }

  void AddImageRecord(const std::string& image, DestinationCatalog* cat) {
    const Snapshot* final_snap = FindSnapshot("zones/" + image + "@final");
    ImageManifest m;
    m.uuid = image;
    m.snapshot = "zones/" + image + "@final";
    // A different guid: the image was reimported since it was saved.
    m.guid = dice_.Chance(0.15) ? Guid() : final_snap->guid;
    m.createtxg = final_snap->createtxg;
    m.stream = Stored("images/" + image + ".zfs");
    m.written = FormatRfc3339(now_ - 100 * 86400);
    cat->images[image] = m;
  }

  void AddZoneManifest(const Zone& z, DestinationCatalog* cat) {
    ZoneManifest m;
    m.host = out_->host;
    m.uuid = z.uuid;
    m.alias = z.alias;
    m.brand = z.brand;
    m.image_uuid = z.image_uuid;
    for (const std::string& d : zone_datasets_[z.uuid]) {
      if (dice_.Chance(0.7)) AddChains(z, *FindDataset(d), &m);
    }
    // An apply at this very `now` saved the config, then failed.
    std::string rerun = z.uuid + "/config/" + FormatCompact(now_) + ".json";
    bool recorded = std::any_of(m.configs.begin(), m.configs.end(),
                                [&](const ConfigRecord& r) { return r.stored.file == rerun; });
    if (!recorded && dice_.Chance(0.05)) {
      m.configs.push_back(ConfigRecord{Stored(rerun), FormatRfc3339(now_)});
    }
    cat->zones[z.uuid] = m;
  }

  static std::string Zero4(size_t n) {
    std::string s = std::to_string(n);
    return std::string(s.size() < 4 ? 4 - s.size() : 0, '0') + s;
  }

  // 1..3 chains of the dataset, oldest first, each over a later stretch of
  // its managed snapshots. The current (last) chain's tip may be destroyed
  // or recreated by hand later, or the chain may predate a reprovisioning
  // (another origin).
  void AddChains(const Zone& z, const Dataset& ds, ZoneManifest* m) {
    // Now and then the links were exported under an earlier naming
    // template: to this policy they are other snapshots than its own.
    bool any_name = dice_.Chance(0.08);
    std::vector<const Snapshot*> managed;
    for (const Snapshot& s : ds.snapshots) {
      if (any_name || IsManaged(s.name)) managed.push_back(&s);
    }
    if (managed.empty()) return;
    int chains = static_cast<int>(dice_.Between(1, std::min<int64_t>(3, managed.size())));
    std::vector<size_t> cuts = {0};
    for (int i = 1; i < chains; ++i) {
      cuts.push_back(static_cast<size_t>(dice_.Between(1, managed.size() - 1)));
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    cuts.push_back(managed.size());
    for (size_t c = 0; c + 1 < cuts.size(); ++c) {
      std::vector<const Snapshot*> links;
      for (size_t i = cuts[c]; i < cuts[c + 1]; ++i) {
        if (i + 1 == cuts[c + 1] || dice_.Chance(0.4)) links.push_back(managed[i]);
      }
      // The current chain's tip is not always the newest snapshot.
      bool current = c + 2 == cuts.size();
      if (current && links.size() > 1 && dice_.Chance(0.3)) links.pop_back();
      AddChain(z, ds, links, current, m);
    }
  }

  void AddChain(const Zone& z, const Dataset& ds, const std::vector<const Snapshot*>& links,
                bool current, ZoneManifest* m) {
    Chain chain;
    chain.dataset = ds.name;
    chain.origin = ds.origin;
    const Snapshot* origin = ds.origin.empty() ? nullptr : FindSnapshot(ds.origin);
    chain.origin_guid = origin ? origin->guid : 0;
    if (current && dice_.Chance(0.1)) {
      // Exported before the zone was reprovisioned from another image.
      chain.origin = ds.origin.empty() ? "zones/" + Uuid() + "@final" : "";
      chain.origin_guid = ds.origin.empty() ? Guid() : 0;
    }
    bool from_image =
        !chain.origin.empty() && EndsWith(chain.origin, "@final") && dice_.Chance(0.85);
    if (from_image) chain.image_uuid = chain.origin.substr(6, 36);
    std::string_view cls;
    EpochSeconds base_time = 0;
    if (!naming_.Parse(links.front()->name, &cls, &base_time)) base_time = links.front()->creation;
    std::string id = DatasetKey(z, ds.name) + "/" + FormatCompact(base_time);
    std::set<std::string> ids;
    for (const Chain& c : m->chains) ids.insert(c.id);
    chain.id = id;
    for (int i = 2; ids.count(chain.id); ++i) chain.id = id + "-" + std::to_string(i);
    std::string from = from_image ? chain.origin : "";
    uint64_t from_guid = from_image ? chain.origin_guid : 0;
    for (const Snapshot* s : links) {
      ChainLink l;
      l.snapshot = s->name;
      l.guid = s->guid;
      l.createtxg = s->createtxg;
      l.creation = s->creation;
      l.from = from;
      l.from_guid = from_guid;
      l.stream = Stored(z.uuid + "/" + chain.id + "/" + Zero4(chain.links.size() + 1) + "-" +
                        s->name + ".zfs");
      l.config = z.uuid + "/config/" + FormatCompact(s->creation) + ".json";
      l.written = FormatRfc3339(s->creation + 60);
      bool recorded = std::any_of(m->configs.begin(), m->configs.end(),
                                  [&](const ConfigRecord& r) { return r.stored.file == l.config; });
      if (!recorded) m->configs.push_back(ConfigRecord{Stored(l.config), l.written});
      from = ds.name + "@" + s->name;
      from_guid = s->guid;
      chain.links.push_back(l);
    }
    if (current) {
      std::string tip = ds.name + "@" + links.back()->name;
      if (dice_.Chance(0.15)) doomed_.insert(tip);
      if (dice_.Chance(0.07)) recreated_.insert(tip);
    }
    m->chains.push_back(chain);
  }

  // --- drift --------------------------------------------------------------

  // zfs refuses to destroy a clone origin or a held snapshot; everything
  // else goes: chain tips picked by the catalogs, and a few at random.
  // Recreated ones come back with the same name, a new guid and txg.
  void DestroyByHand() {
    for (const auto& [uuid, datasets] : zone_datasets_) {
      for (const std::string& full : AllSnapshotsOf(datasets)) {
        bool doomed = doomed_.count(full) || recreated_.count(full) || dice_.Chance(0.04);
        if (!doomed || IsCloneOrigin(full) || out_->holds.count(full)) continue;
        size_t at = full.find('@');
        Dataset* d = FindDataset(full.substr(0, at));
        std::string name = full.substr(at + 1);
        auto it = std::find_if(d->snapshots.begin(), d->snapshots.end(),
                               [&](const Snapshot& s) { return s.name == name; });
        int64_t creation = it->creation;
        d->snapshots.erase(it);
        out_->foreign.erase(full);
        if (recreated_.count(full)) AddSnapshot(d->name, name, creation, NextTxg());
      }
    }
  }

  // The full name of the current chain's tip when that very snapshot (same
  // guid) is still on the host, else "".
  std::string TipOnHost(const ZoneManifest& m, const std::string& dataset) {
    const ChainLink* tip = nullptr;
    for (const Chain& c : m.chains) {
      if (c.dataset == dataset && !c.links.empty()) tip = c.tip();
    }
    if (tip == nullptr) return "";
    std::string full = dataset + "@" + tip->snapshot;
    const Snapshot* s = FindSnapshot(full);
    return s != nullptr && s->guid == tip->guid ? full : "";
  }

  std::vector<std::string> ManagedOf(const std::string& dataset) {
    std::vector<std::string> out;
    for (const Snapshot& s : FindDataset(dataset)->snapshots) {
      if (IsManaged(s.name)) out.push_back(dataset + "@" + s.name);
    }
    return out;
  }

  // zrecon:exported marks as earlier runs left them: mostly on the tips the
  // catalogs record, for offline media on some snapshot, for a destination
  // renamed since ("oldusb"); each marked snapshot usually with zrecon's
  // hold, and now and then a stale hold without a mark.
  void MarkTips() {
    std::map<std::string, std::set<std::string>> marks;
    for (const auto& [uuid, datasets] : zone_datasets_) {
      for (const std::string& d : datasets) {
        std::vector<std::string> managed = ManagedOf(d);
        if (managed.empty()) continue;
        for (const std::string& dest : destinations_) {
          auto cat = out_->catalogs.find(dest);
          bool reachable = cat != out_->catalogs.end() && cat->second.reachable;
          std::string tip;
          if (reachable && cat->second.zones.count(uuid)) {
            tip = TipOnHost(cat->second.zones.at(uuid), d);
          }
          if (!tip.empty() && dice_.Chance(0.85)) {
            marks[tip].insert(dest);
          } else if (dice_.Chance(reachable ? 0.1 : 0.5)) {
            marks[dice_.Pick(managed)].insert(dest);
          }
        }
        if (dice_.Chance(0.05)) marks[dice_.Pick(managed)].insert("oldusb");
      }
    }
    for (const auto& [full, set] : marks) {
      std::vector<std::string> names(set.begin(), set.end());
      if (names.size() > 1 && dice_.Chance(0.2)) std::reverse(names.begin(), names.end());
      FindSnapshot(full)->exported = Join(names, ",");
      if (dice_.Chance(0.9)) out_->holds[full].insert(std::string(kHoldTag));
    }
    for (const auto& [uuid, datasets] : zone_datasets_) {
      for (const std::string& full : AllSnapshotsOf(datasets)) {
        if (!marks.count(full) && dice_.Chance(0.01)) {
          out_->holds[full].insert(std::string(kHoldTag));
        }
      }
    }
  }

  // Other tools' holds. Not on a marked snapshot that lacks zrecon's hold:
  // the planner sees only userrefs, and takes the holds of a marked
  // snapshot to include zrecon's, as zrecon always leaves them.
  void AddForeignHolds() {
    for (const auto& [uuid, datasets] : zone_datasets_) {
      for (const std::string& full : AllSnapshotsOf(datasets)) {
        auto tags = out_->holds.find(full);
        bool own_hold = tags != out_->holds.end() && tags->second.count(std::string(kHoldTag));
        if (!FindSnapshot(full)->exported.empty() && !own_hold) continue;
        if (dice_.Chance(0.04)) out_->holds[full].insert("keep");
        if (dice_.Chance(0.01)) out_->holds[full].insert("backup");
      }
    }
    for (const auto& [full, tags] : out_->holds) FindSnapshot(full)->userrefs = tags.size();
  }

  Dice dice_;
  uint64_t seed_;
  RandomCase* out_ = nullptr;
  EpochSeconds now_ = 0;
  uint64_t txg_ = 1000;
  std::set<uint64_t> guids_;
  std::vector<Dataset> datasets_;
  std::vector<Zone> zones_;
  std::vector<Bookmark> bookmarks_;
  std::vector<std::string> images_;
  std::map<std::string, std::vector<std::string>> zone_datasets_;  // by zone uuid
  std::vector<std::string> destinations_;
  std::map<std::string, std::map<std::string, int>> policy_keep_;  // by policy name
  std::map<std::string, std::set<std::string>> exported_;          // classes by policy name
  NamingTemplate naming_;
  std::set<std::string> doomed_;     // chain tips to destroy by hand
  std::set<std::string> recreated_;  // chain tips to destroy and recreate
};

// The case of one seed.
inline Status GenerateCase(uint64_t seed, RandomCase* out) {
  return RandomHost(seed).Generate(out);
}

// Whether every manifest of the catalogs is one a destination could hold
// (it survives encoding and the reader's validation). Checked on a sample
// of cases rather than in GenerateCase: decoding is most of the cost of a
// case.
inline Status CatalogsDecode(const Catalogs& catalogs) {
  for (const auto& [name, cat] : catalogs) {
    for (const auto& [uuid, m] : cat.images) {
      ImageManifest decoded;
      Status st = DecodeImageManifest(EncodeImageManifest(m), &decoded);
      if (!st.ok()) return st.Prefixed(name + ": image " + uuid);
    }
    for (const auto& [uuid, m] : cat.zones) {
      ZoneManifest decoded;
      Status st = DecodeZoneManifest(EncodeZoneManifest(m), &decoded);
      if (!st.ok()) return st.Prefixed(name + ": zone " + uuid);
    }
  }
  return Status::Ok();
}

}  // namespace testing
}  // namespace zrecon

#endif  // ZRECON_TESTS_UNIT_RANDOM_HOST_H_
