#!/usr/bin/env bash
# `zrecon apply` killed with SIGKILL at random moments, on a real zfs-fuse
# sandbox host with the vmadm simulator: web01 (joyent) and web02 (lx with a
# delegated dataset) hold 24 and 48 MiB of random data, a policy keeps 3
# hourly, 2 daily and 1 weekly and exports the dailies to a directory
# (full_every 7d, keep_chains 1).
#
# The duration of a normal apply is measured first (T0 and T0+1d, not
# killed). Then each round advances --now by a random 1h..3d (so rounds
# snapshot, send, start chains, move tips and prune), changes part of the
# data, saves the plan, starts `zrecon apply --now T --json` in a session of
# its own and sends it SIGKILL after a random delay uniform over that
# duration. Right after the kill (and after any zfs or vmadm child it left
# behind has ended):
#   - no manifest names a file that is missing or differs in size or sha256
#     (`zrecon verify --json` has no problem; lib/catalog_query.py agrees);
#     unknown and .tmp files are allowed, as a crash may leave them;
#   - every chain tip a manifest records is on the host with its guid, unless
#     the killed run's plan removes that chain;
#   - foreign snapshots are untouched.
# Then `zrecon apply --now T` runs again, not killed: it succeeds, taking
# over the lock the killed run left with a note naming its pid, and after it
# there is no .tmp file, `zrecon verify` passes, no file is outside the
# manifests, `zrecon plan --detailed-exitcode` has no changes, exactly the
# catalog's chain tips carry zrecon:exported and the zrecon hold, and foreign
# snapshots are untouched.
#
# Where each run was killed comes from its --json progress lines
# (lib/kill_query.py point); the summary table counts kills per phase.
# Environment: ZRECON_KILL_TEST_KILLS (rounds, default 25),
# ZRECON_KILL_TEST_SECONDS (no new round after this many seconds of rounds,
# default 180), ZRECON_KILL_TEST_SEED (default: from the clock; printed, so a
# run can be repeated). Skips (77) without root or zfs-fuse.
#
# Uses its own pool (killtest) and directory, never a `zones` sandbox; a
# zfs-fuse daemon that is already running is used as is.
# shellcheck disable=SC2317  # functions called through run() and the EXIT trap
set -uo pipefail

