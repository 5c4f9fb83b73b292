#!/usr/bin/env bash
# `zrecon restore` when the media or the host is not as it should be, on a
# real zfs-fuse sandbox host with the vmadm simulator (lib/restore_fixture.sh:
# zones exported at T0 and T0+1d, then deleted).
#  5. A byte flipped in a link file: `zrecon verify` exits 1 naming it;
#     `zrecon restore` (one pass: each file checked as it is received)
#     fails naming the file and its SHA-256, removes what it received and
#     leaves the host as it was; `--verify-first` refuses before writing
#     anything; `--force` over the existing zone fails the same way and the
#     zone it was to replace is untouched.
#  6. The image stream missing from the media while the image is not on the
#     host, and `--at` a snapshot that was never exported: refused (exit 1),
#     naming the image / listing what is available; nothing changes. Media
#     from before zrecon saved imgadm's record of the image: refused while
#     the image is gone (naming what is missing and `imgadm import`),
#     restored once the image is installed again with imgadm.
#  7. A `zfs` wrapper (lib/zfs_fault.sh, passed as --zfs) fails the 2nd
#     `zfs receive`: exit 1, no -partial dataset left, the host as before; a
#     rerun with the real zfs restores the zone. Then it fails the rename of
#     the received zone root, after `vmadm create`: exit 1; a rerun without
#     --force continues the zone the first attempt created.
# Skips (77) without root or zfs-fuse. restore_drill_test.sh covers the
# successful restores in detail.
#
# Uses its own pool (drill) and directory; a zfs-fuse daemon that is already
# running is used as is.
# shellcheck disable=SC2317  # functions called through run() and the EXIT trap
set -uo pipefail

