#!/usr/bin/env bash
# Tears down one sandbox host (see docs/sandbox.md): destroys its pool, with
# every simulated zone's datasets, and removes its files (the simulator's
# state included). When it was the last
# host in ZRECON_SANDBOX_DIR, the directory goes too, and the zfs-fuse daemon
# is stopped if sandbox-up.sh started it (or with --stop-daemon), but never
# while any pool (someone else's included) is still imported.
#
# Usage: [ZRECON_SANDBOX_POOL=zones] [ZRECON_SANDBOX_DIR=...] \
#        tools/sandbox-down.sh [--stop-daemon]
#
# Safe to run twice and when nothing is up. A pool of that name that is not
# this sandbox's (another vdev) is left alone.
set -euo pipefail

TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/sandbox-env.sh
. "$TOOLS_DIR/sandbox-env.sh"
# shellcheck source=tools/sandbox-lib.sh
. "$TOOLS_DIR/sandbox-lib.sh"

POOL=$ZRECON_SANDBOX_POOL
DIR=$ZRECON_SANDBOX_DIR
HOST_DIR=$DIR/$POOL

# zpool destroy unmounts everything; zfs-fuse may still call a fresh mount
# busy for a moment, hence the retries.
destroy_pool() {
  local err
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    err=$(zpool destroy -f "$POOL" 2>&1) && return 0
    pool_exists "$POOL" || return 0
    sleep 1
  done
  die "cannot destroy pool $POOL: $err"
}

remove_host() {
  if [[ -n $(daemon_pid) ]] && pool_exists "$POOL"; then
    if is_sandbox_pool "$POOL"; then
      # Destroying the pool takes every zone's datasets with it; deleting
      # the zones one by one first took zfs-fuse ~20 s each (busy mounts).
      log "destroying pool $POOL"
      destroy_pool
      rmdir "/$POOL" 2>/dev/null || true
    else
      log "pool $POOL is not this sandbox's (vdev $(pool_vdev "$POOL")); left alone"
    fi
  elif [[ -f $DIR/$POOL.img && -z $(daemon_pid) ]]; then
    log "zfs-fuse is not running: removing $DIR/$POOL.img without destroying pool $POOL"
  fi
  rm -rf "$HOST_DIR" "$DIR/$POOL.img"
}

other_hosts_left() { compgen -G "$DIR/*.img" >/dev/null; }

maybe_stop_daemon() {
  local stop_requested=$1 pid started_by_us=""
  pid=$(daemon_pid)
  [[ -n $pid ]] || return 0
  [[ -f $DAEMON_MARKER && $(<"$DAEMON_MARKER") == "$pid" ]] && started_by_us=yes
  [[ -n $started_by_us || $stop_requested == yes ]] || return 0
  if [[ -n $(zpool list -H -o name 2>/dev/null) ]]; then
    log "zfs-fuse left running: pools are still imported ($(zpool list -H -o name | tr '\n' ' '))"
    return 0
  fi
  log "stopping zfs-fuse (pid $pid)"
  kill "$pid"
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "zfs-fuse (pid $pid) is still running after 5 s"
}

main() {
  local stop_daemon=no
  case "${1:-}" in
    "") ;;
    --stop-daemon) stop_daemon=yes ;;
    *) echo "usage: $0 [--stop-daemon]" >&2; exit 2 ;;
  esac
  require_root
  if [[ ! -d $DIR ]] && ! { [[ -n $(daemon_pid) ]] && pool_exists "$POOL"; }; then
    log "nothing to tear down for $POOL in $DIR"
    [[ $stop_daemon == no ]] || maybe_stop_daemon yes
    return 0
  fi
  if [[ -d $DIR ]]; then
    exec 9>"$DIR/.lock"
    flock 9
  fi
  remove_host
  if [[ -d $DIR ]] && other_hosts_left; then
    log "host $POOL removed; other hosts remain in $DIR"
    return 0
  fi
  maybe_stop_daemon "$stop_daemon"
  rm -rf "$DIR"
  log "sandbox $DIR removed"
}

main "$@"
