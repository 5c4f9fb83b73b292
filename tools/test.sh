#!/usr/bin/env bash
# One command, on a fresh Debian 12 machine (as root): install the
# dependencies, start zfs-fuse, then
#   1. build with warnings as errors and run every test (unit, CLI and
#      golden plans, integration on real zfs-fuse);
#   2. build again with ASan + UBSan (build-asan) and run the same suite
#      under it: any sanitizer report or leak fails the test that hit it;
#   3. fuzz every input parser for 30 s (tools/fuzz.sh).
# Stops at the first failing stage and prints how long each stage took.
#
#   tools/test.sh [--quick] [--no-sanitize] [--no-fuzz] [extra ctest arguments, e.g. -R golden]
#     --quick        stage 1 only
#     --no-sanitize  skip stage 2
#     --no-fuzz      skip stage 3
#   ZRECON_BUILD_DIR   stage 1's build directory (default: build)
#   ZRECON_FUZZ_SECONDS  seconds per fuzz target (default: 30)
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=1
fuzz=1
ctest_args=()
for arg in "$@"; do
  case $arg in
    --quick) sanitize=0 fuzz=0 ;;
    --no-sanitize) sanitize=0 ;;
    --no-fuzz) fuzz=0 ;;
    *) ctest_args+=("$arg") ;;
  esac
done
build=${ZRECON_BUILD_DIR:-build}
jobs=$(nproc)

stage_times=()
stage_started=0
stage_name=""
begin() {
  end_stage
  stage_name=$1
  stage_started=$SECONDS
  echo "== test.sh: $stage_name"
}
end_stage() {
  [[ -n $stage_name ]] || return 0
  stage_times+=("$(printf '%-28s %4ds' "$stage_name" $((SECONDS - stage_started)))")
  stage_name=""
}
report() {
  local status=$?
  [[ -n $stage_name ]] && stage_times+=("$(printf '%-28s %4ds  FAILED' "$stage_name" \
    $((SECONDS - stage_started)))")
  echo "== test.sh: stage times (total ${SECONDS}s)"
  printf '   %s\n' "${stage_times[@]}"
  exit "$status"
}
trap report EXIT

run_ctest() { ctest --test-dir "$1" --output-on-failure --timeout 1800 ${ctest_args[@]+"${ctest_args[@]}"}; }

begin "dependencies, zfs-fuse"
tools/install-deps.sh
tools/zfs-fuse-start.sh

begin "build ($build)"
cmake -S . -B "$build" -DZRECON_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j"$jobs"
begin "tests"
run_ctest "$build"

if ((sanitize)); then
  # No -Werror here: GCC documents that -fsanitize can cause false-positive
  # warnings; stage 1 already holds the code to zero warnings.
  begin "build (build-asan)"
  cmake -S . -B build-asan -DZRECON_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DZRECON_BUILD_BENCH=OFF
  cmake --build build-asan -j"$jobs"
  begin "tests under ASan+UBSan"
  symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
  [[ -n $symbolizer ]] && export ASAN_SYMBOLIZER_PATH=$symbolizer
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_ctest build-asan
fi

if ((fuzz)); then
  begin "fuzz"
  ZRECON_JOBS=$jobs tools/fuzz.sh "${ZRECON_FUZZ_SECONDS:-30}"
fi
end_stage