SRC=${ZRECON_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/integration/lib/assert.sh
. "$SRC/tests/integration/lib/assert.sh"
# shellcheck source=tests/integration/lib/apply_fixture.sh
. "$SRC/tests/integration/lib/apply_fixture.sh"
# shellcheck source=tests/integration/lib/kill_fixture.sh
. "$SRC/tests/integration/lib/kill_fixture.sh"

POOL=killtest
DIR=/var/tmp/zrecon-killtest
ROUNDS=${ZRECON_KILL_TEST_KILLS:-25}
BUDGET=${ZRECON_KILL_TEST_SECONDS:-180}
SEED=${ZRECON_KILL_TEST_SEED:-$(($(date +%s%N) / 1000 % 32768))}
fixture_preflight
kill_preflight
trap kill_cleanup EXIT
fixture_up
kill_fixture_up
echo "kill_test: seed $SEED (ZRECON_KILL_TEST_SEED=$SEED repeats this run), up to $ROUNDS" \
  "rounds or ${BUDGET}s"
RANDOM=$SEED

# ============================================================ a normal apply, measured
must write_generation 1
START=$(now_ms)
run "$ZRECON" apply -f "$POLICY" --now "$T0"
D0=$(($(now_ms) - START))
expect_applied "T0 (measured)"
expect_sound_after_rerun "T0 (measured)" "$T0"

must write_generation 2
must change_bulk_data
START=$(now_ms)
run "$ZRECON" apply -f "$POLICY" --now "$T1D"
D1=$(($(now_ms) - START))
expect_applied "T0+1d (measured)"
expect_sound_after_rerun "T0+1d (measured)" "$T1D"
WINDOW_MS=$((D0 > D1 ? D0 : D1))
echo "kill_test: a normal apply takes ${D0} ms (T0, full streams) and ${D1} ms" \
  "(T0+1d, incremental); kills fall uniformly in 0..${WINDOW_MS} ms"

# ============================================================ rounds
NOW=$(date -u -d "$T1D" +%s)
SECONDS=0
for ((round = 1; round <= ROUNDS && SECONDS < BUDGET; round++)); do
  rand 3600 $((3 * 86400))
  NOW=$((NOW + R))
  T=$(date -u -d "@$NOW" +%Y-%m-%dT%H:%M:%SZ)
  must write_generation $((round + 2))
  must change_bulk_data
  rand 0 "$WINDOW_MS"
  kill_round "$round" "$T" "$R"
  expect_sound_after_kill "round $round ($T, $PHASE)"
  run "$ZRECON" apply -f "$POLICY" --now "$T"
  expect_rerun_applied "round $round, rerun"
  expect_sound_after_rerun "round $round, rerun" "$T"
done

print_kill_summary
expect_match "$KILLED" '^[1-9][0-9]*$' "at least one apply was killed before it finished"

# ============================================================ chosen kill points
# Random kills seldom land in the short tip, destroy and removal steps, or
# between a file's commit and its record in the manifest: these rounds kill
# there on purpose, each followed by the same checks. A `zfs` wrapper
# (lib/zfs_kill.sh) kills apply at a zfs call; strace kills it at its first
# unlink in a given destination directory.
FAULTY=$WORK/bin/zfs
mkdir -p "$WORK/bin"
install -m 755 "$SRC/tests/integration/lib/zfs_kill.sh" "$FAULTY"
export ZFS_KILL_REAL=$REAL_ZFS ZFS_KILL_COUNTER=$WORK/zfs_kill.count

# next_day: --now moves on by a day, with new data.
next_day() {
  NOW=$((NOW + 86400))
  T=$(date -u -d "@$NOW" +%Y-%m-%dT%H:%M:%SZ)
  must write_generation "$1"
  must change_bulk_data
}

# chosen_round NAME PHASE: the kill_round (delay "-") of KILL_PREFIX and
# KILL_ARGS at T ended in PHASE; then the checks, the rerun at T and its
# checks.
chosen_round() {
  local name=$1 phase=$2
  kill_round "$name" "$T" -
  expect_eq "$RC_KILLED" 137 "$name: the apply was killed (stderr: $(<"$RUNS/$name.err"))"
  expect_eq "$PHASE" "$phase" "$name: killed in the $phase phase ($DETAIL)"
  KILL_PREFIX=() KILL_ARGS=()
  expect_sound_after_kill "$name"
  run "$ZRECON" apply -f "$POLICY" --now "$T"
  expect_rerun_applied "$name, rerun"
  expect_sound_after_rerun "$name, rerun" "$T"
}

# zfs_kill_round NAME SUBCOMMAND WHEN PHASE
zfs_kill_round() {
  rm -f "$ZFS_KILL_COUNTER"
  KILL_PREFIX=(env ZFS_KILL_SUBCOMMAND="$2" ZFS_KILL_NTH=1 ZFS_KILL_WHEN="$3")
  KILL_ARGS=(--zfs "$FAULTY")
  chosen_round "$1" "$4"
}

# strace_prefix DIR: KILL_PREFIX that SIGKILLs apply at its first unlink
# (unlinkat) of a file in DIR.
strace_prefix() {
  KILL_PREFIX=(strace -o /dev/null -e signal=none -P "$1" -e "trace=unlink,unlinkat"
    -e "inject=unlink,unlinkat:signal=KILL:when=1")
}

# leftovers_by_hand WHAT: what an operator would remove by hand after the
# bug these rounds show, so that later rounds are checked on their own.
leftovers_by_hand() {
  local f
  while IFS= read -r f; do
    [[ -n $f ]] && rm -f "$HOSTDIR/$f" && echo "kill_test: $1: removed by hand: $f"
  done < <(catalog unlisted)
}

GEN=1000
next_day $((GEN += 1))
zfs_kill_round chosen-hold hold after tips
next_day $((GEN += 1))
zfs_kill_round chosen-release release after tips
next_day $((GEN += 1))
zfs_kill_round chosen-destroy destroy during destroy

# A kill after a zone failed (issue 11): the day's first `zfs send` fails
# after 64 KiB (lib/zfs_fault.sh, under the kill wrapper), so that zone's
# later actions are skipped while the other zone goes on; the run is killed
# after the other zone's first hold. The same checks hold: the failed zone's
# chain tips stay on the host (nothing of its chains was pruned), nothing
# half-written is named, and the rerun without faults converges.
FAULT=$WORK/bin/zfs_fault
install -m 755 "$SRC/tests/integration/lib/zfs_fault.sh" "$FAULT"
next_day $((GEN += 1))
run "$ZRECON" plan -f "$POLICY" --now "$T" --json
expect_rc 0
printf '%s\n' "$OUT" >"$RUNS/chosen-failed-zone.sends.json"
FAILING=$(kq sends "$RUNS/chosen-failed-zone.sends.json" | awk -F'\t' 'NR == 1 { print $1 }')
expect_match "$FAILING" '^[0-9a-f-]+$' "chosen-failed-zone: the plan sends a stream"
rm -f "$ZFS_KILL_COUNTER" "$WORK/zfs_fault.count"
KILL_PREFIX=(env ZFS_KILL_REAL="$FAULT" ZFS_KILL_SUBCOMMAND=hold ZFS_KILL_NTH=1
  ZFS_KILL_WHEN=after ZFS_FAULT_REAL="$REAL_ZFS" ZFS_FAULT_SUBCOMMAND=send ZFS_FAULT_NTH=1
  ZFS_FAULT_PARTIAL_BYTES=65536 ZFS_FAULT_COUNTER="$WORK/zfs_fault.count")
KILL_ARGS=(--zfs "$FAULTY")
export KILL_QUERY_FAILURES=1
chosen_round chosen-failed-zone tips
unset KILL_QUERY_FAILURES
expect_match "$DETAIL" '; 1 failed, [1-9][0-9]* skipped$' \
  "chosen-failed-zone: one action failed and the failed zone's later ones were skipped"
expect_contains "$(<"$RUNS/chosen-failed-zone.jsonl")" "zfs_fault: injected failure of zfs send call 1" \
  "chosen-failed-zone: the first send failed before the kill (its finish event says why)"
expect_eq "$(/usr/bin/python3 -c 'import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "skip" and e.get("zone") == sys.argv[2]:
        print("skipped"); break' "$RUNS/chosen-failed-zone.jsonl" "$FAILING")" skipped \
  "chosen-failed-zone: the failed zone's later actions were skipped before the kill"

# expect_plan_removes_loose WHAT PREFIX: the manifests list loose files, one
# of them starting with PREFIX ("zone<TAB>dir/"), and `zrecon plan --now $T`
# shows exactly those as remove_loose actions, before any other action.
expect_plan_removes_loose() {
  local what=$1 prefix=$2 listed
  listed=$(catalog loose)
  expect_contains "$listed" "$prefix" "$what: the killed run left a file listed as loose"
  run "$ZRECON" plan -f "$POLICY" --now "$T" --json
  expect_rc 0
  printf '%s\n' "$OUT" >"$RUNS/$what.next-plan.json"
  expect_eq "$(kq loose "$RUNS/$what.next-plan.json")" "$listed" \
    "$what: the next plan removes exactly the files listed as loose"
  expect_eq "$(/usr/bin/python3 -c 'import json, sys
kinds = [a["kind"] for a in json.load(open(sys.argv[1]))["actions"]]
n = kinds.count("remove_loose")
print("first" if n and kinds[:n] == ["remove_loose"] * n else kinds)' "$RUNS/$what.next-plan.json")" \
    first "$what: the remove_loose actions come first"
}

if strace -o /dev/null true 2>/dev/null; then
  # Killed after a stream is linked into place, before the manifest records
  # it. A rerun at the same --now writes the same file name and replaces
  # it; the next scheduled run (a day later) continues the chain with the
  # next snapshot, so nothing replaces it: the next apply must clean it up.
  # The chain is the one web01's first send of the day writes to: the
  # random rounds may have left its chain due for a new full stream, and
  # then the first unlink in the old chain's directory is its removal.
  next_day $((GEN += 1))
  run "$ZRECON" plan -f "$POLICY" --now "$T" --json
  expect_rc 0
  printf '%s\n' "$OUT" >"$RUNS/chosen-commit.sends.json"
  CHAIN_A=$(kq sends "$RUNS/chosen-commit.sends.json" | awk -F'\t' -v z="$A" '$1 == z { print $2; exit }')
  expect_match "$CHAIN_A" '^[^[:space:]]+$' "chosen-commit: the plan sends a stream of web01 ($(kq sends "$RUNS/chosen-commit.sends.json"))"
  echo "kill_test: chosen-commit: web01's first send goes to chain $CHAIN_A" \
    "($(kq sends "$RUNS/chosen-commit.sends.json" | awk -F'\t' -v z="$A" '$1 == z { print $3; exit }'))"
  strace_prefix "$HOSTDIR/$A/$CHAIN_A"
  kill_round chosen-commit "$T" -
  expect_eq "$PHASE" export "chosen-commit: killed in the export phase ($DETAIL)"
  KILL_PREFIX=()
  expect_sound_after_kill "chosen-commit"
  next_day $((GEN += 1))
  expect_plan_removes_loose "chosen-commit, next day" "$A	$A/$CHAIN_A/"
  run "$ZRECON" apply -f "$POLICY" --now "$T"
  expect_rerun_applied "chosen-commit, next day"
  expect_eq "$(catalog unlisted)" "" "chosen-commit, next day: the stream the killed run \
linked into $A/$CHAIN_A but did not record is removed (else it stays an unknown file forever, \
zrecon verify fails, and README's by-hand restore loop receives it)"
  expect_sound_after_rerun "chosen-commit, next day" "$T"
  leftovers_by_hand chosen-commit

  # Killed in a chain removal, after the manifest dropped the chain, before
  # its files are deleted (full_every 7d: 8 days on, the chains start anew
  # and keep_chains 1 removes the old ones).
  next_day $((GEN += 1))
  NOW=$((NOW + 7 * 86400))
  T=$(date -u -d "@$NOW" +%Y-%m-%dT%H:%M:%SZ)
  CHAIN_B=$(kq tips "$HOSTDIR" | awk -F'\t' -v ds="$DATA_B" '$3 == ds { print $2 }')
  strace_prefix "$HOSTDIR/$B/$CHAIN_B"
  kill_round chosen-removal "$T" -
  expect_eq "$PHASE" removal "chosen-removal: killed in the removal phase ($DETAIL)"
  expect_contains "$(kq removed "$KILLED_PLAN")" "$B	$CHAIN_B" \
    "chosen-removal: the plan removes web02's data chain $CHAIN_B"
  KILL_PREFIX=()
  expect_sound_after_kill "chosen-removal"
  expect_plan_removes_loose "chosen-removal, rerun" "$B	$B/$CHAIN_B/"
  run "$ZRECON" apply -f "$POLICY" --now "$T"
  expect_rerun_applied "chosen-removal, rerun"
  expect_eq "$(catalog unlisted)" "" "chosen-removal, rerun: the files of chain $CHAIN_B, \
which the killed run dropped from the manifest but did not delete, are removed (else they \
stay unknown files forever and zrecon verify fails)"
  expect_sound_after_rerun "chosen-removal, rerun" "$T"
  leftovers_by_hand chosen-removal
else
  echo "kill_test: strace cannot trace here; the commit and removal kill points are not tested"
fi

fixture_down
finish
