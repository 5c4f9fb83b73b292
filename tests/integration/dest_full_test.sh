#!/usr/bin/env bash
# `zrecon apply` when the destination fills up, on a real zfs-fuse sandbox
# host exporting to an 8 MiB tmpfs: the first export fits; then web01 gets
# 10 MiB of random data and its next incremental stream does not fit. apply
# exits 1 naming the file and "No space left on device", leaves no temporary
# file, records no link (chains and links as before; the only catalog change
# is web01's config record, which is saved before its sends), prunes nothing
# and keeps the tips' marks and holds. Once the tmpfs is grown, a rerun
# completes and `zrecon verify` passes. Skips (77) without root, zfs-fuse or
# the right to mount a tmpfs.
#
# Uses its own pool (destfulltest) and directory, never a `zones` sandbox.
# shellcheck disable=SC2317  # functions called through run() and the EXIT trap
set -uo pipefail

SRC=${ZRECON_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/integration/lib/assert.sh
. "$SRC/tests/integration/lib/assert.sh"
# shellcheck source=tests/integration/lib/apply_fixture.sh
. "$SRC/tests/integration/lib/apply_fixture.sh"

POOL=destfulltest
DIR=/var/tmp/zrecon-destfulltest
fixture_preflight

# The tmpfs goes first: fixture_cleanup removes WORK, which holds it.
cleanup() {
  [[ -n ${USB:-} ]] && mountpoint -q "$USB" && umount "$USB"
  fixture_cleanup
}
trap cleanup EXIT
fixture_up

mount -t tmpfs -o size=8m,mode=0755 tmpfs "$USB" 2>/dev/null ||
  skip "cannot mount a tmpfs on $USB (not permitted here)"

# ============================================================ T0: the first export fits
run "$ZRECON" apply -f "$POLICY" --now "$T0"
expect_applied "apply at T0 (8 MiB destination)"
expect_state "apply at T0" "$T0" "zrecon-daily-$S0" \
  "zrecon-hourly-$S0" "zrecon-daily-$S0" "zrecon-weekly-$S0"

# ============================================================ T0+1d: web01's stream does not fit
must write_generation 1
must dd if=/dev/urandom of="$(mountpoint_of "$ROOT_A")/root/incompressible" bs=1M count=10 \
  status=none
links_of() {
  local zone chain
  for zone in "$A" "$B"; do
    catalog chains "$zone"
    for chain in $(catalog chains "$zone" | cut -f1); do catalog links "$zone" "$chain"; done
  done
}
LINKS_BEFORE=$(links_of)
CONFIGS_A_BEFORE=$(catalog configs "$A")
UNTOUCHED_BEFORE=$(sha256sum "$HOSTDIR/$B/manifest.json" "$HOSTDIR"/images/*.json)

run "$ZRECON" apply -f "$POLICY" --now "$T1D"
expect_rc 1
expect_contains "$(grep -E '^ *failed:' <<<"$OUT")" \
  "send (zone $A): usb:$A/root/$S0/0002-zrecon-daily-$S1D.zfs: zfs send -i $ROOT_A@zrecon-daily-$S0 $ROOT_A@zrecon-daily-$S1D exited 1: " \
  "destination full: web01's send is the failed action, named with its command"
# The progress line names the file; the FAILED line under it, the cause.
FILE="usb:$A/root/$S0/0002-zrecon-daily-$S1D.zfs"
expect_match "$(grep -A 3 -F -- "> send $ROOT_A@zrecon-daily-$S1D -> $FILE" <<<"$OUT")" \
  "FAILED: .*No space left on device" "destination full: the file and the cause are named"
expect_eq "$(find "$USB" -name '.tmp*')" "" "destination full: no temporary file is left"
expect_eq "$(links_of)" "$LINKS_BEFORE" "destination full: chains and links as before"
expect_eq "$(sha256sum "$HOSTDIR/$B/manifest.json" "$HOSTDIR"/images/*.json)" \
  "$UNTOUCHED_BEFORE" "destination full: web02's manifest and the image's are byte for byte the same"
expect_eq "$(catalog configs "$A")" "$(lines "$CONFIGS_A_BEFORE" "$A/config/$S1D.json")" \
  "destination full: web01's manifest gains only the config saved before its sends"
expect_catalog_sound "destination full"
expect_managed "destination full: snapshots taken, nothing pruned" \
  "zrecon-hourly-$S0" "zrecon-hourly-$S1D" "zrecon-daily-$S0" "zrecon-daily-$S1D" \
  "zrecon-weekly-$S0"
expect_tips "destination full: the T0 tips keep their marks and holds" \
  "$ROOT_A@zrecon-daily-$S0" "$ROOT_B@zrecon-daily-$S0" "$DATA_B@zrecon-daily-$S0"
expect_foreign "destination full"

# ============================================================ grown: the rerun completes
must mount -o remount,size=64m "$USB"
run "$ZRECON" apply -f "$POLICY" --now "$T1D"
expect_applied "rerun after growing the destination"
expect_state "rerun after growing the destination" "$T1D" "zrecon-daily-$S1D" \
  "zrecon-hourly-$S0" "zrecon-hourly-$S1D" "zrecon-daily-$S0" "zrecon-daily-$S1D" \
  "zrecon-weekly-$S0"
run "$ZRECON" verify --from "$USB"
expect_rc 0

must umount "$USB"
fixture_down
finish
