#!/usr/bin/env bash
# `zrecon restore` killed with SIGKILL, then run again, on a real zfs-fuse
# sandbox host with the vmadm simulator (lib/restore_fixture.sh): drill-web
# (joyent; its zone root holds 84 MiB) and drill-app (lx; its delegated
# dataset holds 68 MiB) are exported at T0 and T0+1d, then deleted.
#
# Two uninterrupted restores of each zone are measured first (drill-web's
# first with its image gone from the host too, so that the image is
# received as well). Then each random round restores one zone (drill-web
# and drill-app in turn; in about one round in four the image is gone as
# well) with `zrecon restore --from USB --zone NAME` started in a session
# of its own, and sends zrecon, and only zrecon, SIGKILL after a random
# delay uniform over the zone's second measured restore: a kill -9 hits
# only zrecon, the zfs or vmadm command it was running goes on by itself
# (a receive sees its stream end early) and is waited for. Chosen rounds
# kill zrecon while a wrapper (lib/zfs_fault.sh, lib/tool_fault.sh, pause
# mode) holds a chosen call, which then runs on by itself: the 2nd, 3rd
# and 5th receive, the image's rename, `vmadm create`, the first unmount,
# the destroy of the fresh zone root, the first property copied, the zone
# root's and the cores dataset's rename, the image's mount, the first and
# the second mount of a restored dataset, `vmadm update`; and right after
# the image's receive (lib/zfs_kill.sh). A last round kills the whole process group (zrecon,
# vmadm create and the zfs command vmadm runs) while vmadm creates the
# zone, which leaves a zone root without a zone: the rerun refuses, naming
# it and what --force does, and with --force destroys it and restores the
# zone.
#
# Where each kill landed is the last step the killed run reported starting
# on stdout ("planning/verify" before the first step, "finished" when it
# exited 0 first). After each kill (but the last) the same command runs
# again, not killed and without --force, and:
#   - it exits 0 and no step fails; it takes over the lock the killed run
#     left with a note naming its pid (no note when the killed run had not
#     taken it); it never deletes the zone; it does not create a zone the
#     killed run created; its notes say truly whether -partial datasets are
#     used as they are or received again;
#   - the zone exists in vmadm with the identity it had (uuid, alias, brand,
#     image, memory, quota), on this pool, stopped; its root is a clone of
#     the image's @final, whose guid is the exported one; its cores dataset
#     is mounted; drill-app's data dataset is delegated again;
#   - every restored dataset is mounted, holds every file, mode, owner and
#     symlink as of T0+1d (byte for byte: tree digests of the exported
#     state) and exactly the exported snapshots with their guids;
#   - no -partial dataset is left, no process of the killed run runs on, the
#     lock file is empty;
#   - `zrecon verify --from USB` passes and the media is byte for byte as
#     exported (restore reads it only).
# The summary table counts where the kills landed.
#
# Environment: ZRECON_RESTORE_KILL_ROUNDS (random rounds, default 10),
# ZRECON_RESTORE_KILL_SECONDS (no new random round after this many seconds
# of rounds, default 80), ZRECON_RESTORE_KILL_SEED (default: from the
# clock; printed, so a run can be repeated). Skips (77) without root,
# zfs-fuse or setsid.
#
# Uses its own pool (rkilltest) and directory; a zfs-fuse daemon that is
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

POOL=rkilltest
DIR=/var/tmp/zrecon-rkilltest
ROUNDS=${ZRECON_RESTORE_KILL_ROUNDS:-10}
BUDGET=${ZRECON_RESTORE_KILL_SECONDS:-80}
SEED=${ZRECON_RESTORE_KILL_SEED:-$(($(date +%s%N) / 1000 % 32768))}
BULK_MIB=64

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# rand LO HI: R is a random integer in LO..HI, from $RANDOM (seeded below).
rand() { R=$(($1 + ((RANDOM << 15 | RANDOM) % ($2 - $1 + 1)))); }
TEST_START=$(now_ms)

fixture_preflight
command -v setsid >/dev/null || skip "setsid (util-linux) is not installed"

