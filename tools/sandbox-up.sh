#!/usr/bin/env bash
# Brings up a sandbox SmartOS-like host on zfs-fuse (see docs/sandbox.md):
# a file-backed pool with the SmartOS system datasets, the test image
# imported the way `imgadm import` does it, and `vmadm` (the simulator).
#
# Usage: [ZRECON_SANDBOX_POOL=zones] [ZRECON_SANDBOX_DIR=...] \
#        [ZRECON_SANDBOX_SIZE=2G] [ZRECON_TEST_IMAGE=uuid] [ZRECON_TEST_IMAGE_SEED=42] \
#        tools/sandbox-up.sh
#
# Progress goes to stderr; stdout gets only the `export` lines to use, so
# `eval "$(tools/sandbox-up.sh)"` works. Idempotent: a second run changes
# nothing. Another pool name is another host; hosts sharing ZRECON_SANDBOX_DIR
# share the image stream, so their images have the same @final guid.
set -euo pipefail

TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/sandbox-env.sh
. "$TOOLS_DIR/sandbox-env.sh"
# shellcheck source=tools/sandbox-lib.sh
. "$TOOLS_DIR/sandbox-lib.sh"

POOL=$ZRECON_SANDBOX_POOL
DIR=$ZRECON_SANDBOX_DIR
SIZE=${ZRECON_SANDBOX_SIZE:-2G}
IMAGE=$ZRECON_TEST_IMAGE
SEED=${ZRECON_TEST_IMAGE_SEED:-42}
HOST_DIR=$DIR/$POOL
PARTIAL_TO_CLEAN=

# A failed image import removes its -partial dataset (as imgadm does).
cleanup() {
  [[ -n $PARTIAL_TO_CLEAN ]] && ds_exists "$PARTIAL_TO_CLEAN" &&
    zfs destroy -r "$PARTIAL_TO_CLEAN" >/dev/null 2>&1
  return 0
}
trap cleanup EXIT

ensure_zfs_fuse_installed() {
  command -v zfs-fuse >/dev/null && return
  log "installing zfs-fuse"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y zfs-fuse >&2 ||
    { apt-get update >&2 && apt-get install -y zfs-fuse >&2; } ||
    die "cannot install zfs-fuse"
}

# Starts zfs-fuse unless one runs already (then it is used, never restarted).
ensure_daemon() {
  [[ -c /dev/fuse ]] || die "/dev/fuse is missing: zfs-fuse cannot run here"
  if [[ -z $(daemon_pid) ]]; then
    log "starting zfs-fuse"
    # The daemon must not inherit the lock (fd 9) or our stdout, which may be
    # the pipe of `eval "$(sandbox-up.sh)"`: either would hang the caller.
    zfs-fuse --pidfile "$ZFS_FUSE_PIDFILE" </dev/null >/dev/null 2>&1 9>&- ||
      die "zfs-fuse did not start"
    for _ in $(seq 50); do
      [[ -n $(daemon_pid) ]] && break
      sleep 0.1
    done
    daemon_pid >"$DAEMON_MARKER"
  fi
  for _ in $(seq 30); do
    zpool list -H >/dev/null 2>&1 && return
    sleep 0.5
  done
  die "zfs-fuse does not answer (zpool list fails)"
}

ensure_pool() {
  local img=$DIR/$POOL.img
  if pool_exists "$POOL"; then
    is_sandbox_pool "$POOL" ||
      die "pool $POOL exists and is not a sandbox pool (vdev $(pool_vdev "$POOL")); \
set ZRECON_SANDBOX_POOL to another name"
    return
  fi
  if [[ -f $img ]]; then
    zpool import -d "$DIR" "$POOL" >/dev/null 2>&1 && { log "imported pool $POOL"; return; }
    log "$img holds no importable pool; recreating it"
    rm -f "$img"
  fi
  if [[ -d /$POOL && -n $(ls -A "/$POOL") ]]; then
    die "/$POOL exists and is not empty: the pool root would mount over it"
  fi
  log "creating pool $POOL on $img ($SIZE)"
  truncate -s "$SIZE" "$img" || die "cannot create $img of size '$SIZE'"
  local out
  out=$(zpool create "$POOL" "$img" 2>&1) || { rm -f "$img"; die "zpool create $POOL: $out"; }
}

# The SmartOS system datasets zone tooling relies on (cores is the parent of
# every zone's cores dataset). Mountpoints stay under /<pool>: the SmartOS
# ones (/etc/zones, /opt, /var) belong to the Debian host here.
ensure_system_datasets() {
  local ds
  if ! ds_exists "$POOL/cores"; then
    zfs create -o compression=gzip -o mountpoint=none "$POOL/cores" 2>/dev/null ||
      zfs create -o compression=lzjb -o mountpoint=none "$POOL/cores"
  fi
  for ds in cores/global config archive opt usbkey var; do
    ds_exists "$POOL/$ds" || zfs create "$POOL/$ds"
  done
}

