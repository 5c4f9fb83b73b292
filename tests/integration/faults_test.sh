#!/usr/bin/env bash
# zrecon against misbehaving tools and a second concurrent run, on a real
# zfs-fuse sandbox host, with wrappers (lib/tool_fault.sh) around the real
# zfs and vmadm:
#   1. `zfs list` / `zfs get` print garbage, `vmadm list` fails: plan and
#      apply exit 1 naming the command and the offending line or its stderr;
#      nothing changes;
#   2. `zfs snapshot` hangs: apply fails after --timeout seconds, naming the
#      command and "timed out"; nothing is recorded; a rerun converges;
#   3. `vmadm get` fails, then hangs: the zone's export fails cleanly (no
#      config recorded, no temporary file, nothing pruned, tips unchanged); a
#      rerun converges;
#   4. the host lock: while an apply is paused inside `zfs send`, a second
#      apply and a restore exit 1 at once naming it and change nothing, while
#      plan and apply --dry-run still run; the first then completes;
#   5. an apply killed with SIGKILL inside `zfs send`: the next one takes the
#      lock over with a note, cleans up and converges.
# Skips (77) without root or zfs-fuse.
#
# Uses its own pool (faulttest) and directory, never a `zones` sandbox; a
# zfs-fuse daemon that is already running is used as is.
# shellcheck disable=SC2317  # functions called through run() and the EXIT trap
set -uo pipefail

