#!/usr/bin/env bash
# Restore speed: `zrecon restore` of one zone whose export chain (a base and
# two incrementals) holds at least 1 GiB, side by side in each round with
#   floor     the same files fed to `zfs receive` by `cat`, in chain order
#             (the least any restore from these files can take);
#   zrecon    `zrecon restore` (one pass: each file into zfs receive, its
#             SHA-256 checked on the way);
#   verify1st `zrecon restore --verify-first` (every file read and hashed,
#             then received: the two-pass restore of before issue 13);
#   manual    the seed's procedure as an operator runs it: per file
#             `sha256sum -c` against the recorded sum, then `zfs receive <`;
# for the uncompressed destination, and `zstd -dc FILE | zfs receive` (floor)
# against `zrecon restore` for the zstd one. The order rotates round by
# round. Between runs the received datasets (and the zone) are removed.
# BENCHMARKS.md ("Restore speed") explains the columns.
#
#   bench/restore_bench.sh [--size-mib N] [--runs N] [--zrecon PATH]
#
#   --size-mib N   MiB of random data in the chain, split 3:1:1 over base and
#                  the two incrementals (default 1152, at least 256)
#   --runs N       measured rounds (default 3)
#   --zrecon PATH  the binary to measure (default build/zrecon)
#
# Needs root, zfs-fuse (brought up by tools/sandbox-up.sh), zstd and
# python3. Brings up its own sandbox host (pool `rbenchpool` in
# /var/tmp/zrecon-restorebench) and tears it down on exit. Progress goes to
# stderr, the results table to stdout.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
ROOT=$PWD
SIZE_MIB=1152 RUNS=3 ZRECON=$ROOT/build/zrecon
BENCH=/var/tmp/zrecon-restorebench
HOST=bench
ALIAS=restorebench

usage() {
  echo "usage: $0 [--size-mib N (>= 256)] [--runs N (>= 1)] [--zrecon PATH]" >&2
  exit 64
}
BENCH_NAME=restore_bench
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
((SIZE_MIB >= 256)) || { echo "$0: --size-mib $SIZE_MIB is below 256" >&2; usage; }
((RUNS >= 1)) || { echo "$0: --runs must be at least 1" >&2; usage; }
[[ $EUID -eq 0 ]] || die "run as root (zfs-fuse needs it)"
[[ -x $ZRECON ]] || die "$ZRECON is missing: cmake --build build --target zrecon"
command -v zstd >/dev/null || die "the zstd CLI is missing: tools/install-deps.sh installs it"
PY=/usr/bin/python3

# The pool holds the zone (deleted once exported) or one restored copy at a
# time, plus the image.
export ZRECON_SANDBOX_DIR=$BENCH/sandbox ZRECON_SANDBOX_POOL=rbenchpool
export ZRECON_SANDBOX_SIZE=$((SIZE_MIB * 2 + 1024))M
WORK=$BENCH/work
POOL=$ZRECON_SANDBOX_POOL

teardown() {
  set +e
  if [[ -n ${ZONE:-} ]]; then
    "$ZRECON" unprotect -f "$WORK/policy.yaml" "$ZONE" >/dev/null 2>&1
    vmadm delete "$ZONE" >/dev/null 2>&1
  fi
  tools/sandbox-down.sh >/dev/null 2>&1 || log "tools/sandbox-down.sh failed; pool $POOL may remain"
  rm -rf "$BENCH"
  return 0
}

check_space() {
  # The pool file, and both destinations (the zstd one is about as large:
  # the data is random).
  local need_kib=$(((SIZE_MIB * 4 + 2048) * 1024)) avail_kib
  avail_kib=$(df --output=avail -k /var/tmp | tail -n 1)
  ((avail_kib >= need_kib)) || die "/var/tmp has $((avail_kib / 1024)) MiB free;" \
    "--size-mib $SIZE_MIB needs $((need_kib / 1024))"
}


write_policy() {
  mkdir -p "$WORK"
  cat >"$WORK/policy.yaml" <<YAML
version: 1
host: $HOST
destinations:
  plain: {path: $WORK/dest-none}
  packed: {path: $WORK/dest-zstd, compression: zstd}
policies:
  bench:
    keep: {daily: 3}
    datasets: [zoneroot]
    export:
      - {destination: plain, class: daily}
      - {destination: packed, class: daily}
zones:
  - match: {alias: $ALIAS}
    policy: bench
YAML
}

