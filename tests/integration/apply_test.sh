#!/usr/bin/env bash
# `zrecon apply` against a real zfs-fuse sandbox host and the vmadm simulator,
# along a timeline of --now times (T0, +1h, +1d, +8d, +9d, +9d1h): the
# snapshots due are taken, the image, configs and chains land on the
# destination with manifests that match the files, incrementals continue a
# chain, full_every starts a new one and keep_chains removes the old, and
# after every step the zrecon snapshots on the host are exactly what the
# policy keeps (computed by hand below), only chain tips are marked and held,
# foreign snapshots are untouched, and a second plan finds nothing to do.
# Also: --dry-run and refused runs (stale plan, other host, max_destroy)
# change nothing; the exported chains restore with zfs receive. Faults during
# apply are in apply_faults_test.sh. Skips (77) without root or zfs-fuse.
#
# Uses its own pool (applytest) and directory, never a `zones` sandbox; a
# zfs-fuse daemon that is already running is used as is.
# shellcheck disable=SC2317  # functions called through run() and the EXIT trap
set -uo pipefail

SRC=${ZRECON_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/integration/lib/assert.sh
. "$SRC/tests/integration/lib/assert.sh"
# shellcheck source=tests/integration/lib/apply_fixture.sh
. "$SRC/tests/integration/lib/apply_fixture.sh"

POOL=applytest
DIR=/var/tmp/zrecon-applytest
fixture_preflight
trap fixture_cleanup EXIT
fixture_up

guid() { zfs get -H -p -o value guid "$1"; }
sha256() { sha256sum "$1" | cut -d' ' -f1; }

# expect_links WHAT ZONE CHAIN DATASET BASE_FROM SNAPSHOT...: the links of
# CHAIN are exactly the SNAPSHOTs in order, the first sent from BASE_FROM
# ("" for a full stream), each later one from the one before; guids are the
# host's, files are <zone>/<chain>/<NNNN>-<snapshot>.zfs and their sha256 is
# the manifest's.
expect_links() {
  local what=$1 zone=$2 chain=$3 ds=$4 from=$5 seq=0 snap file from_guid expected=()
  shift 5
  for snap in "$@"; do
    seq=$((seq + 1))
    file=$(printf '%s/%s/%04d-%s.zfs' "$zone" "$chain" "$seq" "$snap")
    from_guid=0
    [[ -n $from ]] && from_guid=$(guid "$from")
    expected+=("$snap	$(guid "$ds@$snap")	$from	$from_guid	$file	$(sha256 "$HOSTDIR/$file")")
    from=$ds@$snap
  done
  expect_eq "$(catalog links "$zone" "$chain")" "$(lines "${expected[@]}")" \
    "$what: links of chain $chain of $ds (snapshot, guid, from, from_guid, file, sha256 of the file)"
}

# ============================================================ T0: first apply
run "$ZRECON" apply -f "$POLICY" --now "$T0"
expect_applied "T0"
expect_state "T0" "$T0" "zrecon-daily-$S0" \
  "zrecon-hourly-$S0" "zrecon-daily-$S0" "zrecon-weekly-$S0"

expect_eq "$(catalog images)" "$(lines "$IMG	$ORIGIN	$(guid "$ORIGIN")	images/$IMG.zfs	images/$IMG.imgadm	zone-dataset" \
  "$LX_IMG	$LX_ORIGIN	$(guid "$LX_ORIGIN")	images/$LX_IMG.zfs	images/$LX_IMG.imgadm	lx-dataset")" \
  "T0: each image stream is saved once, with its manifest and imgadm's record"
for image in "$IMG" "$LX_IMG"; do
  expect_eq "$(cmp "$HOSTDIR/images/$image.imgadm" <(imgadm get -P "$POOL" "$image") 2>&1)" "" \
    "T0: the record of image $image is imgadm get's output"
done
for zone in "$A web01 joyent" "$B web02 lx"; do
  read -r uuid alias brand <<<"$zone"
  expect_eq "$(catalog zone "$uuid" alias) $(catalog zone "$uuid" brand)" "$alias $brand" \
    "T0: manifest of $alias names the zone"
  expect_eq "$(catalog configs "$uuid")" "$uuid/config/$S0.json" "T0: one config of $alias"
  expect_eq "$(cmp "$HOSTDIR/$uuid/config/$S0.json" <(vmadm get "$uuid") 2>&1)" "" \
    "T0: the config of $alias is vmadm get's output"
done
expect_eq "$(catalog chains "$A")" "root/$S0	$ROOT_A	$ORIGIN	$(guid "$ORIGIN")	1" \
  "T0: one chain for web01's root, based on the image origin"
expect_eq "$(catalog chains "$B")" "$(lines "root/$S0	$ROOT_B	$LX_ORIGIN	$(guid "$LX_ORIGIN")	1" \
  "root+data/$S0	$DATA_B		0	1")" \
  "T0: web02 has a chain for its root (image origin) and one for its delegated dataset (no origin)"
expect_links "T0" "$A" "root/$S0" "$ROOT_A" "$ORIGIN" "zrecon-daily-$S0"
expect_links "T0" "$B" "root/$S0" "$ROOT_B" "$LX_ORIGIN" "zrecon-daily-$S0"
expect_links "T0" "$B" "root+data/$S0" "$DATA_B" "" "zrecon-daily-$S0"

# ============================================================ T0+1h: an hourly, no export
must write_generation 1
TREE=$(catalog tree)
run "$ZRECON" apply -f "$POLICY" --now "$T1H"
expect_applied "T0+1h"
expect_contains "$OUT" "Plan: 3 to snapshot, 0 to send, 0 to destroy" \
  "T0+1h: one hourly per dataset, nothing to send or destroy"
expect_eq "$(catalog tree)" "$TREE" "T0+1h: the destination is untouched"
expect_state "T0+1h" "$T1H" "zrecon-daily-$S0" \
  "zrecon-hourly-$S0" "zrecon-hourly-$S1H" "zrecon-daily-$S0" "zrecon-weekly-$S0"

# ============================================================ T0+1d: dry run first
must write_generation 2
BEFORE=$(host_state)
run "$ZRECON" apply -f "$POLICY" --now "$T1D" --dry-run
expect_rc 0
expect_eq "$(grep -E '^ *failed:' <<<"$OUT")" "" "dry run: no action fails"
expect_contains "$OUT" $'\n'"Dry run: nothing was changed. These commands would run:" "dry run: says so"
DRY=$(sed -n '/^Dry run: nothing was changed/,$p' <<<"$OUT")
expect_contains "$DRY" $'\n'"  \$ zfs snapshot -r $ROOT_A@zrecon-daily-$S1D"$'\n' \
  "dry run: lists the zfs snapshot it would run"
expect_contains "$DRY" $'\n'"  \$ zfs send -i $DATA_B@zrecon-daily-$S0 $DATA_B@zrecon-daily-$S1D" \
  "dry run: lists the incremental zfs send it would run"
expect_eq "$(host_state)" "$BEFORE" "dry run: no snapshot, hold, mark or destination file changed"

# ============================================================ T0+1d: stale saved plans
PLAN=$WORK/t1d.json
run "$ZRECON" plan -f "$POLICY" --now "$T1D" --out "$PLAN"
expect_rc 0
stale_check() {
  local what=$1 before
  before=$(host_state)
  run "$ZRECON" apply "$PLAN"
  expect_rc 1
  expect_contains "$ERR" "plan is stale" "$what: the saved plan is refused"
  expect_eq "$(host_state)" "$before" "$what: nothing changed"
}
must zfs hold probe "$ROOT_A@zrecon-hourly-$S0"
stale_check "stale plan (a hold was added)"
must zfs release probe "$ROOT_A@zrecon-hourly-$S0"
must zfs snapshot "$DATA_B@before-upgrade"
FOREIGN_EXTRA+=("$DATA_B@before-upgrade	0	-")
stale_check "stale plan (a foreign snapshot was taken)"

# The fingerprint covers every pool of the machine, so activity on another
# pool between plan and apply (another sandbox, a benchmark) makes a fresh
# plan stale too: a few attempts tell that from a plan that is always stale.
for attempt in 1 2 3; do
  run "$ZRECON" plan -f "$POLICY" --now "$T1D" --out "$PLAN"
  expect_rc 0
  run "$ZRECON" apply "$PLAN"
  [[ $RC -eq 1 && $ERR == *"plan is stale"* ]] || break
  echo "note: attempt $attempt: a fresh plan was stale; did another pool change meanwhile?" >&2
done
expect_applied "T0+1d, a fresh saved plan"
expect_state "T0+1d" "$T1D" "zrecon-daily-$S1D" \
  "zrecon-hourly-$S0" "zrecon-hourly-$S1H" "zrecon-hourly-$S1D" \
  "zrecon-daily-$S0" "zrecon-daily-$S1D" "zrecon-weekly-$S0"
expect_links "T0+1d" "$A" "root/$S0" "$ROOT_A" "$ORIGIN" "zrecon-daily-$S0" "zrecon-daily-$S1D"
expect_links "T0+1d" "$B" "root/$S0" "$ROOT_B" "$LX_ORIGIN" "zrecon-daily-$S0" "zrecon-daily-$S1D"
expect_links "T0+1d" "$B" "root+data/$S0" "$DATA_B" "" "zrecon-daily-$S0" "zrecon-daily-$S1D"
expect_eq "$(catalog configs "$A")" "$(lines "$A/config/$S0.json" "$A/config/$S1D.json")" \
  "T0+1d: the export run saved web01's config again"

# ============================================================ T0+8d: max_destroy, new chains, prunes
# Due: hourly, daily, weekly (new ISO week). Retention then destroys, per
# dataset, the oldest hourly (4 > 3), daily (3 > 2; no longer a tip) and
# weekly (2 > 1): 9 snapshots. full_every 7d starts new chains; keep_chains 1
# removes the old ones.
must write_generation 3
LIMITED=$WORK/limited.yaml
write_policy "$LIMITED" "$USB" "limits: {max_destroy: 1}"
BEFORE=$(host_state)
run "$ZRECON" apply -f "$LIMITED" --now "$T8D"
expect_rc 1
expect_contains "$ERR" "refusing to apply: the plan destroys 9 snapshots, more than limits.max_destroy (1)" \
  "max_destroy 1: apply refuses a plan destroying 9"
expect_eq "$(host_state)" "$BEFORE" "max_destroy 1: nothing changed"

run "$ZRECON" apply -f "$LIMITED" --now "$T8D" --allow-destroy
expect_applied "T0+8d, --allow-destroy"
expect_contains "$OUT" "9 to destroy" "T0+8d: --allow-destroy applies the 9 destroys"
expect_state "T0+8d" "$T8D" "zrecon-daily-$S8D" \
  "zrecon-hourly-$S1H" "zrecon-hourly-$S1D" "zrecon-hourly-$S8D" \
  "zrecon-daily-$S1D" "zrecon-daily-$S8D" "zrecon-weekly-$S8D"
expect_eq "$(catalog chains "$A" | cut -f1,5)" "root/$S8D	1" \
  "T0+8d: web01 has only its new chain (keep_chains 1)"
expect_eq "$(catalog chains "$B" | cut -f1,5)" "$(lines "root/$S8D	1" "root+data/$S8D	1")" \
  "T0+8d: web02 has only its new chains (keep_chains 1)"
expect_links "T0+8d" "$A" "root/$S8D" "$ROOT_A" "$ORIGIN" "zrecon-daily-$S8D"
expect_links "T0+8d" "$B" "root/$S8D" "$ROOT_B" "$LX_ORIGIN" "zrecon-daily-$S8D"
expect_links "T0+8d" "$B" "root+data/$S8D" "$DATA_B" "" "zrecon-daily-$S8D"
expect_eq "$(cd "$HOSTDIR" && printf '%s\n' "$A"/root/* "$B"/root/* "$B"/root+data/* | LC_ALL=C sort)" \
  "$(_sorted_lines "$A/root/$S8D" "$B/root/$S8D" "$B/root+data/$S8D")" \
  "T0+8d: the old chains' directories are gone from the destination"

# ============================================================ T0+9d: the new chain continues
# hourly and daily due; destroyed: hourly S1H (4 > 3) and daily S1D (3 > 2,
# the old chain's tip, released when the new chain started).
must write_generation 4
run "$ZRECON" apply -f "$POLICY" --now "$T9D"
expect_applied "T0+9d"
expect_state "T0+9d" "$T9D" "zrecon-daily-$S9D" \
  "zrecon-hourly-$S1D" "zrecon-hourly-$S8D" "zrecon-hourly-$S9D" \
  "zrecon-daily-$S8D" "zrecon-daily-$S9D" "zrecon-weekly-$S8D"
expect_links "T0+9d" "$A" "root/$S8D" "$ROOT_A" "$ORIGIN" "zrecon-daily-$S8D" "zrecon-daily-$S9D"
expect_links "T0+9d" "$B" "root/$S8D" "$ROOT_B" "$LX_ORIGIN" "zrecon-daily-$S8D" "zrecon-daily-$S9D"
expect_links "T0+9d" "$B" "root+data/$S8D" "$DATA_B" "" "zrecon-daily-$S8D" "zrecon-daily-$S9D"

# ============================================================ T0+9d1h: a policy for another host
OTHER=$WORK/other-host.yaml
OTHER_USB=$WORK/usb-other
mkdir -p "$OTHER_USB"
write_policy "$OTHER" "$OTHER_USB" "host: some-other-host"
BEFORE=$(host_state)
run "$ZRECON" apply -f "$OTHER" --now "$T9D1H"
expect_rc 1
expect_contains "$ERR" "this is for host some-other-host" "policy for another host: refused"
expect_eq "$(host_state)" "$BEFORE" "policy for another host: nothing changed"
expect_eq "$(ls -A "$OTHER_USB")" "" "policy for another host: nothing written to its destination"

run "$ZRECON" apply -f "$OTHER" --now "$T9D1H" --host some-other-host
expect_applied "--host some-other-host"
# Its catalog is another host's directory: chains start there from scratch,
# based on the newest daily (the chain is named after it), which stays the
# tip; retention is the same policy's.
expect_state "T0+9d1h" "$T9D1H" "zrecon-daily-$S9D" \
  "zrecon-hourly-$S8D" "zrecon-hourly-$S9D" "zrecon-hourly-$S9D1H" \
  "zrecon-daily-$S8D" "zrecon-daily-$S9D" "zrecon-weekly-$S8D"
OTHER_HOSTDIR=$OTHER_USB/some-other-host
expect_eq "$(HOSTDIR=$OTHER_HOSTDIR catalog chains "$B" | cut -f1,5)" \
  "$(lines "root/$S9D	1" "root+data/$S9D	1")" \
  "--host some-other-host: exports go to the directory of that host"
expect_eq "$(HOSTDIR=$OTHER_HOSTDIR catalog verify)" "" \
  "--host some-other-host: its destination's manifests match their files"

# ============================================================ restore from the files alone
# Receiving each chain's links in order gives datasets whose files are the
# live ones (nothing was written since the last daily export).
tree_sums() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); }
restore_check() {
  local zone=$1 chain=$2 source=$3 subdir=$4 target=$5 file
  for file in $(catalog links "$zone" "$chain" | cut -f5); do
    run zfs receive "$target" <"$HOSTDIR/$file"
    expect_eq "$RC $ERR" "0 " "restore: zfs receive $target < $file"
  done
  expect_eq "$(zfs get -H -o value origin "$target")" "$(zfs get -H -o value origin "$source")" \
    "restore: $target has the origin $source has"
  expect_eq "$(tree_sums "$(mountpoint_of "$target")$subdir")" \
    "$(tree_sums "$(mountpoint_of "$source")$subdir")" \
    "restore: files of $target are those of $source"
}
restore_check "$A" "root/$S8D" "$ROOT_A" /root "$POOL/restored-a"
restore_check "$B" "root/$S8D" "$ROOT_B" /root "$POOL/restored-b"
restore_check "$B" "root+data/$S8D" "$DATA_B" "" "$POOL/restored-b-data"

fixture_down
finish
