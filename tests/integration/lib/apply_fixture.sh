# shellcheck shell=bash
# The host the `zrecon apply` integration tests act on, and the checks they
# repeat after every step. Source it after assert.sh, set POOL (the sandbox
# pool, i.e. the host) and DIR (the sandbox directory), then:
#
#   fixture_preflight    skips (77) without root or zfs-fuse; needs ZRECON;
#                        exports ZRECON_LOCK, a host lock for this pool only
#   fixture_up           a fresh host: pool, image, zones, data, foreign
#                        snapshots, an empty destination, the policy
#   fixture_cleanup      for the EXIT trap; fixture_down tears down and checks
#   fixture_background PID   a background process (a paused run) that
#                        fixture_cleanup kills if it is still there
#   ctrl_c_apply PATTERN SIGINT to the process group of the apply whose
#                        command line holds PATTERN (a terminal's Ctrl-C)
#   wait_for FILE        waits up to 60 s for FILE to appear; fails after
#   write_policy FILE DEST [LINE...]   the test policy, exporting to DEST
#   write_generation N   changes the data of every covered dataset
#   catalog COMMAND...   lib/catalog_query.py on $HOSTDIR
#
# fixture_up sets:
#   WORK                 a temporary directory, removed by fixture_cleanup
#   A, B                 web01 (joyent) and web02 (lx, delegate_dataset)
#   IMG, ORIGIN          the test image and its <pool>/<image>@final
#   LX_IMG, LX_ORIGIN    the lx test image (web02's) and its @final
#   ROOT_A ROOT_B DATA_B the datasets the policy covers (zoneroot)
#   USB, HOSTDIR         the destination directory and <it>/<this host>
#   POLICY               the policy file
# and T0 ... with S0 ... are the --now times of the timeline and their stamps
# in snapshot names.
#
# Foreign snapshots made by hand: $ROOT_A@first_snap (held, tag keep) and
# $ROOT_B@vmsnap-x; a test that makes more adds their expected rows
# ("name<TAB>userrefs<TAB>-") to FOREIGN_EXTRA.
#
# Checks (each reports what it expected and what it found):
#   expect_applied WHAT           the last run is an apply that did everything
#   expect_managed WHAT NAME...   the zrecon snapshots of the pool are exactly
#                                 NAME (short names) on each covered dataset
#   expect_snapshots WHAT SNAPSHOT...  ... exactly these (full names)
#   expect_tips WHAT SNAPSHOT...  exactly these (full names) carry
#                                 zrecon:exported=usb and one hold, tag zrecon;
#                                 every other zrecon snapshot has neither
#   expect_foreign WHAT           foreign snapshots intact: present, unmarked,
#                                 their holds as made
#   expect_catalog_sound WHAT     every file a manifest names is there with its
#                                 size and sha256; no .tmp* file; no file that
#                                 no manifest names
#   expect_converged WHAT NOW     `zrecon plan --now NOW --detailed-exitcode`
#                                 exits 0 with "No changes."
#   expect_state WHAT NOW TIP NAME...  the five checks above after a complete
#                                 apply at NOW: NAMEs kept, TIP (short name)
#                                 the tip of every covered dataset
#   host_state                    prints the pool's snapshots and datasets with
#                                 userrefs and marks, then the destination tree:
#                                 compare two calls to show nothing changed
# shellcheck disable=SC2034  # variables used by the scripts that source this

A=a1a1a1a1-0000-4000-8000-00000000000a
B=b2b2b2b2-0000-4000-8000-00000000000b
HOLD_TAG=keep
FOREIGN_EXTRA=()

# The timeline: T0 is a Thursday, T8D the Friday of the next ISO week.
T0=2026-11-26T10:00:00Z S0=20261126T100000Z
T1H=2026-11-26T11:00:00Z S1H=20261126T110000Z
T1D=2026-11-27T10:00:00Z S1D=20261127T100000Z
T8D=2026-12-04T10:00:00Z S8D=20261204T100000Z
T9D=2026-12-05T10:00:00Z S9D=20261205T100000Z
T9D1H=2026-12-05T11:00:00Z S9D1H=20261205T110000Z

fixture_preflight() {
  [[ $EUID -eq 0 ]] || skip "needs root"
  [[ -c /dev/fuse ]] || skip "no /dev/fuse: zfs-fuse cannot run"
  local tool
  for tool in zfs-fuse zpool zfs; do
    command -v "$tool" >/dev/null || skip "$tool is not installed"
  done
  ZRECON=${ZRECON:-}
  if [[ ! -x $ZRECON ]]; then
    echo "FAILED: set ZRECON to the zrecon binary (ctest does); got '$ZRECON'" >&2
    assert_cleanup
    exit 1
  fi
  REAL_ZFS=$(command -v zfs)
  # Each sandbox pool is a host of its own, so it gets its own host lock:
  # tests of other pools (other checkouts) may run at the same time.
  export ZRECON_LOCK=/var/run/zrecon-test-$POOL.lock
}

