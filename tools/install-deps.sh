#!/usr/bin/env bash
# Installs everything zrecon's build, tests, demo and benchmarks need, from
# Debian packages only (Debian 12). Safe to run again. Needs root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang-format
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libre2-dev doctest-dev
  libfmt-dev libssl-dev libzstd-dev libbenchmark-dev
  libcurl4-openssl-dev libxml2-dev   # S3 destinations
  python3 python3-jsonschema python3-yaml
  zfs-fuse time procps zstd openssl strace   # strace: kill_test.sh; openssl: export_bench.sh
  libxml2-utils   # xmllint: tests/cli/smf_test.py checks the SMF manifest
  mandoc          # tests/cli/man_test.py lints the manual pages
  openssh-client openssh-sftp-server openssh-server   # ssh destinations: the transport, tests' sshd
  radosgw ceph-mon ceph-osd uuid-runtime curl         # S3 tests: a real store (tools/s3-local)
  clang-14 libclang-rt-14-dev llvm-14   # tools/fuzz.sh: libFuzzer, sanitizers, llvm-symbolizer
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $EUID -eq 0 ]] || { echo "install-deps: run as root to install: ${missing[*]}" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # zfs-fuse's package tries to start its service, which some containers
  # deny; the daemon is started by hand where needed (tools/zfs-fuse-start.sh).
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