RESTORE_PID=""
# A failed check may leave a restore (or what it started) going: end its
# process group (zrecon puts no child in a group of its own), by the id of
# the run this script started, before tearing down.
cleanup() {
  [[ -n $RESTORE_PID ]] && kill -9 -- "-$RESTORE_PID" 2>/dev/null
  fixture_cleanup
}
trap cleanup EXIT

# The fixture's data, and a bulk file of random data in drill-web's zone
# root and in drill-app's delegated dataset, so that a good part of a
# restore is spent receiving; T0+1d rewrites 4 MiB of each in place.
eval "_drill_$(declare -f write_t0)"
eval "_drill_$(declare -f write_t1)"
write_t0() {
  _drill_write_t0 &&
    dd if=/dev/urandom of="$(mountpoint_of "$POOL/$W")/root/bulk" bs=1M count="$BULK_MIB" \
      status=none &&
    dd if=/dev/urandom of="$(mountpoint_of "$POOL/$L/data")/bulk" bs=1M count="$BULK_MIB" \
      status=none
}
write_t1() {
  _drill_write_t1 &&
    dd if=/dev/urandom of="$(mountpoint_of "$POOL/$W")/root/bulk" bs=1M count=4 seek=9 \
      conv=notrunc status=none &&
    dd if=/dev/urandom of="$(mountpoint_of "$POOL/$L/data")/bulk" bs=1M count=4 seek=17 \
      conv=notrunc status=none
}

drill_up
drill_lose_zone "$POOL" "$W"
drill_lose_zone "$POOL" "$L"
RUNS=$WORK/runs
mkdir -p "$RUNS"
MEDIA=$(catalog tree)
echo "restore_kill_test: seed $SEED (ZRECON_RESTORE_KILL_SEED=$SEED repeats this run), up to" \
  "$ROUNDS random rounds or ${BUDGET}s"
RANDOM=$SEED

uuid_of() { [[ $1 == drill-web ]] && echo "$W" || echo "$L"; }

# lose ZONE: the zone is deleted again, with its datasets and whatever a
# restore of it left.
lose() { drill_lose_zone "$POOL" "$(uuid_of "$1")"; }

# expect_restored WHAT ZONE: the last run (a restore of ZONE) succeeded and
# left the zone as it was exported at T0+1d; the lock is free, the media
# unchanged and verified.
expect_restored() {
  local what=$1 zone=$2 uuid
  uuid=$(uuid_of "$zone")
  if expect_restore_ok "$what"; then
    expect_zone "$what" "$POOL" "$uuid"
    expect_eq "$(vm_field "$POOL" "$uuid" state)" '"stopped"' \
      "$what: the zone is stopped, as a restore without --start leaves it"
    if [[ $zone == drill-web ]]; then
      expect_dataset "$what" "$POOL/$W" W "$D1"
    else
      expect_dataset "$what" "$POOL/$L" L "$D1"
      expect_dataset "$what" "$POOL/$L/data" L.data "$D1"
      expect_eq "$(vm_field "$POOL" "$L" datasets)" "[\"$POOL/$L/data\"]" \
        "$what: the data dataset is delegated to the zone again"
    fi
  fi
  expect_eq "$(cat "$ZRECON_LOCK" 2>/dev/null)" "" "$what: the lock file is released (empty)"
  run "$ZRECON" verify --from "$USB"
  expect_rc 0
  expect_eq "$(catalog tree)" "$MEDIA" "$what: the media is byte for byte as exported"
}

# ============================================================ kills

