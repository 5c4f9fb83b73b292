#!/usr/bin/env bash
# `zrecon apply` when a zfs command fails midway, on a real zfs-fuse sandbox
# host: a `zfs` wrapper (lib/zfs_fault.sh) fails the Nth call of one
# subcommand. Once during the destroy phase and once during the send phase (a
# truncated `zfs send`): apply exits 1 naming the failed command, reports
# what was done, what failed and what was skipped (counted from the plan:
# the failed zone's later actions), runs the other zone's actions to the
# end, leaves no catalog entry pointing at a missing or partial file and no
# .tmp file, prunes nothing of the zone whose export failed; a rerun with
# the real zfs finishes the work and a following plan has no changes.
# Skips (77) without root or zfs-fuse.
#
# Uses its own pool (applytest2) and directory, never a `zones` sandbox; a
# zfs-fuse daemon that is already running is used as is.
# shellcheck disable=SC2317  # functions called through run() and the EXIT trap
set -uo pipefail

SRC=${ZRECON_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/integration/lib/assert.sh
. "$SRC/tests/integration/lib/assert.sh"
# shellcheck source=tests/integration/lib/apply_fixture.sh
. "$SRC/tests/integration/lib/apply_fixture.sh"

POOL=applytest2
DIR=/var/tmp/zrecon-applytest2
fixture_preflight
trap fixture_cleanup EXIT
fixture_up

q() { /usr/bin/python3 "$SRC/tests/integration/lib/plan_query.py" "$@"; }

FAULTY=$WORK/bin/zfs
mkdir -p "$WORK/bin"
install -m 755 "$SRC/tests/integration/lib/zfs_fault.sh" "$FAULTY"

# with_fault SUBCOMMAND N CMD...: runs CMD (through run) with the wrapper
# failing the Nth call of `zfs SUBCOMMAND`; SUBCOMMAND "" fails nothing.
with_fault() {
  local sub=$1 nth=$2
  shift 2
  rm -f "$WORK/fault.count"
  run env ZFS_FAULT_REAL="$REAL_ZFS" ZFS_FAULT_SUBCOMMAND="$sub" ZFS_FAULT_NTH="$nth" \
    ZFS_FAULT_COUNTER="$WORK/fault.count" ZFS_FAULT_PARTIAL_BYTES=65536 "$@"
}

# expect_failed_apply WHAT PLAN KIND N NEEDLE FAILED_ALIAS OTHER_ALIAS: the
# last run is an apply of PLAN (JSON, same time and binaries) that failed at
# its Nth action of KIND: exit 1, the failure named with NEEDLE (the start of
# the command; the report cuts long commands) and the injected error; the
# failed zone's later actions are skipped, every other action is done (as
# counted from the plan); the report names the zone that failed and the one
# that is done.
expect_failed_apply() {
  local what=$1 plan=$2 kind=$3 nth=$4 needle=$5 failed_alias=$6 other_alias=$7
  local index total zone skipped
  index=$(q "$plan" indices "$kind" | sed -n "${nth}p")
  total=$(q "$plan" kinds | wc -l)
  expect_rc 1
  expect_match "$index" '^[0-9]+$' "$what: the plan has a $kind action number $nth to fail"
  zone=$(q "$plan" field "$kind" zone | sed -n "${nth}p")
  skipped=$(q "$plan" zone-after "$index")
  expect_contains "$OUT" "Apply FAILED: $((total - 1 - skipped)) done, 1 failed, $skipped skipped (they depend on a failure), 0 not attempted." \
    "$what: done / failed / skipped, as counted from the plan"
  expect_contains "$(grep -F "failed: [$((index + 1))] $kind (zone $zone): " <<<"$OUT")" "$needle" \
    "$what: the failed action is named with its command"
  expect_contains "$OUT" "zfs_fault: injected failure of zfs $kind call $nth" \
    "$what: zfs's error message is shown"
  expect_contains "$OUT" "zones that failed: $failed_alias" "$what: the zone that failed is named"
  expect_contains "$OUT" "zones done: $other_alias" "$what: the other zone is done"
}

# plan_through_wrapper NOW OUT: saves the plan apply will run at NOW through
# the wrapper (whose path is in every argv) as OUT.
plan_through_wrapper() {
  with_fault "" 0 "$ZRECON" plan -f "$POLICY" --now "$1" --zfs "$FAULTY" --json
  expect_rc 0
  cp "$OUT_FILE" "$2"
}

# ============================================================ up to T0+1d
# The timeline of apply_test.sh, which checks these steps in detail.
GENERATION=0
METRICS=$WORK/zrecon.prom
# metric NAME_AND_LABELS: its value in the metrics file ("" when absent).
metric() { awk -v m="$1" '$1 == m { print $2 }' "$METRICS"; }
for now in "$T0" "$T1H" "$T1D"; do
  GENERATION=$((GENERATION + 1))
  must write_generation "$GENERATION"
  run "$ZRECON" apply -f "$POLICY" --now "$now" --metrics-file "$METRICS" \
    --run-log "$WORK/runs.jsonl"
  expect_applied "apply at $now"
done
expect_eq "$(metric zrecon_last_run_success) $(metric zrecon_runs_total) $(metric zrecon_failed_runs_total)" \
  "1 3 0" "metrics after three applies: the last succeeded, 3 runs, none failed"
LAST_SUCCESS=$(metric zrecon_last_success_timestamp_seconds)
expect_match "$LAST_SUCCESS" '^[0-9]{10}' "metrics: the last success has a timestamp"
expect_match "$(metric zrecon_exported_bytes_total)" '^[1-9][0-9]*$' "metrics: bytes exported"
expect_eq "$(metric "zrecon_zone_health{zone=\"$A\",alias=\"web01\"}")" 0 \
  "metrics: web01's protection is OK right after its export"
expect_state "T0+1d" "$T1D" "zrecon-daily-$S1D" \
  "zrecon-hourly-$S0" "zrecon-hourly-$S1H" "zrecon-hourly-$S1D" \
  "zrecon-daily-$S0" "zrecon-daily-$S1D" "zrecon-weekly-$S0"

# ============================================================ T0+8d: the 2nd zfs destroy fails
# The plan: hourly, daily and weekly snapshots; per zone config, sends (new
# chains: full_every 7d) and tip protection; 9 destroys, one per snapshot
# (zfs-fuse has no comma lists): the oldest hourly, daily and weekly of each
# dataset, web01's first; the removal of the old chains. web01's first
# destroy is done, its second fails: its third and its chain removal are
# skipped, while web02's destroys and chain removals all run.
must write_generation 4
plan_through_wrapper "$T8D" "$WORK/t8d.json"
mapfile -t DESTROYS < <(q "$WORK/t8d.json" field destroy snapshots)
mapfile -t DESTROY_ZONES < <(q "$WORK/t8d.json" field destroy zone)
WILL_DESTROY=()
for ds in "$ROOT_A" "$ROOT_B" "$DATA_B"; do
  WILL_DESTROY+=("$ds@zrecon-hourly-$S0" "$ds@zrecon-daily-$S0" "$ds@zrecon-weekly-$S0")
done
expect_eq "$(_sorted_lines "${DESTROYS[@]}")" "$(_sorted_lines "${WILL_DESTROY[@]}")" \
  "T0+8d plan: one destroy per snapshot retention drops"
expect_eq "${DESTROY_ZONES[0]} ${DESTROY_ZONES[1]}" "$A $A" "T0+8d plan: the first two destroys are web01's"
with_fault destroy 2 "$ZRECON" apply -f "$POLICY" --now "$T8D" --zfs "$FAULTY"
expect_failed_apply "destroy fault" "$WORK/t8d.json" destroy 2 "zfs destroy ${DESTROYS[1]}" \
  web01 web02
# Gone: web01's first destroy and every one of web02.
DESTROYED=("${DESTROYS[0]}")
for i in "${!DESTROYS[@]}"; do
  [[ ${DESTROY_ZONES[$i]} == "$B" ]] && DESTROYED+=("${DESTROYS[$i]}")
done
EXPECTED=()
for ds in "$ROOT_A" "$ROOT_B" "$DATA_B"; do
  for name in "hourly-$S0" "hourly-$S1H" "hourly-$S1D" "hourly-$S8D" "daily-$S0" "daily-$S1D" \
    "daily-$S8D" "weekly-$S0" "weekly-$S8D"; do
    [[ " ${DESTROYED[*]} " == *" $ds@zrecon-$name "* ]] || EXPECTED+=("$ds@zrecon-$name")
  done
done
expect_eq "${#DESTROYED[@]}" 7 "destroy fault: web01's first destroy and web02's six ran"
expect_snapshots "destroy fault (web01's 2nd and 3rd destroys did not run)" "${EXPECTED[@]}"
expect_tips "destroy fault" "$ROOT_A@zrecon-daily-$S8D" \
  "$ROOT_B@zrecon-daily-$S8D" "$DATA_B@zrecon-daily-$S8D"
expect_foreign "destroy fault"
expect_catalog_sound "destroy fault"
expect_eq "$(catalog chains "$A" | cut -f1,5)" "$(lines "root/$S0	2" "root/$S8D	1")" \
  "destroy fault: web01's new chain recorded, its old one still there (removal skipped)"
expect_eq "$(catalog chains "$B" | cut -f1,5)" "$(lines "root/$S8D	1" "root+data/$S8D	1")" \
  "destroy fault: web02's old chains are removed"

run "$ZRECON" apply -f "$POLICY" --now "$T8D"
expect_applied "destroy fault, rerun with the real zfs"
expect_state "destroy fault, rerun" "$T8D" "zrecon-daily-$S8D" \
  "zrecon-hourly-$S1H" "zrecon-hourly-$S1D" "zrecon-hourly-$S8D" \
  "zrecon-daily-$S1D" "zrecon-daily-$S8D" "zrecon-weekly-$S8D"
expect_eq "$(catalog chains "$A" | cut -f1,5)" "root/$S8D	1" \
  "destroy fault, rerun: web01's old chain is removed"

# ============================================================ T0+9d: the 2nd zfs send fails
# hourly and daily due; sends: web01's root, web02's root (fails after 64 KiB
# of stream), web02's data; then destroys of the hourly of T0+1h and the
# daily of T0+1d. web01 is exported, its tip moved and its old snapshots
# destroyed; web02 is not exported, and nothing of it is destroyed.
must write_generation 5
plan_through_wrapper "$T9D" "$WORK/t9d.json"
expect_eq "$(q "$WORK/t9d.json" field send snapshot | sed -n 2p)" "$ROOT_B@zrecon-daily-$S9D" \
  "T0+9d plan: the 2nd send is web02's root"
with_fault send 2 "$ZRECON" apply -f "$POLICY" --now "$T9D" --zfs "$FAULTY" \
  --metrics-file "$METRICS" --run-log "$WORK/runs.jsonl"
expect_failed_apply "send fault" "$WORK/t9d.json" send 2 "zfs send -i $ROOT_B@zrecon-daily-$S8D" \
  web02 web01
expect_eq "$(metric zrecon_last_run_success) $(metric zrecon_failed_runs_total)" "0 1" \
  "send fault: the metrics say the run failed"
expect_eq "$(metric zrecon_last_success_timestamp_seconds)" "$LAST_SUCCESS" \
  "send fault: the last success is kept from the run that had it"
expect_eq "$(metric "zrecon_last_run_zone_success{zone=\"$A\",alias=\"web01\"}") $(metric "zrecon_last_run_zone_success{zone=\"$B\",alias=\"web02\"}")" \
  "1 0" "send fault: per zone, web01 done and web02 not"
expect_eq "$(/usr/bin/python3 -c '
import json, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
last = runs[-1]
print(len(runs), [r["outcome"] for r in runs], last["actions"]["failed"],
      sorted((z["alias"], z["outcome"]) for z in last["zones"]),
      "zfs_fault: injected failure" in last["zones"][[z["alias"] for z in last["zones"]].index("web02")]["errors"][0])
' "$WORK/runs.jsonl")" \
  "4 ['ok', 'ok', 'ok', 'failed'] 1 [('web01', 'done'), ('web02', 'failed')] True" \
  "send fault: the run log has one line per run, the last naming web02's failure"
EXPECTED=()
for name in "hourly-$S1D" "hourly-$S8D" "hourly-$S9D" "daily-$S8D" "daily-$S9D" "weekly-$S8D"; do
  EXPECTED+=("$ROOT_A@zrecon-$name")
done
for ds in "$ROOT_B" "$DATA_B"; do
  for name in "hourly-$S1H" "hourly-$S1D" "hourly-$S8D" "hourly-$S9D" "daily-$S1D" \
    "daily-$S8D" "daily-$S9D" "weekly-$S8D"; do
    EXPECTED+=("$ds@zrecon-$name")
  done
done
expect_snapshots "send fault (web01 pruned, web02 not)" "${EXPECTED[@]}"
expect_tips "send fault" "$ROOT_A@zrecon-daily-$S9D" \
  "$ROOT_B@zrecon-daily-$S8D" "$DATA_B@zrecon-daily-$S8D"
expect_foreign "send fault"
expect_catalog_sound "send fault"
expect_eq "$(catalog chains "$A" | cut -f1,5)" "root/$S8D	2" "send fault: web01's link is recorded"
expect_eq "$(catalog chains "$B" | cut -f1,5)" "$(lines "root/$S8D	1" "root+data/$S8D	1")" \
  "send fault: web02's chains are as before the run"

run "$ZRECON" apply -f "$POLICY" --now "$T9D"
expect_applied "send fault, rerun with the real zfs"
expect_state "send fault, rerun" "$T9D" "zrecon-daily-$S9D" \
  "zrecon-hourly-$S1D" "zrecon-hourly-$S8D" "zrecon-hourly-$S9D" \
  "zrecon-daily-$S8D" "zrecon-daily-$S9D" "zrecon-weekly-$S8D"
expect_eq "$(catalog chains "$B" | cut -f1,5)" "$(lines "root/$S8D	2" "root+data/$S8D	2")" \
  "send fault, rerun: web02's links are recorded"

# ============================================================ snapshot hooks
# The policy's hooks around each zone's snapshot: pre_snapshot starts a
# holder (as `FLUSH TABLES WITH READ LOCK` in a session kept open would) and
# must return while it runs; post_snapshot sees the snapshot and ends it.
HOOKS_LOG=$WORK/hooks.log
write_script_file() { printf '%s\n' "#!/bin/sh" "$2" >"$1" && chmod 755 "$1"; }
write_script_file "$WORK/pre-hook" '
echo "pre $ZRECON_ZONE $ZRECON_SNAPSHOT_NAME" >>"$HOOKS_LOG"
sleep 300 </dev/null >/dev/null 2>&1 &
echo $! >"$HOOKS_LOG.holder.$ZRECON_ZONE"
exit "${PRE_EXIT:-0}"'
write_script_file "$WORK/post-hook" '
first=${ZRECON_SNAPSHOT_NAME%% *}
if zfs list -H -o name "$HOOK_POOL/$ZRECON_ZONE@$first" >/dev/null 2>&1; then seen=seen; else seen=missing; fi
if kill "$(cat "$HOOKS_LOG.holder.$ZRECON_ZONE")" 2>/dev/null; then held=held; else held=gone; fi
echo "post $ZRECON_ZONE $seen $held" >>"$HOOKS_LOG"'
sed "s|^    datasets: \[zoneroot\]|&\n    hooks: {pre_snapshot: [$WORK/pre-hook], post_snapshot: [$WORK/post-hook], timeout_seconds: 20}|" \
  "$POLICY" >"$WORK/hooked.yaml"
export HOOKS_LOG HOOK_POOL=$POOL
run "$ZRECON" plan -f "$WORK/hooked.yaml" --now "$T9D1H"
expect_contains "$OUT" "! hook" "hooks: plan shows the hooks it would run"
run "$ZRECON" apply -f "$WORK/hooked.yaml" --now "$T9D1H" --dry-run
expect_rc 0
expect_eq "$(cat "$HOOKS_LOG" 2>/dev/null)" "" "hooks: --dry-run runs none"
run "$ZRECON" apply -f "$WORK/hooked.yaml" --now "$T9D1H"
expect_applied "hooks: apply with pre and post snapshot hooks"
expect_eq "$(cat "$HOOKS_LOG")" "$(lines "pre $A zrecon-hourly-$S9D1H" "post $A seen held" \
  "pre $B zrecon-hourly-$S9D1H" "post $B seen held")" \
  "hooks: per zone, pre then the snapshot then post, the holder alive until post ended it"
: >"$HOOKS_LOG"
T9D2H=2026-12-05T12:00:00Z
PRE_EXIT=1 run "$ZRECON" apply -f "$WORK/hooked.yaml" --now "$T9D2H"
expect_rc 1
expect_eq "$(cat "$HOOKS_LOG")" "$(lines "pre $A zrecon-hourly-20261205T120000Z" "post $A missing held" \
  "pre $B zrecon-hourly-20261205T120000Z" "post $B missing held")" \
  "hooks: a failed pre hook skips the snapshot, the post hook still runs and ends the holder"
expect_contains "$OUT" "pre_snapshot hook: " "hooks: the report names the failed hook"
expect_eq "$(zfs list -H -t snapshot -o name -r "$POOL" | grep -c "@zrecon-hourly-20261205T120000Z")" 0 \
  "hooks: no snapshot was taken after the failed pre hooks"

fixture_down
finish
