# shellcheck shell=bash
# A real OpenSSH sshd for the ssh destination tests, on 127.0.0.1 only, with
# its own host key, a free port, one authorized client key and no password
# or PAM login; every file under SSHD_DIR. Source it after assert.sh, then:
#
#   sshd_preflight   skips (77) without /usr/sbin/sshd or ssh-keygen
#   sshd_up          makes the keys and config, starts sshd; sets SSHD_DIR,
#                    SSHD_PORT and writes SSHD_DIR/ssh, an ssh that uses the
#                    client key and known_hosts (for --from ssh:// URLs)
#   sshd_stop / sshd_start   stop it (the destination goes away) and start
#                    it again on the same port
#   sshd_down        stops it and removes SSHD_DIR (for the EXIT trap)
# shellcheck disable=SC2034  # variables used by the scripts that source this

SSHD_DIR=""
SSHD_PORT=""

sshd_preflight() {
  [[ -x /usr/sbin/sshd ]] || skip "openssh-server is not installed (/usr/sbin/sshd)"
  command -v ssh-keygen >/dev/null || skip "ssh-keygen is not installed"
  command -v ssh >/dev/null || skip "ssh is not installed"
}

_sshd_fail() {
  FAILURES=$((FAILURES + 1))
  echo "FAIL: setup: $*" >&2
  exit 1
}

_free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

sshd_up() {
  SSHD_DIR=$(mktemp -d /tmp/zrecon-sshd.XXXXXX)
  SSHD_PORT=$(_free_port)
  ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/host_key" || _sshd_fail "ssh-keygen (host key)"
  ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/client_key" || _sshd_fail "ssh-keygen (client key)"
  cp "$SSHD_DIR/client_key.pub" "$SSHD_DIR/authorized_keys"
  echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$SSHD_DIR/host_key.pub")" >"$SSHD_DIR/known_hosts"
  cat >"$SSHD_DIR/sshd_config" <<CONF
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $SSHD_DIR/host_key
PidFile $SSHD_DIR/sshd.pid
AuthorizedKeysFile $SSHD_DIR/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
LogLevel ERROR
CONF
  cat >"$SSHD_DIR/ssh" <<SH
#!/bin/sh
exec ssh -i "$SSHD_DIR/client_key" -o IdentitiesOnly=yes -o UserKnownHostsFile="$SSHD_DIR/known_hosts" -o StrictHostKeyChecking=yes "\$@"
SH
  chmod 700 "$SSHD_DIR/ssh"
  chmod 600 "$SSHD_DIR/client_key" "$SSHD_DIR/host_key"
  # sshd's privilege separation directory (Debian makes it in its unit).
  mkdir -p /run/sshd
  sshd_start
}

sshd_start() {
  /usr/sbin/sshd -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log" ||
    _sshd_fail "sshd did not start: $(cat "$SSHD_DIR/sshd.log")"
  local i
  for i in $(seq 50); do
    ssh -i "$SSHD_DIR/client_key" -o IdentitiesOnly=yes -o BatchMode=yes \
      -o UserKnownHostsFile="$SSHD_DIR/known_hosts" -o StrictHostKeyChecking=yes \
      -p "$SSHD_PORT" root@127.0.0.1 -s sftp </dev/null >/dev/null 2>&1 && return 0
    [[ $i == 50 ]] || sleep 0.1
  done
  _sshd_fail "sshd on port $SSHD_PORT does not answer: $(cat "$SSHD_DIR/sshd.log")"
}

sshd_stop() {
  [[ -n $SSHD_DIR && -f $SSHD_DIR/sshd.pid ]] || return 0
  local pid
  pid=$(<"$SSHD_DIR/sshd.pid")
  kill "$pid" 2>/dev/null
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$SSHD_DIR/sshd.pid"
}

_sshd_descendants() {
  local c
  for c in $(pgrep -P "$1"); do
    echo "$c"
    _sshd_descendants "$c"
  done
}

# Kills every session (what sshd forked per connection, and their children)
# as a dropped link would end them; the listener stays up.
sshd_cut_sessions() {
  local pids
  pids=$(_sshd_descendants "$(<"$SSHD_DIR/sshd.pid")")
  # shellcheck disable=SC2086  # one pid per word
  [[ -z $pids ]] || kill -KILL $pids 2>/dev/null
}

sshd_down() {
  [[ -n $SSHD_DIR ]] || return 0
  sshd_stop
  rm -rf "$SSHD_DIR"
  SSHD_DIR=""
}
