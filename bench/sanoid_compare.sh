#!/usr/bin/env bash
# zrecon and sanoid deciding the same snapshot work on synthetic hosts of
# growing size, side by side in one run. See BENCHMARKS.md, "Planning at
# scale, side by side with sanoid".
#
#   bench/sanoid_compare.sh [--sizes N,N,...] [--runs N] [--zrecon PATH] [--png FILE]
#   (defaults: --sizes 10000,100000,1000000 --runs 5 --zrecon build/zrecon
#    --png docs/sanoid-compare.png; as root only to install missing packages)
#
# Per size (snapshot rows; 4 datasets x 500 snapshots per zone, so a size is
# rounded down to whole zones), in alternating order round by round:
#   zrecon-inventory  zrecon plan --inventory DIR (recorded listings)
#   zrecon-standin    zrecon plan --zfs S/zfs --vmadm S/vmadm --dialect illumos,
#                     where S/zfs and S/vmadm are scripts that print the same
#                     recorded listings (process start and pipes count)
#   sanoid            sanoid --cron --readonly --verbose with an equivalent
#                     sanoid.conf, a stand-in `zfs` first on PATH that prints
#                     `zfs get -Hrpt snapshot creation` of the same timeline,
#                     and an empty cache (it lives 15 minutes; Debian's timer
#                     runs sanoid every 15)
#   sanoid-nobusy     the same with --force-prune, which skips the busy check
#                     (`ps -Ao args=`, one process per snapshot to prune):
#                     sanoid's own work without that per-snapshot process
# Each is timed from spawn to exit: wall time, user+sys CPU of the process
# and of the children it waited for, peak RSS (wait4's rusage, as GNU time
# reports it, at microsecond resolution: bench/sanoid_compare.py measure).
# Before timing, the script checks that zrecon's plan and sanoid's --readonly
# output take and prune the same snapshots (bench/sanoid_compare.py check)
# and stops if they do not; every timed run's output is compared with the
# checked one. Rounds are cut where sanoid is slow: a size at which the
# checked sanoid run (with --force-prune) took over 2 minutes gets at most 3
# rounds, over 10 minutes 1 round (at 1,000,000 rows sanoid with its busy
# checks takes about 12 minutes a run on a loaded 2-vCPU machine).
#
# Synthetic hosts are cached in /var/tmp/zrecon-bench/sanoid-compare (about
# 400 MB per million rows); remove the directory to reclaim the space.
#
# Needs a built zrecon (default build/zrecon). Installs what else it needs
# from Debian when missing (as root): sanoid, python3-matplotlib.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZES=10000,100000,1000000
RUNS=5
ZRECON=$ROOT/build/zrecon
PNG=$ROOT/docs/sanoid-compare.png
usage() {
  echo "usage: $0 [--sizes N,N,...] [--runs N] [--zrecon PATH] [--png FILE]" >&2
  exit 64
}
while (($#)); do
  case $1 in
    --sizes) SIZES=${2:?}; shift 2 ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --zrecon) ZRECON=$(realpath "${2:?}"); shift 2 ;;
    --png) PNG=$(realpath -m "${2:?}"); shift 2 ;;
    *) usage ;;
  esac
