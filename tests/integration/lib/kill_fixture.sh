# shellcheck shell=bash
# Killing `zrecon apply` with SIGKILL, and the checks that follow, for
# kill_test.sh. Source it after assert.sh and apply_fixture.sh; call
# kill_preflight after fixture_preflight, kill_fixture_up after fixture_up,
# and use kill_cleanup as the EXIT trap.
#
#   kill_preflight        skips (77) without setsid; picks the host lock
#                         (ZRECON_LOCK; LOCKING=1 when apply has --lock-file)
#   kill_fixture_up       adds 24 MiB (web01) and 48 MiB (web02's delegated
#                         dataset) of random data; RUNS: where runs are kept
#   now_ms                milliseconds of a monotonic-enough wall clock
#   rand LO HI            sets R to a random integer in LO..HI from $RANDOM
#                         (seed it with RANDOM=N; no subshell, so a seed
#                         gives the same sequence)
#   change_bulk_data      overwrites a random 1..8 MiB of each bulk file
#   kill_round N T DELAY  saves the plan at T as RUNS/N.plan.json, starts
#                         `KILL_PREFIX... zrecon apply --now T --json
#                         KILL_ARGS...` (progress in RUNS/N.jsonl) in a
#                         session of its own, SIGKILLs it after DELAY ms
#                         (DELAY "-": the prefix or a --zfs wrapper in the
#                         arguments kills it), waits for children it left
#                         and sets RC_KILLED (its exit code), KILLED_PID,
#                         KILLED_DIRECT (1: no prefix, KILLED_PID is the
#                         apply's), KILLED_PLAN, PHASE and DETAIL (lib/kill_query.py
#                         point), LOCK_AFTER (the lock file's content);
#                         counts for the summary
#   expect_sound_after_kill WHAT        the invariants a kill must keep
#   expect_rerun_applied WHAT           the last run (an apply after a
#                         kill_round) succeeded; it took the lock over with
#                         a note naming the killed run iff that run was
#                         left recorded in the lock file
#   expect_sound_after_rerun WHAT T     converged, verified, tips protected
#   print_kill_summary    the table of kill points; sets KILLED
# shellcheck disable=SC2034  # variables used by the scripts that source this

KILL_PHASES=(planning cleanup snapshot export tips destroy removal finished)
declare -A KILL_COUNT=() KILL_KINDS=()
KILLED=0
ORPHANED=0
APPLY_PID=""
KILL_PREFIX=()
KILL_ARGS=()

kill_preflight() {
  command -v setsid >/dev/null || skip "setsid (util-linux) is not installed"
  export ZRECON_LOCK=${ZRECON_LOCK:-/var/run/zrecon-test-$POOL.lock}
  LOCKING=0
  "$ZRECON" apply --help 2>/dev/null | grep -q -- --lock-file && LOCKING=1
}

# A failed check may leave a run (or what it started) going: end that
# session, by the id of the run this script started, before tearing down.
kill_cleanup() {
  if [[ -n $APPLY_PID ]]; then
    kill -9 "$APPLY_PID" 2>/dev/null
    local pid
    for pid in $(pgrep -s "$APPLY_PID"); do kill -9 "$pid" 2>/dev/null; done
  fi
  fixture_cleanup
}

