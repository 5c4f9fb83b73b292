# Helpers shared by the benchmark scripts; source after setting BENCH_NAME.
# shellcheck shell=bash

log() { echo "$BENCH_NAME: $*" >&2; }
die() { echo "$BENCH_NAME: error: $*" >&2; exit 1; }

# need_int FLAG VALUE: VALUE must be a number below 10^6, else usage.
need_int() {
  [[ $2 =~ ^[0-9]{1,6}$ ]] || { echo "$0: $1 needs a number below 10^6, got '$2'" >&2; usage; }
}

# Seconds since an $EPOCHREALTIME value.
since() { echo "$EPOCHREALTIME $1" | awk '{ printf "%.6f", $1 - $2 }'; }

# The machine line of every report.
machine_line() {
  echo "machine: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')," \
    "zfs-fuse $(dpkg-query -W -f='${Version}' zfs-fuse 2>/dev/null), kernel $(uname -r)"
}