# landing OUT RC: where a restore that printed OUT and exited RC was: the
# step it reported starting last (a command it started may have completed
# after the kill), "planning/verify" before its first step, "finished"
# when it exited 0.
landing() {
  local out=$1 rc=$2 line step link=""
  if [[ $rc == 0 ]]; then
    echo finished
    return
  fi
  line=$(grep -E '^\[[0-9]+/[0-9]+\] ' <<<"$out" | tail -n 1)
  if [[ -z $line ]]; then
    echo planning/verify
    return
  fi
  step=${line#*] }
  [[ $step =~ /0*([0-9]+)-[^/]*\.zfs[^/]*$ ]] && link=${BASH_REMATCH[1]}
  case $step in
    "receive "*"$IMG-partial <"* | "receive "*"$LX_IMG-partial <"*) echo "receive image" ;;
    "receive "*"-partial/data <"*) echo "receive data link $link" ;;
    "receive "*"/cores/"*"-partial <"*) echo "receive cores link $link" ;;
    "receive "*) echo "receive root link $link" ;;
    "register image "*) echo "register image" ;;
    "rename "*"$IMG-partial"* | "rename "*"$LX_IMG-partial"*) echo "rename image" ;;
    "rename "*"/cores/"*) echo "rename cores" ;;
    "rename "*) echo "rename zone root" ;;
    "mount "*"/$IMG" | "mount "*"/$LX_IMG") echo "mount image" ;;
    "copy properties "*) echo "copy properties" ;;
    "update zone "*) echo "update zone" ;;
    "release hold "*) echo "release hold" ;;
    "set "*) echo "set quota" ;;
    "create zone "*) echo "create zone" ;;
    "stop zone "*) echo "stop zone" ;;
    "start zone "*) echo "start zone" ;;
    "destroy fresh "*) echo "destroy fresh" ;;
    "destroy leftover "*) echo "destroy leftover" ;;
    "unmount "*) echo unmount ;;
    "mount "*) echo mount ;;
    *) echo "unknown: $step" ;;
  esac
}

# The landing points in restore order, for the summary.
POINTS=("planning/verify" "destroy leftover" "receive image" "receive root link 1"
  "receive root link 2" "receive cores link 1" "receive cores link 2" "receive data link 1"
  "receive data link 2" "register image" "rename image" "mount image" "create zone" "stop zone"
  "unmount" "copy properties" "destroy fresh" "set quota" "rename zone root" "rename cores"
  "mount" "update zone" "finished")
declare -A RANDOM_AT=() CHOSEN_AT=()
KILLED=0
ORPHANED=0

# start_restore NAME ZONE [VAR=VALUE...]: starts `zrecon restore --from USB
# --zone ZONE`, with the variables in its environment and KILL_ARGS after
# its arguments, as the leader of a session of its own (setsid does not
# fork: a background job of a script is no process group leader), so its
# pid is the session id that finds the children a kill leaves behind. Its
# output goes to RUNS/NAME.out and .err. Sets RESTORE_PID.
KILL_ARGS=()
start_restore() {
  local name=$1 zone=$2
  shift 2
  setsid env PATH="$DIR/$POOL/bin:$PATH" "$@" "$ZRECON" restore --from "$USB" --zone "$zone" \
    "${KILL_ARGS[@]}" >"$RUNS/$name.out" 2>"$RUNS/$name.err" &
  RESTORE_PID=$!
}

# wait_restore: waits for the restore (SIGKILLed or finished) and sets
# RC_KILLED to its exit code. (Right after the kill: bash reports a job
# killed by a signal on the stderr of the wait, or else of the next command.)
wait_restore() {
  wait "$RESTORE_PID" 2>/dev/null
  RC_KILLED=$?
}