kill_fixture_up() {
  RUNS=$WORK/runs
  mkdir -p "$RUNS"
  BULK_A=$(mountpoint_of "$ROOT_A")/root/bulk
  BULK_B=$(mountpoint_of "$DATA_B")/bulk
  must dd if=/dev/urandom of="$BULK_A" bs=1M count=24 status=none
  must dd if=/dev/urandom of="$BULK_B" bs=1M count=48 status=none
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

rand() { R=$(($1 + ((RANDOM << 15 | RANDOM) % ($2 - $1 + 1)))); }

# Overwrites in place, so the pool does not grow with the rounds: each
# incremental stream carries the changed blocks.
change_bulk_data() {
  local file mib
  for file in "$BULK_A" "$BULK_B"; do
    mib=$(($(stat -c %s "$file") / 1048576))
    rand 1 8
    local count=$R
    rand 0 $((mib - count))
    dd if=/dev/urandom of="$file" bs=1M count="$count" seek="$R" conv=notrunc status=none ||
      return 1
  done
}

_sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# setsid runs the apply as the leader of a new session (no fork: a
# background job of a script is not a process group leader), so the session
# id is its pid and outlives it: the zfs or vmadm child a SIGKILL leaves
# running is found by it, and waited for, so that checks and the next run do
# not race with it.
kill_round() {
  local n=$1 now=$2 delay=$3 waited=0 orphans
  run "$ZRECON" plan -f "$POLICY" --now "$now" --json "${KILL_ARGS[@]}"
  expect_rc 0
  cp "$OUT_FILE" "$RUNS/$n.plan.json"
  setsid "${KILL_PREFIX[@]}" "$ZRECON" apply -f "$POLICY" --now "$now" --json "${KILL_ARGS[@]}" \
    >"$RUNS/$n.jsonl" 2>"$RUNS/$n.err" &
  APPLY_PID=$!
  if [[ $delay != - ]]; then
    _sleep_ms "$delay"
    kill -9 "$APPLY_PID" 2>/dev/null
  fi
  # (bash reports a job killed by a signal on wait's stderr)
  wait "$APPLY_PID" 2>/dev/null
  RC_KILLED=$?
  # Zombies (stat Z) have ended; only their reaping is pending.
  orphans=$(ps -o stat=,args= -s "$APPLY_PID" 2>/dev/null |
    awk '$1 !~ /^Z/ { $1 = ""; print substr($0, 2) }')
  if [[ -n $orphans ]]; then
    ORPHANED=$((ORPHANED + 1))
    echo "kill_test: round $n: left running by the killed apply: ${orphans//$'\n'/; }"
  fi
  while pgrep -s "$APPLY_PID" >/dev/null && ((waited < 600)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  expect_eq "$(pgrep -s "$APPLY_PID")" "" "round $n: children of the killed apply ended within 60 s"
  LOCK_AFTER=$(cat "$ZRECON_LOCK" 2>/dev/null)
  KILLED_PID=$APPLY_PID
  KILLED_DIRECT=$((${#KILL_PREFIX[@]} == 0))
  KILLED_PLAN=$RUNS/$n.plan.json
  APPLY_PID=""
  _record_kill_point "$n" "$now" "$delay"
}

_record_kill_point() {
  local n=$1 now=$2 delay=$3 point
  if ((RC_KILLED != 0 && RC_KILLED != 137)); then
    expect_eq "$RC_KILLED" 137 "round $n: the apply ended by SIGKILL or succeeded (stderr: $(<"$RUNS/$n.err"))"
  fi
  if ! point=$(/usr/bin/python3 "$SRC/tests/integration/lib/kill_query.py" point \
    "$RUNS/$n.plan.json" "$RUNS/$n.jsonl" "$RC_KILLED" 2>&1); then
    expect_eq "$point" "" "round $n: the progress lines agree with the saved plan"
    PHASE=unknown DETAIL=$point
  else
    IFS=$'\t' read -r PHASE DETAIL <<<"$point"
  fi
  KILL_COUNT[$PHASE]=$((${KILL_COUNT[$PHASE]:-0} + 1))
  if [[ $PHASE == export ]]; then
    local kind=${DETAIL%% *}
    KILL_KINDS[$kind]=$((${KILL_KINDS[$kind]:-0} + 1))
  fi
  [[ $PHASE == finished ]] || KILLED=$((KILLED + 1))
  local how="SIGKILL after $delay ms"
  [[ $delay == - ]] && how="SIGKILL from within"
  printf 'kill_test: round %s: --now %s, %s: %s (%s)\n' "$n" "$now" "$how" "$PHASE" "$DETAIL"
}

kq() { /usr/bin/python3 "$SRC/tests/integration/lib/kill_query.py" "$@"; }

# zrecon verify's problems (named files missing or damaged, bad manifests);
# unknown and .tmp files are reported by it but are not problems.
_verify_problems() {
  "$ZRECON" verify --from "$USB" --json >"$WORK/verify.json" 2>"$WORK/verify.err"
  local rc=$?
  if ((rc != 0 && rc != 1)) || [[ ! -s $WORK/verify.json ]]; then
    echo "zrecon verify exited $rc: $(<"$WORK/verify.err")"
    return
  fi
  kq problems "$WORK/verify.json"
}

expect_sound_after_kill() {
  local what=$1 zone chain ds snap guid removed
  expect_eq "$(_verify_problems)" "" \
    "$what: zrecon verify: every file a manifest names is complete (size, sha256)"
  expect_eq "$(catalog verify | grep -v 'unfinished temporary file left behind$')" "" \
    "$what: catalog_query: every file a manifest names is complete"
  removed=$(kq removed "$KILLED_PLAN")
  while IFS=$'\t' read -r zone chain ds snap guid; do
    [[ -z $zone ]] && continue
    grep -qxF "$zone	$chain" <<<"$removed" && continue
    expect_eq "$(zfs get -H -p -o value guid "$snap" 2>&1)" "$guid" \
      "$what: tip $snap of chain $chain is on the host with the guid the manifest records"
  done < <(kq tips "$HOSTDIR")
  expect_foreign "$what"
}

expect_rerun_applied() {
  local what=$1
  expect_rc 0
  expect_eq "$(grep -E '^ *failed:' <<<"$OUT")" "" "$what: no action failed"
  expect_match "$OUT" $'(^|\n)(Apply complete: |No changes\\.)' \
    "$what: apply completes (or finds the killed run finished everything)"
  ((LOCKING)) || return 0
  # The rerun before the kill emptied the lock file: a pid in it now is the
  # killed run's (strace's child when strace is the prefix).
  local holder
  holder=$(sed -n 's/^pid //p' <<<"$LOCK_AFTER")
  if [[ -n $holder ]]; then
    ((KILLED_DIRECT)) &&
      expect_eq "$holder" "$KILLED_PID" "$what: the lock file names the killed run"
    expect_contains "$ERR" "took over lock file $ZRECON_LOCK from zrecon (pid $holder," \
      "$what: the lock the killed run held is taken over with a note"
  else
    expect_eq "$(grep -F 'took over' <<<"$ERR")" "" \
      "$what: no takeover note when the killed run left no record in the lock ('$LOCK_AFTER')"
  fi
  expect_eq "$(cat "$ZRECON_LOCK" 2>/dev/null)" "" "$what: the lock file is released (empty)"
}

expect_sound_after_rerun() {
  local what=$1 now=$2 tips
  expect_eq "$(find "$USB" -name '.tmp*')" "" "$what: no temporary file on the destination"
  run "$ZRECON" verify --from "$USB"
  expect_rc 0
  expect_catalog_sound "$what"
  expect_converged "$what" "$now"
  mapfile -t tips < <(kq tips "$HOSTDIR" | cut -f4)
  expect_tips "$what" "${tips[@]}"
  expect_foreign "$what"
}

print_kill_summary() {
  local phase total=0 kinds="" kind
  for kind in "${!KILL_KINDS[@]}"; do kinds+="${kinds:+, }$kind ${KILL_KINDS[$kind]}"; done
  echo
  echo "kill points (seed $SEED):"
  printf '  %-10s %5s\n' phase runs
  for phase in "${KILL_PHASES[@]}" unknown; do
    [[ $phase == unknown && -z ${KILL_COUNT[unknown]:-} ]] && continue
    total=$((total + ${KILL_COUNT[$phase]:-0}))
    case $phase in
      export) printf '  %-10s %5d%s\n' export "${KILL_COUNT[export]:-0}" "${kinds:+  ($kinds)}" ;;
      finished) printf '  %-10s %5d  (finished before the kill)\n' finished \
        "${KILL_COUNT[finished]:-0}" ;;
      *) printf '  %-10s %5d\n' "$phase" "${KILL_COUNT[$phase]:-0}" ;;
    esac
  done
  printf '  %-10s %5d  (%d killed; %d left a zfs or vmadm child running)\n' total "$total" \
    "$KILLED" "$ORPHANED"
}
