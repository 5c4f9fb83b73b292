#include "reconciler/inventory/zone_datasets.h"

#include <algorithm>
#include <string_view>

#include "reconciler/util/strings.h"

namespace zrecon {
namespace {

using DatasetIterator = std::vector<Dataset>::const_iterator;

// The first dataset whose name is not less than `name` (datasets are sorted
// by name).
DatasetIterator LowerBound(const std::vector<Dataset>& datasets, std::string_view name) {
  return std::lower_bound(
      datasets.begin(), datasets.end(), name,
      [](const Dataset& d, std::string_view n) { return std::string_view(d.name) < n; });
}

bool IsDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Appends the datasets named `<prefix><rest>` for which keep(rest) holds.
// All names with one prefix are adjacent in sorted order.
template <typename Keep>
void AppendPrefixed(const std::vector<Dataset>& datasets, std::string_view prefix, Keep keep,
                    std::vector<const Dataset*>* out) {
  for (auto it = LowerBound(datasets, prefix); it != datasets.end() && StartsWith(it->name, prefix);
       ++it) {
    if (keep(std::string_view(it->name).substr(prefix.size()))) out->push_back(&*it);
  }
}

// The pools of the inventory: the first component of every dataset name,
// found by jumping over each "<pool>/" block with a binary search instead of
// visiting every dataset.
std::vector<std::string_view> Pools(const std::vector<Dataset>& datasets) {
  std::vector<std::string_view> pools;
  auto it = datasets.begin();
  while (it != datasets.end()) {
    std::string_view name = it->name;
    size_t slash = name.find('/');
    std::string_view pool = name.substr(0, slash);
    pools.push_back(pool);
    if (slash == std::string_view::npos) {
      ++it;
    } else {
      // '0' is the character after '/', so "<pool>0" bounds the "<pool>/"
      // block. Other pools whose names extend this one ("<pool>-x") sort
      // outside the block and are visited in turn.
      it = LowerBound(datasets, std::string(pool) + '0');
    }
  }
  std::sort(pools.begin(), pools.end());
  pools.erase(std::unique(pools.begin(), pools.end()), pools.end());
  return pools;
}

const std::string& ZonePool(const Zone& zone) {
  static const std::string kDefaultPool = "zones";
  return zone.zpool.empty() ? kDefaultPool : zone.zpool;
}

// kvm disks are `<disk.zpool>/<uuid>-disk<N>`, and a disk's zpool may differ
// from the zone's, so every pool is searched. The dataset type is not
// checked: the name alone is what vmadm uses to find a zone's disks.
void AppendKvmDisks(const Inventory& inv, const Zone& zone, std::vector<const Dataset*>* out) {
  for (std::string_view pool : Pools(inv.datasets)) {
    std::string prefix = std::string(pool) + '/' + zone.uuid + "-disk";
    AppendPrefixed(inv.datasets, prefix, IsDigits, out);
  }
}

void AppendRole(const Inventory& inv, const Zone& zone, const Dataset& root, DatasetRole role,
                std::vector<const Dataset*>* out) {
  switch (role) {
    case DatasetRole::kZoneRoot:
      out->push_back(&root);
      AppendPrefixed(
          inv.datasets, root.name + '/', [](std::string_view) { return true; }, out);
      break;
    case DatasetRole::kDisks:
      if (zone.brand == "kvm") {
        AppendKvmDisks(inv, zone, out);
      } else if (zone.brand == "bhyve") {
        // Direct children only: "disk<N>" is all digits after the prefix.
        AppendPrefixed(inv.datasets, root.name + "/disk", IsDigits, out);
      }
      break;
    case DatasetRole::kCores:
      // Named by the zone's name (vmadmd.js:1915), like the root.
      if (const Dataset* cores = inv.FindDataset(ZonePool(zone) + "/cores/" + zone.name())) {
        out->push_back(cores);
      }
      break;
  }
}

}  // namespace

// createZone: zfs_filesystem = zpool + '/' + zonename (VM.js:9703).
std::string ZoneRootName(const Zone& zone) { return ZonePool(zone) + '/' + zone.name(); }

std::vector<const Dataset*> ZoneDatasets(const Inventory& inv, const Zone& zone,
                                         const std::vector<DatasetRole>& roles) {
  std::vector<const Dataset*> out;
  const Dataset* root = inv.FindDataset(ZoneRootName(zone));
  if (root == nullptr) return out;
  for (DatasetRole role : roles) AppendRole(inv, zone, *root, role, &out);
  std::sort(out.begin(), out.end(),
            [](const Dataset* a, const Dataset* b) { return a->name < b->name; });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace zrecon
