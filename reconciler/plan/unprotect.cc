#include "reconciler/plan/unprotect.h"

#include "reconciler/inventory/zone_datasets.h"
#include "reconciler/plan/managed.h"
#include "reconciler/plan/zone_selection.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

std::string FullName(const Dataset& ds, const std::string& snapshot) {
  return ds.name + "@" + snapshot;
}

}  // namespace

void AppendUnprotectActions(const Zone& zone, const std::vector<const Dataset*>& datasets,
                            const NamingTemplate& naming, const ZfsCommands& commands,
                            const std::string& why, std::vector<Action>* out) {
  for (const Dataset* ds : datasets) {
    for (const Snapshot& snap : ds->snapshots) {
      std::string_view cls;
      EpochSeconds t = 0;
      if (snap.exported.empty() || !naming.Parse(snap.name, &cls, &t)) continue;
      std::string full = FullName(*ds, snap.name);
      // The mark is the record that zrecon's hold may exist: it goes last.
      if (snap.userrefs > 0) {
        Action a = ZoneAction(ActionKind::kRelease, zone,
                              why +
                                  ": zrecon's hold on a chain tip goes (vmadm delete "
                                  "would hang on it)");
        a.argv = commands.Release(std::string(kHoldTag), full);
        a.snapshots = {full};
        out->push_back(std::move(a));
      }
      Action a = ZoneAction(ActionKind::kMarkTip, zone, why + ": no longer a chain tip");
      a.argv = commands.InheritProperty(full, kExportedProperty);
      a.snapshots = {full};
      out->push_back(std::move(a));
    }
  }
}

Status PlanUnprotect(const UnprotectInput& in, Plan* plan) {
  const Policy& policy = *in.policy;
  const Inventory& inv = *in.inventory;
  NamingTemplate naming;
  std::string why;
  if (!NamingTemplate::Compile(policy.naming, policy.ClassNames(), &naming, &why)) {
    return Status::Error(policy.file + ": naming: " + why);
  }
  std::vector<const Zone*> zones;
  for (const std::string& wanted : in.zones) {
    std::vector<const Zone*> found;
    for (const Zone& z : inv.zones) {
      if (z.uuid == wanted || z.alias == wanted) found.push_back(&z);
    }
    if (found.size() != 1) {
      std::vector<std::string> known;
      for (const Zone& z : inv.zones) {
        known.push_back(z.uuid + (z.alias.empty() ? "" : " (" + Printable(z.alias) + ")"));
      }
      return Status::Error(
          found.empty() ? "no zone \"" + Printable(wanted) + "\" on this host; it has: " +
                              (known.empty() ? std::string("none") : Join(known, ", "))
                        : "alias \"" + Printable(wanted) + "\" names several zones; give the uuid");
    }
    zones.push_back(found.front());
  }
  ZoneSelection selection = SelectZones(policy, inv);
  Plan p;
  p.now = in.now;
  p.host = in.host;
  p.dialect = in.commands.dialect;
  p.zfs = in.commands.zfs;
  p.vmadm = in.commands.vmadm;
  p.max_destroy = policy.max_destroy;
  const std::vector<DatasetRole> all = {DatasetRole::kZoneRoot, DatasetRole::kDisks,
                                        DatasetRole::kCores};
  for (const Zone* zone : zones) {
    AppendUnprotectActions(*zone, ZoneDatasets(inv, *zone, all), naming, in.commands,
                           "zrecon unprotect", &p.actions);
    for (const SelectedZone& sel : selection.selected) {
      if (sel.zone->uuid != zone->uuid) continue;
      p.warnings.push_back("zone " + zone->uuid + " (" + Printable(zone->alias) +
                           ") is still protected by " + policy.file +
                           ": the next apply holds its chain tips again; remove it from the "
                           "policy (or exclude it) to keep it unprotected");
    }
  }
  *plan = std::move(p);
  return Status::Ok();
}

}  // namespace zrecon