SRC=${ZRECON_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/integration/lib/assert.sh
. "$SRC/tests/integration/lib/assert.sh"
# shellcheck source=tests/integration/lib/apply_fixture.sh
. "$SRC/tests/integration/lib/apply_fixture.sh"
# shellcheck source=tests/integration/lib/restore_fixture.sh
. "$SRC/tests/integration/lib/restore_fixture.sh"

POOL=drill
DIR=/var/tmp/zrecon-drill
fixture_preflight
trap fixture_cleanup EXIT
drill_up
drill_lose_zone "$POOL" "$W"
drill_lose_zone "$POOL" "$L"

FAULTY=$WORK/bin/zfs
mkdir -p "$WORK/bin"
install -m 755 "$SRC/tests/integration/lib/zfs_fault.sh" "$FAULTY"

restore() { run on_host "$POOL" "$ZRECON" restore --from "$USB" "$@"; }

# restore_with_fault SUBCOMMAND N ARGS...: a restore whose --zfs fails the
# Nth call of `zfs SUBCOMMAND`.
restore_with_fault() {
  local sub=$1 nth=$2
  shift 2
  rm -f "$WORK/fault.count"
  run env ZFS_FAULT_REAL="$REAL_ZFS" ZFS_FAULT_SUBCOMMAND="$sub" ZFS_FAULT_NTH="$nth" \
    ZFS_FAULT_COUNTER="$WORK/fault.count" PATH="$DIR/$POOL/bin:$PATH" \
    "$ZRECON" restore --from "$USB" --zfs "$FAULTY" "$@"
}

# XOR 0xff into the byte in the middle of a file; twice restores it.
flip_middle_byte() {
  /usr/bin/python3 - "$1" <<'EOF'
import os, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(os.path.getsize(sys.argv[1]) // 2)
    byte = f.read(1)
    f.seek(-1, os.SEEK_CUR)
    f.write(bytes([byte[0] ^ 0xFF]))
EOF
}

# ------------------------------------------------------------ 5. a corrupt link file
LINK=$(catalog links "$W" "root/$S0" | sed -n 2p | cut -f5)
expect_eq "$LINK" "$W/root/$S0/0002-$D1.zfs" "the T0+1d link of drill-web's root"
SUM=$(sha256sum "$HOSTDIR/$LINK")
must flip_middle_byte "$HOSTDIR/$LINK"
run "$ZRECON" verify --from "$USB"
expect_rc 1
expect_contains "$OUT$ERR" "$LINK" "verify names the corrupt file"

BEFORE=$(host_state "$POOL")
MEDIA=$(catalog tree)
restore --zone drill-web
expect_rc 1
expect_contains "$OUT$ERR" "$LINK: sha256 " "corrupt link: restore names the file and its sha256"
expect_contains "$OUT" "Restore FAILED" "corrupt link: the restore says it failed"
expect_eq "$(partial_datasets "$POOL")" "" \
  "corrupt link: what was received is removed (restore said: $(grep -A3 'cleanup' <<<"$OUT$ERR" | tr '\n' ' '))"
expect_eq "$(host_state "$POOL")" "$BEFORE" "corrupt link: the host is as before"
expect_eq "$(catalog tree)" "$MEDIA" "corrupt link: the media is untouched"

restore --zone drill-web --verify-first
expect_rc 1
expect_contains "$ERR" "refusing to restore" "corrupt link, --verify-first: restore refuses"
expect_contains "$ERR" "$LINK" "corrupt link, --verify-first: restore names the file"
expect_eq "$(grep -c '^\[' <<<"$OUT")" 0 "corrupt link, --verify-first: not one step ran"
expect_eq "$(host_state "$POOL")" "$BEFORE" "corrupt link, --verify-first: the host is untouched"

restore --zone drill-web --dry-run
expect_rc 1
expect_contains "$ERR" "$LINK" "corrupt link, --dry-run: reads every file and names the bad one"

# --force back to T0 over the zone at T0+1d: the zone goes only once its
# replacement is received, and the T0 link is corrupt.
must flip_middle_byte "$HOSTDIR/$LINK"
restore --zone drill-web
expect_restore_ok "a good restore to replace"
LINK0=$(catalog links "$W" "root/$S0" | sed -n 1p | cut -f5)
SUM0=$(sha256sum "$HOSTDIR/$LINK0")
must flip_middle_byte "$HOSTDIR/$LINK0"
BEFORE=$(host_state "$POOL")
restore --zone drill-web --force --at "$D0"
expect_rc 1
expect_contains "$OUT$ERR" "$LINK0: sha256 " "corrupt link, --force: names the file"
expect_eq "$(grep -c -F "vmadm delete" <<<"$OUT")" 1 "corrupt link, --force: the plan had the delete"
expect_eq "$(grep -c -E '^\[[0-9]+/[0-9]+\] delete zone' <<<"$OUT")" 0 \
  "corrupt link, --force: the delete never ran"
expect_eq "$(partial_datasets "$POOL")" "" "corrupt link, --force: what was received is removed"
expect_eq "$(host_state "$POOL")" "$BEFORE" "corrupt link, --force: the zone is untouched"
drill_lose_zone "$POOL" "$W"
must flip_middle_byte "$HOSTDIR/$LINK0"
expect_eq "$(sha256sum "$HOSTDIR/$LINK0")" "$SUM0" "the corrupt byte of the T0 link is restored"
run "$ZRECON" verify --from "$USB"
expect_rc 0

# ------------------------------------------------------------ 7. interrupted restores
# The image is on the host: the 1st receive is the base of the zone root's
# chain, the 2nd its incremental, into the -partial dataset the 1st made.
BEFORE=$(host_state "$POOL")
restore_with_fault receive 2 --zone drill-web
expect_rc 1
expect_contains "$OUT" "zfs_fault: injected failure of zfs receive call 2" \
  "2nd receive fails: zfs's error is shown"
expect_contains "$OUT" "Restore FAILED" "2nd receive fails: the restore says it failed"
expect_contains "$OUT" "cleanup: removed: $FAULTY destroy -r $POOL/$W-partial" \
  "2nd receive fails: the dataset the 1st receive made is removed"
expect_eq "$(partial_datasets "$POOL")" "" "2nd receive fails: no -partial dataset left"
expect_eq "$(host_state "$POOL")" "$BEFORE" "2nd receive fails: the host is as before"

restore --zone drill-web
if expect_restore_ok "2nd receive fails, rerun"; then
  expect_web_restored "2nd receive fails, rerun" "$POOL" "$D1"
fi

drill_lose_zone "$POOL" "$W"
restore_with_fault rename 1 --zone drill-web
expect_rc 1
expect_contains "$OUT" "zfs_fault: injected failure of zfs rename call 1" \
  "rename fails: zfs's error is shown"
expect_contains "$OUT" "rename $POOL/$W-partial $POOL/$W" "rename fails: it is the zone root's rename"
expect_eq "$(vm_field "$POOL" "$W" uuid)" "\"$W\"" "rename fails: vmadm create had run"

restore --zone drill-web
expect_eq "$(grep -F "vmadm delete" <<<"$OUT")" "" "rename fails, rerun: the zone is continued, not deleted"
if expect_restore_ok "rename fails, rerun"; then
  expect_web_restored "rename fails, rerun" "$POOL" "$D1"
fi

# ------------------------------------------------------------ 6. refusals
# Last, because they need the image gone from the host.
drill_lose_zone "$POOL" "$W"
drill_lose_image "$POOL"
STREAM=$HOSTDIR/images/$IMG.zfs
must mv "$STREAM" "$WORK/image.zfs"
BEFORE=$(host_state "$POOL")
restore --zone drill-web
expect_rc 1
expect_contains "$ERR" "$IMG" "image stream missing: the refusal names the image"
expect_eq "$(host_state "$POOL")" "$BEFORE" "image stream missing: nothing changed"
must mv "$WORK/image.zfs" "$STREAM"

NEVER=zrecon-daily-20261201T100000Z
restore --zone drill-web --at "$NEVER"
expect_rc 1
expect_contains "$ERR" "$NEVER" "--at an unexported snapshot: the refusal names it"
expect_contains "$ERR" "@$D0, @$D1" "--at an unexported snapshot: the refusal lists the exported ones"
expect_eq "$(host_state "$POOL")" "$BEFORE" "--at an unexported snapshot: nothing changed"

# Media written before zrecon saved imgadm's record of an image: with the
# image gone from the host, vmadm create would refuse it, so restore refuses
# first, saying what to do; once the image is imported again (imgadm), the
# old media restores.
IMAGE_MANIFEST=$HOSTDIR/images/$IMG.json
must cp "$IMAGE_MANIFEST" "$WORK/image.json"
must mv "$HOSTDIR/images/$IMG.imgadm" "$WORK/image.imgadm"
/usr/bin/python3 - "$IMAGE_MANIFEST" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
del doc["image"]["imgadm"], doc["image"]["imgadm_type"]
json.dump(doc, open(sys.argv[1], "w"), indent=2)
EOF
restore --zone drill-web
expect_rc 1
expect_contains "$ERR" "image $IMG is not on this host and the media has no imgadm record of it \
(exported before zrecon saved one)" "old media, image gone: the refusal says what is missing"
expect_contains "$ERR" "imgadm import $IMG" "old media, image gone: and what to do"
expect_eq "$(host_state "$POOL")" "$BEFORE" "old media, image gone: nothing changed"
must on_host "$POOL" imgadm install -P "$POOL" -m "$DIR/images/$IMG.json" -f "$DIR/images/$IMG.zfs"
restore --zone drill-web
if expect_restore_ok "old media, image imported again"; then
  expect_web_restored "old media, image imported again" "$POOL" "$D1"
fi
must cp "$WORK/image.json" "$IMAGE_MANIFEST"
must mv "$WORK/image.imgadm" "$HOSTDIR/images/$IMG.imgadm"
drill_lose_zone "$POOL" "$W"
drill_lose_image "$POOL" "$IMG"

# After all this, the media still restores the zone, image included.
restore --zone drill-web
if expect_restore_ok "final restore"; then
  expect_web_restored "final restore" "$POOL" "$D1"
fi

drill_down "$POOL"
finish