_sandbox() {
  ZRECON_SANDBOX_POOL=$POOL ZRECON_SANDBOX_DIR=$DIR "$SRC/tools/sandbox-$1.sh"
}

BACKGROUND_PIDS=()
fixture_background() { BACKGROUND_PIDS+=("$@"); }

# SIGINT to the whole process group of the apply whose command line holds
# PATTERN, as a terminal's Ctrl-C reaches every process of its job.
ctrl_c_apply() {
  local pid
  pid=$(pgrep -f -- "$1" | head -n 1)
  kill -INT -- "-$(ps -o pgid= -p "$pid" | tr -d ' ')"
}

wait_for() {
  local i
  for ((i = 0; i < 600; i++)); do
    [[ -e $1 ]] && return 0
    sleep 0.1
  done
  return 1
}

# A run left paused by a failed check must not outlive the test. The
# hand-made hold would make the simulator's delete fail; release it first.
fixture_cleanup() {
  local pid
  for pid in "${BACKGROUND_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  [[ -n ${ROOT_A:-} ]] && zfs release "$HOLD_TAG" "$ROOT_A@first_snap" >/dev/null 2>&1
  _sandbox down >/dev/null 2>&1
  [[ -n ${WORK:-} ]] && rm -rf "$WORK"
  assert_cleanup
}

# Tears the host down and checks nothing is left; call last.
fixture_down() {
  zfs release "$HOLD_TAG" "$ROOT_A@first_snap" >/dev/null 2>&1
  run _sandbox down
  expect_rc 0
  expect_eq "$(zpool list -H -o name 2>/dev/null | grep -cx "$POOL")" 0 "pool $POOL destroyed"
  expect_eq "$(ls -d "$DIR" 2>/dev/null)" "" "sandbox directory $DIR removed"
}

mountpoint_of() { zfs get -H -o value mountpoint "$1"; }

# Generation N of the zones' data: every covered dataset changes, so each
# incremental stream carries something.
write_generation() {
  local n=$1
  echo "generation $n" >>"$(mountpoint_of "$ROOT_A")/root/etc/motd" &&
    dd if=/dev/urandom of="$(mountpoint_of "$ROOT_B")/root/blob-$n" bs=64k count=2 status=none &&
    dd if=/dev/urandom of="$(mountpoint_of "$DATA_B")/db-$n" bs=64k count=4 status=none
}

# A fresh sandbox pool with the images (tools/sandbox-up.sh): sets IMG,
# ORIGIN, LX_IMG, LX_ORIGIN, and ROOT_A and ROOT_B, the roots web01 and
# web02 get. Skips the test where zfs-fuse cannot run.
sandbox_up() {
  _sandbox down >/dev/null 2>&1
  run _sandbox up
  if [[ $RC -ne 0 ]] && ! zpool list -H >/dev/null 2>&1; then
    skip "zfs-fuse cannot run here: $ERR"
  fi
  expect_rc 0
  ((RC == 0)) || finish
  eval "$OUT"
  IMG=$ZRECON_TEST_IMAGE
  ORIGIN=$POOL/$IMG@final
  LX_IMG=$ZRECON_TEST_LX_IMAGE
  LX_ORIGIN=$POOL/$LX_IMG@final
  ROOT_A=$POOL/$A
  ROOT_B=$POOL/$B
}

# Brings the host up from scratch: pool, image, web01 and web02, their data,
# the foreign snapshots; an empty destination directory and the policy.
fixture_up() {
  WORK=$(mktemp -d)
  sandbox_up
  DATA_B=$POOL/$B/data
  must vmadm create <<<"{\"brand\": \"joyent\", \"uuid\": \"$A\", \"image_uuid\": \"$IMG\",
    \"alias\": \"web01\"}"
  must vmadm create <<<"{\"brand\": \"lx\", \"uuid\": \"$B\", \"image_uuid\": \"$LX_IMG\",
    \"alias\": \"web02\", \"delegate_dataset\": true}"
  must cp /etc/os-release "$(mountpoint_of "$ROOT_A")/root/etc/zrecon-apply.txt"
  must write_generation 0
  must zfs snapshot "$ROOT_A@first_snap"
  must zfs snapshot "$ROOT_B@vmsnap-x"
  must zfs hold "$HOLD_TAG" "$ROOT_A@first_snap"
  USB=$WORK/usb
  mkdir -p "$USB"
  # Without `host:` the policy is for this machine, and its directory on the
  # destination is named after it.
  HOSTDIR=$USB/$(hostname)
  POLICY=$WORK/policy.yaml
  write_policy "$POLICY" "$USB"
}

