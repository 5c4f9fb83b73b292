#!/usr/bin/env bash
# An ssh destination against a real OpenSSH sshd, started here on 127.0.0.1
# with its own host key, port and authorized key, writing to a directory on
# this machine whose name is hostile to any shell (spaces, quotes, $(...),
# ;, a newline would be refused by the policy). On a zfs-fuse sandbox host
# with the vmadm simulator (lib/restore_fixture.sh's drill):
#  1. apply at T0 and T0+1d exports both zones over ssh: the catalog checks
#     of the drill hold on the remote files; nothing ran the names through a
#     shell (no file "pwned" appears anywhere);
#  2. `zrecon verify` passes, by --destination (the policy's key and
#     known_hosts) and by ssh:// URL (ssh's own configuration);
#  3. drill-web and its image are lost; `zrecon restore --destination`
#     brings it back from the remote, streamed into zfs receive;
#  4. sshd stops: plan and apply go on without the destination (snapshots
#     taken, no export, the chain tip kept, the reason named); sshd is back
#     and the next apply exports what was missed;
#  5. kill -9 while a 64 MiB stream is being written to the remote: every
#     file a manifest names is complete; the rerun leaves no temporary file,
#     passes the catalog checks and converges;
#  5b. the ssh session is cut mid-upload (sshd's session processes killed,
#     the listener up): zrecon reconnects and sends the stream again; the
#     run succeeds with nothing left behind;
#  5c. Ctrl-C (SIGINT to apply's process group) mid-upload: exit 130, the
#     temporary file removed from the remote (ssh has a group of its own);
#  6. a policy with a key sshd does not know: the destination is
#     unreachable, "Permission denied" named, no secret printed.
# Skips (77) without root, zfs-fuse or openssh-server.
# shellcheck disable=SC2317  # functions called through run() and the EXIT trap
set -uo pipefail

SRC=${ZRECON_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/integration/lib/assert.sh
. "$SRC/tests/integration/lib/assert.sh"
# shellcheck source=tests/integration/lib/apply_fixture.sh
. "$SRC/tests/integration/lib/apply_fixture.sh"
# shellcheck source=tests/integration/lib/restore_fixture.sh
. "$SRC/tests/integration/lib/restore_fixture.sh"
# shellcheck source=tests/integration/lib/sshd_fixture.sh
. "$SRC/tests/integration/lib/sshd_fixture.sh"

POOL=sshdest
DIR=/var/tmp/zrecon-sshdest
# shellcheck disable=SC2016  # literally: the name must survive any shell
DRILL_DESTINATION_DIR='off site;$(touch pwned) `touch pwned2` '"'"'q"'

cleanup() {
  sshd_down
  fixture_cleanup
}

fixture_preflight
sshd_preflight
trap cleanup EXIT
sshd_up

# Waits (up to 30 s) until a stream's temporary file is on the remote, and
# says so.
expect_stream_being_written() {
  for _ in $(seq 600); do
    [[ -n $(find "$HOSTDIR" -name '.tmp*' 2>/dev/null) ]] && break
    sleep 0.05
  done
  expect_match "$(find "$HOSTDIR" -name '.tmp*' 2>/dev/null)" '\.tmp\.' "$1"
}

write_drill_policy() {
  cat >"$POLICY" <<YAML
version: 1
destinations:
  offsite:
    type: ssh
    host: 127.0.0.1
    port: $SSHD_PORT
    user: root
    path: $(json_string "$USB")
    identity: $SSHD_DIR/client_key
    known_hosts: $SSHD_DIR/known_hosts
policies:
  drill:
    keep: {daily: 7}
    datasets: [zoneroot, cores]
    export:
      - {destination: offsite, class: daily}
zones:
  - match: {alias: "drill-*"}
    policy: drill
YAML
}

# ------------------------------------------------------------ 1. exports over ssh
drill_up
expect_eq "$(find / -xdev \( -name pwned -o -name pwned2 \) 2>/dev/null)" "" \
  "no name went through a shell: no pwned file anywhere"
expect_catalog_sound "exports over ssh"
expect_eq "$(ls -A "$USB")" "$(hostname)" "the remote directory holds this host's directory only"

# ------------------------------------------------------------ 2. verify
run "$ZRECON" verify --destination offsite -f "$POLICY"
expect_rc 0
expect_contains "$OUT" "OK" "verify --destination: passes"
URL="ssh://root@127.0.0.1:$SSHD_PORT$USB"
run env ZRECON_SSH="$SSHD_DIR/ssh" "$ZRECON" verify --from "$URL" --json
expect_rc 0
expect_eq "$(/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ok"], len(d["hosts"][0]["zones"]))' <<<"$OUT")" \
  "True 2" "verify --from ssh://...: both zones verify"

