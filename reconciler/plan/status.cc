#include "reconciler/plan/status.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>
#include <utility>

#include "reconciler/inventory/zone_datasets.h"
#include "reconciler/plan/managed.h"
#include "reconciler/plan/zone_selection.h"
#include "reconciler/policy/naming.h"

namespace zrecon {

const char* HealthName(Health h) {
  switch (h) {
    case Health::kOk:
      return "OK";
    case Health::kWarning:
      return "WARNING";
    case Health::kCritical:
      return "CRITICAL";
    case Health::kUnknown:
      return "UNKNOWN";
  }
  return "UNKNOWN";
}

namespace {

int Rank(Health h) {
  switch (h) {
    case Health::kOk:
      return 0;
    case Health::kUnknown:
      return 1;
    case Health::kWarning:
      return 2;
    case Health::kCritical:
      return 3;
  }
  return 1;
}

// OK, WARNING or CRITICAL for an age in periods; "what" names it.
Health Judge(int64_t age, int64_t period, const StatusThresholds& t, const std::string& what,
             std::string* why) {
  const double periods = static_cast<double>(age) / static_cast<double>(period);
  Health h = periods > t.crit   ? Health::kCritical
             : periods > t.warn ? Health::kWarning
                                : Health::kOk;
  if (h != Health::kOk) {
    char limit[32];
    std::snprintf(limit, sizeof limit, "%g", h == Health::kCritical ? t.crit : t.warn);
    *why =
        what + " is " + FormatAge(age) + " old, over " + limit + " periods of " + FormatAge(period);
  }
  return h;
}

ClassHealth ClassOf(const SnapshotClass& c, const std::vector<DatasetState>& datasets,
                    EpochSeconds now, const StatusThresholds& t) {
  ClassHealth out;
  out.snapshot_class = c.name;
  out.period_seconds = c.period.ApproxSeconds();
  for (const DatasetState& d : datasets) {
    const ManagedSnapshot* newest = d.NewestOfClass(c.name);
    if (newest == nullptr) {
      out.newest.clear();
      out.age = -1;
      out.health = Health::kCritical;
      out.why = "no " + c.name + " snapshot of " + d.dataset->name;
      return out;
    }
    int64_t age = now - newest->time;
    if (age > out.age) {
      out.age = age;
      out.newest = d.dataset->name + "@" + std::string(newest->name);
    }
  }
  out.health =
      Judge(out.age, out.period_seconds, t,
            "the newest " + c.name + " snapshot of " + out.newest.substr(0, out.newest.find('@')),
            &out.why);
  return out;
}

ExportHealth ExportOf(const ExportRule& rule, const Policy& policy, const Catalogs* catalogs,
                      const std::string& zone_uuid, const std::vector<DatasetState>& datasets,
                      EpochSeconds now, const StatusThresholds& t) {
  ExportHealth out;
  out.destination = rule.destination;
  out.snapshot_class = rule.snapshot_class;
  const DestinationCatalog* cat = nullptr;
  if (catalogs != nullptr) {
    auto it = catalogs->find(rule.destination);
    if (it != catalogs->end()) cat = &it->second;
  }
  if (cat == nullptr || !cat->reachable) {
    out.health = Health::kUnknown;
    out.why =
        "destination " + rule.destination + " is unreachable" +
        (cat != nullptr && !cat->unreachable_reason.empty() ? " (" + cat->unreachable_reason + ")"
                                                            : "");
    return out;
  }
  out.reachable = true;
  auto z = cat->zones.find(zone_uuid);
  const ZoneManifest* manifest = z == cat->zones.end() ? nullptr : &z->second;
  if (manifest != nullptr) out.chains = manifest->chains.size();
  int64_t period = 0;
  for (const SnapshotClass& c : policy.classes) {
    if (c.name == rule.snapshot_class) period = c.period.ApproxSeconds();
  }
  for (const DatasetState& d : datasets) {
    const ChainLink* newest = nullptr;
    if (manifest != nullptr) {
      for (const Chain& c : manifest->chains) {
        if (c.dataset != d.dataset->name) continue;
        for (const ChainLink& l : c.links) {
          if (newest == nullptr || l.creation > newest->creation) newest = &l;
        }
      }
    }
    if (newest == nullptr) {
      out.newest.clear();
      out.age = -1;
      out.health = Health::kCritical;
      out.why = d.dataset->name + " was never exported to " + rule.destination;
      return out;
    }
    int64_t age = now - newest->creation;
    if (age > out.age) {
      out.age = age;
      out.newest = d.dataset->name + "@" + newest->snapshot;
    }
  }
  if (period > 0) {
    out.health = Judge(out.age, period, t,
                       "the newest export of " + out.newest.substr(0, out.newest.find('@')) +
                           " to " + rule.destination,
                       &out.why);
  }
  return out;
}

}  // namespace

Health Worse(Health a, Health b) { return Rank(a) >= Rank(b) ? a : b; }

Status ComputeHealth(const PlannerInput& in, const StatusThresholds& thresholds, HostHealth* out) {
  *out = HostHealth();
  out->now = in.now;
  if (!(thresholds.warn > 0) || !(thresholds.crit >= thresholds.warn)) {
    return Status::Error("thresholds: --warn must be above 0 and --crit at least --warn, got " +
                         std::to_string(thresholds.warn) + " and " +
                         std::to_string(thresholds.crit));
  }
  const Policy& policy = *in.policy;
  NamingTemplate naming;
  std::string why;
  if (!NamingTemplate::Compile(policy.naming, policy.ClassNames(), &naming, &why)) {
    return Status::Error("naming template: " + why);
  }
  ZoneSelection selection = SelectZones(policy, *in.inventory);
  for (const std::string& e : selection.errors) {
    out->problems.push_back(e);
    out->health = Worse(out->health, Health::kCritical);
  }
  for (const std::string& w : selection.warnings) out->problems.push_back(w);
  for (const SelectedZone& sel : selection.selected) {
    ZoneHealth zone;
    zone.uuid = sel.zone->uuid;
    zone.alias = sel.zone->alias;
    std::vector<DatasetState> datasets;
    for (const Dataset* d : ZoneDatasets(*in.inventory, *sel.zone, sel.policy->datasets)) {
      datasets.push_back(ReadDatasetState(*d, naming));
    }
    if (datasets.empty()) {
      out->problems.push_back("zone " + zone.uuid + ": none of its datasets is on the host");
      zone.health = Health::kCritical;
    } else {
      std::vector<const SnapshotClass*> classes;
      for (const SnapshotClass& c : policy.classes) {
        auto kept = sel.keep.find(c.name);
        if (kept != sel.keep.end() && kept->second > 0) classes.push_back(&c);
      }
      std::stable_sort(classes.begin(), classes.end(),
                       [](const SnapshotClass* a, const SnapshotClass* b) {
                         return a->period.ApproxSeconds() < b->period.ApproxSeconds();
                       });
      for (const SnapshotClass* c : classes) {
        zone.classes.push_back(ClassOf(*c, datasets, in.now, thresholds));
        zone.health = Worse(zone.health, zone.classes.back().health);
      }
      std::vector<const ExportRule*> rules;
      for (const ExportRule& r : sel.policy->exports) rules.push_back(&r);
      std::stable_sort(rules.begin(), rules.end(), [](const ExportRule* a, const ExportRule* b) {
        return std::tie(a->destination, a->snapshot_class) <
               std::tie(b->destination, b->snapshot_class);
      });
      for (const ExportRule* r : rules) {
        zone.exports.push_back(
            ExportOf(*r, policy, in.catalogs, zone.uuid, datasets, in.now, thresholds));
        zone.health = Worse(zone.health, zone.exports.back().health);
      }
    }
    out->health = Worse(out->health, zone.health);
    out->zones.push_back(std::move(zone));
  }
  return Status::Ok();
}

}  // namespace zrecon
