#!/usr/bin/env bash
# `zrecon inventory` and `zrecon plan` against a real zfs-fuse sandbox host
# and the vmadm simulator: the saved inventory matches what zfs and vmadm
# show; the plan snapshots each zone's datasets in the legacy dialect on the
# zone's own pool, exports them, leaves foreign snapshots alone, is the same
# when planned from the saved inventory, and agrees with real ZFS once its
# snapshot commands have run. Skips (77) without root or zfs-fuse.
#
# Uses its own pool (plantest) and directory, never a `zones` sandbox; a
# zfs-fuse daemon that is already running is used as is.
# shellcheck disable=SC2317  # functions called through run() and the EXIT trap
set -uo pipefail

SRC=${ZRECON_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/integration/lib/assert.sh
. "$SRC/tests/integration/lib/assert.sh"
# shellcheck source=tests/integration/lib/apply_fixture.sh
. "$SRC/tests/integration/lib/apply_fixture.sh"

POOL=plantest
DIR=/var/tmp/zrecon-plantest
fixture_preflight
WORK=$(mktemp -d)
trap fixture_cleanup EXIT

q() { /usr/bin/python3 "$SRC/tests/integration/lib/plan_query.py" "$@"; }

# Rows of a listing that belong to our pool (other sandboxes may be up).
our_rows() { grep -E "^$POOL([/@	]|$)"; }

# Words, one per line, sorted.
sorted() { tr ' ' '\n' | sed '/^$/d' | LC_ALL=C sort; }

# Runs the argv of every action of kind $2 in plan $1, in plan order, the way
# apply does (no shell); the stdout of action N goes to $3.N.
run_plan_argvs() {
  local plan=$1 kind=$2 out=$3 i argv rc
  for i in $(q "$plan" indices "$kind"); do
    mapfile -d '' -t argv < <(q "$plan" argv "$i")
    if ((${#argv[@]} == 0)); then
      expect_eq "(empty)" "a command" "$kind action $i of $plan has an argv"
      continue
    fi
    LAST_CMD="${argv[*]}"
    "${argv[@]}" >"$out.$i" 2>"$WORK/argv.err"
    rc=$?
    expect_eq "$rc" 0 "$kind action $i runs with the real zfs (stderr: $(head -n 1 "$WORK/argv.err"))"
  done
}

# Writes policy file $1 whose destination usb is directory $2.
write_policy() {
  cat >"$1" <<EOF
version: 1
host: sandbox01
destinations:
  usb:
    type: directory
    path: $2
policies:
  standard:
    keep: {hourly: 24, daily: 7}
    datasets: [zoneroot]
    export:
      - {destination: usb, class: daily}
zones:
  - match: {alias: "web*"}
    policy: standard
EOF
}

# ------------------------------------------------------------ sandbox host
sandbox_up

must vmadm create <<<"{\"brand\": \"joyent\", \"uuid\": \"$A\", \"image_uuid\": \"$IMG\",
  \"alias\": \"web01\"}"
must vmadm create <<<"{\"brand\": \"lx\", \"uuid\": \"$B\", \"image_uuid\": \"$LX_IMG\",
  \"alias\": \"web02\", \"delegate_dataset\": true}"
mnt() { zfs get -H -o value mountpoint "$1"; }
must cp /etc/os-release "$(mnt "$ROOT_A")/root/etc/zrecon-live.txt"
must dd if=/dev/urandom of="$(mnt "$ROOT_B")/root/blob" bs=64k count=4 status=none
must dd if=/dev/urandom of="$(mnt "$ROOT_B/data")/db" bs=64k count=8 status=none
# Foreign snapshots (by hand, vmadm-style, held): zrecon must never touch them.
must zfs snapshot "$ROOT_A@first_snap"
must zfs snapshot "$ROOT_A@vmsnap-x"
must zfs snapshot "$ROOT_B@vmsnap-x"
must zfs snapshot "$ROOT_B/data@first_snap"
must zfs hold "$HOLD_TAG" "$ROOT_A@first_snap"

NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
STAMP=$(date -u -d "$NOW" +%Y%m%dT%H%M%SZ)
USB=$WORK/usb
mkdir -p "$USB"
POLICY=$WORK/policy.yaml
write_policy "$POLICY" "$USB"

# ------------------------------------------------------------ inventory --save, live plan
# Back to back: the fingerprint covers every pool on the machine, and the
# plan from the saved inventory must describe the same host as the live one.
INV=$WORK/inventory
count() { zfs list -H -t "$1" -o name | wc -l; }
# Other pools on the daemon (other tests, benchmarks) may change meanwhile:
# the counts are checked only when they are the same before and after.
COUNTS_BEFORE="$(count filesystem) $(count snapshot)"
run "$ZRECON" inventory --save "$INV"
INVENTORY_RC=$RC INVENTORY_OUT=$OUT INVENTORY_ERR=$ERR
COUNTS_AFTER="$(count filesystem) $(count snapshot)"
LIVE=$WORK/live.json
run "$ZRECON" plan -f "$POLICY" --now "$NOW" --json
cp "$OUT_FILE" "$LIVE"
expect_rc 0
((RC == 0)) || finish

RC=$INVENTORY_RC OUT=$INVENTORY_OUT ERR=$INVENTORY_ERR LAST_CMD="zrecon inventory --save $INV"
expect_rc 0
if [[ $COUNTS_BEFORE == "$COUNTS_AFTER" ]]; then
  read -r FILESYSTEMS SNAPSHOTS <<<"$COUNTS_BEFORE"
  expect_eq "$(head -n 1 <<<"$OUT")" "zfs dialect legacy: $FILESYSTEMS filesystems, 0 volumes, \
$SNAPSHOTS snapshots, 0 bookmarks; 2 zones" "inventory reads zfs-fuse in the legacy dialect"
else
  expect_match "$(head -n 1 <<<"$OUT")" \
    "^zfs dialect legacy: [0-9]+ filesystems, 0 volumes, [0-9]+ snapshots, 0 bookmarks; 2 zones$" \
    "inventory reads zfs-fuse in the legacy dialect (other pools changed meanwhile)"
fi
ZFS_ROWS=$INV/zfs-list.txt
expect_eq "$(cut -f1 "$ZFS_ROWS" | our_rows | LC_ALL=C sort)" \
  "$(zfs list -H -t all -o name | our_rows | LC_ALL=C sort)" \
  "zfs-list.txt has a row for every dataset and snapshot zfs list shows"
expect_eq "$(awk -F'\t' 'NF != 9 { print NR ": " NF " fields: " $0 }' "$ZFS_ROWS")" "" \
  "every zfs-list.txt row has 9 TAB-separated fields"
expect_eq "$(cut -f1,2,3,7 "$ZFS_ROWS" | our_rows | LC_ALL=C sort)" \
  "$(zfs list -H -t all -o name,type,origin,userrefs | our_rows | LC_ALL=C sort)" \
  "name, type, origin and userrefs columns agree with zfs list"
expect_eq "$(cut -f1,4,5,6 "$ZFS_ROWS" | our_rows | LC_ALL=C sort)" \
  "$(zfs get -H -p -r -o name,property,value creation,guid,createtxg "$POOL" |
    awk -F'\t' '{ v[$1, $2] = $3; if (!($1 in seen)) { seen[$1]; order[++n] = $1 } }
      END { for (i = 1; i <= n; i++) { d = order[i]
        print d "\t" v[d, "creation"] "\t" v[d, "guid"] "\t" v[d, "createtxg"] } }' |
    LC_ALL=C sort)" \
  "creation, guid and createtxg columns agree with zfs get -p"
row() { awk -F'\t' -v name="$1" -v col="$2" '$1 == name { print $col }' "$ZFS_ROWS"; }
expect_eq "$(row "$ROOT_A" 3) $(row "$ROOT_B" 3)" "$ORIGIN $LX_ORIGIN" \
  "origin column of the zone roots is their image's @final"
expect_eq "$(row "$ROOT_A@first_snap" 7) $(row "$ROOT_A@vmsnap-x" 7)" "1 0" \
  "userrefs column: 1 for the held snapshot, 0 for the other"
# The zones as `vmadm lookup -j` prints them (uuid order), read back the same.
zones_of() {
  /usr/bin/python3 -c 'import json, sys
for z in sorted(json.load(sys.stdin), key=lambda z: z["uuid"]):
    print(":".join(str(z.get(k, "")) for k in
                   ("uuid", "brand", "state", "image_uuid", "zpool", "zonename", "alias")))'
}
expect_eq "$(zones_of <"$INV/vmadm-lookup.json")" \
  "$(vmadm lookup -j -o uuid,brand,state,image_uuid,zpool,zonename,flexible_disk_size,alias |
    zones_of)" "vmadm-lookup.json holds the zones as vmadm lookup -j shows them"

# ------------------------------------------------------------ the live plan
HOURLY=zrecon-hourly-$STAMP
DAILY=zrecon-daily-$STAMP
expect_eq "$(q "$LIVE" get dialect) $(q "$LIVE" get now)" "legacy $NOW" "plan: dialect and time"
expect_eq "$(q "$LIVE" get warnings)" "" "plan: no warnings"
expect_eq "$(q "$LIVE" field snapshot zone | LC_ALL=C sort)" "$(lines "$A" "$A" "$B" "$B")" \
  "plan: an hourly and a daily snapshot action per zone"
expect_eq "$(q "$LIVE" field snapshot snapshots | LC_ALL=C sort)" "$(LC_ALL=C sort <<EOF
$ROOT_A@$HOURLY
$ROOT_A@$DAILY
$ROOT_B@$HOURLY $ROOT_B/data@$HOURLY
$ROOT_B@$DAILY $ROOT_B/data@$DAILY
EOF
)" "plan: snapshots cover the zone root on pool $POOL and the lx zone's delegated dataset"
expect_eq "$(q "$LIVE" field snapshot argv | LC_ALL=C sort)" "$(LC_ALL=C sort <<EOF
zfs snapshot -r $ROOT_A@$HOURLY
zfs snapshot -r $ROOT_A@$DAILY
zfs snapshot -r $ROOT_B@$HOURLY
zfs snapshot -r $ROOT_B@$DAILY
EOF
)" "plan: legacy dialect, one zfs snapshot -r per name"
expect_eq "$(q "$LIVE" field save_image argv | LC_ALL=C sort)" \
  "$(lines "zfs send $ORIGIN" "zfs send $LX_ORIGIN" | LC_ALL=C sort)" "plan: each image @final is saved once"
