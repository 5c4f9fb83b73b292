#!/usr/bin/env bash
# Before/after of a planner change: `zrecon plan --inventory` of two builds
# on the same synthetic host (default 1,000,000 snapshot rows), side by side,
# in alternating order round by round. Fails unless both print the same plan
# byte for byte, since an optimisation must not change a decision.
#
#   bench/plan_ab.sh BEFORE_ZRECON AFTER_ZRECON [--runs N] [--zones N] [--policy FILE]
#
# Prints every round, then the medians of wall time, CPU time (user + sys)
# and peak RSS, and after/before ratios. Needs GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() {
  echo "usage: $0 BEFORE_ZRECON AFTER_ZRECON [--runs N] [--zones N] [--policy FILE]" >&2
  exit 64
}
(($# >= 2)) || usage
BEFORE=$(realpath "$1") AFTER=$(realpath "$2")
shift 2
RUNS=7 ZONES=500 POLICY=bench/policy.yaml
while (($#)); do
  case $1 in
    --runs) RUNS=${2:?}; shift 2 ;;
    --zones) ZONES=${2:?}; shift 2 ;;
    --policy) POLICY=${2:?}; shift 2 ;;
    *) usage ;;
  esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ && $ZONES =~ ^[1-9][0-9]*$ ]] || usage
for z in "$BEFORE" "$AFTER"; do [[ -x $z ]] || { echo "not executable: $z" >&2; exit 1; }; done
HOST=/var/tmp/zrecon-bench/host-${ZONES}x4x500
[[ -f $HOST/zfs-list.txt && $HOST/zfs-list.txt -nt bench/make_synthetic_host.py ]] ||
  /usr/bin/python3 bench/make_synthetic_host.py "$HOST" --zones "$ZONES" >&2
mkdir -p /var/tmp/zrecon-bench/usb
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

echo "host: $HOST ($(wc -l < "$HOST/zfs-list.txt") rows); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "round  build   wall_s  cpu_s  rss_MiB"
for round in $(seq 1 "$RUNS"); do
  order=(before after)
  ((round % 2)) || order=(after before)
  for which in "${order[@]}"; do
    bin=$BEFORE
    [[ $which == after ]] && bin=$AFTER
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/time" "$bin" plan -f "$POLICY" --inventory "$HOST" \
      --now 2026-11-26T10:30:00Z --json > "$OUT/$which.json"
    read -r wall user sys rss < "$OUT/time"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    printf '%5d  %-6s %7s %6s %8d\n' "$round" "$which" "$wall" "$cpu" $((rss / 1024))
    printf '%s %s %s %s\n' "$which" "$wall" "$cpu" "$rss" >> "$OUT/results"
  done
  cmp -s "$OUT/before.json" "$OUT/after.json" ||
    { echo "the two builds print different plans" >&2; exit 1; }
done
awk '
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { n[$1]++; w[$1, n[$1]] = $2; c[$1, n[$1]] = $3; r[$1, n[$1]] = $4 / 1024 }
  END {
    for (k in n) {
      for (i = 1; i <= n[k]; i++) { x[i] = w[k, i]; y[i] = c[k, i]; z[i] = r[k, i] }
      mw[k] = median(x, n[k]); mc[k] = median(y, n[k]); mr[k] = median(z, n[k])
    }
    printf "median before: wall %.2f s, cpu %.2f s, rss %.0f MiB\n", mw["before"], mc["before"], mr["before"]
    printf "median after:  wall %.2f s, cpu %.2f s, rss %.0f MiB\n", mw["after"], mc["after"], mr["after"]
    printf "after/before:  wall %.2f, cpu %.2f, rss %.2f\n", mw["after"] / mw["before"], mc["after"] / mc["before"], mr["after"] / mr["before"]
  }' "$OUT/results"
echo "plans identical in every round; load average $(cut -d' ' -f1-3 /proc/loadavg)"
