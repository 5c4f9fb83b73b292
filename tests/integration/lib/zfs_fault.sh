#!/bin/sh
# A `zfs` that runs the real one but fails one chosen call, for fault tests
# (leveldb's ErrorEnv, as a command). Install a copy as an executable file and
# pass it as `zrecon apply --zfs FILE`. Environment:
#
#   ZFS_FAULT_REAL           the real zfs binary (required)
#   ZFS_FAULT_SUBCOMMAND     the subcommand to fail (send, destroy, ...); unset:
#                            every call passes through
#   ZFS_FAULT_NTH            which call of that subcommand fails, from 1
#   ZFS_FAULT_COUNTER        file counting the calls of that subcommand
#                            (created on first use; remove it to start over)
#   ZFS_FAULT_PARTIAL_BYTES  for a failing send: copy this many bytes of the
#                            real stream to stdout first, so the export sees a
#                            truncated stream rather than an empty one
#   ZFS_FAULT_HOW            fail (the default) or pause: the call (after
#                            its partial bytes, for a send) writes its pid to
#                            $ZFS_FAULT_GATE.started and waits, reading
#                            nothing, until $ZFS_FAULT_GATE.open exists; then
#                            it runs the real command, or fails as above if
#                            it already wrote partial bytes
#   ZFS_FAULT_GATE           for pause: the path prefix of those two files
#
# The failing call prints "zfs_fault: injected failure of zfs <subcommand>
# call N" on stderr and exits 1. Calls of other subcommands never count.

real=${ZFS_FAULT_REAL:?zfs_fault: ZFS_FAULT_REAL is not set}
if [ -z "${ZFS_FAULT_SUBCOMMAND:-}" ] || [ "${1:-}" != "$ZFS_FAULT_SUBCOMMAND" ]; then
  exec "$real" "$@"
fi
counter=${ZFS_FAULT_COUNTER:?zfs_fault: ZFS_FAULT_COUNTER is not set}
nth=${ZFS_FAULT_NTH:?zfs_fault: ZFS_FAULT_NTH is not set}

# One increment at a time, even if zrecon ever runs commands concurrently.
call=$(
  flock 8
  n=$(($(cat "$counter" 2>/dev/null || echo 0) + 1))
  echo "$n" >"$counter"
  echo "$n"
) 8>>"$counter.lock"

if [ "$call" -ne "$nth" ]; then
  exec "$real" "$@"
fi
if [ "$1" = send ] && [ -n "${ZFS_FAULT_PARTIAL_BYTES:-}" ]; then
  # zfs's own complaint about the closed pipe would hide the injected one.
  "$real" "$@" 2>/dev/null | head -c "$ZFS_FAULT_PARTIAL_BYTES"
fi
if [ "${ZFS_FAULT_HOW:-fail}" = pause ]; then
  gate=${ZFS_FAULT_GATE:?zfs_fault: ZFS_FAULT_GATE is not set}
  echo $$ >"$gate.started.tmp" && mv "$gate.started.tmp" "$gate.started"
  while [ ! -e "$gate.open" ]; do sleep 0.1; done
  if [ "$1" != send ] || [ -z "${ZFS_FAULT_PARTIAL_BYTES:-}" ]; then exec "$real" "$@"; fi
fi
echo "zfs_fault: injected failure of zfs $1 call $call" >&2
exit 1