# Writes policy FILE exporting to directory DEST; further arguments are extra
# top-level lines (host: ..., limits: ...).
write_policy() {
  local file=$1 dest=$2
  shift 2
  {
    echo "version: 1"
    local line
    for line in "$@"; do echo "$line"; done
    cat <<EOF
destinations:
  usb: {type: directory, path: $dest}
policies:
  standard:
    keep: {hourly: 3, daily: 2, weekly: 1}
    datasets: [zoneroot]
    export:
      - {destination: usb, class: daily, full_every: 7d, keep_chains: 1}
zones:
  - match: {alias: "web*"}
    policy: standard
EOF
  } >"$file"
}

catalog() { /usr/bin/python3 "$SRC/tests/integration/lib/catalog_query.py" "$HOSTDIR" "$@"; }

# Snapshot rows of our pool only (other sandboxes may be up): name, userrefs,
# mark ("-" when unset).
_snapshot_rows() {
  zfs list -H -t snapshot -o name,userrefs,zrecon:exported -r "$POOL" | LC_ALL=C sort
}

_sorted_lines() { printf '%s\n' "$@" | sed '/^$/d' | LC_ALL=C sort; }

expect_managed() {
  local what=$1 name ds expected=()
  shift
  for ds in "$ROOT_A" "$ROOT_B" "$DATA_B"; do
    for name in "$@"; do expected+=("$ds@$name"); done
  done
  expect_snapshots "$what" "${expected[@]}"
}

expect_snapshots() {
  local what=$1
  shift
  expect_eq "$(_snapshot_rows | cut -f1 | grep -F '@zrecon-')" "$(_sorted_lines "$@")" \
    "$what: the zrecon snapshots on $POOL are exactly the ones the policy keeps"
}

# _has_hold TAG SNAPSHOT: a hold with TAG exists iff `zfs hold TAG` refuses
# with "tag already exists" (zfs-fuse has no `zfs holds`); a hold made by the
# probe itself is released again.
_has_hold() {
  local err
  if err=$(zfs hold "$1" "$2" 2>&1); then
    zfs release "$1" "$2" >/dev/null 2>&1
    return 1
  fi
  [[ $err == *"tag already exists"* ]]
}

expect_tips() {
  local what=$1 snap rows expected=() tip
  shift
  rows=$(_snapshot_rows | grep -F '@zrecon-')
  while IFS=$'\t' read -r snap _ _; do
    tip="0	-"
    for t in "$@"; do [[ $snap == "$t" ]] && tip="1	usb"; done
    expected+=("$snap	$tip")
  done < <(cut -f1 <<<"$rows")
  expect_eq "$rows" "$(_sorted_lines "${expected[@]}")" \
    "$what: zrecon:exported=usb and one hold (userrefs 1) on the chain tips only"
  for snap in "$@"; do
    expect_eq "$(_has_hold zrecon "$snap" && echo held)" held "$what: $snap holds tag zrecon"
  done
}

expect_foreign() {
  expect_eq "$(_snapshot_rows | grep -vF '@zrecon-')" \
    "$(_sorted_lines "$ORIGIN	0	-" "$LX_ORIGIN	0	-" "$POOL/$ZRECON_TEST_ZVOL_IMAGE@final	0	-" \
      "$ROOT_A@first_snap	1	-" "$ROOT_B@vmsnap-x	0	-" \
      "${FOREIGN_EXTRA[@]}")" \
    "$1: foreign snapshots present, unmarked, holds unchanged"
  expect_eq "$(_has_hold "$HOLD_TAG" "$ROOT_A@first_snap" && echo held)" held \
    "$1: $ROOT_A@first_snap still holds tag $HOLD_TAG"
}

expect_catalog_sound() {
  expect_eq "$(catalog verify)" "" \
    "$1: every file the manifests name is complete (size, sha256); no .tmp files"
  expect_eq "$(catalog unlisted)" "" "$1: no file on the destination outside the manifests"
}

expect_applied() {
  expect_rc 0
  expect_eq "$(grep -E '^ *failed:' <<<"$OUT")" "" "$1: no action failed"
  expect_eq "$(grep -E '^Apply ' <<<"$OUT" | cut -d: -f1)" "Apply complete" \
    "$1: apply reports completion"
}

expect_converged() {
  run "$ZRECON" plan -f "$POLICY" --now "$2" --detailed-exitcode
  expect_rc 0
  expect_contains "$OUT" "No changes." "$1: planning again at $2 finds nothing to do"
}

expect_state() {
  local what=$1 now=$2 tip=$3
  shift 3
  expect_managed "$what" "$@"
  expect_tips "$what" "$ROOT_A@$tip" "$ROOT_B@$tip" "$DATA_B@$tip"
  expect_foreign "$what"
  expect_catalog_sound "$what"
  expect_converged "$what" "$now"
}

host_state() {
  zfs list -H -t all -o name,userrefs,zrecon:exported -r "$POOL" | LC_ALL=C sort
  echo "-- destination"
  catalog tree
}
