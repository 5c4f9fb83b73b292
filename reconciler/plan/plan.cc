#include "reconciler/plan/plan.h"

#include <set>
#include <utility>

#include "reconciler/inventory/inventory.h"

namespace zrecon {

namespace {

struct KindName {
  ActionKind kind;
  const char* name;
};

constexpr KindName kKindNames[] = {
    {ActionKind::kSnapshot, "snapshot"},
    {ActionKind::kSaveImage, "save_image"},
    {ActionKind::kSaveImageRecord, "save_image_record"},
    {ActionKind::kSend, "send"},
    {ActionKind::kSaveConfig, "save_config"},
    {ActionKind::kMarkTip, "mark_tip"},
    {ActionKind::kHold, "hold"},
    {ActionKind::kRelease, "release"},
    {ActionKind::kDestroy, "destroy"},
    {ActionKind::kRemoveExport, "remove_export"},
    {ActionKind::kRemoveLoose, "remove_loose"},
    {ActionKind::kHook, "hook"},
};

std::string Count(int n, const char* singular, const char* plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : plural);
}

}  // namespace

const char* ActionKindName(ActionKind kind) {
  for (const KindName& k : kKindNames) {
    if (k.kind == kind) return k.name;
  }
  return "unknown";
}

bool ParseActionKind(const std::string& text, ActionKind* out) {
  for (const KindName& k : kKindNames) {
    if (text == k.name) {
      *out = k.kind;
      return true;
    }
  }
  return false;
}

bool PlanSummary::empty() const {
  return snapshots == 0 && sends == 0 && images == 0 && image_records == 0 && configs == 0 &&
         tip_changes == 0 && destroys == 0 && removed_chains == 0 && loose_files == 0;
}

std::string PlanSummary::ToString() const {
  if (empty()) return "No changes.";
  std::string out = "Plan: " + std::to_string(snapshots) + " to snapshot, " +
                    std::to_string(sends + images) + " to send, " + std::to_string(destroys) +
                    " to destroy";
  if (image_records > 0) {
    out += ", " + Count(image_records, "image record", "image records") + " to save";
  }
  if (removed_chains > 0) out += ", " + Count(removed_chains, "chain", "chains") + " to remove";
  if (loose_files > 0) {
    out += ", " + Count(loose_files, "loose file", "loose files") + " to remove";
  }
  if (tip_changes > 0) {
    out += ", " + Count(tip_changes, "chain tip protection change", "chain tip protection changes");
  }
  return out + ".";
}

Action ZoneAction(ActionKind kind, const Zone& zone, std::string reason) {
  Action a;
  a.kind = kind;
  a.zone = zone.uuid;
  a.alias = zone.alias;
  a.reason = std::move(reason);
  return a;
}

std::vector<PlanZoneRef> ZonesOf(const Plan& plan) {
  std::vector<PlanZoneRef> out;
  std::set<std::string> seen;
  for (const Action& a : plan.actions) {
    if (a.zone.empty() || !seen.insert(a.zone).second) continue;
    auto z = plan.zones.find(a.zone);
    out.push_back({a.zone, z == plan.zones.end() ? a.alias : z->second.alias});
  }
  return out;
}

PlanSummary Plan::Summary() const {
  PlanSummary s;
  for (const Action& a : actions) {
    switch (a.kind) {
      case ActionKind::kSnapshot:
        s.snapshots += static_cast<int>(a.snapshots.size());
        break;
      case ActionKind::kSaveImage:
        ++s.images;
        break;
      case ActionKind::kSaveImageRecord:
        ++s.image_records;
        break;
      case ActionKind::kSend:
        ++s.sends;
        break;
      case ActionKind::kSaveConfig:
        ++s.configs;
        break;
      case ActionKind::kMarkTip:
      case ActionKind::kHold:
      case ActionKind::kRelease:
        ++s.tip_changes;
        break;
      case ActionKind::kDestroy:
        s.destroys += static_cast<int>(a.snapshots.size());
        break;
      case ActionKind::kRemoveExport:
        ++s.removed_chains;
        break;
      case ActionKind::kHook:  // shown with the zone's snapshot, not counted
        break;
      case ActionKind::kRemoveLoose:
        s.loose_files += static_cast<int>(a.files.size());
        break;
    }
  }
  return s;
}

}  // namespace zrecon
