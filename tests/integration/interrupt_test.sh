#!/usr/bin/env bash
# SIGTERM and Ctrl-C (SIGINT) during `zrecon apply` and `zrecon restore`, on
# a real zfs-fuse sandbox host with the vmadm simulator. A `zfs` wrapper
# (lib/zfs_fault.sh, ZFS_FAULT_HOW=pause) stops a chosen `zfs send` part way
# through its stream, or a `zfs receive` before it reads, and the test then
# signals zrecon alone, as a service manager or `timeout` would (a terminal's
# Ctrl-C would also reach the children):
#   1. SIGTERM while `zfs send` has written part of a stream: zrecon stops
#      the send, removes its temporary file, records nothing, reports "Apply
#      STOPPED, interrupted by SIGTERM", exits 143 and leaves the lock free;
#      no process of the send is left. A rerun converges.
#   2. SIGINT with --json: the same, exit 130, and the last event says
#      "interrupted".
#   3. SIGTERM while the 2nd `zfs receive` of a restore waits: exit 143,
#      the -partial dataset the 1st receive made is removed, the host is as
#      before; a rerun restores the zone.
#   4. A signal that was ignored when zrecon started (nohup) stays ignored:
#      the run completes.
#   5. A send that stops moving data (paused after part of its stream) with
#      --stall-timeout 2: apply fails within seconds naming the stall, leaves
#      no temporary file and the lock free; a rerun converges.
# Skips (77) without root or zfs-fuse.
#
# Uses its own pool (intrtest) and directory; a zfs-fuse daemon that is
# already running is used as is.
# shellcheck disable=SC2317  # functions called through run() and the EXIT trap
set -uo pipefail

