#!/usr/bin/env bash
# One command, on a fresh Debian 12 machine (as root): install the
# dependencies, start zfs-fuse, build with warnings as errors, run every test
# (unit, CLI and golden plans, integration on real zfs-fuse).
#
#   tools/test.sh [extra ctest arguments, e.g. -R golden]
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh
tools/zfs-fuse-start.sh
cmake -S . -B build -DZRECON_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure --timeout 1800 "$@"
