#!/usr/bin/env bash
# The restore drill, on a real zfs-fuse sandbox host with the vmadm
# simulator (lib/restore_fixture.sh): two zones exported at T0 and T0+1d are
# deleted and their image destroyed, so everything must come from the media.
#  1. `zrecon verify` passes.
#  2. `zrecon restore` brings back drill-web (joyent) and drill-app (lx with
#     a delegated dataset): every file, mode and symlink as of the newest
#     export, clones of the image @final (received again, same guid), the
#     exported snapshots with their guids, the same `vmadm get` identity.
#  3. The same into a second host (pool drill2) that never had the image,
#     with that host's vmadm: the first host is untouched.
#  4. `--at` the T0 export: refused without --force while the zone exists
#     (nothing changes, the zone is named); with --force the plan says what
#     it replaces, releases zrecon's hold on the chain tip (vmadm delete
#     would hang on it) and the zone comes back as of T0.
# Every restored zone: imgadm knows its image (registered from the media
# where it was received), the image is mounted, the zone never booted
# during the restore, autoboot is as saved, the cores dataset (exported
# too) is mounted where vmadm puts it, devices=off as vmadm clones it.
# Skips (77) without root or zfs-fuse. restore_faults_test.sh covers corrupt
# media, refusals and interrupted restores.
#
# Uses its own pools (drill, drill2) and directory; a zfs-fuse daemon that is
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

POOL=drill
POOL2=drill2
DIR=/var/tmp/zrecon-drill

cleanup() {
  POOL=$POOL2 _sandbox down >/dev/null 2>&1
  fixture_cleanup
}

fixture_preflight
trap cleanup EXIT
POOL=$POOL2 _sandbox down >/dev/null 2>&1
drill_up

# How many steps a restore's output reports receiving the image (0 or 1).
received_image() { grep -c -E "^\[[0-9]+/[0-9]+\] receive .* receive -u $POOL/$IMG-partial < " || true; }

# ------------------------------------------------------------ the disaster
drill_lose_zone "$POOL" "$W"
drill_lose_zone "$POOL" "$L"
drill_lose_image "$POOL"

# ------------------------------------------------------------ 1. verify
run "$ZRECON" verify --from "$USB"
expect_rc 0

# ------------------------------------------------------------ 2. restore on the same host
run on_host "$POOL" "$ZRECON" restore --from "$USB" --zone drill-web
if expect_restore_ok "restore drill-web"; then
  expect_eq "$(received_image <<<"$OUT")" 1 \
    "restore drill-web: the image is received from the media (it is not on the host)"
  expect_web_restored "restore drill-web" "$POOL" "$D1"
fi

run on_host "$POOL" "$ZRECON" restore --from "$USB" --zone drill-app
if expect_restore_ok "restore drill-app"; then
  expect_eq "$(received_image <<<"$OUT")" 0 \
    "restore drill-app: the image is on the host now, not received again"
  expect_zone "restore drill-app" "$POOL" "$L"
  expect_dataset "restore drill-app" "$POOL/$L" L "$D1"
  expect_dataset "restore drill-app" "$POOL/$L/data" L.data "$D1"
  expect_eq "$(vm_field "$POOL" "$L" datasets)" "[\"$POOL/$L/data\"]" \
    "restore drill-app: the data dataset is delegated to the zone again"
  expect_eq "$(zfs get -H -o value origin "$POOL/$L/data")" "-" \
    "restore drill-app: the data dataset is no clone (full stream)"
fi

# ------------------------------------------------------------ 3. restore on another host
# drill2 never had the image: sandbox-up imports it, so it is destroyed again.
POOL=$POOL2 run _sandbox up
expect_rc 0
((RC == 0)) || finish
drill_lose_image "$POOL2"
BEFORE=$(host_state "$POOL")
run on_host "$POOL2" "$ZRECON" restore --from "$USB" --zone drill-web --pool "$POOL2"
if expect_restore_ok "restore on $POOL2"; then
  expect_web_restored "restore on $POOL2" "$POOL2" "$D1"
fi
expect_eq "$(host_state "$POOL")" "$BEFORE" "restore on $POOL2: host $POOL is untouched"

# ------------------------------------------------------------ 4. --at an older export
# The zone is at @D1 now (step 2): going back to @D0 replaces it. It is
# protected again, as the next apply leaves it: its chain tip marked and held
# by zrecon, which would make `vmadm delete` hang on SmartOS (smartos-live#292).
must zfs hold zrecon "$POOL/$W@$D1"
must zfs set zrecon:exported=usb "$POOL/$W@$D1"
BEFORE=$(host_state "$POOL")
run on_host "$POOL" "$ZRECON" restore --from "$USB" --zone drill-web --at "$D0"
expect_eq "$(grep -F 'already restored' <<<"$OUT")" "" \
  "--at without --force: a zone at @$D1 is not taken for one already restored to @$D0"
expect_rc 1
expect_contains "$ERR" "zone $W (drill-web) already exists" "--at without --force: refused, naming the zone"
expect_eq "$(host_state "$POOL")" "$BEFORE" "--at without --force: nothing changed"

run on_host "$POOL" "$ZRECON" restore --from "$USB" --zone drill-web --at "$D0" --force
expect_eq "$(grep -F 'already restored' <<<"$OUT")" "" \
  "--at --force: a zone at @$D1 is not taken for one already restored to @$D0"
if expect_restore_ok "--at --force"; then
  NOTE=$(sed -n '/^Note: --force/,/^$/p' <<<"$OUT")
  expect_contains "$NOTE" "zone $W (drill-web) is deleted once its replacement is received and verified" \
    "--at --force: the plan says the zone is replaced, once its replacement is received"
  for ds in "$POOL/$W (2 snapshots)" "$POOL/cores/$W"; do
    expect_contains "$NOTE" "$ds" "--at --force: the plan names the dataset that goes: $ds"
  done
  expect_eq "$(grep -c -F "\$ vmadm delete $W" <<<"$OUT")" 1 "--at --force: the plan deletes the zone first"
  expect_eq "$(grep -B2 -F "\$ vmadm delete $W" <<<"$OUT" | head -n 1 | sed 's/^ *//')" \
    "\$ zfs release zrecon $POOL/$W@$D1" "--at --force: zrecon's hold is released just before"
  expect_web_restored "--at --force" "$POOL" "$D0"
fi
expect_zone "--at --force: the other zone" "$POOL" "$L"

# ------------------------------------------------------------ teardown
drill_down "$POOL2" "$POOL"
finish
