#include "reconciler/policy/policy.h"

#include <algorithm>

#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

// Values go into one-line messages: quote the ones a reader could not tell
// apart from the separators (empty, or holding spaces or quotes).
std::string DescribeValue(const std::string& value) {
  std::string shown = Printable(value);
  if (shown.empty() || shown.find_first_of(" \"") != std::string::npos) {
    std::string quoted = "\"";
    for (char c : shown) {
      if (c == '"') quoted += '\\';
      quoted += c;
    }
    return quoted + "\"";
  }
  return shown;
}

}  // namespace

const char* DatasetRoleName(DatasetRole role) {
  switch (role) {
    case DatasetRole::kZoneRoot:
      return "zoneroot";
    case DatasetRole::kDisks:
      return "disks";
    case DatasetRole::kCores:
      return "cores";
  }
  return "unknown";
}

std::string ZoneMatch::Describe() const {
  const std::pair<const char*, const std::optional<std::string>*> fields[] = {
      {"alias", &alias}, {"uuid", &uuid}, {"alias_regex", &alias_regex}, {"brand", &brand}};
  std::string out;
  for (const auto& [key, value] : fields) {
    if (!value->has_value()) continue;
    if (!out.empty()) out += ' ';
    out += std::string(key) + "=" + DescribeValue(**value);
  }
  return out;
}

const SnapshotClass* Policy::FindClass(const std::string& name) const {
  auto it = std::find_if(classes.begin(), classes.end(),
                         [&name](const SnapshotClass& c) { return c.name == name; });
  return it == classes.end() ? nullptr : &*it;
}

std::vector<std::string> Policy::ClassNames() const {
  std::vector<std::string> names;
  names.reserve(classes.size());
  for (const SnapshotClass& c : classes) names.push_back(c.name);
  return names;
}

std::vector<SnapshotClass> DefaultClasses() {
  using Unit = Duration::Unit;
  // Sorted by name, as Policy::classes is.
  return {
      {"daily", Duration(1, Unit::kDay), {}},   {"frequent", Duration(15, Unit::kMinute), {}},
      {"hourly", Duration(1, Unit::kHour), {}}, {"monthly", Duration(1, Unit::kMonth), {}},
      {"weekly", Duration(1, Unit::kWeek), {}}, {"yearly", Duration(1, Unit::kYear), {}},
  };
}

KeepCounts EffectiveKeep(const PolicyDef& policy, const ZoneEntry& entry) {
  KeepCounts keep = policy.keep;
  for (const auto& [name, count] : entry.keep_override) keep[name] = count;
  return keep;
}

}  // namespace zrecon