done
cd "$ROOT"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive integer, got '$RUNS'" >&2; exit 64; }
[[ $SIZES =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "--sizes must be N,N,..., got '$SIZES'" >&2; exit 64; }
[[ -x $ZRECON ]] || { echo "no zrecon at $ZRECON (build it, or pass --zrecon)" >&2; exit 1; }
missing=()
[[ -x /usr/sbin/sanoid ]] || missing+=(sanoid)
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null || missing+=(python3-matplotlib)
if ((${#missing[@]})); then
  [[ $EUID -eq 0 ]] || { echo "missing Debian packages: ${missing[*]} (run as root to install them)" >&2; exit 1; }
  echo "installing ${missing[*]}" >&2
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

DATASETS=4 SNAPSHOTS=500
NOW=2026-11-26T10:30:00Z
NOW_EPOCH=$(date -u -d "$NOW" +%s)
WORK=/var/tmp/zrecon-bench/sanoid-compare
RESULTS=$WORK/results.tsv
mkdir -p "$WORK"
HELPER=(/usr/bin/python3 "$ROOT/bench/sanoid_compare.py")

# Writes an executable stand-in that prints a recorded file for exactly one
# argv and fails loudly on any other: the tool must ask what it is assumed
# to ask. Every call is logged, so the run's process count is known.
standin() {
  local path=$1 log=$2
  shift 2
  {
    echo '#!/bin/sh'
    echo "printf '%s\\n' \"\$*\" >> '$log'"
    echo 'case "$*" in'
    while (($#)); do
      printf "  '%s') exec cat '%s' ;;\n" "$1" "$2"
      shift 2
    done
    echo 'esac'
    echo "echo \"stand-in \$0: unexpected arguments: \$*\" >&2"
    echo 'exit 2'
  } > "$path"
  chmod +x "$path"
}

host_for() {  # host_for NAMES ZONES -> the host directory, generated when missing or stale
  local dir=$WORK/host-$1-$2
  if [[ ! -f $dir/vmadm-lookup.json || -f $dir/vmadm-list.txt || $ROOT/bench/make_synthetic_host.py -nt $dir/zfs-list.txt ]]; then
    rm -rf "$dir"
    /usr/bin/python3 bench/make_synthetic_host.py "$dir" --zones "$2" --datasets "$DATASETS" \
      --snapshots "$SNAPSHOTS" --names "$1" --now "$NOW" >&2
  fi
  echo "$dir"
}

# run_timed TOOL ROWS ROUND OUT -- argv...: one timed run; appends a result line.
run_timed() {
  local tool=$1 rows=$2 round=$3 out=$4
  shift 5
  local tfile=$WORK/time.txt
  if ! "${HELPER[@]}" measure "$tfile" "$out" -- "$@"; then
    echo "$tool failed (rows $rows, round $round):" >&2
    tail -5 "$out.err" >&2
    exit 1
  fi
  read -r wall user sys rss < "$tfile"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rows" "$tool" "$round" "$wall" "$user" "$sys" "$rss" >> "$RESULTS"
  printf '  %-17s round %d  wall %8.3f s  cpu %8.3f s  rss %6d MiB\n' "$tool" "$round" "$wall" \
    "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" $((rss / 1024))
}

echo "machine: $(nproc) vCPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "zrecon: $ZRECON ($("$ZRECON" --version 2>/dev/null || echo '?')); sanoid: $(dpkg-query -W -f '${Version}' sanoid 2>/dev/null)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'rows\ttool\tround\twall_s\tuser_s\tsys_s\trss_kib\n' > "$RESULTS"

IFS=, read -r -a SIZE_LIST <<< "$SIZES"
for size in "${SIZE_LIST[@]}"; do
  zones=$((size / (DATASETS * SNAPSHOTS)))
  ((zones >= 1)) || { echo "size $size is below one zone ($((DATASETS * SNAPSHOTS)) rows)" >&2; exit 64; }
  zhost=$(host_for zrecon "$zones")
  shost=$(host_for sanoid "$zones")
  rows=$(wc -l < "$shost/zfs-get-creation.txt")
  run=$WORK/run-$zones
  rm -rf "$run"
  mkdir -p "$run/zrecon-bin" "$run/sanoid-bin" "$run/sanoid-cache" "$run/sanoid-run"
  "${HELPER[@]}" configs "$shost" "$run" > /dev/null
  standin "$run/zrecon-bin/zfs" "$run/zrecon-calls.log" \
    "list -H -p -t all -o name,type,origin,creation,guid,createtxg,userrefs,used,zrecon:exported" \
    "$zhost/zfs-list.txt"
  standin "$run/zrecon-bin/vmadm" "$run/zrecon-calls.log" \
    "lookup -j -o uuid,brand,state,image_uuid,zpool,zonename,flexible_disk_size,alias" \
    "$zhost/vmadm-lookup.json"
  standin "$run/sanoid-bin/zfs" "$run/sanoid-calls.log" \
    "get -Hrpt snapshot creation" "$shost/zfs-get-creation.txt"

  zrecon_inventory=("$ZRECON" plan -f "$run/policy.yaml" --inventory "$zhost" --now "$NOW" --json)
  zrecon_standin=("$ZRECON" plan -f "$run/policy.yaml" --zfs "$run/zrecon-bin/zfs"
    --vmadm "$run/zrecon-bin/vmadm" --dialect illumos --now "$NOW" --json)
  # sanoid reads the clock (time, localtime): PinnedClock sets it to --now.
  sanoid=(env TZ=UTC PATH="$run/sanoid-bin:$PATH" PINNED_CLOCK_EPOCH="$NOW_EPOCH"
    perl -I"$ROOT/bench/lib" -MPinnedClock /usr/sbin/sanoid --cron --readonly --verbose
    --configdir "$run/sanoid" --cache-dir "$run/sanoid-cache" --run-dir "$run/sanoid-run")

  sanoid_nobusy=("${sanoid[@]}" --force-prune)

  echo
  echo "== $rows snapshot rows: $zones zones x $DATASETS datasets x $SNAPSHOTS snapshots"
  # Reference outputs, checked once; every timed run must reproduce them.
  "${zrecon_inventory[@]}" > "$run/zrecon.json"
  "${zrecon_standin[@]}" > "$run/zrecon-standin.json"
  rm -rf "$run/sanoid-cache"/*
  "${HELPER[@]}" measure "$run/reference.time" "$run/sanoid.txt" -- "${sanoid_nobusy[@]}"
  read -r ref_wall _ < "$run/reference.time"
  rounds=$RUNS
  if awk -v w="$ref_wall" 'BEGIN { exit !(w > 600) }'; then
    rounds=1
  elif ((RUNS > 3)) && awk -v w="$ref_wall" 'BEGIN { exit !(w > 120) }'; then
    rounds=3
  fi
  ((rounds == RUNS)) ||
    echo "  sanoid --force-prune took ${ref_wall} s for the checked run: $rounds round(s) at this size"
  printf '  check zrecon --inventory vs sanoid: '
  "${HELPER[@]}" check "$run/zrecon.json" "$run/sanoid.txt"
  printf '  check zrecon stand-in vs sanoid:    '
  "${HELPER[@]}" check "$run/zrecon-standin.json" "$run/sanoid.txt"
  : > "$run/zrecon-calls.log"
  : > "$run/sanoid-calls.log"

  candidates=(zrecon-inventory zrecon-standin sanoid sanoid-nobusy)
  for round in $(seq 1 "$rounds"); do
    # Rotate the order every round so no candidate always runs first.
    for k in 0 1 2 3; do
      tool=${candidates[$(((k + round - 1) % 4))]}
      case $tool in
        zrecon-inventory)
          run_timed "$tool" "$rows" "$round" "$run/out.json" -- "${zrecon_inventory[@]}"
          cmp -s "$run/out.json" "$run/zrecon.json" || { echo "$tool: plan differs from the checked one" >&2; exit 1; } ;;
        zrecon-standin)
          run_timed "$tool" "$rows" "$round" "$run/out.json" -- "${zrecon_standin[@]}"
          cmp -s "$run/out.json" "$run/zrecon-standin.json" || { echo "$tool: plan differs from the checked one" >&2; exit 1; } ;;
        sanoid | sanoid-nobusy)
          rm -rf "$run/sanoid-cache"/*
          if [[ $tool == sanoid ]]; then
            run_timed "$tool" "$rows" "$round" "$run/out.txt" -- "${sanoid[@]}"
          else
            run_timed "$tool" "$rows" "$round" "$run/out.txt" -- "${sanoid_nobusy[@]}"
          fi
          # Perl randomises hash order, so sanoid's lines come in any order.
          cmp -s <(sort "$run/out.txt") <(sort "$run/sanoid.txt") ||
            { echo "sanoid: output differs from the checked one" >&2; exit 1; } ;;
      esac
    done
  done
  echo "  stand-in calls per run: zrecon $(($(wc -l < "$run/zrecon-calls.log") / rounds)), sanoid" \
    "$(($(wc -l < "$run/sanoid-calls.log") / rounds / 2)) ($(sort -u "$run/sanoid-calls.log" | tr '\n' ' '))"
  echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  rm -rf "$run"
done

echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
echo
"${HELPER[@]}" report "$RESULTS" "$PNG"
