# shellcheck shell=bash
# A real S3 store for the S3 destination tests: Ceph RADOS Gateway on a
# one-node cluster (tools/s3-local/start.sh), on 127.0.0.1 only, started once
# per script. Source it after assert.sh, then:
#
#   s3_preflight     skips (77) without the ceph packages (radosgw, ceph-mon,
#                    ceph-osd) or curl
#   s3_up            starts the store; exports S3_ENDPOINT, AWS_ACCESS_KEY_ID,
#                    AWS_SECRET_ACCESS_KEY
#   s3_stop / s3_start   the store goes away, and comes back on its data
#   s3_down          stops it and removes its data (for the EXIT trap)
#   s3_mkbucket NAME creates a bucket
#   s3_uploads BUCKET PREFIX   the unfinished multipart uploads (key<TAB>id)
#   s3_keys BUCKET PREFIX      the keys below PREFIX, sorted
# shellcheck disable=SC2034  # variables used by the scripts that source this

S3_DIR=""
S3_PORT=""

s3_preflight() {
  local c
  for c in radosgw ceph-mon ceph-osd curl uuidgen; do
    command -v "$c" >/dev/null || skip "$c is not installed (tools/install-deps.sh installs the ceph packages)"
  done
}

s3_up() {
  S3_DIR=/var/tmp/zrecon-s3-$POOL
  S3_PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$SRC/tools/s3-local/stop.sh" "$S3_DIR" --purge >/dev/null 2>&1
  local env
  env=$(MON_PORT=$((S3_PORT + 1)) "$SRC/tools/s3-local/start.sh" "$S3_PORT" "$S3_DIR" 2>"$WORK_S3_LOG") || {
    FAILURES=$((FAILURES + 1))
    echo "FAIL: setup: the S3 store did not start: $(tail -5 "$WORK_S3_LOG")" >&2
    exit 1
  }
  eval "$env"
  export S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
}

s3_stop() { "$SRC/tools/s3-local/stop.sh" "$S3_DIR" >/dev/null 2>&1; }

s3_start() {
  MON_PORT=$((S3_PORT + 1)) "$SRC/tools/s3-local/start.sh" "$S3_PORT" "$S3_DIR" >/dev/null 2>>"$WORK_S3_LOG"
}

# Sends a signal to the radosgw alone (STOP: the store stops answering,
# CONT: it answers again, KILL: it is gone); mon and osd stay up.
s3_rgw_signal() { kill "-$1" "$(<"$S3_DIR/run/rgw.pid")"; }

s3_down() {
  [[ -n $S3_DIR ]] || return 0
  "$SRC/tools/s3-local/stop.sh" "$S3_DIR" --purge >/dev/null 2>&1
  S3_DIR=""
}

_s3_query() { /usr/bin/python3 "$SRC/tests/integration/lib/s3_query.py" "$@"; }
s3_mkbucket() { _s3_query mkbucket "$1"; }
s3_uploads() { _s3_query uploads "$1" "$2"; }
s3_keys() { _s3_query keys "$1" "$2"; }
