#!/usr/bin/env bash
# Processes zrecon spawns per phase (reading state, snapshot creation,
# export, pruning), in both zfs dialects, against sanoid's for the same
# snapshot work. See BENCHMARKS.md, "Processes per run".
#
#   bench/process_count.sh [--zones N] [--hourly N] [--daily N] [--zrecon PATH]   # as root
#
# 1. Brings up its own sandbox host (pool countpool on zfs-fuse, in
#    /var/tmp/zrecon-countbench) with N zones (joyent, delegated dataset: a
#    zone root, its data dataset and its cores dataset), and gives every
#    dataset a history of zrecon-named snapshots: hourlies up to the hour
#    before --now, dailies up to yesterday. At --now both classes are due
#    and both prune.
# 2. Saves the inventory, then counts:
#    - zrecon, legacy dialect (what zfs-fuse allows), measured: `zrecon apply`
#      through wrapper `zfs` and `vmadm` scripts that log every call
#      (reading is `zfs get -r` and `vmadm lookup -j`). The
#      count predicted from the legacy plan must equal the measured one: that
#      validates the prediction used for the illumos dialect.
#    - zrecon, illumos dialect, predicted: `zrecon plan --dialect illumos
#      --inventory` of the saved inventory, one process per action argv plus
#      what the executor adds (bench/process_count.py plan).
#    - sanoid 2.1: `sanoid --cron --readonly` against a stand-in `zfs` that
#      serves the same snapshots under sanoid's names (the sandbox's zfs-fuse
#      has no `get -t`) and a logging `ps`; what --readonly skipped is added
#      from sanoid's code paths (bench/process_count.py sanoid).
#    Both plans must decide the same snapshots as sanoid
#    (bench/sanoid_compare.py check).
# 3. Tears the sandbox down on exit, also after a failure or Ctrl-C.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ZONES=10 HOURLY=20 DAILY=4
ZRECON=$ROOT/build/zrecon
usage() {
  echo "usage: $0 [--zones N] [--hourly N] [--daily N] [--zrecon PATH]" >&2
  exit 64
}
while (($#)); do
  case $1 in
    --zones) ZONES=${2:?}; shift 2 ;;
    --hourly) HOURLY=${2:?}; shift 2 ;;
    --daily) DAILY=${2:?}; shift 2 ;;
    --zrecon) ZRECON=$(realpath "${2:?}"); shift 2 ;;
    *) usage ;;
  esac
done
cd "$ROOT"
for v in ZONES HOURLY DAILY; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "--${v,,} must be a positive integer" >&2; exit 64; }
done
((HOURLY >= 4 && DAILY >= 2)) || { echo "need --hourly >= 4 and --daily >= 2 so both prune" >&2; exit 64; }
[[ $EUID -eq 0 ]] || { echo "$0: run as root (zfs-fuse needs it)" >&2; exit 1; }
[[ -x $ZRECON ]] || { echo "no zrecon at $ZRECON (build it, or pass --zrecon)" >&2; exit 1; }
[[ -x /usr/sbin/sanoid ]] || { echo "/usr/sbin/sanoid is missing (apt-get install sanoid)" >&2; exit 1; }

# Keep a little over half of each class: every dataset prunes both.
KEEP="hourly=$((HOURLY / 2 + 2)),daily=$((DAILY / 2 + 1))"
NOW=2026-11-26T10:30:00Z
NOW_EPOCH=$(date -u -d "$NOW" +%s)
W=/var/tmp/zrecon-countbench
export ZRECON_SANDBOX_DIR=$W/sandbox ZRECON_SANDBOX_POOL=countpool ZRECON_SANDBOX_SIZE=1G
POOL=$ZRECON_SANDBOX_POOL
HELPER=(/usr/bin/python3 "$ROOT/bench/process_count.py")
COMPARE=(/usr/bin/python3 "$ROOT/bench/sanoid_compare.py")

cleanup() {
  local rc=$?
  tools/sandbox-down.sh >/dev/null 2>&1 || echo "warning: tools/sandbox-down.sh failed" >&2
  rm -rf "$W"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >&2; }

tools/sandbox-down.sh >/dev/null 2>&1 || true
rm -rf "$W"
mkdir -p "$W/bin" "$W/sanoid-bin" "$W/usb"
log "bringing up sandbox host $POOL"
sandbox_env=$(tools/sandbox-up.sh 2> "$W/sandbox-up.log") ||
  { cat "$W/sandbox-up.log" >&2; log "tools/sandbox-up.sh failed"; exit 1; }
eval "$sandbox_env"
REAL_ZFS=$(command -v zfs)
REAL_VMADM=$ZRECON_SANDBOX_DIR/$POOL/bin/vmadm

log "creating $ZONES zones"
for z in $(seq 1 "$ZONES"); do
  vmadm create >/dev/null 2>&1 <<JSON || { log "vmadm create failed"; exit 1; }
{"brand": "joyent", "alias": "count$z", "image_uuid": "$ZRECON_TEST_IMAGE", "quota": 1,
 "delegate_dataset": true}
JSON
done
mapfile -t UUIDS < <(vmadm list -p -o uuid)

