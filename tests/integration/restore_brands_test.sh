#!/usr/bin/env bash
# Zones beyond the drill's two, exported and restored, on a real zfs-fuse
# sandbox host with the vmadm and imgadm simulators: a bhyve zone, a bhyve
# zone without flexible_disk_size, and a zone with its own zonename.
# zfs-fuse has no zvols: the simulator stands bhyve disks in with
# filesystems that have the real names (<pool>/<uuid>/disk<i>) and keeps
# VM.js's payload rules (a disk path needs nocreate, no block_size beside
# image_uuid, a disk image of type zvol), so `vmadm create` refuses a raw
# `vmadm get`, as on SmartOS.
#  1. drill-vm (bhyve; disk0 a clone of the zvol image, disk1 empty) gets
#     files in its zone root and both disks; drill-named (joyent, zonename
#     drill-named: root <pool>/drill-named, cores <pool>/cores/drill-named)
#     gets files too; both are exported at T0 and T0+1d. drill-rigid (bhyve
#     without flexible_disk_size, whose disks ZFS cannot snapshot on
#     SmartOS) gets no snapshot, and each apply says why.
#  2. drill-vm and drill-named are unprotected (zrecon unprotect) and
#     deleted, the zvol image deleted with imgadm: everything must come from
#     the media.
#  3. `zrecon restore` brings drill-vm back: vmadm shows a bhyve zone with
#     disks named as before, disk0 a clone of the image's @final again (same
#     guid), imgadm knows the image as a zvol image, every file of the root
#     and both disks as of T0+1d with the exported snapshots, autoboot as
#     saved, and the zone never booted during the restore.
#  4. drill-named comes back under its zonename, cores mounted where vmadm
#     puts it, every file as of T0+1d.
# Skips (77) without root or zfs-fuse.
#
# Uses its own pool (hvmtest) and directory; a zfs-fuse daemon that is
# already running is used as is.
# shellcheck disable=SC2317  # functions called through run() and the EXIT trap
set -uo pipefail