# A zone, exported three days running: day 0 gets 3/5 of the data, days 1
# and 2 a fifth each (random, so the chain is as large as the data). Then
# the zone is released and deleted: every restore comes from the files.
bring_up() {
  log "bringing up sandbox host $POOL in $ZRECON_SANDBOX_DIR (pool file $ZRECON_SANDBOX_SIZE)"
  local out
  out=$(tools/sandbox-up.sh 2>&1 >"$BENCH/sandbox.env") || die "tools/sandbox-up.sh failed: $out"
  eval "$(<"$BENCH/sandbox.env")"
  out=$(vmadm create 2>&1 <<<"{\"brand\": \"joyent\", \"alias\": \"$ALIAS\",
    \"image_uuid\": \"$ZRECON_TEST_IMAGE\", \"autoboot\": false, \"quota\": 0}") ||
    die "vmadm create failed: $out"
  ZONE=$(vmadm lookup alias=$ALIAS)
  write_policy
  mkdir -p "$WORK/dest-none" "$WORK/dest-zstd"
  local dir day mib
  dir=$(zfs get -H -o value mountpoint "$POOL/$ZONE")/root/var/bench
  mkdir -p "$dir"
  for day in 0 1 2; do
    mib=$((day == 0 ? SIZE_MIB * 3 / 5 : SIZE_MIB / 5))
    log "day $day: writing $mib MiB into zone $ZONE and exporting"
    head -c $((mib << 20)) /dev/urandom >"$dir/day$day.bin"
    out=$("$ZRECON" apply -f "$WORK/policy.yaml" --host $HOST \
      --now "2026-11-2$((day + 4))T10:00:00Z" 2>&1) || die "zrecon apply failed: $out"
  done
  out=$("$ZRECON" unprotect -f "$WORK/policy.yaml" "$ZONE" 2>&1) || die "unprotect failed: $out"
  out=$(vmadm delete "$ZONE" 2>&1) || die "vmadm delete failed: $out"
  # The chain's files in order, with their recorded SHA-256.
  "$PY" - "$WORK/dest-none/$HOST/$ZONE/manifest.json" "$WORK/dest-none/$HOST" >"$WORK/links.none" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for c in m["chains"]:
    for l in c["links"]:
        print(l["stream"]["sha256"], sys.argv[2] + "/" + l["stream"]["file"])
PY
  "$PY" - "$WORK/dest-zstd/$HOST/$ZONE/manifest.json" "$WORK/dest-zstd/$HOST" >"$WORK/links.zstd" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for c in m["chains"]:
    for l in c["links"]:
        print(l["stream"]["sha256"], sys.argv[2] + "/" + l["stream"]["file"])
PY
  [[ $(wc -l <"$WORK/links.none") == 3 && $(wc -l <"$WORK/links.zstd") == 3 ]] ||
    die "expected one chain of 3 links per destination"
  BYTES=$(cut -d' ' -f2 "$WORK/links.none" | xargs stat -c %s | awk '{ s += $1 } END { print s }')
  log "chain: $(cut -d' ' -f2 "$WORK/links.none" | xargs stat -c %s | tr '\n' ' ')bytes"
}

# Removes what a run received: the zone, or the bare datasets of a floor run.
clean() {
  if vmadm get "$ZONE" >/dev/null 2>&1; then
    vmadm delete "$ZONE" >/dev/null 2>&1 || die "vmadm delete $ZONE failed"
  fi
  local ds
  for ds in "$POOL/$ZONE" "$POOL/cores/$ZONE" "$POOL/floor"; do
    if zfs list -H -o name "$ds" >/dev/null 2>&1; then
      for _ in 1 2 3 4 5; do zfs destroy -r "$ds" 2>/dev/null && break; sleep 1; done
    fi
  done
  sync
}

# Each prints its seconds. The received data is checked once per run: the
# newest snapshot's guid must be the exported one.
floor_cat() {
  local start=$EPOCHREALTIME f
  while read -r _ f; do cat "$f" | zfs receive -u "$POOL/floor"; done <"$WORK/links.none"
  since "$start"
}
floor_zstd() {
  local start=$EPOCHREALTIME f
  while read -r _ f; do zstd -dcq "$f" | zfs receive -u "$POOL/floor"; done <"$WORK/links.zstd"
  since "$start"
}
manual() {
  local start=$EPOCHREALTIME sum f
  while read -r sum f; do
    echo "$sum  $f" | sha256sum -c --quiet - && zfs receive -u "$POOL/floor" <"$f"
  done <"$WORK/links.none"
  since "$start"
}
zrecon_restore() {  # zrecon_restore DEST [FLAGS...]
  local dest=$1 start out
  shift
  start=$EPOCHREALTIME
  out=$("$ZRECON" restore --from "$WORK/dest-$dest" --zone "$ZONE" "$@" 2>&1) ||
    die "zrecon restore from $dest $* failed: $out"
  since "$start"
}
check_received() {  # check_received DATASET
  local got
  got=$(zfs get -H -p -o value guid "$1@zrecon-daily-20261126T100000Z") ||
    die "$1 lacks the newest exported snapshot"
  [[ $got == "$TIP_GUID" ]] || die "$1@...26T100000Z has guid $got, the export $TIP_GUID"
}