SRC=${ZRECON_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/integration/lib/assert.sh
. "$SRC/tests/integration/lib/assert.sh"
# shellcheck source=tests/integration/lib/apply_fixture.sh
. "$SRC/tests/integration/lib/apply_fixture.sh"

POOL=faulttest
DIR=/var/tmp/zrecon-faulttest
fixture_preflight

trap fixture_cleanup EXIT
fixture_up

REAL_VMADM=$(command -v vmadm)
mkdir -p "$WORK/bin"
install -m 755 "$SRC/tests/integration/lib/tool_fault.sh" "$WORK/bin/zfs"
install -m 755 "$SRC/tests/integration/lib/tool_fault.sh" "$WORK/bin/vmadm"
FZFS=$WORK/bin/zfs
FVMADM=$WORK/bin/vmadm
TIMEOUT=2

# zfs_fault SUBCOMMAND HOW TEXT CMD...: runs CMD (through run) with the zfs
# wrapper misbehaving in SUBCOMMAND; vmadm_fault likewise for vmadm.
zfs_fault() {
  local sub=$1 how=$2 text=$3
  shift 3
  run env TOOL_FAULT_REAL="$REAL_ZFS" TOOL_FAULT_SUBCOMMAND="$sub" TOOL_FAULT_HOW="$how" \
    TOOL_FAULT_TEXT="$text" "$@"
}
vmadm_fault() {
  local sub=$1 how=$2 text=$3
  shift 3
  run env TOOL_FAULT_REAL="$REAL_VMADM" TOOL_FAULT_SUBCOMMAND="$sub" TOOL_FAULT_HOW="$how" \
    TOOL_FAULT_TEXT="$text" "$@"
}

# expect_unchanged WHAT BEFORE: the host and the destination are as BEFORE
# (a host_state output), and no run holds the lock.
expect_unchanged() {
  expect_eq "$(host_state)" "$2" "$1: snapshots, holds, marks and the destination unchanged"
  expect_eq "$(cat "$ZRECON_LOCK" 2>/dev/null)" "" "$1: the lock file is released (empty)"
}

# ============================================================ 1. garbage and failing listings
BEFORE=$(host_state)
zfs_fault list garbage "NAME USED AVAIL garbage" "$ZRECON" plan -f "$POLICY" --now "$T0" --zfs "$FZFS"
expect_rc 1
expect_contains "$ERR" "$FZFS list" "zfs list garbage: the command is named"
expect_contains "$ERR" "NAME USED AVAIL garbage" "zfs list garbage: the offending line is shown"
expect_eq "$OUT" "" "zfs list garbage: no plan printed"

zfs_fault get garbage "$ROOT_A	guid	not-a-number" "$ZRECON" apply -f "$POLICY" --now "$T0" \
  --zfs "$FZFS"
expect_rc 1
expect_contains "$ERR" "$FZFS get" "zfs get garbage: the command is named"
expect_contains "$ERR" "not-a-number" "zfs get garbage: the offending line is shown"
expect_unchanged "zfs get garbage" "$BEFORE"

vmadm_fault lookup fail "vmadm: cannot connect to vminfod" "$ZRECON" apply -f "$POLICY" \
  --now "$T0" --vmadm "$FVMADM"
expect_rc 1
expect_contains "$ERR" "$FVMADM lookup" "vmadm lookup failing: the command is named"
expect_contains "$ERR" "exited 1: vmadm: cannot connect to vminfod" \
  "vmadm list failing: its exit code and stderr are shown"
expect_unchanged "vmadm list failing" "$BEFORE"

# ============================================================ 2. zfs snapshot hangs
SECONDS=0
zfs_fault snapshot hang "" "$ZRECON" apply -f "$POLICY" --now "$T0" --zfs "$FZFS" \
  --timeout "$TIMEOUT"
ELAPSED=$SECONDS
expect_rc 1
expect_contains "$OUT" \
  "failed: [1] snapshot (zone $A): $FZFS snapshot -r $ROOT_A@zrecon-hourly-$S0 timed out (exit 143)" \
  "zfs snapshot hanging: the first action fails, naming the command and 'timed out'"
expect_match "$ELAPSED" '^([0-9]|1[0-9])$' \
  "zfs snapshot hanging: apply gives up within seconds of --timeout $TIMEOUT"
expect_unchanged "zfs snapshot hanging" "$BEFORE"

run "$ZRECON" apply -f "$POLICY" --now "$T0"
expect_applied "zfs snapshot hanging, rerun"
expect_state "zfs snapshot hanging, rerun" "$T0" "zrecon-daily-$S0" \
  "zrecon-hourly-$S0" "zrecon-daily-$S0" "zrecon-weekly-$S0"

# ============================================================ 3. vmadm get fails, then hangs
# At T0+1d every zone gets hourly and daily snapshots, then, zone by zone,
# its config (vmadm get), sends and tip moves. The first vmadm get stops the
# run: the snapshots exist, but nothing reaches the destination and nothing
# is pruned or re-marked.
must write_generation 1
DEST_BEFORE=$(catalog tree)
AFTER_SNAPSHOTS=("zrecon-hourly-$S0" "zrecon-hourly-$S1D" "zrecon-daily-$S0" "zrecon-daily-$S1D"
  "zrecon-weekly-$S0")
expect_config_failed() {
  local what=$1
  expect_rc 1
  expect_managed "$what: snapshots taken, nothing pruned" "${AFTER_SNAPSHOTS[@]}"
  expect_tips "$what: the tips stay" "$ROOT_A@zrecon-daily-$S0" "$ROOT_B@zrecon-daily-$S0" \
    "$DATA_B@zrecon-daily-$S0"
  expect_eq "$(catalog tree)" "$DEST_BEFORE" \
    "$what: the destination is as before (no config recorded, no temporary file)"
  expect_foreign "$what"
  expect_eq "$(cat "$ZRECON_LOCK")" "" "$what: the lock file is released (empty)"
}

vmadm_fault get fail "vmadm: zone is being provisioned" "$ZRECON" apply -f "$POLICY" \
  --now "$T1D" --vmadm "$FVMADM"
expect_match "$(grep -F "failed: [5] save config (zone $A)" <<<"$OUT")" \
  "save config \\(zone $A\\): usb:$A/config/[^ ]*\\.json: $FVMADM get $A exited 1: vmadm: zone is being provisioned\$" \
  "vmadm get failing: the save config action fails naming its file, the command and its stderr"
expect_config_failed "vmadm get failing"

SECONDS=0
vmadm_fault get hang "" "$ZRECON" apply -f "$POLICY" --now "$T1D" --vmadm "$FVMADM" \
  --timeout "$TIMEOUT"
ELAPSED=$SECONDS
expect_match "$(grep -F "failed: [1] save config (zone $A)" <<<"$OUT")" \
  "save config \\(zone $A\\): usb:$A/config/[^ ]*\\.json: $FVMADM get $A timed out \\(exit 143\\)" \
  "vmadm get hanging: the save config action fails, naming its file, the command and 'timed out'"
expect_match "$ELAPSED" '^([0-9]|1[0-9])$' \
  "vmadm get hanging: apply gives up within seconds of --timeout $TIMEOUT"
expect_config_failed "vmadm get hanging"

run "$ZRECON" apply -f "$POLICY" --now "$T1D"
expect_applied "vmadm get, rerun"
expect_state "vmadm get, rerun" "$T1D" "zrecon-daily-$S1D" "${AFTER_SNAPSHOTS[@]}"

# ============================================================ 4. the host lock
# start_paused NOW GATE: starts an apply at NOW in the background whose
# first zfs send waits for GATE.open; sets FIRST (its pid) and FIRST_CMD
# (its command line as the lock file records it) once it is paused there.
start_paused() {
  local now=$1 gate=$2
  env TOOL_FAULT_REAL="$REAL_ZFS" TOOL_FAULT_SUBCOMMAND=send TOOL_FAULT_HOW=pause \
    TOOL_FAULT_GATE="$gate" "$ZRECON" apply -f "$POLICY" --now "$now" --zfs "$FZFS" \
    >"$WORK/first.out" 2>"$WORK/first.err" &
  FIRST=$!
  fixture_background "$FIRST"
  FIRST_CMD="$ZRECON apply -f $POLICY --now $now --zfs $FZFS"
  expect_eq "$(wait_for "$gate.started" && echo paused)" paused \
    "apply at $now is paused in zfs send (stderr: $(cat "$WORK/first.err"))"
}

must write_generation 2
start_paused "$T8D" "$WORK/gate8d"
mapfile -t RECORD <"$ZRECON_LOCK"
expect_eq "${RECORD[0]:-}" "pid $FIRST" "lock file: the holder's pid"
expect_match "${RECORD[1]:-}" '^started [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' \
  "lock file: when the holder started (RFC 3339, wall clock)"
expect_eq "${RECORD[2]:-}" "command $FIRST_CMD" "lock file: the holder's command line"
HOLDER="another zrecon (pid $FIRST, \`$FIRST_CMD\`, ${RECORD[1]:-}) holds $ZRECON_LOCK; nothing was changed. Run again once it has finished."
DURING=$(host_state)

SECONDS=0
run "$ZRECON" apply -f "$POLICY" --now "$T8D"
expect_rc 1
expect_err "zrecon: $HOLDER"
expect_eq "$OUT" "" "second apply: refused before planning"
expect_match "$SECONDS" '^[0-2]$' "second apply: refused at once"
run env -u ZRECON_LOCK "$ZRECON" restore --from "$USB" --zone web01 --force \
  --lock-file "$ZRECON_LOCK"
expect_rc 1
expect_err "zrecon: $HOLDER"
run "$ZRECON" plan -f "$POLICY" --now "$T8D"
expect_rc 0
run "$ZRECON" apply -f "$POLICY" --now "$T8D" --dry-run
expect_rc 0
expect_contains "$OUT" "Dry run: nothing was changed." "apply --dry-run does not need the lock"
expect_eq "$(host_state)" "$DURING" "the refused runs changed nothing"

touch "$WORK/gate8d.open"
wait "$FIRST"
RC=$?
OUT=$(<"$WORK/first.out")
ERR=$(<"$WORK/first.err")
expect_applied "the first apply, let go"
expect_state "the first apply, let go" "$T8D" "zrecon-daily-$S8D" \
  "zrecon-hourly-$S0" "zrecon-hourly-$S1D" "zrecon-hourly-$S8D" \
  "zrecon-daily-$S1D" "zrecon-daily-$S8D" "zrecon-weekly-$S8D"
expect_eq "$(cat "$ZRECON_LOCK")" "" "the first apply released the lock"

# ============================================================ 5. kill -9 inside zfs send
must write_generation 3
start_paused "$T9D" "$WORK/gate9d"
KILLED_STARTED=$(sed -n 2p "$ZRECON_LOCK")
kill -9 "$FIRST"
{ wait "$FIRST"; } 2>/dev/null # bash's "Killed" notice is expected here
kill "$(cat "$WORK/gate9d.started")"
expect_eq "$(head -n 1 "$ZRECON_LOCK")" "pid $FIRST" "the killed apply's record stays in the lock file"
expect_match "$(find "$USB" -name '.tmp*' | wc -l)" '^[1-9]' \
  "the killed apply left the temporary file of its send"

run "$ZRECON" apply -f "$POLICY" --now "$T9D"
expect_applied "after kill -9"
expect_err "zrecon: note: took over lock file $ZRECON_LOCK from zrecon (pid $FIRST, \`$FIRST_CMD\`, $KILLED_STARTED), which ended without releasing it (killed or crashed); its work may be unfinished, and this run starts from the host's current state"
expect_state "after kill -9" "$T9D" "zrecon-daily-$S9D" \
  "zrecon-hourly-$S1D" "zrecon-hourly-$S8D" "zrecon-hourly-$S9D" \
  "zrecon-daily-$S8D" "zrecon-daily-$S9D" "zrecon-weekly-$S8D"

fixture_down
finish
