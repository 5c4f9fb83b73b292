#!/usr/bin/env bash
# Times `zrecon plan --inventory` on a synthetic host (default 500 zones x 4
# datasets x 500 snapshots = 1,000,000 snapshot rows): wall time, CPU time
# and peak memory over several runs, then the stage benchmarks.
#
#   bench/plan_bench.sh [--zones N] [--datasets N] [--snapshots N] [--runs N]
#                       [--baseline ZRECON]
#
# With --baseline, every run times that binary (an older build) right
# before build/zrecon, checks both print the same plan, and the median
# ratio new/old of wall and CPU time is reported: a refactoring must stay
# within noise. Needs a built tree (build/zrecon, build/zrecon_bench) and
# GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
ZONES=500 DATASETS=4 SNAPSHOTS=500 RUNS=5 BASELINE=
while (($#)); do
  case $1 in
    --baseline) BASELINE=$2; shift 2 ;;
    --zones) ZONES=$2; shift 2 ;;
    --datasets) DATASETS=$2; shift 2 ;;
    --snapshots) SNAPSHOTS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    *) echo "usage: $0 [--zones N] [--datasets N] [--snapshots N] [--runs N] [--baseline ZRECON]" >&2
       exit 64 ;;
  esac
done
HOST=/var/tmp/zrecon-bench/host-${ZONES}x${DATASETS}x${SNAPSHOTS}
[[ -f $HOST/zfs-list.txt ]] ||
  bench/make_synthetic_host.py "$HOST" --zones "$ZONES" --datasets "$DATASETS" --snapshots "$SNAPSHOTS"
mkdir -p /var/tmp/zrecon-bench/usb
rows=$(wc -l < "$HOST/zfs-list.txt")
echo "host: $HOST ($rows zfs list rows, $(du -h "$HOST/zfs-list.txt" | cut -f1))"
# time_plan BINARY OUT: one timed plan; prints "wall user sys rss_kib".
time_plan() {
  /usr/bin/time -f "%e %U %S %M" -o /tmp/zrecon-plan-bench.time \
    "$1" plan -f bench/policy.yaml --inventory "$HOST" --now 2026-11-26T10:30:00Z --json > "$2"
  cat /tmp/zrecon-plan-bench.time
}
if [[ -n $BASELINE ]]; then
  echo "run  binary    wall_s  user_s  sys_s  peak_rss_MiB"
  : > /tmp/zrecon-plan-bench.ratios
  for i in $(seq 1 "$RUNS"); do
    read -r ow ou os orss < <(time_plan "$BASELINE" /tmp/zrecon-plan-bench.old.json)
    read -r nw nu ns nrss < <(time_plan build/zrecon /tmp/zrecon-plan-bench.json)
    printf '%3d  baseline  %6s  %6s  %5s  %12d\n' "$i" "$ow" "$ou" "$os" $((orss / 1024))
    printf '%3d  build     %6s  %6s  %5s  %12d\n' "$i" "$nw" "$nu" "$ns" $((nrss / 1024))
    cmp -s /tmp/zrecon-plan-bench.old.json /tmp/zrecon-plan-bench.json ||
      { echo "the two binaries print different plans" >&2; exit 1; }
    echo "$ow $ou $os $nw $nu $ns" >> /tmp/zrecon-plan-bench.ratios
  done
  python3 - /tmp/zrecon-plan-bench.ratios <<'PY'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1])]
wall = statistics.median(r[3] / r[0] for r in rows)
cpu = statistics.median((r[4] + r[5]) / (r[1] + r[2]) for r in rows)
print(f"median ratio build/baseline: wall {wall:.3f}, cpu {cpu:.3f} (same plan in every run)")
PY
else
  echo "run  wall_s  user_s  sys_s  peak_rss_MiB"
  for i in $(seq 1 "$RUNS"); do
    read -r wall user sys rss < <(time_plan build/zrecon /tmp/zrecon-plan-bench.json)
    printf '%3d  %6s  %6s  %5s  %12d\n' "$i" "$wall" "$user" "$sys" $((rss / 1024))
  done
fi
python3 -c "import json; print('plan:', json.load(open('/tmp/zrecon-plan-bench.json'))['summary']['text'])"
if [[ -x build/zrecon_bench ]]; then
  ZRECON_BENCH_HOST=$HOST build/zrecon_bench --benchmark_min_time=1
fi
