#!/bin/sh
# A `zfs` that runs the real one but SIGKILLs the process that ran it (zrecon)
# at the Nth call of one subcommand, for kill tests: a kill -9 at a chosen
# moment rather than a random one. Install a copy as an executable file and
# pass it as `zrecon apply --zfs FILE`. Environment:
#
#   ZFS_KILL_REAL        the real zfs binary (required)
#   ZFS_KILL_SUBCOMMAND  the subcommand (hold, destroy, ...); unset or empty:
#                        every call passes through
#   ZFS_KILL_NTH         which call of it, from 1
#   ZFS_KILL_COUNTER     file counting the calls of that subcommand
#   ZFS_KILL_WHEN        during  kill the caller, then run the command (it
#                                completes on its own, as a child of a
#                                killed process would)
#                        after   run the command, then kill the caller
#
# The killing call prints "zfs_kill: SIGKILL to <pid> <when> zfs <sub> call
# N" on stderr.

real=${ZFS_KILL_REAL:?zfs_kill: ZFS_KILL_REAL is not set}
if [ -z "${ZFS_KILL_SUBCOMMAND:-}" ] || [ "${1:-}" != "$ZFS_KILL_SUBCOMMAND" ]; then
  exec "$real" "$@"
fi
counter=${ZFS_KILL_COUNTER:?zfs_kill: ZFS_KILL_COUNTER is not set}
nth=${ZFS_KILL_NTH:?zfs_kill: ZFS_KILL_NTH is not set}
call=$(($(cat "$counter" 2>/dev/null || echo 0) + 1))
echo "$call" >"$counter"
if [ "$call" -ne "$nth" ]; then
  exec "$real" "$@"
fi
case ${ZFS_KILL_WHEN:?zfs_kill: ZFS_KILL_WHEN is not set} in
  during)
    echo "zfs_kill: SIGKILL to $PPID during zfs $1 call $call" >&2
    kill -9 "$PPID"
    exec "$real" "$@"
    ;;
  after)
    "$real" "$@"
    rc=$?
    echo "zfs_kill: SIGKILL to $PPID after zfs $1 call $call" >&2
    kill -9 "$PPID"
    exit "$rc"
    ;;
  *)
    echo "zfs_kill: ZFS_KILL_WHEN must be during or after, not '$ZFS_KILL_WHEN'" >&2
    exit 2
    ;;
esac