# end_killed NAME ZONE HOW: after wait_restore, waits for every process of
# the restore's session, then records what the kill left: KILLED_PID,
# LOCK_AFTER (the lock file's content), ZONE_AFTER (1 when vmadm has the
# zone), PARTIAL_AFTER (-partial datasets) and AT (landing); prints the
# round's line.
end_killed() {
  local name=$1 zone=$2 how=$3 waited=0 orphans
  # Zombies (stat Z) have ended; only their reaping is pending.
  orphans=$(ps -o stat=,args= -s "$RESTORE_PID" 2>/dev/null |
    awk '$1 !~ /^Z/ { $1 = ""; print substr($0, 2) }')
  [[ -n $orphans ]] && ORPHANED=$((ORPHANED + 1))
  while pgrep -s "$RESTORE_PID" >/dev/null && ((waited < 600)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  expect_eq "$(pgrep -s "$RESTORE_PID")" "" "$name: what the killed restore left running ended"
  KILLED_PID=$RESTORE_PID
  RESTORE_PID=""
  if ((RC_KILLED != 0 && RC_KILLED != 137)); then
    expect_eq "$RC_KILLED" 137 "$name: the restore ended by SIGKILL or succeeded (stderr: \
$(<"$RUNS/$name.err"))"
  fi
  LOCK_AFTER=$(cat "$ZRECON_LOCK" 2>/dev/null)
  ZONE_AFTER=0
  on_host "$POOL" vmadm get "$(uuid_of "$zone")" >/dev/null 2>&1 && ZONE_AFTER=1
  PARTIAL_AFTER=$(partial_datasets "$POOL" | sed "s|^$POOL/||" | tr '\n' ' ')
  AT=$(landing "$(<"$RUNS/$name.out")" "$RC_KILLED")
  [[ $AT == finished ]] || KILLED=$((KILLED + 1))
  printf 'restore_kill_test: %s: %s, %s: %s; left: zone %s, -partial: %s%s\n' "$name" "$zone" \
    "$how" "$AT" "$([[ $ZONE_AFTER == 1 ]] && echo yes || echo no)" "${PARTIAL_AFTER:-none}" \
    "${orphans:+; still running: ${orphans//$'\n'/; }}"
}

# expect_rerun NAME ZONE: runs the same restore again, not killed, and
# checks it continued what the killed one left (see the top).
expect_rerun() {
  local name=$1 zone=$2 uuid holder received
  uuid=$(uuid_of "$zone")
  run on_host "$POOL" "$ZRECON" restore --from "$USB" --zone "$zone"
  cp "$OUT_FILE" "$RUNS/$name.rerun.out"
  holder=$(sed -n 's/^pid //p' <<<"$LOCK_AFTER")
  if [[ -n $holder ]]; then
    expect_eq "$holder" "$KILLED_PID" "$name, rerun: the lock file names the killed run"
    expect_contains "$ERR" "took over lock file $ZRECON_LOCK from zrecon (pid $holder," \
      "$name, rerun: the lock the killed run held is taken over with a note"
  else
    expect_eq "$(grep -F 'took over' <<<"$ERR")" "" \
      "$name, rerun: no takeover note when the killed run left no record in the lock"
  fi
  expect_eq "$(grep -E '^\[[0-9]+/[0-9]+\] delete zone' <<<"$OUT")" "" \
    "$name, rerun: the zone is never deleted"
  if ((ZONE_AFTER)); then
    expect_eq "$(grep -E '^\[[0-9]+/[0-9]+\] create zone' <<<"$OUT")" "" \
      "$name, rerun: the zone the killed run created is continued, not created again"
  fi
  received=$(grep -cE "^\[[0-9]+/[0-9]+\] receive .* $POOL/$uuid-partial(/data)? <" <<<"$OUT")
  if [[ $OUT == *"they are used as they are"* ]]; then
    expect_eq "$received" 0 "$name, rerun: the -partial datasets it says it uses as they are \
are not received again"
  fi
  if [[ $OUT == *"received again"* ]]; then
    expect_match "$received" '^[1-9]' "$name, rerun: the -partial datasets it says are \
received again are received"
  fi
  expect_restored "$name, rerun" "$zone"
}

# The image a zone is made from (drill-app is lx).
image_of() { [[ $1 == drill-web ]] && echo "$IMG" || echo "$LX_IMG"; }

# random_round NAME ZONE LOSE_IMAGE DELAY: a random round: image gone if
# LOSE_IMAGE is 1, SIGKILL after DELAY ms, rerun, checks, zone gone again.
random_round() {
  local name=$1 zone=$2 lose_image=$3 delay=$4
  ((lose_image)) && drill_lose_image "$POOL" "$(image_of "$zone")"
  start_restore "$name" "$zone"
  sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
  kill -9 "$RESTORE_PID" 2>/dev/null
  wait_restore
  end_killed "$name" "$zone" "$([[ $lose_image == 1 ]] && echo "image gone, ")SIGKILL after \
$delay ms"
  RANDOM_AT[$AT]=$((${RANDOM_AT[$AT]:-0} + 1))
  expect_rerun "$name" "$zone"
  lose "$zone"
}

# ============================================================ measured
# Each zone is restored twice, uninterrupted: the first time as a real
# recovery would be (drill-web receives the image too, caches are cold),
# then as the rounds run; the second duration is the zone's kill window.
drill_lose_image "$POOL" "$IMG"
declare -A WINDOW_MS=()
for pass in first second; do
  for zone in drill-web drill-app; do
    START=$(now_ms)
    run on_host "$POOL" "$ZRECON" restore --from "$USB" --zone "$zone"
    WINDOW_MS[$zone]=$(($(now_ms) - START))
    expect_restored "$zone ($pass uninterrupted restore)" "$zone"
  done
  echo "restore_kill_test: $pass uninterrupted restores: drill-web ${WINDOW_MS[drill-web]} ms," \
    "drill-app ${WINDOW_MS[drill-app]} ms"
  lose drill-web
  lose drill-app
done
echo "restore_kill_test: kills fall uniformly in 0..${WINDOW_MS[drill-web]} ms (drill-web)," \
  "0..${WINDOW_MS[drill-app]} ms (drill-app)"

# ============================================================ random rounds
ROUNDS_START=$(now_ms)
SECONDS=0
for ((round = 1; round <= ROUNDS && SECONDS < BUDGET; round++)); do
  ZONE=drill-web
  ((round % 2 == 0)) && ZONE=drill-app
  rand 0 3
  LOSE_IMAGE=$((R == 0))
  rand 0 "${WINDOW_MS[$ZONE]}"
  random_round "round $round" "$ZONE" "$LOSE_IMAGE" "$R"
done
RANDOM_ROUNDS=$((round - 1))
ROUNDS_MS=$(($(now_ms) - ROUNDS_START))
expect_match "$KILLED" '^[1-9][0-9]*$' "at least one restore was killed before it finished"

# ============================================================ chosen kill points
# A wrapper holds the Nth call of a subcommand before it runs (zfs, vmadm),
# zrecon is SIGKILLed while it waits, then the call goes on by itself, as
# the child of a killed process would (a receive reads what zrecon had
# written to its pipe, then sees the stream end). Or the wrapper runs the
# call and then SIGKILLs zrecon (zfs-after, lib/zfs_kill.sh).
mkdir -p "$WORK/bin"
install -m 755 "$SRC/tests/integration/lib/zfs_fault.sh" "$WORK/bin/zfs"
install -m 755 "$SRC/tests/integration/lib/tool_fault.sh" "$WORK/bin/vmadm"
install -m 755 "$SRC/tests/integration/lib/zfs_kill.sh" "$WORK/bin/zfs-kill"

# chosen_round NAME ZONE LOSE_IMAGE TOOL SUBCOMMAND NTH POINT: kills zrecon
# at call NTH of `TOOL SUBCOMMAND` (TOOL zfs or vmadm: while that call is
# held, for vmadm the first call; zfs-after: right after it), checks that
# the kill landed at POINT, then the rerun and its checks.
chosen_round() {
  local name=$1 zone=$2 lose_image=$3 tool=$4 sub=$5 nth=$6 point=$7 gate=$WORK/$1 env i
  ((lose_image)) && drill_lose_image "$POOL" "$(image_of "$zone")"
  rm -f "$gate".*
  case $tool in
    zfs)
      env=(ZFS_FAULT_REAL="$REAL_ZFS" ZFS_FAULT_SUBCOMMAND="$sub" ZFS_FAULT_NTH="$nth"
        ZFS_FAULT_COUNTER="$gate.count" ZFS_FAULT_HOW=pause ZFS_FAULT_GATE="$gate")
      KILL_ARGS=(--zfs "$WORK/bin/zfs")
      ;;
    vmadm)
      env=(TOOL_FAULT_REAL="$DIR/$POOL/bin/vmadm" TOOL_FAULT_SUBCOMMAND="$sub"
        TOOL_FAULT_HOW=pause TOOL_FAULT_GATE="$gate")
      KILL_ARGS=(--vmadm "$WORK/bin/vmadm")
      ;;
    zfs-after)
      env=(ZFS_KILL_REAL="$REAL_ZFS" ZFS_KILL_SUBCOMMAND="$sub" ZFS_KILL_NTH="$nth"
        ZFS_KILL_COUNTER="$gate.count" ZFS_KILL_WHEN=after)
      KILL_ARGS=(--zfs "$WORK/bin/zfs-kill")
      ;;
  esac
  start_restore "$name" "$zone" "${env[@]}"
  if [[ $tool == zfs-after ]]; then
    wait_restore
  else
    for ((i = 0; i < 600; i++)); do
      if [[ -e $gate.started ]] || ! kill -0 "$RESTORE_PID" 2>/dev/null; then break; fi
      sleep 0.1
    done
    expect_eq "$([[ -e $gate.started ]] && echo held)" held \
      "$name: $tool $sub call $nth was held (stderr: $(<"$RUNS/$name.err"))"
    kill -9 "$RESTORE_PID" 2>/dev/null
    wait_restore
    touch "$gate.open"
  fi
  KILL_ARGS=()
  expect_eq "$RC_KILLED" 137 "$name: the restore was killed (stderr: $(<"$RUNS/$name.err"))"
  end_killed "$name" "$zone" "$([[ $lose_image == 1 ]] && echo "image gone, ")SIGKILL \
$([[ $tool == zfs-after ]] && echo after || echo while) ${tool%-after} $sub call $nth"
  CHOSEN_AT[$AT]=$((${CHOSEN_AT[$AT]:-0} + 1))
  CHOSEN=$((CHOSEN + 1))
  expect_eq "$AT" "$point" "$name: the kill landed where it was aimed"
  expect_rerun "$name" "$zone"
  lose "$zone"
}