expect_eq "$(q "$LIVE" field save_image_record argv | LC_ALL=C sort)" \
  "$(lines "imgadm get -P $POOL $IMG" "imgadm get -P $POOL $LX_IMG" | LC_ALL=C sort)" \
  "plan: with imgadm's record of each image"
expect_eq "$(q "$LIVE" field send argv | LC_ALL=C sort)" "$(LC_ALL=C sort <<EOF
zfs send -i $ORIGIN $ROOT_A@$DAILY
zfs send -i $LX_ORIGIN $ROOT_B@$DAILY
zfs send $ROOT_B/data@$DAILY
EOF
)" "plan: one send of the daily per dataset, clones incremental from their origin"
expect_eq "$(q "$LIVE" field send destination | sort -u)" "usb" "plan: sends go to usb"
for foreign in @first_snap @vmsnap-x "zones/"; do
  expect_eq "$(q "$LIVE" mentions "$foreign")" "" "plan: no action mentions $foreign"
done

run "$ZRECON" plan -f "$POLICY" --now "$NOW"
expect_rc 0
expect_contains "$(head -n 1 <<<"$OUT")" "(zfs dialect legacy)" "text plan names the dialect"

# ------------------------------------------------------------ plan from the saved inventory
SAVED=$WORK/saved.json
run "$ZRECON" plan -f "$POLICY" --inventory "$INV" --dialect legacy --now "$NOW" --json
cp "$OUT_FILE" "$SAVED"
expect_rc 0
expect_eq "$(q "$SAVED" get fingerprint)" "$(q "$LIVE" get fingerprint)" \
  "saved inventory plan: same fingerprint as the live plan (also differs if another pool changed meanwhile)"
