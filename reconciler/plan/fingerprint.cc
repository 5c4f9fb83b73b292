#include "reconciler/plan/fingerprint.h"

#include <charconv>
#include <set>
#include <string_view>

#include "reconciler/catalog/catalog_json.h"
#include "reconciler/util/sha256.h"

namespace zrecon {

namespace {

// Collects the bytes to hash and hands them to the digest in large blocks:
// a million snapshots are a dozen fields each, and one digest update per
// field cost more than the hashing itself. The digest sees the same bytes
// in the same order, so the fingerprint does not change.
class BufferedHash {
 public:
  void Append(std::string_view bytes) {
    buffer_.append(bytes);
    if (buffer_.size() >= kBlock) Flush();
  }
  void Append(char c) {
    buffer_.push_back(c);
    if (buffer_.size() >= kBlock) Flush();
  }
  std::string HexDigest() {
    Flush();
    return h_.HexDigest();
  }

 private:
  static constexpr size_t kBlock = 64 * 1024;
  void Flush() {
    h_.Update(buffer_);
    buffer_.clear();
  }
  Sha256 h_;
  std::string buffer_;
};

// Fields are NUL-separated (no ZFS or vmadm value contains NUL), records
// newline-terminated, so distinct inputs cannot render alike.
class Record {
 public:
  Record(BufferedHash* h, char tag) : h_(h) { h_->Append(tag); }
  ~Record() { h_->Append('\n'); }
  Record& operator<<(std::string_view field) {
    h_->Append('\0');
    h_->Append(field);
    return *this;
  }
  Record& operator<<(uint64_t n) { return Number(n); }
  Record& operator<<(int64_t n) { return Number(n); }

 private:
  template <typename T>
  Record& Number(T n) {
    char buf[24];
    auto end = std::to_chars(buf, buf + sizeof buf, n).ptr;
    return *this << std::string_view(buf, static_cast<size_t>(end - buf));
  }

  BufferedHash* h_;
};

// Pools a plan can act on: where zones live, and where their kvm disks are.
std::set<std::string, std::less<>> ZonePools(const Inventory& inventory) {
  std::set<std::string, std::less<>> pools;
  std::set<std::string_view> uuids;
  for (const Zone& z : inventory.zones) {
    pools.insert(z.zpool.empty() ? "zones" : z.zpool);
    uuids.insert(z.uuid);
  }
  for (const Dataset& d : inventory.datasets) {
    std::string_view name = d.name;
    size_t slash = name.find('/');
    if (slash == std::string_view::npos || name.find('/', slash + 1) != std::string_view::npos) {
      continue;
    }
    std::string_view leaf = name.substr(slash + 1);
    size_t disk = leaf.find("-disk");
    if (disk != std::string_view::npos && uuids.count(leaf.substr(0, disk))) {
      pools.insert(std::string(name.substr(0, slash)));
    }
  }
  return pools;
}

std::string_view PoolOf(std::string_view name) { return name.substr(0, name.find('/')); }

}  // namespace

std::string Fingerprint(const Inventory& inventory, const Catalogs& catalogs) {
  std::set<std::string, std::less<>> pools = ZonePools(inventory);
  BufferedHash h;
  h.Append("zrecon-fingerprint-v2\n");
  for (const Dataset& d : inventory.datasets) {
    if (!pools.count(PoolOf(d.name))) continue;
    Record(&h, 'D') << d.name << DatasetTypeName(d.type) << d.origin << d.guid << d.createtxg;
    for (const Snapshot& s : d.snapshots) {
      Record(&h, 'S') << s.name << s.guid << s.createtxg << s.userrefs << s.exported;
    }
  }
  for (const Zone& z : inventory.zones) {
    Record(&h, 'Z') << z.uuid << z.brand << z.image_uuid << z.zpool << z.alias;
    // Both change what is planned (the root's name; whether a bhyve zone
    // is snapshotted). Recorded only when set, so that the fingerprints of
    // hosts without them stay what they were.
    if (!z.zonename.empty() || z.flexible_disk_size > 0) {
      Record(&h, 'z') << z.uuid << z.zonename << static_cast<uint64_t>(z.flexible_disk_size);
    }
  }
  for (const auto& [name, cat] : catalogs) {
    Record(&h, 'C') << name << std::string_view(cat.reachable ? "reachable" : "unreachable");
    for (const auto& [uuid, m] : cat.zones) {
      Record(&h, 'M') << uuid << EncodeZoneManifest(m);
    }
    for (const auto& [uuid, m] : cat.images) {
      Record(&h, 'I') << uuid << EncodeImageManifest(m);
    }
  }
  return "sha256:" + h.HexDigest();
}

}  // namespace zrecon
