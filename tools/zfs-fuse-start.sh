#!/usr/bin/env bash
# Starts the zfs-fuse daemon if it is not running and waits until it
# answers. Exits 0 with a note (and does nothing) when FUSE is unavailable:
# the integration tests then skip themselves.
set -euo pipefail
if ! command -v zfs-fuse >/dev/null; then
  echo "zfs-fuse-start: zfs-fuse is not installed (tools/install-deps.sh)" >&2
  exit 0
fi
if [[ ! -c /dev/fuse ]]; then
  echo "zfs-fuse-start: /dev/fuse is missing; zfs-fuse cannot run here" >&2
  exit 0
fi
if ! pgrep -x zfs-fuse >/dev/null; then
  # A pid file left by a daemon that died with its machine (restart,
  # container snapshot) makes zfs-fuse exit 1 without a word: no daemon
  # runs, so the file is stale by definition.
  rm -f /run/zfs-fuse.pid
  # Mounts of a daemon that is gone answer "Transport endpoint is not
  # connected" and make the new daemon's mounts there fail. Lazily
  # detaching the top of each tree takes its submounts along.
  awk '$3 == "fuse.zfs" { print $2 }' /proc/mounts 2>/dev/null | sort -r |
    while IFS= read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
  if ! zfs-fuse --pidfile /run/zfs-fuse.pid; then
    echo "zfs-fuse-start: zfs-fuse failed to start" >&2
    exit 1
  fi
fi
for _ in $(seq 1 50); do
  zpool list >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "zfs-fuse-start: the zfs-fuse daemon does not answer" >&2
exit 1