# Oldest first, so that createtxg order is name-time order, as on a host
# where these were taken one run after another.
mapfile -t NAMES < <(/usr/bin/python3 - "$NOW_EPOCH" "$HOURLY" "$DAILY" <<'EOF'
import sys, time
now, hourly, daily = map(int, sys.argv[1:])
hour0, day0 = now - now % 3600, now - now % 86400
snaps = [("hourly", hour0 - i * 3600) for i in range(1, hourly + 1)]
snaps += [("daily", day0 - j * 86400) for j in range(1, daily + 1)]
for cls, t in sorted(snaps, key=lambda s: s[1]):
    print("zrecon-%s-%s" % (cls, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))))
EOF
)
log "seeding ${#NAMES[@]} snapshots on each of $((ZONES * 3)) datasets"
for uuid in "${UUIDS[@]}"; do
  for name in "${NAMES[@]}"; do
    zfs snapshot -r "$POOL/$uuid@$name"
    zfs snapshot "$POOL/cores/$uuid@$name"
  done
done

# Wrappers that log each call (to $COUNT_LOG, if set) and run the real one.
for tool in zfs vmadm; do
  real=$REAL_ZFS
  [[ $tool == vmadm ]] && real=$REAL_VMADM
  cat > "$W/bin/$tool" <<EOF
#!/bin/sh
[ -n "\$COUNT_LOG" ] && printf '%s %s\n' $tool "\$*" >> "\$COUNT_LOG"
exec $real "\$@"
EOF
  chmod +x "$W/bin/$tool"
done
ZFLAGS=(--zfs "$W/bin/zfs" --vmadm "$W/bin/vmadm")

"$ZRECON" inventory --save "$W/inventory" "${ZFLAGS[@]}" --dialect legacy >&2
"${HELPER[@]}" sanoid-host "$W/inventory" "$W/sanoid-host"
"${COMPARE[@]}" configs "$W/sanoid-host" "$W" --keep "$KEEP" --due hourly,daily \
  --export "$W/usb" >&2

"$ZRECON" plan -f "$W/policy.yaml" "${ZFLAGS[@]}" --dialect legacy --now "$NOW" --json \
  > "$W/legacy.json"
"$ZRECON" plan -f "$W/policy.yaml" --inventory "$W/inventory" --dialect illumos --now "$NOW" \
  --json > "$W/illumos.json"

cat > "$W/sanoid-bin/zfs" <<EOF
#!/bin/sh
printf 'zfs %s\n' "\$*" >> '$W/sanoid-calls.log'
[ "\$*" = "get -Hrpt snapshot creation" ] && exec cat '$W/sanoid-host/zfs-get-creation.txt'
echo "stand-in zfs: unexpected arguments: \$*" >&2
exit 2
EOF
cat > "$W/sanoid-bin/ps" <<EOF
#!/bin/sh
printf 'ps %s\n' "\$*" >> '$W/sanoid-calls.log'
exec $(command -v ps) "\$@"
EOF
chmod +x "$W/sanoid-bin/zfs" "$W/sanoid-bin/ps"
mkdir -p "$W/sanoid-cache" "$W/sanoid-run"
env TZ=UTC PATH="$W/sanoid-bin:$PATH" PINNED_CLOCK_EPOCH="$NOW_EPOCH" \
  perl -I"$ROOT/bench/lib" -MPinnedClock /usr/sbin/sanoid --cron --readonly --verbose \
  --configdir "$W/sanoid" --cache-dir "$W/sanoid-cache" --run-dir "$W/sanoid-run" > "$W/sanoid.txt"

printf 'legacy plan vs sanoid:  ' >&2
"${COMPARE[@]}" check "$W/legacy.json" "$W/sanoid.txt" >&2
printf 'illumos plan vs sanoid: ' >&2
"${COMPARE[@]}" check "$W/illumos.json" "$W/sanoid.txt" >&2

log "applying (legacy dialect, through the logging wrappers)"
COUNT_LOG=$W/apply.log "$ZRECON" apply -f "$W/policy.yaml" "${ZFLAGS[@]}" --dialect legacy \
  --now "$NOW" --json > "$W/apply.jsonl"

{
  "${HELPER[@]}" log "$W/apply.log" --label "zrecon apply, legacy dialect (measured)"
  "${HELPER[@]}" plan "$W/legacy.json" --label "zrecon, legacy dialect (predicted from the plan)"
  "${HELPER[@]}" plan "$W/illumos.json" --label "zrecon, illumos dialect (predicted from the plan)"
  "${HELPER[@]}" sanoid "$W/sanoid.txt" "$W/sanoid-calls.log"
} > "$W/counts.jsonl"
measured=$(sed -n 1p "$W/counts.jsonl" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); d.pop("label"); print(d)')
predicted=$(sed -n 2p "$W/counts.jsonl" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); d.pop("label"); d.pop("dialect"); print(d)')
[[ $measured == "$predicted" ]] ||
  { log "the legacy plan predicts $predicted processes, apply ran $measured"; exit 1; }

echo "sandbox: $ZONES zones x 3 datasets x ${#NAMES[@]} snapshots ($HOURLY hourly, $DAILY daily);" \
  "zrecon keep $KEEP, both due at $NOW"
echo "plan: $(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["text"])' "$W/illumos.json")"
echo
"${HELPER[@]}" table "$W/counts.jsonl"
sed -n 5p "$W/counts.jsonl" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print("\nsanoid would take %(takes)d snapshots (zfs snapshot and a perl tee process each), prune "
      "%(prunes)d (zfs destroy and a ps busy check each) in %(batches)d dataset/type batches "
      "(a ps for the pruning lock and one for the cache lock each), and refresh its cache "
      "%(read)d times (zfs get and a ps for the lock each)." % d)'