SRC=${ZRECON_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/integration/lib/assert.sh
. "$SRC/tests/integration/lib/assert.sh"
# shellcheck source=tests/integration/lib/apply_fixture.sh
. "$SRC/tests/integration/lib/apply_fixture.sh"
# shellcheck source=tests/integration/lib/restore_fixture.sh
. "$SRC/tests/integration/lib/restore_fixture.sh"

POOL=hvmtest
DIR=/var/tmp/zrecon-hvmtest
V=de11de11-0000-4000-8000-0000000000c3
R=de11de11-0000-4000-8000-0000000000c4
N=de11de11-0000-4000-8000-0000000000c5
NAMED=drill-named

fixture_preflight
trap fixture_cleanup EXIT
WORK=$(mktemp -d)
mkdir -p "$WORK/expected"
sandbox_up
ZVOL=$ZRECON_TEST_ZVOL_IMAGE
ROOT=$POOL/$V
USB=$WORK/usb
HOSTDIR=$USB/$(hostname)
POLICY=$WORK/policy.yaml
mkdir -p "$USB"
write_drill_policy

# ------------------------------------------------------------ 1. the zone, exported twice
must on_host "$POOL" vmadm create <<<"{\"brand\": \"bhyve\", \"uuid\": \"$V\", \"alias\": \"drill-vm\",
  \"ram\": 1024, \"vcpus\": 2, \"quota\": 10, \"flexible_disk_size\": 20480,
  \"nics\": [{\"nic_tag\": \"admin\", \"ip\": \"10.0.0.9\", \"model\": \"virtio\"}],
  \"disks\": [{\"image_uuid\": \"$ZVOL\", \"boot\": true, \"model\": \"virtio\"},
              {\"size\": 512, \"model\": \"virtio\"}]}"
must on_host "$POOL" vmadm create <<<"{\"brand\": \"bhyve\", \"uuid\": \"$R\", \"alias\": \"drill-rigid\",
  \"ram\": 1024, \"disks\": [{\"size\": 1024, \"model\": \"virtio\"}]}"
must on_host "$POOL" vmadm create <<<"{\"brand\": \"joyent\", \"uuid\": \"$N\",
  \"alias\": \"drill-named\", \"zonename\": \"$NAMED\", \"image_uuid\": \"$ZRECON_TEST_IMAGE\",
  \"quota\": 5}"
cp "$DIR/$POOL/vmadm/provisioned.log" "$WORK/expected/provisioned" 2>/dev/null
D0=zrecon-daily-$S0
D1=zrecon-daily-$S1D
tree() { tree_digest "$(mountpoint_of "$1")" --exclude disk0 --exclude disk1 --exclude cores; }
record() {
  local ds
  for ds in "$ROOT" "$ROOT/disk0" "$ROOT/disk1" "$POOL/$NAMED"; do
    tree "$ds" >"$WORK/expected/tree.${ds##*/}.$1" || return 1
  done
}
RIGID_WHY="zone $R: no snapshots: bhyve zone without flexible_disk_size"
apply_at() {
  run on_host "$POOL" "$ZRECON" apply -f "$POLICY" --now "$1"
  expect_rc 0
  expect_contains "$OUT$ERR" "$RIGID_WHY" "apply at $1: says why drill-rigid gets no snapshot"
}
must dd if=/dev/urandom of="$(mountpoint_of "$ROOT/disk0")/guest.img" bs=1M count=4 status=none
must dd if=/dev/urandom of="$(mountpoint_of "$ROOT/disk1")/data.img" bs=1M count=2 status=none
must mkdir -p "$(mountpoint_of "$ROOT")/config"
echo "T0" >"$(mountpoint_of "$ROOT")/config/note"
echo "T0" >"$(mountpoint_of "$POOL/$NAMED")/root/named-note"
apply_at "$T0"
must record "$D0"
must dd if=/dev/urandom of="$(mountpoint_of "$ROOT/disk0")/guest.img" bs=1M count=1 seek=2 \
  conv=notrunc status=none
echo "T0+1d" >>"$(mountpoint_of "$ROOT/disk1")/data.img"
echo "T0+1d" >>"$(mountpoint_of "$ROOT")/config/note"
echo "T0+1d" >>"$(mountpoint_of "$POOL/$NAMED")/root/named-note"
apply_at "$T1D"
must record "$D1"
ZVOL_GUID=$(zfs get -H -p -o value guid "$POOL/$ZVOL@final")
expect_eq "$(catalog chains "$V" | cut -f1,3 | LC_ALL=C sort)" \
  "$(lines "cores/$S0	" "root+disk0/$S0	$POOL/$ZVOL@final" "root+disk1/$S0	" "root/$S0	")" \
  "setup: chains of the root and of both disks, disk0 from the image origin"
IMG_GUID=$(zfs get -H -p -o value guid "$POOL/$ZRECON_TEST_IMAGE@final")
expect_eq "$(catalog images | cut -f1,3,6 | LC_ALL=C sort)" \
  "$(lines "$ZVOL	$ZVOL_GUID	zvol" "$ZRECON_TEST_IMAGE	$IMG_GUID	zone-dataset" | LC_ALL=C sort)" \
  "setup: both images are on the media, with imgadm's records"
expect_eq "$(catalog chains "$N" | cut -f1,2 | sed 's|/[^/\t]*\t|\t|' | LC_ALL=C sort)" \
  "$(lines "cores	$POOL/cores/$NAMED" "root	$POOL/$NAMED")" \
  "setup: drill-named's chains are its root and cores, by its zonename"
expect_eq "$(zfs list -H -t snapshot -o name -r "$POOL/$R")" "" \
  "setup: drill-rigid has no snapshot (its disks could not have one on SmartOS)"
for ds in "$ROOT" "$ROOT/disk0" "$ROOT/disk1" "$POOL/$NAMED"; do
  snapshot_guids "$ds" >"$WORK/expected/snaps.${ds##*/}"
done

# ------------------------------------------------------------ 2. the disaster
must on_host "$POOL" "$ZRECON" unprotect -f "$POLICY" drill-vm drill-named
must on_host "$POOL" vmadm delete "$V"
must on_host "$POOL" vmadm delete "$N"
must on_host "$POOL" imgadm delete -P "$POOL" "$ZVOL"
expect_eq "$(zfs list -H -t all -o name -r "$POOL" | grep -e "$V" -e "$ZVOL" -e "$NAMED")" "" \
  "the zones, their disks and cores, and the zvol image are gone"

# ------------------------------------------------------------ 3. restore
# Room for the streams and the fresh volumes vmadm create reserves (disk1:
# 512 MiB): a pool without it is refused before anything changes.
AVAIL=$(zfs get -H -p -o value available "$POOL")
must zfs create -o canmount=off -o reservation=$((AVAIL - 256 * 1024 * 1024)) "$POOL/filler"
BEFORE=$(zfs list -H -t all -o name -r "$POOL")
run on_host "$POOL" "$ZRECON" restore --from "$USB" --zone drill-vm
expect_rc 1
expect_match "$ERR" "pool $POOL has [0-9.]+ MiB available, this restore needs [0-9.]+ MiB \([0-9.]+ MiB of streams and 512.0 MiB of fresh volumes\): [0-9.]+ MiB missing; nothing was changed" \
  "a pool without room for the streams and the fresh volumes: refused, saying how much is missing"
expect_eq "$(zfs list -H -t all -o name -r "$POOL")" "$BEFORE" "refused for room: nothing changed"
must zfs destroy "$POOL/filler"

run on_host "$POOL" "$ZRECON" restore --from "$USB" --zone drill-vm
if expect_restore_ok "restore drill-vm"; then
  vmadm_get() { on_host "$POOL" vmadm get "$V" | /usr/bin/python3 -c "
import json, sys
vm = json.load(sys.stdin)
print(' '.join(json.dumps(eval(e, {}, {'vm': vm})) for e in sys.argv[1:]))" "$@"; }
  expect_eq "$(vmadm_get 'vm["brand"]' 'vm["alias"]' 'vm["autoboot"]' \
    '[d.get("zfs_filesystem") for d in vm["disks"]]')" \
    "\"bhyve\" \"drill-vm\" true [\"$ROOT/disk0\", \"$ROOT/disk1\"]" \
    "vmadm shows the bhyve zone, its disks named as before, autoboot as saved"
  expect_eq "$(grep -c -F "\$ vmadm get $V" <<<"$OUT")" 1 \
    "the volumes vmadm created were read back before the swap"
  expect_eq "$(zfs get -H -o value origin "$ROOT/disk0") $(zfs get -H -p -o value guid "$POOL/$ZVOL@final")" \
    "$POOL/$ZVOL@final $ZVOL_GUID" "disk0 is a clone of the image's @final again, same guid"
  expect_eq "$(on_host "$POOL" imgadm get -P "$POOL" "$ZVOL" | /usr/bin/python3 -c '
import json, sys
print(json.load(sys.stdin)["manifest"]["type"])')" zvol "imgadm knows the image, a zvol image"
  expect_eq "$(zfs get -H -o value quota "$ROOT")" 10G "the zone root's quota, as vmadm set it"
  for ds in "$ROOT" "$ROOT/disk0" "$ROOT/disk1"; do
    # The disks stand in for volumes, which restore never mounts: mounted
    # here only to compare their content.
    [[ $(zfs get -H -o value mounted "$ds") == yes ]] || zfs mount "$ds"
    expect_eq "$(diff "$WORK/expected/tree.${ds##*/}.$D1" <(tree "$ds" 2>&1))" "" \
      "$ds holds every file as of @$D1"
    expect_eq "$(snapshot_guids "$ds")" "$(<"$WORK/expected/snaps.${ds##*/}")" \
      "$ds has the exported snapshots, with their guids"
  done
  expect_eq "$(grep -c "^$V " "$DIR/$POOL/vmadm/provisioned.log")" \
    "$(grep -c "^$V " "$WORK/expected/provisioned")" "the zone never booted during the restore"
  expect_eq "$(partial_datasets "$POOL")" "" "no -partial dataset left"
fi

# ------------------------------------------------------------ 4. a zone with its own zonename
run on_host "$POOL" "$ZRECON" restore --from "$USB" --zone drill-named
if expect_restore_ok "restore drill-named"; then
  expect_eq "$(on_host "$POOL" vmadm lookup -j -o uuid,zonename,zfs_filesystem uuid="$N" |
    tr -d ' \n')" "[{\"uuid\":\"$N\",\"zonename\":\"$NAMED\",\"zfs_filesystem\":\"$POOL/$NAMED\"}]" \
    "drill-named: vmadm knows the zone under its zonename again"
  expect_eq "$(zfs get -H -o value origin "$POOL/$NAMED")" "$POOL/$ZRECON_TEST_IMAGE@final" \
    "drill-named: its root is a clone of the image again"
  expect_eq "$(zfs get -H -o value mounted,mountpoint "$POOL/cores/$NAMED" | tr '\n' ' ')" \
    "yes /$POOL/$NAMED/cores " "drill-named: cores mounted where vmadm puts it"
  expect_eq "$(diff "$WORK/expected/tree.$NAMED.$D1" <(tree "$POOL/$NAMED" 2>&1))" "" \
    "drill-named: every file as of @$D1"
  expect_eq "$(snapshot_guids "$POOL/$NAMED")" "$(<"$WORK/expected/snaps.$NAMED")" \
    "drill-named: the exported snapshots, with their guids"
  expect_eq "$(zfs list -H -o name -r "$POOL" | grep -c -F "$N")" 0 \
    "drill-named: no dataset named by its uuid"
fi

# ------------------------------------------------------------ teardown
drill_down "$POOL"
finish
