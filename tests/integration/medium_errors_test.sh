#!/usr/bin/env bash
# `zrecon apply` when the export medium fails under it: an I/O error or a
# file system turned read-only, at every kind of call apply makes on the
# destination, on a real zfs-fuse sandbox host with the vmadm simulator
# (the kill_test host: web01 and web02 with 24 and 48 MiB of random data,
# dailies exported with full_every 7d, keep_chains 1).
#
# strace injects the error into apply's own thread (not its children, not
# the thread that writes zstd blocks) at the Nth call of one kind:
#   fsync     EIO    a stream, config or manifest did not reach the medium
#   rename    EIO    a manifest could not replace the old one
#   linkat    EROFS  a finished stream or config could not be put in place
#   mkdirat   EROFS  a chain or config directory could not be made
#   unlinkat  EROFS  a temporary file, an old config or chain could not go
# For each kind, N starts at 1 and grows by a random step until a run makes
# fewer than N such calls; each round is a new day (new data, incremental
# streams, a new chain and an old chain's removal every 7 days).
#
# After each faulted run:
#   - it did not crash (exit 0 or 1, no "internal error"); an fsync, rename,
#     link or mkdir error always fails it (exit 1) and the error is named
#     with its file; an unlink error may only leave garbage behind;
#   - the lock is released;
#   - no manifest names a file that is missing or differs in size or sha256
#     (zrecon verify and lib/catalog_query.py agree), every chain tip a
#     manifest records is on the host with its guid (unless the run's plan
#     removes that chain), foreign snapshots are untouched.
# Then an apply at the same --now without faults completes, and after it
# there is no .tmp file, verify passes, no file is outside the manifests,
# the plan has no changes and exactly the chain tips are marked and held.
#
# Environment: ZRECON_MEDIUM_TEST_SEED (default: from the clock; printed),
# ZRECON_MEDIUM_TEST_SECONDS (no new round after this many seconds, default
# 240). Skips (77) without root, zfs-fuse or strace.
#
# Uses its own pool (mediumtest) and directory, never a `zones` sandbox.
# shellcheck disable=SC2317  # functions called through run() and the EXIT trap
set -uo pipefail

