#!/usr/bin/env bash
# An S3 destination against a real S3 implementation (Ceph RADOS Gateway,
# tools/s3-local), started once for this script on 127.0.0.1. On a zfs-fuse
# sandbox host with the vmadm simulator (lib/restore_fixture.sh's drill,
# drill-web holding 72 MiB of random data, so its streams go up in parts):
#  0. the S3 client's own cases against the store (zrecon_unit_tests
#     -tc 's3 store:*': conditional puts, ranges, listing, multipart);
#  1. apply at T0 and T0+1d exports both zones to s3://bucket/<prefix with
#     spaces and shell characters>/<host>/...; `zrecon verify` passes by
#     --destination and by s3:// URL; no unfinished upload is left;
#  2. the restore drill from the store onto a second pool (drill2, which
#     never had the image): drill-web comes back as of T0+1d;
#  3. kill -9 mid-upload (a 72 MiB stream in parts), then a rerun: nothing
#     a manifest names is incomplete, no unfinished upload is left after the
#     rerun, verify passes, no object is unknown to the manifests;
#  4. the store goes away: plan says unreachable with the reason, apply
#     takes the snapshots and keeps the chain tips; it comes back, the next
#     apply exports what was missed;
#  4b. the store stops answering mid-upload (radosgw frozen 25 s) and
#     answers again: the export is sent again, the run succeeds;
#  4c. the store goes away mid-upload for good (radosgw killed): the work on
#     it ends, the rest of the run goes on, the rerun aborts the upload;
#  4d. Ctrl-C (SIGINT to apply's process group) mid-upload: exit 130, the
#     unfinished upload aborted;
#  5. a wrong key and a missing bucket: unreachable, named, no secret shown.
# Skips (77) without root, zfs-fuse, or the ceph packages.
# shellcheck disable=SC2317  # functions called through run() and the EXIT trap
set -uo pipefail

