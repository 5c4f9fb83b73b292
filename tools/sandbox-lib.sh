# shellcheck shell=bash
# Helpers shared by sandbox-up.sh and sandbox-down.sh; not meant for
# interactive shells. Expects sandbox-env.sh to have been sourced.

ZFS_FUSE_PIDFILE=/run/zfs-fuse.pid
# shellcheck disable=SC2034  # used by sandbox-up.sh and sandbox-down.sh
DAEMON_MARKER=$ZRECON_SANDBOX_DIR/zfs-fuse.started-by-sandbox

log() { echo "sandbox: $*" >&2; }
die() { echo "sandbox: error: $*" >&2; exit 1; }

require_root() {
  [[ $EUID -eq 0 ]] || die "must run as root (zfs-fuse and zpool need it)"
}

# Pid of the running zfs-fuse daemon, whoever started it; empty if none.
daemon_pid() {
  local pid
  if [[ -r $ZFS_FUSE_PIDFILE ]]; then
    pid=$(<"$ZFS_FUSE_PIDFILE")
    if [[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null) == zfs-fuse ]]; then
      echo "$pid"
      return
    fi
  fi
  pgrep -x zfs-fuse | head -n 1 || true
}

pool_exists() { zpool list -H -o name "$1" >/dev/null 2>&1; }

# The file vdev a pool was created on (sandbox pools have exactly one).
pool_vdev() { zpool status "$1" 2>/dev/null | awk '$1 ~ /^\// { print $1; exit }'; }

is_sandbox_pool() { [[ $(pool_vdev "$1") == "$ZRECON_SANDBOX_DIR/$1.img" ]]; }

ds_exists() { zfs list -H -t all -o name "$1" >/dev/null 2>&1; }

# Unmounts a dataset and its mounted descendants, deepest mountpoint first.
unmount_tree() {
  zfs list -H -r -o mounted,mountpoint,name "$1" 2>/dev/null |
    awk -F'\t' '$1 == "yes" { print length($2) "\t" $3 }' | sort -rn | cut -f2 |
    while read -r ds; do zfs umount "$ds" 2>/dev/null || true; done
}

# zfs destroy -r with the zfs-fuse workaround: a fresh mount reports "dataset
# is busy" for a few seconds; unmounting first clears it.
destroy_dataset() {
  local ds=$1 err
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    ds_exists "$ds" || return 0
    err=$(zfs destroy -r "$ds" 2>&1) && return 0
    [[ $err == *busy* ]] || break
    unmount_tree "$ds"
    sleep 0.5
  done
  die "cannot destroy $ds: $err"
}

# zfs rename with the same busy workaround (rename remounts the dataset).
rename_dataset() {
  local from=$1 to=$2 err
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    unmount_tree "$from"
    err=$(zfs rename "$from" "$to" 2>&1) && return 0
    [[ $err == *busy* ]] || break
    sleep 0.5
  done
  die "cannot rename $from to $to: $err"
}

# zfs mount, retried while zfs-fuse still reports the mountpoint busy.
mount_dataset() {
  local ds=$1
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    [[ $(zfs get -H -o value mounted "$ds") == yes ]] && return 0
    zfs mount "$ds" 2>/dev/null && return 0
    sleep 0.5
  done
  die "cannot mount $ds"
}