expect_eq "$(q "$SAVED" actions)" "$(q "$LIVE" actions)" "saved inventory plan: same actions"
expect_eq "$(cmp "$SAVED" "$LIVE" 2>&1)" "" "saved inventory plan: byte-identical document"

# ------------------------------------------------------------ --detailed-exitcode
run "$ZRECON" plan -f "$POLICY" --now "$NOW" --detailed-exitcode
expect_rc 2
expect_contains "$OUT" "Plan: 6 to snapshot" "detailed exit code 2 comes with the changes"

# ------------------------------------------------------------ unreachable destination
GONE=$WORK/unplugged
write_policy "$WORK/gone.yaml" "$GONE"
run "$ZRECON" plan -f "$WORK/gone.yaml" --now "$NOW" --json
expect_rc 0
cp "$OUT_FILE" "$WORK/gone.json"
expect_contains "$(q "$WORK/gone.json" get warnings)" "destination usb is unreachable ($GONE does not exist)" \
  "unreachable destination: warning"
expect_eq "$(q "$WORK/gone.json" kinds | sort -u)" "snapshot" \
  "unreachable destination: snapshots only, no sends, saves or tip changes"
expect_eq "$(q "$WORK/gone.json" field snapshot argv)" "$(q "$LIVE" field snapshot argv)" \
  "unreachable destination: the same snapshots are still taken"

