#include "reconciler/plan/fingerprint.h"

#include <charconv>

#include "reconciler/catalog/catalog_json.h"
#include "reconciler/util/sha256.h"

namespace zrecon {

namespace {

// Fields are NUL-separated (no ZFS or vmadm value contains NUL), records
// newline-terminated, so distinct inputs cannot render alike.
class Record {
 public:
  Record(Sha256* h, char tag) : h_(h) { h_->Update(&tag, 1); }
  ~Record() { h_->Update("\n", 1); }
  Record& operator<<(std::string_view field) {
    h_->Update("\0", 1);
    h_->Update(field);
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

  Sha256* h_;
};

}  // namespace

std::string Fingerprint(const Inventory& inventory, const Catalogs& catalogs) {
  Sha256 h;
  h.Update("zrecon-fingerprint-v1\n");
  for (const Dataset& d : inventory.datasets) {
    Record(&h, 'D') << d.name << DatasetTypeName(d.type) << d.origin << d.guid << d.createtxg;
    for (const Snapshot& s : d.snapshots) {
      Record(&h, 'S') << s.name << s.guid << s.createtxg << s.userrefs << s.exported;
    }
  }
  for (const Zone& z : inventory.zones) {
    Record(&h, 'Z') << z.uuid << z.brand << z.image_uuid << z.zpool << z.alias;
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
