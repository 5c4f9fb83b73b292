#!/usr/bin/env bash
# Times `zrecon plan --inventory` on a synthetic host (default 500 zones x 4
# datasets x 500 snapshots = 1,000,000 snapshot rows): wall time, CPU time
# and peak memory over several runs, then the stage benchmarks.
#
#   bench/plan_bench.sh [--zones N] [--datasets N] [--snapshots N] [--runs N]
#
# Needs a built tree (build/zrecon, build/zrecon_bench) and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
ZONES=500 DATASETS=4 SNAPSHOTS=500 RUNS=5
while (($#)); do
  case $1 in
    --zones) ZONES=$2; shift 2 ;;
    --datasets) DATASETS=$2; shift 2 ;;
    --snapshots) SNAPSHOTS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    *) echo "usage: $0 [--zones N] [--datasets N] [--snapshots N] [--runs N]" >&2; exit 64 ;;
  esac
done
HOST=/var/tmp/zrecon-bench/host-${ZONES}x${DATASETS}x${SNAPSHOTS}
[[ -f $HOST/zfs-list.txt ]] ||
  bench/make_synthetic_host.py "$HOST" --zones "$ZONES" --datasets "$DATASETS" --snapshots "$SNAPSHOTS"
mkdir -p /var/tmp/zrecon-bench/usb
rows=$(wc -l < "$HOST/zfs-list.txt")
echo "host: $HOST ($rows zfs list rows, $(du -h "$HOST/zfs-list.txt" | cut -f1))"
echo "run  wall_s  user_s  sys_s  peak_rss_MiB"
for i in $(seq 1 "$RUNS"); do
  /usr/bin/time -f "%e %U %S %M" -o /tmp/zrecon-plan-bench.time \
    build/zrecon plan -f bench/policy.yaml --inventory "$HOST" --now 2026-11-26T10:30:00Z \
    --json > /tmp/zrecon-plan-bench.json
  read -r wall user sys rss < /tmp/zrecon-plan-bench.time
  printf '%3d  %6s  %6s  %5s  %12d\n' "$i" "$wall" "$user" "$sys" $((rss / 1024))
done
python3 -c "import json; print('plan:', json.load(open('/tmp/zrecon-plan-bench.json'))['summary']['text'])"
if [[ -x build/zrecon_bench ]]; then
  ZRECON_BENCH_HOST=$HOST build/zrecon_bench --benchmark_min_time=1
fi