SRC=${ZRECON_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/integration/lib/assert.sh
. "$SRC/tests/integration/lib/assert.sh"
# shellcheck source=tests/integration/lib/apply_fixture.sh
. "$SRC/tests/integration/lib/apply_fixture.sh"
# shellcheck source=tests/integration/lib/kill_fixture.sh
. "$SRC/tests/integration/lib/kill_fixture.sh"

POOL=mediumtest
DIR=/var/tmp/zrecon-mediumtest
BUDGET=${ZRECON_MEDIUM_TEST_SECONDS:-240}
SEED=${ZRECON_MEDIUM_TEST_SEED:-$(($(date +%s%N) / 1000 % 32768))}
fixture_preflight
kill_preflight
strace -o /dev/null true 2>/dev/null || skip "strace cannot trace here"
trap kill_cleanup EXIT
fixture_up
kill_fixture_up
echo "medium_errors_test: seed $SEED (ZRECON_MEDIUM_TEST_SEED=$SEED repeats this run)"
RANDOM=$SEED

must write_generation 1
run "$ZRECON" apply -f "$POLICY" --now "$T0"
expect_applied "T0"
expect_sound_after_rerun "T0" "$T0"

# KIND: syscalls (the first is the one x86-64 Linux uses), errno, what the
# report says ("_" for spaces), whether the run must fail.
KINDS=(
  "fsync,fdatasync EIO Input/output_error 1"
  "rename,renameat,renameat2 EIO Input/output_error 1"
  "linkat,link EROFS Read-only_file_system 1"
  "mkdirat,mkdir EROFS Read-only_file_system 1"
  "unlinkat,unlink EROFS Read-only_file_system 0"
)
NOW=$(date -u -d "$T0" +%s)
GEN=1
ROUNDS=0
INJECTED=0
declare -A HITS=()
SECONDS=0

# faulted_round SYSCALL ERRNO N: a new day, the plan saved, then apply at it
# with the Nth SYSCALL of its main thread failing with ERRNO. Sets HIT (1 if
# the error was injected) and the run's RC, OUT, ERR.
faulted_round() {
  local syscall=$1 errno=$2 n=$3
  NOW=$((NOW + 86400))
  T=$(date -u -d "@$NOW" +%Y-%m-%dT%H:%M:%SZ)
  must write_generation $((GEN += 1))
  must change_bulk_data
  ROUNDS=$((ROUNDS + 1))
  KILLED_PLAN=$RUNS/$ROUNDS.plan.json
  run "$ZRECON" plan -f "$POLICY" --now "$T" --json
  expect_rc 0
  printf '%s\n' "$OUT" >"$KILLED_PLAN"
  # LeakSanitizer cannot run under ptrace (ASan builds): the traced run
  # does without it, the reruns do not.
  run strace -y -o "$RUNS/$ROUNDS.trace" -e signal=none -e "trace=$syscall" \
    -e "inject=$syscall:error=$errno:when=$n" \
    env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    "$ZRECON" apply -f "$POLICY" --now "$T"
  RC_FAULTED=$RC
  HIT=0
  grep -q '(INJECTED)' "$RUNS/$ROUNDS.trace" && HIT=1
}

# leftover_temps_are_links WHAT: every .tmp file on the destination is a
# second name of a file a manifest records (what an unlink failing after a
# stream or config was linked into place leaves: no space, no data).
leftover_temps_are_links() {
  local tmp links=""
  while IFS= read -r tmp; do
    [[ -n $tmp ]] || continue
    (($(stat -c %h "$tmp") >= 2)) || links+="$tmp "
  done < <(find "$USB" -name '.tmp*' -type f)
  expect_eq "$links" "" "$1: a .tmp file left behind is a second name of a finished file"
}

for kind in "${KINDS[@]}"; do
  read -r syscall errno message must_fail <<<"$kind"
  message=${message//_/ }
  n=1
  tries=0
  while ((SECONDS < BUDGET)); do
    BEFORE=$(host_state)
    faulted_round "$syscall" "$errno" "$n"
    what="round $ROUNDS ($T, $errno at ${syscall%%,*} #$n)"
    if ((!HIT)); then
      # The run made fewer than n such calls: a normal apply.
      expect_rerun_applied "$what, not injected"
      expect_sound_after_rerun "$what, not injected" "$T"
      # Some calls (mkdirat: a new chain) happen on some days only.
      ((n == 1 && ++tries < 8)) && continue
      break
    fi
    INJECTED=$((INJECTED + 1))
    HITS[${syscall%%,*}]=$((${HITS[${syscall%%,*}]:-0} + 1))
    injected=$(grep -m 1 -F '(INJECTED)' "$RUNS/$ROUNDS.trace")
    failed_line=$(grep -m 1 -E '^ *failed:' <<<"$OUT")
    detail=${failed_line# }
    [[ -z $detail && $RC -ne 0 ]] && detail=${ERR:0:200}
    echo "medium_errors_test: $what: exit $RC${detail:+: $detail}"
    expect_match "$RC" '^[01]$' "$what: apply exits 0 or 1 (stderr: $ERR)"
    expect_eq "$(grep -ci 'internal error' <<<"$OUT$ERR")" 0 "$what: no internal error"
    if [[ $injected == *"${ZRECON_LOCK##*/}>"* ]]; then
      # The host lock's own file, not the medium: writing the run's record
      # failed (nothing may change), or emptying it at the end did (the run
      # is done; the error is not reported).
      if ((RC == 1)); then
        expect_contains "$ERR" "cannot fsync lock file $ZRECON_LOCK: $message" \
          "$what: the lock file's error is named"
        expect_eq "$(host_state)" "$BEFORE" "$what: a run that could not record its lock changes nothing"
      fi
    elif ((must_fail)); then
      expect_rc 1
      expect_contains "$OUT$ERR" "$message" "$what: the error is reported"
    elif ((RC == 1)); then
      expect_contains "$OUT$ERR" "$message" "$what: the error that failed the run is reported"
    fi
    expect_eq "$(cat "$ZRECON_LOCK" 2>/dev/null)" "" "$what: the lock file is released (empty)"
    expect_sound_after_kill "$what"
    LOCK_AFTER=""
    run "$ZRECON" apply -f "$POLICY" --now "$T"
    expect_rerun_applied "$what, rerun"
    if ((RC_FAULTED == 0)) && [[ -n $(find "$USB" -name '.tmp*') ]]; then
      # The faulted run finished, so the rerun has nothing to do and does
      # not open the destination: the next apply that writes there removes
      # the leftover.
      leftover_temps_are_links "$what, rerun"
      expect_converged "$what, rerun" "$T"
      run "$ZRECON" verify --from "$USB"
      expect_rc 0
      NOW=$((NOW + 86400))
      T=$(date -u -d "@$NOW" +%Y-%m-%dT%H:%M:%SZ)
      must write_generation $((GEN += 1))
      run "$ZRECON" apply -f "$POLICY" --now "$T"
      expect_rerun_applied "$what, next day"
      expect_sound_after_rerun "$what, next day" "$T"
    else
      expect_sound_after_rerun "$what, rerun" "$T"
    fi
    rand 1 $(((n + 1) / 2 + 1))
    n=$((n + R))
  done
done

summary=""
for kind in "${KINDS[@]}"; do
  read -r syscall _ <<<"$kind"
  summary+="${summary:+, }${syscall%%,*} ${HITS[${syscall%%,*}]:-0}"
done
echo "medium_errors_test: $ROUNDS rounds in ${SECONDS}s, $INJECTED with an error injected ($summary)"
expect_match "$INJECTED" '^[1-9][0-9]*$' "at least one error was injected"
for kind in "${KINDS[@]}"; do
  read -r syscall _ <<<"$kind"
  expect_match "${HITS[${syscall%%,*}]:-0}" '^[1-9][0-9]*$' "an error was injected at ${syscall%%,*}"
done

fixture_down
finish
