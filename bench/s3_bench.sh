#!/usr/bin/env bash
# S3 throughput: zrecon exporting a zone's stream to an S3 destination and
# reading it back, against `zfs send | s3cmd put -` and `s3cmd get | sha256sum`
# of the same stream, side by side, in alternating order each round, on a
# loopback Ceph RGW (tools/s3-local). See BENCHMARKS.md ("S3 throughput").
#
#   bench/s3_bench.sh [--size-mib N] [--runs N] [--zrecon PATH]
#
#   --size-mib N   incompressible MiB written into the zone (default 256, at
#                  least 64)
#   --runs N       measured rounds (default 3)
#   --zrecon PATH  the binary to measure (default build/zrecon)
#
# Export: zrecon's time is the `send` action's own (its JSON finish event:
# zfs send, hashing, parts uploaded, the upload completed), the baseline's
# the whole pipeline (s3cmd in 8 MiB parts, as zrecon's first 1000 parts).
# Read back: `zrecon verify --destination` (ranged GETs, SHA-256 of every
# object against the manifest; the stream is most of the bytes) against
# `s3cmd get ... - | sha256sum` of the baseline's object.
# Restore: `zrecon restore --destination` of the whole zone (its stream
# straight from the store into zfs receive, SHA-256 checked on the way, the
# config, the zone created) against `s3cmd get ... - | zfs receive` of the
# baseline's object (the stream alone), after the zone was deleted.
#
# Needs root, zfs-fuse, s3cmd (apt-get install s3cmd) and the ceph packages
# (tools/install-deps.sh). Brings up its own sandbox host (pool `s3bench` in
# /var/tmp/zrecon-s3bench) and store, and tears both down on exit.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
ROOT=$PWD
SIZE_MIB=256 RUNS=3 ZRECON=$ROOT/build/zrecon
BENCH=/var/tmp/zrecon-s3bench
HOST=bench
ALIAS=s3bench
BENCH_NAME=s3_bench
usage() {
  echo "usage: $0 [--size-mib N (>= 64)] [--runs N (>= 1)] [--zrecon PATH]" >&2
  exit 64
}
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"

