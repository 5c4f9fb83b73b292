#include "reconciler/inventory/inventory.h"

#include <algorithm>

namespace zrecon {

const char* DatasetTypeName(DatasetType type) {
  return type == DatasetType::kVolume ? "volume" : "filesystem";
}

const Snapshot* Dataset::FindSnapshot(std::string_view short_name) const {
  for (const Snapshot& s : snapshots) {
    if (s.name == short_name) return &s;
  }
  return nullptr;
}

const Snapshot* Dataset::FindSnapshotByGuid(uint64_t g) const {
  for (const Snapshot& s : snapshots) {
    if (s.guid == g) return &s;
  }
  return nullptr;
}

namespace {

// Listings arrive sorted (zfs list order); checking first avoids the cost
// and the allocation of stable_sort on a million rows.
template <typename T, typename Less>
void SortIfNeeded(std::vector<T>* v, Less less) {
  if (!std::is_sorted(v->begin(), v->end(), less)) std::stable_sort(v->begin(), v->end(), less);
}

}  // namespace

Inventory::Inventory(const Inventory& other)
    : datasets(other.datasets), bookmarks(other.bookmarks), zones(other.zones) {
  Index();
}

Inventory& Inventory::operator=(const Inventory& other) {
  if (this != &other) {
    datasets = other.datasets;
    bookmarks = other.bookmarks;
    zones = other.zones;
    Index();
  }
  return *this;
}

void Inventory::Index() {
  SortIfNeeded(&datasets, [](const Dataset& a, const Dataset& b) { return a.name < b.name; });
  for (Dataset& d : datasets) {
    SortIfNeeded(&d.snapshots,
                 [](const Snapshot& a, const Snapshot& b) { return a.createtxg < b.createtxg; });
  }
  SortIfNeeded(&zones, [](const Zone& a, const Zone& b) { return a.uuid < b.uuid; });
  SortIfNeeded(&bookmarks, [](const Bookmark& a, const Bookmark& b) { return a.name < b.name; });
  dataset_index_.clear();
  zone_index_.clear();
  origin_count_.clear();
  dataset_index_.reserve(datasets.size());
  for (size_t i = 0; i < datasets.size(); ++i) {
    dataset_index_.emplace(datasets[i].name, i);
    if (!datasets[i].origin.empty()) ++origin_count_[datasets[i].origin];
  }
  for (size_t i = 0; i < zones.size(); ++i) zone_index_.emplace(zones[i].uuid, i);
}

const Dataset* Inventory::FindDataset(std::string_view name) const {
  auto it = dataset_index_.find(name);
  return it == dataset_index_.end() ? nullptr : &datasets[it->second];
}

const Zone* Inventory::FindZone(std::string_view uuid) const {
  auto it = zone_index_.find(uuid);
  return it == zone_index_.end() ? nullptr : &zones[it->second];
}

const Snapshot* Inventory::FindSnapshot(std::string_view full_name) const {
  size_t at = full_name.find('@');
  if (at == std::string_view::npos) return nullptr;
  const Dataset* d = FindDataset(full_name.substr(0, at));
  return d ? d->FindSnapshot(full_name.substr(at + 1)) : nullptr;
}

bool Inventory::IsCloneOrigin(std::string_view full_snapshot_name) const {
  return origin_count_.count(full_snapshot_name) > 0;
}

size_t Inventory::snapshot_count() const {
  size_t n = 0;
  for (const Dataset& d : datasets) n += d.snapshots.size();
  return n;
}

}  // namespace zrecon