CHOSEN_START=$(now_ms)
CHOSEN=0
chosen_round "chosen 2nd receive" drill-web 0 zfs receive 2 "receive root link 2"
chosen_round "chosen 3rd receive" drill-app 0 zfs receive 3 "receive cores link 1"
chosen_round "chosen 5th receive" drill-app 0 zfs receive 5 "receive data link 1"
chosen_round "chosen image received" drill-web 1 zfs-after receive 1 "receive image"
chosen_round "chosen image rename" drill-web 1 zfs rename 1 "rename image"
chosen_round "chosen vmadm create" drill-app 0 vmadm create 1 "create zone"
chosen_round "chosen 1st unmount" drill-app 0 zfs umount 1 "unmount"
chosen_round "chosen zone root destroy" drill-app 0 zfs destroy 1 "destroy fresh"
chosen_round "chosen property copy" drill-web 0 zfs set 1 "copy properties"
chosen_round "chosen zone root rename" drill-app 0 zfs rename 1 "rename zone root"
chosen_round "chosen image mount" drill-app 0 zfs mount 1 "mount image"
chosen_round "chosen 1st mount" drill-app 0 zfs mount 2 "mount"
chosen_round "chosen 2nd mount" drill-app 0 zfs mount 3 "mount"
chosen_round "chosen cores rename" drill-app 0 zfs rename 2 "rename cores"
chosen_round "chosen vmadm update" drill-app 0 vmadm update 1 "update zone"

