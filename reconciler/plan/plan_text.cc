#include "reconciler/plan/plan_text.h"

#include <algorithm>
#include <map>
#include <vector>

#include "reconciler/util/strings.h"

namespace zrecon {

char ActionSymbol(ActionKind kind) {
  switch (kind) {
    case ActionKind::kSnapshot:
      return '+';
    case ActionKind::kSaveImage:
    case ActionKind::kSaveImageRecord:
    case ActionKind::kSend:
    case ActionKind::kSaveConfig:
      return '>';
    case ActionKind::kMarkTip:
    case ActionKind::kHold:
    case ActionKind::kRelease:
      return '~';
    case ActionKind::kDestroy:
    case ActionKind::kRemoveExport:
    case ActionKind::kRemoveLoose:
      return '-';
    case ActionKind::kHook:
      return '!';
  }
  return '?';
}

const char* ActionLabel(ActionKind kind) {
  switch (kind) {
    case ActionKind::kSnapshot:
      return "snapshot";
    case ActionKind::kSaveImage:
      return "save image";
    case ActionKind::kSaveImageRecord:
      return "save imgadm";
    case ActionKind::kSend:
      return "send";
    case ActionKind::kSaveConfig:
      return "save config";
    case ActionKind::kMarkTip:
      return "mark tip";
    case ActionKind::kHold:
      return "hold";
    case ActionKind::kRelease:
      return "release";
    case ActionKind::kDestroy:
      return "destroy";
    case ActionKind::kRemoveExport:
      return "remove chain";
    case ActionKind::kRemoveLoose:
      return "remove loose";
    case ActionKind::kHook:
      return "hook";
  }
  return "?";
}

namespace {

constexpr size_t kLabelWidth = 13;

void Lines(std::string* out, const std::vector<std::string>& items, size_t indent) {
  for (size_t i = 1; i < items.size(); ++i) {
    *out += std::string(indent, ' ') + Printable(items[i]) + "\n";
  }
}

void RenderAction(const Action& a, std::string* out) {
  std::string label = ActionLabel(a.kind);
  std::string head = std::string("  ") + ActionSymbol(a.kind) + " " + label +
                     std::string(label.size() < kLabelWidth ? kLabelWidth - label.size() : 1, ' ');
  std::vector<std::string> subjects;
  std::string redirect;
  switch (a.kind) {
    case ActionKind::kSnapshot:
    case ActionKind::kDestroy:
    case ActionKind::kHold:
    case ActionKind::kRelease:
      subjects = a.snapshots;
      break;
    case ActionKind::kMarkTip:
      subjects = {a.snapshots.front() +
                  (a.property_value.empty() ? std::string(" (clear)") : " = " + a.property_value)};
      break;
    case ActionKind::kSaveImage:
    case ActionKind::kSend:
      subjects = {a.snapshot + " -> " + a.destination + ":" + a.file};
      if (!a.from.empty()) subjects[0] += " (from " + a.from + ")";
      redirect = " > " + a.destination + ":" + a.file;
      break;
    case ActionKind::kSaveImageRecord:
      subjects = {a.stream.image_uuid + " -> " + a.destination + ":" + a.file};
      redirect = " > " + a.destination + ":" + a.file;
      break;
    case ActionKind::kSaveConfig:
      subjects = {a.zone + " -> " + a.destination + ":" + a.file};
      redirect = " > " + a.destination + ":" + a.file;
      break;
    case ActionKind::kRemoveExport:
      subjects = {a.destination + ":" + a.chain_id + " (" + std::to_string(a.files.size()) +
                  (a.files.size() == 1 ? " file)" : " files)")};
      break;
    case ActionKind::kRemoveLoose:
      for (const std::string& f : a.files) subjects.push_back(a.destination + ":" + f);
      break;
    case ActionKind::kHook:
      subjects = {a.hook + " (time limit " + std::to_string(a.timeout_seconds) + "s)"};
      break;
  }
  *out += head + (subjects.empty() ? "" : Printable(subjects[0])) + "\n";
  Lines(out, subjects, head.size());
  *out += "      " + Printable(a.reason) + "\n";
  if (!a.argv.empty()) *out += "      $ " + Printable(ShellJoin(a.argv)) + redirect + "\n";
}

}  // namespace

std::string RenderPlanText(const Plan& plan, const PlanTextOptions& options) {
  std::string out = "zrecon plan for host " + Printable(plan.host) + " at " +
                    FormatRfc3339(plan.now) + " (zfs dialect " + ZfsDialectName(plan.dialect) +
                    ")\n";
  for (const std::string& w : plan.warnings) out += "\nWarning: " + Printable(w) + "\n";
  if (options.verbose) {
    for (const std::string& n : plan.notes) out += "\nNote: " + Printable(n) + "\n";
  }
  // Grouped by zone for reading; execution order is kept within a zone.
  std::vector<std::string> zones;
  std::map<std::string, std::vector<const Action*>> by_zone;
  for (const Action& a : plan.actions) {
    auto& list = by_zone[a.zone];
    if (list.empty()) zones.push_back(a.zone);
    list.push_back(&a);
  }
  std::sort(zones.begin(), zones.end());
  for (const std::string& zone : zones) {
    const Action& first = *by_zone[zone].front();
    out += "\n# zone " + Printable(zone) +
           (first.alias.empty() ? std::string() : " (" + Printable(first.alias) + ")") + "\n";
    for (const Action* a : by_zone[zone]) RenderAction(*a, &out);
  }
  int destroys = plan.Summary().destroys;
  if (destroys > plan.max_destroy) {
    out += "\nThis plan destroys " + std::to_string(destroys) +
           " snapshots, over limits.max_destroy (" + std::to_string(plan.max_destroy) +
           "): apply refuses it without --allow-destroy.\n";
  }
  out += "\n" + plan.Summary().ToString() + "\n";
  return out;
}

}  // namespace zrecon