# ------------------------------------------------------------ run the snapshots, plan again
run_plan_argvs "$LIVE" snapshot "$WORK/snapshot"
expect_eq "$(zfs list -H -t snapshot -o name | our_rows | grep -F '@zrecon-' | LC_ALL=C sort)" \
  "$(q "$LIVE" field snapshot snapshots | sorted)" \
  "zfs list -t snapshot shows exactly the managed snapshots the plan listed"
AFTER=$WORK/after.json
run "$ZRECON" plan -f "$POLICY" --now "$NOW" --json
cp "$OUT_FILE" "$AFTER"
expect_rc 0
expect_eq "$(q "$AFTER" indices snapshot)" "" "plan after the snapshots ran: no snapshot is due any more"
expect_eq "$(q "$AFTER" field send argv)" "$(q "$LIVE" field send argv)" \
  "plan after the snapshots ran: the same sends are still due"
expect_eq "$(q "$AFTER" mentions @first_snap)$(q "$AFTER" mentions @vmsnap-x)" "" \
  "plan after the snapshots ran: foreign snapshots untouched"
expect_eq "$([[ $(q "$AFTER" get fingerprint) != "$(q "$LIVE" get fingerprint)" ]] && echo changed)" \
  changed "the fingerprint changes with the new snapshots"
run "$ZRECON" plan -f "$POLICY" --now "$NOW" --detailed-exitcode
expect_rc 2
run "$ZRECON" plan -f "$WORK/gone.yaml" --now "$NOW" --detailed-exitcode
expect_rc 0
expect_contains "$OUT" "No changes." "snapshots taken, destination unplugged: nothing to do (exit 0)"

# The send argv the plan shows are accepted by zfs-fuse (zfs send is read-only).
run_plan_argvs "$AFTER" save_image "$WORK/image"
run_plan_argvs "$AFTER" send "$WORK/send"
for stream in "$WORK"/image.* "$WORK"/send.*; do
  expect_eq "$([[ -s $stream ]] && echo non-empty)" non-empty "stream $(basename "$stream") written"
done

# ------------------------------------------------------------ teardown
fixture_down

finish
