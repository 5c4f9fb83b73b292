#ifndef ZRECON_RESTORE_ZONE_PAYLOAD_H_
#define ZRECON_RESTORE_ZONE_PAYLOAD_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reconciler/util/status.h"

namespace zrecon {

// What restore needs from a saved `vmadm get`, and the `vmadm create`
// payload made from it.
struct ZonePayload {
  std::string json;  // the payload for vmadm create (stdin)
  std::string brand;
  std::string alias;
  std::string zonename;  // the zone's own zonename, kept in the payload; "" = uuid
  // The saved quota in bytes when it is not a whole GiB count (vmadm get
  // reports bytes / 2^30 unrounded; create takes only integers, so the
  // payload has it rounded up and restore sets the exact value); else 0.
  uint64_t fractional_quota_bytes = 0;
  std::vector<std::string> delegated;  // delegated datasets, on the target pool
  // What the saved config says, applied after the swap (`vmadm update`):
  // the payload itself always has autoboot false and no indestructible_*.
  bool autoboot = true;  // VM.js's default when absent
  bool indestructible_zoneroot = false;
  bool indestructible_delegated = false;
  // HVM disks (kvm, bhyve): the zfs_filesystem of each saved disk that is
  // not a cdrom, in order, on the target pool ("" when the config has none).
  std::vector<std::string> disks;
  // The bytes vmadm create reserves for the fresh volumes: the sum of the
  // disks' `size` (MiB; a volume's refreservation=auto is at least its
  // volsize, createVolume and setQuotaBhyve in VM.js). Disks without a size
  // (image disks take the image's) are not counted.
  uint64_t fresh_volume_bytes = 0;
};

// Turns `vmadm get` output into a `vmadm create` payload that recreates the
// zone with the same uuid on `pool` and that VM.js accepts for every brand
// (smartos-live src/vm/node_modules/VM.js, "VM.js:N"):
//  - drops what vmadm derives or reports (state, zone ids and paths,
//    timestamps, snapshots, datasets, ...; VM.js:10236-10268 would only warn),
//    but keeps a zonename that is not the uuid;
//  - turns the delegated `<pool>/<uuid>/data` dataset back into
//    `delegate_dataset: true`;
//  - sets `autoboot: false`, so the throw-away zone never boots nor runs its
//    provisioning (installZone, VM.js:9405-9460);
//  - drops indestructible_* (VM.js would hold @indestructible on the fresh
//    root, which restore destroys);
//  - rounds a fractional quota up (quota is an integer, VM.js:659-690);
//  - HVM disks: drops `path` and `zfs_filesystem` (a path needs nocreate,
//    VM.js:5360-5365; vmadm names volumes itself), `block_size` when the
//    disk has an `image_uuid` (VM.js:5377-5383), and sets `zpool`; cdrom
//    entries are kept as they are.
// Fails when the text is not a JSON object whose uuid is `uuid` and which
// has a brand.
Status MakeCreatePayload(std::string_view vmadm_get_json, const std::string& uuid,
                         const std::string& pool, ZonePayload* out);

// The volumes a zone's HVM disks live on, as `vmadm get` reports them after
// create: the zfs_filesystem of each disk that is not a cdrom, in order.
// Fails when the text is not a JSON object, or a disk has no zfs_filesystem.
Status DiskVolumes(std::string_view vmadm_get_json, std::vector<std::string>* out);

}  // namespace zrecon

#endif  // ZRECON_RESTORE_ZONE_PAYLOAD_H_