SRC=${ZRECON_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/integration/lib/assert.sh
. "$SRC/tests/integration/lib/assert.sh"
# shellcheck source=tests/integration/lib/apply_fixture.sh
. "$SRC/tests/integration/lib/apply_fixture.sh"
# shellcheck source=tests/integration/lib/restore_fixture.sh
. "$SRC/tests/integration/lib/restore_fixture.sh"
# shellcheck source=tests/integration/lib/s3_fixture.sh
. "$SRC/tests/integration/lib/s3_fixture.sh"

POOL=s3dest
POOL2=s3dest2
DIR=/var/tmp/zrecon-s3dest
BUCKET=zrecon-drill
# shellcheck disable=SC2016  # literally: the prefix must survive any shell
PREFIX='fleet/a b;$(touch pwned)'
DRILL_BLOB_BYTES=$((72 << 20))
WORK_S3_LOG=$(mktemp)
UNIT=${ZRECON_UNIT_TESTS:-$(dirname "$ZRECON")/tests/zrecon_unit_tests}

cleanup() {
  s3_down
  rm -f "$WORK_S3_LOG"
  POOL=$POOL2 _sandbox down >/dev/null 2>&1
  fixture_cleanup
}

fixture_preflight
s3_preflight
trap cleanup EXIT
POOL=$POOL2 _sandbox down >/dev/null 2>&1
s3_up
s3_mkbucket "$BUCKET" || { echo "FAIL: setup: cannot create bucket $BUCKET" >&2; exit 1; }
s3_mkbucket zrecon-test || { echo "FAIL: setup: cannot create bucket zrecon-test" >&2; exit 1; }

# ------------------------------------------------------------ 0. the client
run env S3_TEST_BUCKET=zrecon-test "$UNIT" -tc='s3 store:*'
expect_rc 0
expect_match "$OUT" 'test cases: +6 \| +6 passed' "the S3 client's cases pass against the store ($ERR)"

# Waits (up to 30 s) until drill-web's stream is being uploaded, and says so.
expect_upload_under_way() {
  for _ in $(seq 600); do
    [[ -n $(s3_uploads "$BUCKET" "$PREFIX") ]] && break
    sleep 0.05
  done
  expect_contains "$(s3_uploads "$BUCKET" "$PREFIX")" "$HOSTKEYS$W/" "$1"
}

write_drill_policy() {
  cat >"$POLICY" <<YAML
version: 1
destinations:
  store:
    type: s3
    endpoint: $S3_ENDPOINT
    bucket: $BUCKET
    prefix: $(json_string "$PREFIX")
    path_style: true
policies:
  drill:
    keep: {daily: 7}
    datasets: [zoneroot, cores]
    export:
      - {destination: store, class: daily}
zones:
  - match: {alias: "drill-*"}
    policy: drill
YAML
}

# ------------------------------------------------------------ 1. exports to the store
drill_up
HOSTKEYS="$PREFIX/$(hostname)/"
KEYS=$(s3_keys "$BUCKET" "$HOSTKEYS")
expect_contains "$KEYS" "$HOSTKEYS$W/manifest.json" "the zone manifests are in the store"
expect_contains "$KEYS" "$HOSTKEYS""images/$IMG.zfs" "the image stream is in the store"
expect_eq "$(s3_uploads "$BUCKET" "$PREFIX")" "" "no unfinished upload is left"
expect_eq "$(find / -xdev -name pwned 2>/dev/null)" "" "no key went through a shell"
# The streams uploaded in parts carry zrecon's SHA-256 as a tag, the others
# as metadata (a multipart ETag is no digest).
BIGLINK=$(/usr/bin/python3 "$SRC/tests/integration/lib/s3_query.py" get "$BUCKET" "$HOSTKEYS$W/manifest.json" |
  /usr/bin/python3 -c 'import json, sys
m = json.load(sys.stdin)
links = [l for c in m["chains"] for l in c["links"] if l["stream"]["size"] > (8 << 20)]
print(links[0]["stream"]["file"] + "\t" + links[0]["stream"]["sha256"])' 2>&1)
expect_match "$BIGLINK" $'\t[0-9a-f]{64}$' "a stream of drill-web went up in parts"
expect_eq "$(/usr/bin/python3 "$SRC/tests/integration/lib/s3_query.py" tags "$BUCKET" "$HOSTKEYS${BIGLINK%%	*}")" \
  "sha256	${BIGLINK##*	}" "the multipart object carries the manifest's SHA-256 as a tag"
run "$ZRECON" verify --destination store -f "$POLICY" --json
expect_rc 0
expect_eq "$(/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); h=d["hosts"][0]; print(d["ok"], len(h["zones"]), len(h["unknown_files"]))' <<<"$OUT")" \
  "True 2 0" "verify --destination: both zones verify, no unknown object"
BIG=$(/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(max(c["bytes"] for z in d["hosts"][0]["zones"] for c in z["chains"]))' <<<"$OUT")
expect_match "$BIG" '^[0-9]+$' "the largest chain's size is reported"
(( BIG >= 64 << 20 )) || expect_eq "$BIG" ">= 64 MiB" "drill-web's chain went up in parts (at least 64 MiB)"
run env AWS_ENDPOINT_URL="$S3_ENDPOINT" "$ZRECON" verify --from "s3://$BUCKET/$PREFIX"
expect_rc 0

# ------------------------------------------------------------ 2. restore onto a second pool
POOL=$POOL2 run _sandbox up
expect_rc 0
((RC == 0)) || finish
drill_lose_image "$POOL2"
BEFORE=$(host_state "$POOL")
run on_host "$POOL2" "$ZRECON" restore --destination store -f "$POLICY" --zone drill-web --pool "$POOL2"
if expect_restore_ok "restore from the store on $POOL2"; then
  expect_web_restored "restore from the store on $POOL2" "$POOL2" "$D1"
fi
expect_eq "$(host_state "$POOL")" "$BEFORE" "restore on $POOL2: host $POOL is untouched"
POOL=$POOL2 run _sandbox down

# ------------------------------------------------------------ 3. kill -9 mid-upload
T2D=$(date -u -d "$T0 + 2 days" +%Y-%m-%dT%H:%M:%SZ)
w=$(mountpoint_of "$POOL/$W")/root
head -c $((72 << 20)) /dev/urandom >"$w/srv/data/blob2.bin"
on_host "$POOL" setsid "$ZRECON" apply -f "$POLICY" --now "$T2D" --json >"$WORK/killed.jsonl" 2>"$WORK/killed.err" &
APPLY=$!
fixture_background "$APPLY"
expect_upload_under_way "an upload of drill-web's stream is under way"
kill -9 "$APPLY"
wait "$APPLY" 2>/dev/null
# A request the store had received in full when the client died (a part,
# the completion of the upload) still finishes there: give it time, as the
# kill tests wait for the children a killed apply leaves behind.
sleep 3
run "$ZRECON" verify --destination store -f "$POLICY" --json
expect_eq "$(/usr/bin/python3 -c 'import json,sys
d = json.load(sys.stdin)
h = d["hosts"][0]
print([p for z in h["zones"] for p in z["problems"]] + h["problems"] + h["unknown_files"])' <<<"$OUT")" "[]" \
  "after kill -9: every object a manifest names is complete, none unknown"
run on_host "$POOL" "$ZRECON" apply -f "$POLICY" --now "$T2D"
expect_rc 0
expect_eq "$(s3_uploads "$BUCKET" "$PREFIX")" "" "after the rerun: no unfinished upload is left"
run "$ZRECON" verify --destination store -f "$POLICY" --json
expect_rc 0
expect_eq "$(/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); h=d["hosts"][0]; print(d["ok"], len(h["unknown_files"]), len(h["loose_files"]))' <<<"$OUT")" \
  "True 0 0" "after the rerun: verify passes, no unknown or loose object"
expect_converged "after the rerun" "$T2D"

# ------------------------------------------------------------ 4. the store goes away
s3_stop
T3D=$(date -u -d "$T0 + 3 days" +%Y-%m-%dT%H:%M:%SZ)
S3D=$(date -u -d "$T3D" +%Y%m%dT%H%M%SZ)
run on_host "$POOL" "$ZRECON" plan -f "$POLICY" --now "$T3D"
expect_rc 0
expect_contains "$OUT$ERR" "destination store is unreachable" "store down: plan names it unreachable"
run on_host "$POOL" "$ZRECON" apply -f "$POLICY" --now "$T3D"
expect_rc 0
expect_eq "$(zfs list -H -o name -t snapshot "$POOL/$W@zrecon-daily-$S3D" 2>&1)" \
  "$POOL/$W@zrecon-daily-$S3D" "store down: the snapshot is taken"
s3_start
run on_host "$POOL" "$ZRECON" apply -f "$POLICY" --now "$T3D"
expect_rc 0
expect_converged "store back" "$T3D"
run "$ZRECON" verify --destination store -f "$POLICY"
expect_rc 0

# ------------------------------------------------------------ 4b. the store stops answering, then answers
# radosgw is frozen (SIGSTOP) for 25 s while a 72 MiB stream goes up in
# parts, with --stall-timeout 2: the part's requests time out and are
# retried until the client gives up (about 17 s), the destination waits
# for the store, which answers again, and the stream is sent again: the
# run succeeds, with no unfinished upload left.
T4D=$(date -u -d "$T0 + 4 days" +%Y-%m-%dT%H:%M:%SZ)
head -c $((72 << 20)) /dev/urandom >"$w/srv/data/blob3.bin"
on_host "$POOL" "$ZRECON" apply -f "$POLICY" --now "$T4D" --stall-timeout 2 --json \
  >"$WORK/paused.jsonl" 2>"$WORK/paused.err" &
APPLY=$!
fixture_background "$APPLY"
expect_upload_under_way "store paused: an upload was under way"
s3_rgw_signal STOP
sleep 25
s3_rgw_signal CONT
wait "$APPLY"
expect_eq "$?" 0 "store paused: the apply still succeeds ($(tail -3 "$WORK/paused.err"))"
expect_contains "$(grep '"retried_after"' "$WORK/paused.jsonl")" "--stall-timeout" \
  "store paused: the stalled export was sent again once the store answered"
expect_eq "$(s3_uploads "$BUCKET" "$PREFIX")" "" "store paused: no unfinished upload is left"
run "$ZRECON" verify --destination store -f "$POLICY"
expect_rc 0
expect_converged "store paused" "$T4D"

# ------------------------------------------------------------ 4c. the store goes away mid-run, for good
# radosgw is killed while a stream goes up: the destination is given up
# after its waits, the rest of the work on it is skipped (the other zone's
# snapshot is still taken, no chain tip released); the store is back, and
# the rerun finishes the day and aborts the upload the failure left.
T5D=$(date -u -d "$T0 + 5 days" +%Y-%m-%dT%H:%M:%SZ)
S5D=$(date -u -d "$T5D" +%Y%m%dT%H%M%SZ)
head -c $((72 << 20)) /dev/urandom >"$w/srv/data/blob4.bin"
on_host "$POOL" "$ZRECON" apply -f "$POLICY" --now "$T5D" --json \
  >"$WORK/gone.jsonl" 2>"$WORK/gone.err" &
APPLY=$!
fixture_background "$APPLY"
expect_upload_under_way "store gone: an upload was under way"
s3_rgw_signal KILL
wait "$APPLY"
expect_eq "$?" 1 "store gone: the apply fails"
expect_contains "$(grep '"outcome":"failed"' "$WORK/gone.jsonl")" "is unreachable" \
  "store gone: the export fails, the store named unreachable"
expect_contains "$(grep '"summary"' "$WORK/gone.jsonl")" '"failed_destinations":["store"]' \
  "store gone: the destination is given up"
for z in "$W" "$L"; do
  expect_eq "$(zfs list -H -o name -t snapshot "$POOL/$z@zrecon-daily-$S5D" 2>&1)" \
    "$POOL/$z@zrecon-daily-$S5D" "store gone: $z's snapshot is taken"
done
expect_eq "$(zfs list -H -o name -t snapshot "$POOL/$W@zrecon-daily-$(date -u -d "$T4D" +%Y%m%dT%H%M%SZ)" 2>&1)" \
  "$POOL/$W@zrecon-daily-$(date -u -d "$T4D" +%Y%m%dT%H%M%SZ)" "store gone: the chain tip is kept"
s3_start
expect_contains "$(s3_uploads "$BUCKET" "$PREFIX")" "$HOSTKEYS$W/" "store back: the failed upload is still there"
run on_host "$POOL" "$ZRECON" apply -f "$POLICY" --now "$T5D"
expect_rc 0
expect_eq "$(s3_uploads "$BUCKET" "$PREFIX")" "" "store back: the rerun aborts it"
run "$ZRECON" verify --destination store -f "$POLICY"
expect_rc 0
expect_converged "store back after the failure" "$T5D"

# ------------------------------------------------------------ 4d. Ctrl-C mid-upload
# SIGINT to apply's whole process group, as a terminal's Ctrl-C: the
# unfinished upload is aborted in the store before zrecon exits 130.
T6D=$(date -u -d "$T0 + 6 days" +%Y-%m-%dT%H:%M:%SZ)
head -c $((72 << 20)) /dev/urandom >"$w/srv/data/blob5.bin"
on_host "$POOL" setsid env --default-signal=INT "$ZRECON" apply -f "$POLICY" --now "$T6D" \
  >"$WORK/int.out" 2>&1 &
APPLY=$!
fixture_background "$APPLY"
expect_upload_under_way "Ctrl-C: an upload was under way"
ctrl_c_apply "apply -f $POLICY --now $T6D"
wait "$APPLY"
expect_eq "$?" 130 "Ctrl-C: apply exits 130"
expect_contains "$(cat "$WORK/int.out")" "STOPPED, interrupted by SIGINT" "Ctrl-C: the report says so"
expect_eq "$(s3_uploads "$BUCKET" "$PREFIX")" "" "Ctrl-C: the unfinished upload is aborted in the store"
run on_host "$POOL" "$ZRECON" apply -f "$POLICY" --now "$T6D"
expect_rc 0
run "$ZRECON" verify --destination store -f "$POLICY"
expect_rc 0
expect_converged "after Ctrl-C" "$T6D"

# ------------------------------------------------------------ 5. wrong key, missing bucket
run on_host "$POOL" env AWS_SECRET_ACCESS_KEY=not-the-secret-4321 "$ZRECON" plan -f "$POLICY" --now "$T3D"
expect_contains "$OUT$ERR" "403" "wrong key: the store's refusal is named"
expect_eq "$(grep -c 'not-the-secret-4321' <<<"$OUT$ERR")" 0 "wrong key: the secret is not shown"
sed "s/bucket: $BUCKET/bucket: zrecon-missing/" "$POLICY" >"$WORK/missing.yaml"
run on_host "$POOL" "$ZRECON" plan -f "$WORK/missing.yaml" --now "$T3D"
expect_contains "$OUT$ERR" "the bucket does not exist" "missing bucket: named"

drill_down "$POOL"
finish