while (($#)); do
  case $1 in
    --size-mib) (($# >= 2)) || usage; need_int "$1" "$2"; SIZE_MIB=$((10#$2)); shift 2 ;;
    --runs) (($# >= 2)) || usage; need_int "$1" "$2"; RUNS=$((10#$2)); shift 2 ;;
    --zrecon) (($# >= 2)) || usage; ZRECON=$(realpath -m "$2"); shift 2 ;;
    *) echo "$0: unknown argument '$1'" >&2; usage ;;
  esac
done
((SIZE_MIB >= 64)) || usage
((RUNS >= 1)) || usage
[[ $EUID -eq 0 ]] || die "run as root (zfs-fuse needs it)"
[[ -x $ZRECON ]] || die "$ZRECON is missing: cmake --build build --target zrecon"
command -v s3cmd >/dev/null || die "s3cmd is missing: apt-get install s3cmd"
PY=/usr/bin/python3

export ZRECON_SANDBOX_DIR=$BENCH/sandbox ZRECON_SANDBOX_POOL=s3bench
export ZRECON_SANDBOX_SIZE=$((SIZE_MIB + 1024))M
WORK=$BENCH/work
STORE=$BENCH/store
SNAP=

teardown() {
  set +e
  [[ -z $SNAP ]] || zfs release zrecon "$SNAP" >/dev/null 2>&1
  tools/s3-local/stop.sh "$STORE" --purge >/dev/null 2>&1
  tools/sandbox-down.sh >/dev/null 2>&1 || log "tools/sandbox-down.sh failed"
  rm -rf "$BENCH"
  return 0
}
trap teardown EXIT
teardown
mkdir -p "$WORK"

log "starting the store (Ceph RGW on loopback)"
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
eval "$(MON_PORT=$((PORT + 1)) tools/s3-local/start.sh "$PORT" "$STORE" 2>"$WORK/store.log")" ||
  die "the store did not start: $(tail -3 "$WORK/store.log")"
export S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
S3Q() { "$PY" tests/integration/lib/s3_query.py "$@"; }
S3Q mkbucket zrecon-bench || die "cannot create the bucket"
S3CMD=(s3cmd --no-ssl --host="127.0.0.1:$PORT" --host-bucket="127.0.0.1:$PORT"
  --access_key="$AWS_ACCESS_KEY_ID" --secret_key="$AWS_SECRET_ACCESS_KEY"
  --multipart-chunk-size-mb=8 --no-check-md5 -q -c /dev/null)

log "bringing up sandbox host $ZRECON_SANDBOX_POOL"
out=$(tools/sandbox-up.sh 2>&1 >"$BENCH/sandbox.env") || die "tools/sandbox-up.sh failed: $out"
eval "$(<"$BENCH/sandbox.env")"
POOL=$ZRECON_SANDBOX_POOL
IMAGE=$ZRECON_TEST_IMAGE
out=$(vmadm create 2>&1 <<<"{\"brand\": \"joyent\", \"alias\": \"$ALIAS\", \"image_uuid\": \"$IMAGE\",
  \"autoboot\": false, \"quota\": $((SIZE_MIB / 1024 + 2))}") || die "vmadm create failed: $out"
ZONE=$(vmadm lookup alias=$ALIAS)
root=$(zfs get -H -o value mountpoint "$POOL/$ZONE")/root/var/bench
mkdir -p "$root"
log "writing $SIZE_MIB MiB of random data into zone $ZONE"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$root/random.bin"
NOW=$(date -u +%Y-%m-%dT%H:00:00Z)
FROM=$POOL/$IMAGE@final
SNAP=$POOL/$ZONE@zrecon-daily-$(date -u -d "$NOW" +%Y%m%dT%H%M%SZ)
zfs snapshot "$SNAP"
cat >"$WORK/policy.yaml" <<YAML
version: 1
host: $HOST
destinations:
  store: {type: s3, endpoint: "$S3_ENDPOINT", bucket: zrecon-bench, prefix: zrecon, path_style: true}
policies:
  bench:
    keep: {daily: 1}
    datasets: [zoneroot]
    export:
      - {destination: store, class: daily}
zones:
  - match: {alias: $ALIAS}
    policy: bench
YAML

# zrecon's export of the zone (fresh prefix each time): "seconds bytes".
zrecon_export() {
  local key
  for key in $(S3Q keys zrecon-bench zrecon/); do "${S3CMD[@]}" del "s3://zrecon-bench/$key" >/dev/null; done
  zfs release zrecon "$SNAP" >/dev/null 2>&1 || true
  zfs inherit zrecon:exported "$SNAP" >/dev/null 2>&1 || true
  "$ZRECON" apply -f "$WORK/policy.yaml" --now "$NOW" --host $HOST --json >"$WORK/events.jsonl" ||
    die "zrecon apply failed"
  "$PY" - "$WORK/events.jsonl" <<'PY'
import json, sys
starts = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "start":
        starts[e["index"]] = e
    if e.get("event") == "finish" and starts.get(e["index"], {}).get("kind") == "send":
        print(e["seconds"], e["bytes"])
PY
}

baseline_export() {
  local start=$EPOCHREALTIME
  zfs send -i "$FROM" "$SNAP" | "${S3CMD[@]}" put - s3://zrecon-bench/base/stream.zfs
  since "$start"
}

zrecon_read() {
  local start=$EPOCHREALTIME
  "$ZRECON" verify --destination store -f "$WORK/policy.yaml" >/dev/null || die "zrecon verify failed"
  since "$start"
}

baseline_read() {
  local start=$EPOCHREALTIME
  "${S3CMD[@]}" get s3://zrecon-bench/base/stream.zfs - | sha256sum >/dev/null
  since "$start"
}

log "$RUNS rounds, alternating order"
declare -a ZE BE ZR BR
for ((r = 1; r <= RUNS; r++)); do
  if ((r % 2)); then
    read -r zs zbytes < <(zrecon_export); bs=$(baseline_export)
    zr=$(zrecon_read); br=$(baseline_read)
  else
    bs=$(baseline_export); read -r zs zbytes < <(zrecon_export)
    br=$(baseline_read); zr=$(zrecon_read)
  fi
  ZE+=("$zs") BE+=("$bs") ZR+=("$zr") BR+=("$br")
  log "round $r: export zrecon ${zs}s, s3cmd ${bs}s; read back zrecon ${zr}s, s3cmd ${br}s ($zbytes bytes)"
done

# Restore: the zone is unprotected and deleted, then each round brings it
# back from the store with `zrecon restore` (the stream streamed into zfs
# receive with its SHA-256 checked, the zone created by the vmadm
# simulator) and receives the baseline's object with `s3cmd get - | zfs
# receive`; what each received is removed before the next round.
out=$("$ZRECON" unprotect -f "$WORK/policy.yaml" "$ZONE" 2>&1) || die "unprotect failed: $out"
SNAP_NAME=${SNAP#*@}
SNAP=
out=$(vmadm delete "$ZONE" 2>&1) || die "vmadm delete failed: $out"
TIP_GUID=$(S3Q get zrecon-bench "zrecon/$HOST/$ZONE/manifest.json" |
  "$PY" -c 'import json, sys; print(json.load(sys.stdin)["chains"][0]["links"][-1]["guid"])')

clean_restored() {
  if vmadm get "$ZONE" >/dev/null 2>&1; then
    vmadm delete "$ZONE" >/dev/null 2>&1 || die "vmadm delete $ZONE failed"
  fi
  local ds
  for ds in "$POOL/$ZONE" "$POOL/cores/$ZONE" "$POOL/base-restore"; do
    if zfs list -H -o name "$ds" >/dev/null 2>&1; then
      for _ in 1 2 3 4 5; do zfs destroy -r "$ds" 2>/dev/null && break; sleep 1; done
    fi
  done
  sync
}
check_received() {  # check_received DATASET
  local got
  got=$(zfs get -H -p -o value guid "$1@$SNAP_NAME") || die "$1 lacks @$SNAP_NAME"
  [[ $got == "$TIP_GUID" ]] || die "$1@$SNAP_NAME has guid $got, the export $TIP_GUID"
}
zrecon_restore() {
  local start=$EPOCHREALTIME out
  out=$("$ZRECON" restore --destination store -f "$WORK/policy.yaml" --host $HOST \
    --zone "$ZONE" 2>&1) || die "zrecon restore failed: $out"
  since "$start"
}
baseline_restore() {
  local start=$EPOCHREALTIME
  "${S3CMD[@]}" get s3://zrecon-bench/base/stream.zfs - | zfs receive -u "$POOL/base-restore"
  since "$start"
}

log "$RUNS restore rounds, alternating order"
declare -a ZT BT
for ((r = 1; r <= RUNS; r++)); do
  clean_restored
  if ((r % 2)); then
    zt=$(zrecon_restore); check_received "$POOL/$ZONE"
    bt=$(baseline_restore); check_received "$POOL/base-restore"
  else
    bt=$(baseline_restore); check_received "$POOL/base-restore"
    zt=$(zrecon_restore); check_received "$POOL/$ZONE"
  fi
  ZT+=("$zt") BT+=("$bt")
  log "round $r: restore zrecon ${zt}s, s3cmd get | zfs receive ${bt}s"
done
clean_restored

machine_line
"$PY" - "$zbytes" "${ZE[*]}" "${BE[*]}" "${ZR[*]}" "${BR[*]}" "${ZT[*]}" "${BT[*]}" <<'PY'
import statistics, sys
size = int(sys.argv[1])
ze, be, zr, br, zt, bt = ([float(x) for x in a.split()] for a in sys.argv[2:8])
mib = size / 2**20
print(f"stream: {mib:.0f} MiB (incompressible), {len(ze)} rounds, medians")
print(f"{'':28} {'seconds':>8} {'MiB/s':>8} {'ratio':>7}")
for name, z, b, base in (("export", ze, be, "s3cmd"), ("read back + SHA-256", zr, br, "s3cmd"),
                         ("restore", zt, bt, "s3cmd|zfs recv")):
    mz, mb = statistics.median(z), statistics.median(b)
    print(f"{name + ' zrecon':28} {mz:8.2f} {mib / mz:8.1f} {mz / mb:7.2f}")
    print(f"{name + ' ' + base:28} {mb:8.2f} {mib / mb:8.1f} {1:7.2f}")
PY