# Writes the stream of the test image: create + fill + snapshot, like an
# image build, then `zfs send`. Leaves $partial in place for the import.
build_image_stream() {
  local partial=$1 stream=$2
  log "building test image $IMAGE (seed $SEED)"
  zfs create "$partial"
  /usr/bin/python3 "$TOOLS_DIR/test-image/generate.py" \
    "$(zfs get -H -o value mountpoint "$partial")" "$SEED"
  zfs snapshot "$partial@final"
  mkdir -p "$(dirname "$stream")"
  zfs send "$partial@final" >"$stream.tmp"
  mv "$stream.tmp" "$stream"
}

write_image_manifest() {
  local stream=$1 manifest=$2
  /usr/bin/python3 - "$IMAGE" "$stream" "$manifest" <<'EOF'
import hashlib, json, os, sys
uuid, stream, manifest = sys.argv[1:]
with open(stream, "rb") as f:
    sha1 = hashlib.sha1(f.read()).hexdigest()
doc = {
    "v": 2, "uuid": uuid, "owner": "00000000-0000-0000-0000-000000000000",
    "name": "zrecon-test", "version": "1.0.0", "state": "active", "disabled": False,
    "public": True, "published_at": "2017-04-04T00:00:00Z", "type": "zone-dataset",
    "os": "smartos", "description": "zrecon sandbox test image (generated)",
    "files": [{"sha1": sha1, "size": os.path.getsize(stream), "compression": "none"}],
}
with open(manifest + ".tmp", "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
os.replace(manifest + ".tmp", manifest)
EOF
}

# Reference 2.5 (imgadm import): receive into <image>-partial, expect one
# snapshot, name it @final, rename to <image>. A failed import removes -partial.
ensure_image() {
  local image_ds=$POOL/$IMAGE partial=$POOL/$IMAGE-partial
  local stream=$VMADM_SIM_IMAGES/$IMAGE.zfs manifest=$VMADM_SIM_IMAGES/$IMAGE.json
  if ds_exists "$image_ds@final"; then
    if [[ ! -s $stream ]]; then
      log "saving the stream of $image_ds@final to $stream"
      mkdir -p "$VMADM_SIM_IMAGES"
      zfs send "$image_ds@final" >"$stream.tmp"
      mv "$stream.tmp" "$stream"
    fi
    [[ -f $manifest ]] || write_image_manifest "$stream" "$manifest"
    return
  fi
  if ds_exists "$partial"; then
    echo "Warning: deleting partial dataset left over from earlier import attempt: $partial" >&2
    destroy_dataset "$partial"
  fi
  if ds_exists "$image_ds"; then
    log "$image_ds has no @final snapshot; importing it again"
    destroy_dataset "$image_ds"
  fi
  PARTIAL_TO_CLEAN=$partial
  if [[ -s $stream ]]; then
    log "importing image $IMAGE from $stream"
    zfs receive "$partial" <"$stream"
  else
    build_image_stream "$partial" "$stream"
  fi
  local snaps
  mapfile -t snaps < <(zfs list -H -r -d 1 -t snapshot -o name "$partial")
  [[ ${#snaps[@]} -eq 1 ]] || die "image stream holds ${#snaps[@]} snapshots, expected 1"
  [[ ${snaps[0]} == "$partial@final" ]] || zfs rename -r "${snaps[0]}" "$partial@final"
  rename_dataset "$partial" "$image_ds"
  PARTIAL_TO_CLEAN=
  mount_dataset "$image_ds"
  write_image_manifest "$stream" "$manifest"
}

# bin/vmadm runs the simulator as this host, whatever VMADM_SIM_* the caller
# has: putting a host's bin first on PATH is what selects the host.
ensure_host_dir() {
  local wrapper=$HOST_DIR/bin/vmadm content
  mkdir -p "$HOST_DIR/bin" "$VMADM_SIM_STATE"
  content=$(printf '%s\n' '#!/bin/sh' \
    "# vmadm of sandbox host \"$POOL\" (written by tools/sandbox-up.sh)." \
    "VMADM_SIM_POOL=$(printf %q "$POOL")" \
    "VMADM_SIM_STATE=$(printf %q "$VMADM_SIM_STATE")" \
    "VMADM_SIM_IMAGES=$(printf %q "$VMADM_SIM_IMAGES")" \
    'export VMADM_SIM_POOL VMADM_SIM_STATE VMADM_SIM_IMAGES' \
    "exec /usr/bin/python3 $(printf %q "$TOOLS_DIR/vmadm-sim") \"\$@\"")
  if [[ ! -f $wrapper || $(<"$wrapper") != "$content" ]]; then
    printf '%s\n' "$content" >"$wrapper"
    chmod 755 "$wrapper"
  fi
}

main() {
  require_root
  [[ $POOL =~ ^[A-Za-z][A-Za-z0-9_.-]*$ ]] || die "invalid pool name: '$POOL'"
  [[ $IMAGE =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] ||
    die "ZRECON_TEST_IMAGE is not a lower-case UUID: '$IMAGE'"
  [[ $SEED =~ ^[0-9]+$ ]] || die "ZRECON_TEST_IMAGE_SEED is not a number: '$SEED'"
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock 9
  ensure_zfs_fuse_installed
  ensure_daemon
  ensure_pool
  ensure_system_datasets
  ensure_image
  ensure_host_dir
  log "host $POOL ready: image $IMAGE, vmadm in $HOST_DIR/bin"
  "$TOOLS_DIR/sandbox-env.sh"
}

main "$@"