# ------------------------------------------------------------ 3. restore from the remote
drill_lose_zone "$POOL" "$W"
drill_lose_image "$POOL" "$IMG"
run on_host "$POOL" "$ZRECON" restore --destination offsite -f "$POLICY" --zone drill-web
if expect_restore_ok "restore drill-web over ssh"; then
  expect_web_restored "restore drill-web over ssh" "$POOL" "$D1"
fi

# ------------------------------------------------------------ 4. sshd goes away
sshd_stop
T2D=$(date -u -d "$T0 + 2 days" +%Y-%m-%dT%H:%M:%SZ)
run on_host "$POOL" "$ZRECON" plan -f "$POLICY" --now "$T2D"
expect_rc 0
expect_contains "$OUT" "offsite" "plan without sshd: the destination is named"
expect_contains "$OUT$ERR" "unreachable" "plan without sshd: it is unreachable"
expect_contains "$OUT$ERR" "Connection refused" "plan without sshd: ssh's reason is given"
BEFORE=$(catalog links "$W" "root/$S0")
run on_host "$POOL" "$ZRECON" apply -f "$POLICY" --now "$T2D"
expect_rc 0
expect_eq "$(zfs list -H -o name -t snapshot "$POOL/$W@zrecon-daily-$(date -u -d "$T2D" +%Y%m%dT%H%M%SZ)" 2>&1)" \
  "$POOL/$W@zrecon-daily-$(date -u -d "$T2D" +%Y%m%dT%H%M%SZ)" "apply without sshd: the snapshot is taken"
expect_eq "$(catalog links "$W" "root/$S0")" "$BEFORE" "apply without sshd: nothing exported"
expect_eq "$(zfs list -H -o name -t snapshot "$POOL/$W@$D1" 2>&1)" "$POOL/$W@$D1" \
  "apply without sshd: the chain tip is kept"
sshd_start
run on_host "$POOL" "$ZRECON" apply -f "$POLICY" --now "$T2D"
expect_rc 0
expect_eq "$(catalog links "$W" "root/$S0" | wc -l)" 3 "sshd back: the missed export is made"
expect_catalog_sound "sshd back"
expect_converged "sshd back" "$T2D"

# ------------------------------------------------------------ 5. kill -9 mid-upload
# A stream of 64 MiB more, killed once its temporary file is on the remote;
# the rerun finishes the day and leaves nothing behind.
T3D=$(date -u -d "$T0 + 3 days" +%Y-%m-%dT%H:%M:%SZ)
w=$(mountpoint_of "$POOL/$W")/root
head -c $((64 << 20)) /dev/urandom >"$w/srv/data/blob2.bin"
on_host "$POOL" setsid "$ZRECON" apply -f "$POLICY" --now "$T3D" >"$WORK/killed.out" 2>&1 &
APPLY=$!
fixture_background "$APPLY"
expect_stream_being_written "kill -9: a stream was being written when the apply was killed"
kill -9 "$APPLY"
wait "$APPLY" 2>/dev/null
sleep 1
run "$ZRECON" verify --destination offsite -f "$POLICY" --json
expect_eq "$(/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ok"])' <<<"$OUT")" True \
  "after kill -9: every file a manifest names is complete"
