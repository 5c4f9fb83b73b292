#!/bin/sh
# A `zfs` or `vmadm` that misbehaves in one subcommand, for fault tests (the
# way zfs_fault.sh fails one call). Install a copy as an executable file and
# pass it as `zrecon ... --zfs FILE` or `--vmadm FILE`. Environment:
#
#   TOOL_FAULT_REAL        the real binary (required)
#   TOOL_FAULT_SUBCOMMAND  the subcommand (first argument) that misbehaves;
#                          unset or empty: every call passes through
#   TOOL_FAULT_HOW         hang     never answers (sleeps; a SIGTERM ends it)
#                          garbage  prints TOOL_FAULT_TEXT on stdout, exits 0
#                          fail     prints TOOL_FAULT_TEXT on stderr, exits 1
#                          pause    writes its pid to $TOOL_FAULT_GATE.started,
#                                   waits until $TOOL_FAULT_GATE.open exists,
#                                   then runs the real command
#   TOOL_FAULT_TEXT        what garbage and fail print (a newline is added)
#   TOOL_FAULT_GATE        for pause: the path prefix of the two files

real=${TOOL_FAULT_REAL:?tool_fault: TOOL_FAULT_REAL is not set}
if [ -z "${TOOL_FAULT_SUBCOMMAND:-}" ] || [ "${1:-}" != "$TOOL_FAULT_SUBCOMMAND" ]; then
  exec "$real" "$@"
fi
case ${TOOL_FAULT_HOW:?tool_fault: TOOL_FAULT_HOW is not set} in
  hang)
    # exec: the signal that ends the command must reach the sleep itself.
    exec sleep 600
    ;;
  garbage)
    printf '%s\n' "${TOOL_FAULT_TEXT:-}"
    exit 0
    ;;
  fail)
    printf '%s\n' "${TOOL_FAULT_TEXT:-}" >&2
    exit 1
    ;;
  pause)
    gate=${TOOL_FAULT_GATE:?tool_fault: TOOL_FAULT_GATE is not set}
    echo $$ >"$gate.started.tmp" && mv "$gate.started.tmp" "$gate.started"
    while [ ! -e "$gate.open" ]; do sleep 0.1; done
    exec "$real" "$@"
    ;;
  *)
    echo "tool_fault: unknown TOOL_FAULT_HOW '$TOOL_FAULT_HOW'" >&2
    exit 2
    ;;
esac
