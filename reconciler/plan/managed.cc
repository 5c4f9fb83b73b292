#include "reconciler/plan/managed.h"

#include <algorithm>

namespace zrecon {

bool OlderThan(const ManagedSnapshot& a, const ManagedSnapshot& b) {
  if (a.time != b.time) return a.time < b.time;
  if (a.planned() != b.planned()) return b.planned();
  uint64_t atxg = a.existing ? a.existing->createtxg : 0;
  uint64_t btxg = b.existing ? b.existing->createtxg : 0;
  if (atxg != btxg) return atxg < btxg;
  return a.name < b.name;
}

const ManagedSnapshot* DatasetState::NewestOfClass(std::string_view snapshot_class) const {
  for (auto it = managed.rbegin(); it != managed.rend(); ++it) {
    if (it->snapshot_class == snapshot_class) return &*it;
  }
  return nullptr;
}

void DatasetState::AddPlanned(std::string_view name, std::string_view snapshot_class,
                              EpochSeconds t) {
  ManagedSnapshot m;
  m.name = name;
  m.snapshot_class = snapshot_class;
  m.time = t;
  managed.insert(std::upper_bound(managed.begin(), managed.end(), m, OlderThan), m);
}

DatasetState ReadDatasetState(const Dataset& dataset, const NamingTemplate& naming) {
  DatasetState state;
  state.dataset = &dataset;
  std::string_view snapshot_class;
  EpochSeconds t;
  state.managed.reserve(dataset.snapshots.size());
  for (const Snapshot& s : dataset.snapshots) {
    if (naming.Parse(s.name, &snapshot_class, &t)) {
      ManagedSnapshot m;
      m.name = s.name;
      m.snapshot_class = snapshot_class;
      m.time = t;
      m.existing = &s;
      state.managed.push_back(m);
    }
  }
  // Usually already in order (createtxg order is name-time order).
  if (!std::is_sorted(state.managed.begin(), state.managed.end(), OlderThan)) {
    std::sort(state.managed.begin(), state.managed.end(), OlderThan);
  }
  return state;
}

std::string FormatAge(int64_t seconds) {
  if (seconds < 0) return "in the future by " + FormatAge(-seconds);
  if (seconds < 60) return std::to_string(seconds) + "s";
  int64_t minutes = seconds / 60;
  if (minutes < 60) return std::to_string(minutes) + "m";
  int64_t hours = minutes / 60;
  if (hours < 24) {
    return std::to_string(hours) + "h" + (minutes % 60 ? std::to_string(minutes % 60) + "m" : "");
  }
  int64_t days = hours / 24;
  return std::to_string(days) + "d" + (hours % 24 ? std::to_string(hours % 24) + "h" : "");
}

}  // namespace zrecon