run on_host "$POOL" "$ZRECON" apply -f "$POLICY" --now "$T3D"
expect_rc 0
expect_eq "$(find "$HOSTDIR" -name '.tmp*')" "" "after the rerun: no temporary file on the remote"
expect_catalog_sound "after the rerun"
expect_converged "after the rerun" "$T3D"

# ------------------------------------------------------------ 5b. the session is cut mid-upload
# sshd's session processes are killed while a 64 MiB stream is on its way
# (the listener stays): zrecon reconnects, removes the stopped upload's
# temporary file, sends the stream again, and the day completes in that run.
T4D=$(date -u -d "$T0 + 4 days" +%Y-%m-%dT%H:%M:%SZ)
head -c $((64 << 20)) /dev/urandom >"$w/srv/data/blob3.bin"
on_host "$POOL" "$ZRECON" apply -f "$POLICY" --now "$T4D" --json >"$WORK/cut.out" 2>&1 &
APPLY=$!
fixture_background "$APPLY"
expect_stream_being_written "session cut: a stream was being written when the session was cut"
sshd_cut_sessions
wait "$APPLY"
expect_eq "$?" 0 "session cut: the apply still succeeds"
expect_contains "$(grep '"retried_after"' "$WORK/cut.out")" "the ssh session is lost" \
  "session cut: the failed export was sent again after reconnecting"
expect_eq "$(grep -c '"outcome":"failed"' "$WORK/cut.out")" 0 "session cut: no action failed"
expect_eq "$(find "$HOSTDIR" -name '.tmp*')" "" "session cut: no temporary file on the remote"
expect_catalog_sound "session cut"
expect_converged "session cut" "$T4D"

# ------------------------------------------------------------ 5c. Ctrl-C mid-upload
# SIGINT to apply's whole process group, as a terminal's Ctrl-C: ssh runs in
# a group of its own, so the session outlives it and the stopped upload's
# temporary file is removed from the remote before zrecon exits 130.
T5D=$(date -u -d "$T0 + 5 days" +%Y-%m-%dT%H:%M:%SZ)
head -c $((64 << 20)) /dev/urandom >"$w/srv/data/blob4.bin"
on_host "$POOL" setsid env --default-signal=INT "$ZRECON" apply -f "$POLICY" --now "$T5D" \
  >"$WORK/int.out" 2>&1 &
APPLY=$!
fixture_background "$APPLY"
expect_stream_being_written "Ctrl-C: a stream was being written"
ctrl_c_apply "apply -f $POLICY --now $T5D"
wait "$APPLY"
expect_eq "$?" 130 "Ctrl-C: apply exits 130"
expect_contains "$(cat "$WORK/int.out")" "STOPPED, interrupted by SIGINT" "Ctrl-C: the report says so"
expect_eq "$(find "$HOSTDIR" -name '.tmp*')" "" \
  "Ctrl-C: the stopped upload's temporary file is removed from the remote"
run on_host "$POOL" "$ZRECON" apply -f "$POLICY" --now "$T5D"
expect_rc 0
expect_catalog_sound "after Ctrl-C"
expect_converged "after Ctrl-C" "$T5D"

# ------------------------------------------------------------ 6. a key sshd does not know
ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/stranger_key"
sed "s|$SSHD_DIR/client_key|$SSHD_DIR/stranger_key|" "$POLICY" >"$WORK/stranger.yaml"
run on_host "$POOL" "$ZRECON" plan -f "$WORK/stranger.yaml" --now "$T2D"
expect_contains "$OUT$ERR" "Permission denied" "wrong key: ssh's refusal is named"
expect_eq "$(grep -c -e 'PRIVATE KEY' <<<"$OUT$ERR")" 0 "wrong key: no key material is printed"

drill_down "$POOL"
finish