round() {
  local n=$1 kinds=(floor zrecon verify1st manual zfloor zzrecon) order=() i k t
  for ((i = 0; i < ${#kinds[@]}; i++)); do order+=("${kinds[$(((i + n - 1) % ${#kinds[@]}))]}"); done
  declare -A secs=()
  for k in "${order[@]}"; do
    clean
    case $k in
      floor) t=$(floor_cat); check_received "$POOL/floor" ;;
      zfloor) t=$(floor_zstd); check_received "$POOL/floor" ;;
      manual) t=$(manual); check_received "$POOL/floor" ;;
      zrecon) t=$(zrecon_restore none); check_received "$POOL/$ZONE" ;;
      verify1st) t=$(zrecon_restore none --verify-first); check_received "$POOL/$ZONE" ;;
      zzrecon) t=$(zrecon_restore zstd); check_received "$POOL/$ZONE" ;;
    esac
    secs[$k]=$t
  done
  clean
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$(IFS=,; echo "${order[*]}")" "${secs[floor]}" \
    "${secs[zrecon]}" "${secs[verify1st]}" "${secs[manual]}" "${secs[zfloor]}" "${secs[zzrecon]}" \
    >>"$WORK/rounds.tsv"
  log "$(printf 'round %d/%d: floor %.2fs, zrecon %.2fs, --verify-first %.2fs, manual %.2fs; zstd: floor %.2fs, zrecon %.2fs' \
    "$n" "$RUNS" "${secs[floor]}" "${secs[zrecon]}" "${secs[verify1st]}" "${secs[manual]}" \
    "${secs[zfloor]}" "${secs[zzrecon]}")"
}

report() {
  "$PY" - "$WORK/rounds.tsv" "$BYTES" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
b = int(sys.argv[2])
print("restore of one zone, chain of 3 streams, %.1f MB; seconds, and ratios to the floor" % (b / 1e6))
head = ("round", "floor", "zrecon", "verify1st", "manual", "zfloor", "zzrecon",
        "z/floor", "v/floor", "m/floor", "zz/zfloor")
print("%-6s" % head[0] + "".join("%10s" % h for h in head[1:]))
cols = []
for r in rows:
    f, z, v, m, zf, zz = map(float, r[2:8])
    vals = [f, z, v, m, zf, zz, z / f, v / f, m / f, zz / zf]
    cols.append(vals)
    print("%-6s" % r[0] + "".join("%10.2f" % x for x in vals))
med = [statistics.median(c[i] for c in cols) for i in range(len(cols[0]))]
print("%-6s" % "median" + "".join("%10.2f" % x for x in med))
print("median floor rate %.0f MB/s; zrecon restore / cat|zfs receive: %.2f (target <= 1.15: %s); "
      "--verify-first / floor %.2f; manual (sha256sum -c, then receive) / floor %.2f; "
      "zstd: zrecon / (zstd -dc | zfs receive) %.2f"
      % (b / med[0] / 1e6, med[6], "met" if med[6] <= 1.15 else "NOT met", med[7], med[8], med[9]))
PY
}

main() {
  [[ -e $BENCH ]] && { log "removing leftovers of an earlier run in $BENCH"; teardown; }
  check_space
  trap teardown EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$BENCH"
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
  bring_up
  TIP_GUID=$("$PY" -c 'import json,sys; m=json.load(open(sys.argv[1]));
print(m["chains"][0]["links"][-1]["guid"])' "$WORK/dest-none/$HOST/$ZONE/manifest.json")
  log "warm-up: one zrecon restore (not measured)"
  clean
  zrecon_restore none >/dev/null
  : >"$WORK/rounds.tsv"
  for n in $(seq 1 "$RUNS"); do round "$n"; done
  machine_line
  echo "load average: $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after"
  echo "zrecon: $ZRECON ($("$ZRECON" --version 2>/dev/null || echo unknown version))"
  report
}

main