SRC=${ZRECON_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/integration/lib/assert.sh
. "$SRC/tests/integration/lib/assert.sh"
# shellcheck source=tests/integration/lib/apply_fixture.sh
. "$SRC/tests/integration/lib/apply_fixture.sh"

POOL=intrtest
DIR=/var/tmp/zrecon-intrtest
fixture_preflight

trap fixture_cleanup EXIT
fixture_up

FAULTY=$WORK/bin/zfs
mkdir -p "$WORK/bin"
install -m 755 "$SRC/tests/integration/lib/zfs_fault.sh" "$FAULTY"

# start_paused NAME SUBCOMMAND NTH PARTIAL COMMAND...: starts COMMAND in the
# background with --zfs $FAULTY pausing the NTH call of `zfs SUBCOMMAND`
# (a send after PARTIAL bytes of its stream, "" for none); returns once that
# call is paused. Sets PID (zrecon's), PAUSED (the paused call's) and GATE
# (touch $GATE.open to let the call go on).
start_paused() {
  local name=$1 sub=$2 nth=$3 partial=$4
  shift 4
  GATE=$WORK/$name
  # A script's background job starts with SIGINT ignored, and zrecon keeps
  # an ignored signal ignored (section 4): give it the default back.
  env --default-signal=INT ZFS_FAULT_REAL="$REAL_ZFS" ZFS_FAULT_SUBCOMMAND="$sub" ZFS_FAULT_NTH="$nth" \
    ZFS_FAULT_COUNTER="$WORK/$name.count" ZFS_FAULT_HOW=pause ZFS_FAULT_GATE="$GATE" \
    ZFS_FAULT_PARTIAL_BYTES="$partial" "$@" --zfs "$FAULTY" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PID=$!
  fixture_background "$PID"
  PAUSED=
  if wait_for "$GATE.started"; then
    PAUSED=$(cat "$GATE.started")
    fixture_background "$PAUSED"
  fi
  expect_match "$PAUSED" '^[0-9]+$' \
    "$name: zfs $sub call $nth is paused (stderr: $(cat "$WORK/$name.err"))"
}

# finish_background NAME [SIGNAL]: sends SIGNAL (if given) to zrecon only,
# waits for it and sets RC, OUT and ERR as run does.
finish_background() {
  local name=$1
  [[ -z ${2:-} ]] || kill -s "$2" "$PID"
  wait "$PID"
  RC=$?
  OUT=$(cat "$WORK/$name.out")
  ERR=$(cat "$WORK/$name.err")
}

# expect_stopped WHAT: zrecon ended the paused call, no temporary file is
# left on the destination and the lock is free.
expect_stopped() {
  local what=$1
  expect_eq "$(kill -0 "$PAUSED" 2>/dev/null && echo alive || echo gone)" gone \
    "$what: zrecon ended the paused zfs call"
  expect_eq "$(find "$USB" -name '.tmp*' | wc -l)" 0 "$what: no temporary file is left"
  expect_eq "$(cat "$ZRECON_LOCK" 2>/dev/null)" "" "$what: the lock file is released (empty)"
}

# ============================================================ 1. SIGTERM inside zfs send
# The 1st send is the image's; the 2nd is a zone's first stream.
start_paused send-term send 2 200000 "$ZRECON" apply -f "$POLICY" --now "$T0"
expect_match "$(find "$USB" -name '.tmp*' -size +0 | wc -l)" '^[1-9]' \
  "SIGTERM: the paused send has written part of its stream into a temporary file"
finish_background send-term TERM
expect_rc 143
expect_contains "$OUT" "Apply STOPPED, interrupted by SIGTERM: " \
  "SIGTERM: the report says why the run stopped"
expect_match "$(grep -F 'failed: [' <<<"$OUT")" " send .*: interrupted by SIGTERM$" \
  "SIGTERM: the send in progress failed, naming the signal"
expect_match "$OUT" " [1-9][0-9]* not attempted\." "SIGTERM: later actions were not attempted"
expect_stopped "SIGTERM"
expect_catalog_sound "SIGTERM"
expect_eq "$(catalog images | cut -f1)" "$IMG" "SIGTERM: the image stream sent before it is recorded"
expect_tips "SIGTERM: no snapshot is marked or held"
expect_foreign "SIGTERM"

# ============================================================ 2. SIGINT, --json
start_paused send-int send 1 200000 "$ZRECON" apply -f "$POLICY" --now "$T0" --json
finish_background send-int INT
expect_rc 130
expect_eq "$(tail -n 2 <<<"$OUT" | head -n 1)" \
  '{"event":"interrupted","reason":"interrupted by SIGINT"}' \
  "SIGINT: the JSON events say the run was interrupted"
expect_match "$(tail -n 1 <<<"$OUT")" '^\{"event":"summary","outcome":"interrupted","zones":\[.*"outcome":"not attempted".*\],"failed_destinations":\[\]\}$' \
  "SIGINT: the last JSON event sums the run up: interrupted, zones not attempted"
expect_contains "$(grep -F '"outcome":"failed"' <<<"$OUT")" "interrupted by SIGINT" \
  "SIGINT: the send's finish event names the signal"
expect_stopped "SIGINT"
expect_catalog_sound "SIGINT"
expect_tips "SIGINT: no snapshot is marked or held"

run "$ZRECON" apply -f "$POLICY" --now "$T0"
expect_applied "rerun after the interrupts"
expect_state "rerun after the interrupts" "$T0" "zrecon-daily-$S0" \
  "zrecon-hourly-$S0" "zrecon-daily-$S0" "zrecon-weekly-$S0"

# ============================================================ 4. an ignored SIGTERM stays ignored
# As under nohup or `cmd &` from a script: the signal was ignored when
# zrecon started, so the operator did not ask the run to stop on it.
must write_generation 1
start_paused ignored send 1 "" bash -c 'trap "" TERM HUP; exec "$@"' - \
  "$ZRECON" apply -f "$POLICY" --now "$T1D"
kill -s TERM "$PID"
kill -s HUP "$PID"
sleep 0.5
expect_eq "$(kill -0 "$PID" 2>/dev/null && echo running || echo ended)" running \
  "ignored signals: zrecon runs on"
touch "$GATE.open"
finish_background ignored
expect_applied "ignored signals: the run completed"
expect_state "ignored signals" "$T1D" "zrecon-daily-$S1D" \
  "zrecon-hourly-$S0" "zrecon-daily-$S0" "zrecon-weekly-$S0" \
  "zrecon-hourly-$S1D" "zrecon-daily-$S1D"

# ============================================================ 5. a stalled send
T2D=2026-11-28T10:00:00Z S2D=20261128T100000Z
must write_generation 2
start_paused stalled send 1 200000 "$ZRECON" apply -f "$POLICY" --now "$T2D" --stall-timeout 2
SECONDS=0
finish_background stalled
expect_rc 1
expect_match "$SECONDS" '^[0-9]$' "stall: apply gave up within seconds, not at the paused call's end"
expect_match "$(grep -F 'failed: [' <<<"$OUT")" \
  " send .*: stalled: no data moved for 2 seconds \(--stall-timeout\)$" \
  "stall: the send failed, naming the stall"
expect_stopped "stall"
expect_catalog_sound "stall"
run "$ZRECON" apply -f "$POLICY" --now "$T2D"
expect_applied "stall: rerun"
expect_state "stall: rerun" "$T2D" "zrecon-daily-$S2D" \
  "zrecon-hourly-$S0" "zrecon-weekly-$S0" "zrecon-hourly-$S1D" "zrecon-daily-$S1D" \
  "zrecon-hourly-$S2D" "zrecon-daily-$S2D"

# ============================================================ 3. SIGTERM inside a restore
# web01's zone root has a chain of three links (T0, +1d, +2d): the 1st receive
# makes <pool>/<uuid>-partial, the 2nd is paused before it reads.
while IFS=$'\t' read -r snap; do
  must zfs release zrecon "$snap" </dev/null
done < <(zfs list -H -t snapshot -o name,userrefs -r "$ROOT_A" | awk -F'\t' '$2 > 0 { print $1 }' |
  grep -F '@zrecon-')
must zfs release "$HOLD_TAG" "$ROOT_A@first_snap"
must vmadm delete "$A"
BEFORE=$(zfs list -H -t all -o name -r "$POOL" | LC_ALL=C sort)
start_paused restore-term receive 2 "" "$ZRECON" restore --from "$USB" --zone web01
expect_eq "$(zfs list -H -o name "$ROOT_A-partial" 2>/dev/null)" "$ROOT_A-partial" \
  "restore: the 1st receive made the -partial dataset"
finish_background restore-term TERM
expect_rc 143
expect_contains "$OUT" "Restore STOPPED, interrupted by SIGTERM." "restore: the report says why"
expect_contains "$OUT" "cleanup: removed: $FAULTY destroy -r $ROOT_A-partial" \
  "restore: the dataset of the 1st receive is removed"
expect_stopped "restore"
expect_eq "$(zfs list -H -t all -o name -r "$POOL" | LC_ALL=C sort)" "$BEFORE" \
  "restore: the host's datasets are as before"

run "$ZRECON" restore --from "$USB" --zone web01
expect_rc 0
expect_contains "$OUT" "Restored zone $A (web01)" "restore rerun: the zone is restored"
expect_eq "$(zfs get -H -o value origin "$ROOT_A")" "$ORIGIN" "restore rerun: the zone root is a clone of the image again"
expect_eq "$(zfs list -H -t snapshot -o name -r "$ROOT_A" | grep -c "@zrecon-daily-$S2D$")" 1 \
  "restore rerun: the zone root has the T0+2d snapshot"

fixture_down
finish
