#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang-14, ASan + UBSan) in build-fuzz
# and runs each for SECONDS (default 30) on a copy of its seed corpus, so the
# repository never receives generated inputs. Prints per target the runs,
# coverage and the result; exits 1 when any target crashed, leaked, timed
# out or broke a property, naming the reproducer.
#
#   tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     e.g. tools/fuzz.sh 60 policy manifest
#
# Reproduce a finding:  build-fuzz/fuzz/<target>_fuzzer <reproducer file>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || {
  echo "usage: tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
}
shift $(($# > 0 ? 1 : 0))
all_targets=(policy zfs_list zfs_get vmadm_list vmadm_lookup zone_payload manifest plan_json)
targets=("${@:-${all_targets[@]}}")
for t in "${targets[@]}"; do
  [[ -d fuzz/corpus/$t ]] || { echo "fuzz: unknown target '$t' (${all_targets[*]})" >&2; exit 2; }
done

build=build-fuzz
cxx=$(command -v clang++-14 || command -v clang++ || true)
[[ -n $cxx ]] || { echo "fuzz: clang++ not found (tools/install-deps.sh)" >&2; exit 1; }
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DZRECON_FUZZ=ON -DZRECON_WERROR=ON -DZRECON_BUILD_TESTS=OFF -DZRECON_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"${ZRECON_JOBS:-2}" --target zrecon_fuzzers

symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
[[ -n $symbolizer ]] && export ASAN_SYMBOLIZER_PATH=$symbolizer
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# The value of "stat::NAME: N" in libFuzzer's final statistics, or "?".
stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -1 | grep . || echo "?"; }
# "cov: N ft: N corp: N/S" of the last status line.
progress() { grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*/[0-9]*[a-zA-Z]*' "$1" | tail -1 || true; }

run_dir=$build/run
failed=()
total_runs=0
printf '%-13s %12s  %s\n' target runs "coverage / result"
for t in "${targets[@]}"; do
  dir=$run_dir/$t
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp -R "fuzz/corpus/$t/." "$dir/corpus/"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$dir/artifacts/")
  [[ -f fuzz/$t.dict ]] && args+=(-dict="fuzz/$t.dict")
  log=$dir/fuzz.log
  status=0
  "$build/fuzz/${t}_fuzzer" "${args[@]}" "$dir/corpus" >"$log" 2>&1 || status=$?
  runs=$(stat number_of_executed_units "$log")
  [[ $runs =~ ^[0-9]+$ ]] && total_runs=$((total_runs + runs))
  reproducer=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
  if ((status == 0)) && [[ -z $reproducer ]]; then
    printf '%-13s %12s  %s\n' "$t" "$runs" "$(progress "$log") ok"
    continue
  fi
  failed+=("$t")
  printf '%-13s %12s  %s\n' "$t" "$runs" "FAILED (exit $status), log: $log"
  # The finding: a sanitizer's ERROR and SUMMARY lines, or a fuzz property
  # with its detail line.
  awk '/^==[0-9]+== ?ERROR|^SUMMARY|runtime error/ { print; next }
       /fuzz property failed/ { print; getline; print }' "$log" | head -6 | sed 's/^/    /'
  if [[ -n $reproducer ]]; then
    echo "    reproducer: $reproducer"
    echo "    reproduce:  $build/fuzz/${t}_fuzzer $reproducer"
  fi
done
echo "fuzz: ${#targets[@]} targets x ${seconds}s, $total_runs inputs run in total"
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