# ============================================================ the process group killed
# A terminal's Ctrl-C, or a service manager stopping its unit, signals every
# process of the group, not zrecon alone. Here SIGKILL reaches zrecon, vmadm
# create and the zfs command vmadm runs, while vmadm's `zfs create` of the
# cores dataset is held (VMADM_SIM_ZFS is the wrapper): vmadm has cloned the
# zone root, but made no cores dataset and no zone. The rerun refuses,
# naming that dataset and --force; with --force it destroys it and restores
# the zone.
start_restore "group kill" drill-web VMADM_SIM_ZFS="$WORK/bin/zfs" ZFS_FAULT_REAL="$REAL_ZFS" \
  ZFS_FAULT_SUBCOMMAND=create ZFS_FAULT_NTH=1 ZFS_FAULT_COUNTER="$WORK/group.count" \
  ZFS_FAULT_HOW=pause ZFS_FAULT_GATE="$WORK/group"
for ((i = 0; i < 600; i++)); do
  if [[ -e $WORK/group.started ]] || ! kill -0 "$RESTORE_PID" 2>/dev/null; then break; fi
  sleep 0.1
done
expect_eq "$([[ -e $WORK/group.started ]] && echo held)" held \
  "group kill: vmadm's zfs create was held (stderr: $(<"$RUNS/group kill.err"))"
