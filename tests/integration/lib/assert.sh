# shellcheck shell=bash
# Assertions for integration test scripts. Source it, then:
#
#   run CMD ARGS...      runs CMD (stdin is the caller's); sets RC, OUT, ERR
#                        (trailing newlines stripped) and OUT_FILE (raw stdout)
#   must CMD ARGS...     a setup step: like run, but if CMD fails it is reported
#                        and the script stops (exit 1; the EXIT trap still runs)
#   expect_rc N          the last run's exit code
#   expect_out TEXT      the last run's stdout, exactly
#   expect_err TEXT      the last run's stderr, exactly
#   expect_eq ACTUAL EXPECTED WHAT
#   expect_match ACTUAL REGEX WHAT     (bash =~, extended regex)
#   expect_contains ACTUAL NEEDLE WHAT
#   lines A B ...        prints its arguments one per line, no trailing newline
#   json_string S        S as a JSON string, which YAML reads as a quoted scalar
#   skip REASON          exits 77 (ctest's SKIP_RETURN_CODE)
#   finish               prints the summary; exits 1 if anything failed
#   assert_cleanup       removes the temporary files (call it from an EXIT trap)
#
# A failed expectation is reported with the script line and the last command,
# and the script carries on, so one run shows every failure.

FAILURES=0
CHECKS=0
LAST_CMD=""
_ASSERT_DIR=$(mktemp -d)
OUT_FILE=$_ASSERT_DIR/out

assert_cleanup() { rm -rf "$_ASSERT_DIR"; }

skip() {
  echo "SKIP: $*"
  assert_cleanup
  exit 77
}

run() {
  LAST_CMD="$*"
  "$@" >"$OUT_FILE" 2>"$_ASSERT_DIR/err"
  RC=$?
  OUT=$(<"$OUT_FILE")
  ERR=$(<"$_ASSERT_DIR/err")
}

must() {
  run "$@"
  ((RC == 0)) && return 0
  FAILURES=$((FAILURES + 1))
  {
    echo "FAIL (line ${BASH_LINENO[0]}): setup step failed with exit code $RC: $*"
    [[ -n $ERR ]] && echo "  stderr: $ERR"
    echo "FAILED: stopped after $CHECKS checks, at a setup step the rest depends on"
  } >&2
  exit 1
}

json_string() { /usr/bin/python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$1"; }

lines() {
  local IFS=$'\n'
  printf '%s' "$*"
}

# Where the failed expectation is: its line, and when it sits in a sourced
# helper, that file and the line of the test script that called into it.
_where() {
  local top=$((${#BASH_SOURCE[@]} - 1)) file=${BASH_SOURCE[3]}
  if [[ $file == "${BASH_SOURCE[top]}" ]]; then
    echo "line ${BASH_LINENO[2]}"
  else
    echo "line ${BASH_LINENO[2]} of ${file##*/}, called from line ${BASH_LINENO[top - 1]}"
  fi
}

_fail() {
  local what=$1 expected=$2 actual=$3
  FAILURES=$((FAILURES + 1))
  {
    echo "FAIL ($(_where)): $what"
    [[ -n $LAST_CMD ]] && echo "  last command: $LAST_CMD"
    echo "  expected: $(printf '%q' "$expected")"
    echo "  actual:   $(printf '%q' "$actual")"
    if [[ $expected == *$'\n'* || $actual == *$'\n'* ]]; then
      diff <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") | sed 's/^/  /'
    fi
  } >&2
}

expect_eq() {
  CHECKS=$((CHECKS + 1))
  [[ $1 == "$2" ]] || _fail "$3" "$2" "$1"
}

expect_match() {
  CHECKS=$((CHECKS + 1))
  [[ $1 =~ $2 ]] || _fail "$3 (regex)" "$2" "$1"
}

expect_contains() {
  CHECKS=$((CHECKS + 1))
  [[ $1 == *"$2"* ]] || _fail "$3 (substring)" "$2" "$1"
}

expect_rc() {
  CHECKS=$((CHECKS + 1))
  [[ $RC == "$1" ]] || _fail "exit code (stderr: $ERR)" "$1" "$RC"
}

expect_out() {
  CHECKS=$((CHECKS + 1))
  [[ $OUT == "$1" ]] || _fail "stdout" "$1" "$OUT"
}

expect_err() {
  CHECKS=$((CHECKS + 1))
  [[ $ERR == "$1" ]] || _fail "stderr" "$1" "$ERR"
}

finish() {
  assert_cleanup
  if ((FAILURES > 0)); then
    echo "FAILED: $FAILURES of $CHECKS checks" >&2
    exit 1
  fi
  echo "PASS: $CHECKS checks"
  exit 0
}