kill -9 -- "-$RESTORE_PID" 2>/dev/null
wait_restore
end_killed "group kill" drill-web "SIGKILL to the process group while vmadm's zfs create waits"
CHOSEN_AT[$AT]=$((${CHOSEN_AT[$AT]:-0} + 1))
CHOSEN=$((CHOSEN + 1))
expect_eq "$AT" "create zone" "group kill: the kill landed in vmadm create"
expect_eq "$ZONE_AFTER" 0 "group kill: vmadm has no zone $W"
expect_eq "$(zfs list -H -o name,origin "$POOL/$W" 2>&1)" "$POOL/$W	$POOL/$IMG@final" \
  "group kill: vmadm create left the zone root it cloned"
BEFORE=$(host_state "$POOL")
run on_host "$POOL" "$ZRECON" restore --from "$USB" --zone drill-web
expect_rc 1
expect_contains "$ERR" "took over lock file $ZRECON_LOCK from zrecon (pid $KILLED_PID," \
  "group kill, rerun: the lock the killed run held is taken over with a note"
expect_contains "$ERR" "dataset $POOL/$W exists but no zone has that uuid; nothing was changed. \
Remove it, or use --force to destroy first:
    $POOL/$W (0 snapshots)" "group kill, rerun: refused, naming the dataset and what --force does"
expect_eq "$(host_state "$POOL")" "$BEFORE" "group kill, rerun: nothing changed"
run on_host "$POOL" "$ZRECON" restore --from "$USB" --zone drill-web --force
cp "$OUT_FILE" "$RUNS/group kill.rerun.out"
expect_contains "$OUT" "Note: --force: no zone has uuid $W; these datasets are destroyed once the \
replacement is received:
    $POOL/$W (0 snapshots)" "group kill, rerun with --force: the plan says what goes"
expect_eq "$(grep -E '^\[[0-9]+/[0-9]+\] (destroy leftover|create zone) ' <<<"$OUT" |
  sed 's/^\[[0-9/]*\] //')" "$(lines "destroy leftover zfs destroy -r -f $POOL/$W" "create zone vmadm create")" \
  "group kill, rerun with --force: the zone root vmadm left is destroyed before vmadm create"
expect_restored "group kill, rerun with --force" drill-web
lose drill-web
CHOSEN_MS=$(($(now_ms) - CHOSEN_START))

# ============================================================ summary
echo
echo "restore kill points (seed $SEED; $RANDOM_ROUNDS random rounds in $((ROUNDS_MS / 1000)) s," \
  "$CHOSEN chosen in $((CHOSEN_MS / 1000)) s):"
printf '  %-20s %6s %6s\n' "killed in or after" random chosen
mapfile -t UNKNOWN < <(printf '%s\n' "${!RANDOM_AT[@]}" "${!CHOSEN_AT[@]}" | grep '^unknown' |
  sort -u)
for point in "${POINTS[@]}" "${UNKNOWN[@]}"; do
  printf '  %-20s %6d %6d\n' "$point" "${RANDOM_AT[$point]:-0}" "${CHOSEN_AT[$point]:-0}"
done
echo "  ($KILLED killed before the restore finished; $ORPHANED left a zfs or vmadm command" \
  "running)"

drill_down "$POOL"
echo "restore_kill_test: $(($(now_ms) - TEST_START)) ms in all"
finish
