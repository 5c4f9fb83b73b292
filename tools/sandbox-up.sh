#!/usr/bin/env bash
# Brings up a sandbox SmartOS-like host on zfs-fuse (see docs/sandbox.md):
# a file-backed pool with the SmartOS system datasets, two test images
# installed with `imgadm` (the simulator; a zone-dataset image and an
# lx-dataset image for lx zones) and `vmadm` (the simulator).
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
LX_IMAGE=$ZRECON_TEST_LX_IMAGE
ZVOL_IMAGE=$ZRECON_TEST_ZVOL_IMAGE
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
# image build, then `zfs send`; the scratch dataset is destroyed again.
build_image_stream() {
  local scratch=$1 stream=$2 seed=$3
  log "building test image $(basename "$stream" .zfs) (seed $seed)"
  ds_exists "$scratch" && destroy_dataset "$scratch"
  zfs create "$scratch"
  /usr/bin/python3 "$TOOLS_DIR/test-image/generate.py" \
    "$(zfs get -H -o value mountpoint "$scratch")" "$seed"
  zfs snapshot "$scratch@final"
  mkdir -p "$(dirname "$stream")"
  zfs send "$scratch@final" >"$stream.tmp"
  mv "$stream.tmp" "$stream"
  destroy_dataset "$scratch"
}

# An IMGAPI-style manifest of the stream: files[0] carries the size and sha1
# that `imgadm install` checks (imgadm.js:2246-2290).
write_image_manifest() {
  local uuid=$1 type=$2 stream=$3 manifest=$4
  /usr/bin/python3 - "$uuid" "$type" "$stream" "$manifest" <<'EOF'
import hashlib, json, os, sys
uuid, kind, stream, manifest = sys.argv[1:]
with open(stream, "rb") as f:
    sha1 = hashlib.sha1(f.read()).hexdigest()
doc = {
    "v": 2, "uuid": uuid, "owner": "00000000-0000-0000-0000-000000000000",
    "name": {"zone-dataset": "zrecon-test", "lx-dataset": "zrecon-test-lx"}.get(kind,
                                                                           "zrecon-test-hvm"),
    "version": "1.0.0", "state": "active", "disabled": False,
    "public": True, "published_at": "2017-04-04T00:00:00Z", "type": kind,
    "os": {"zone-dataset": "smartos", "lx-dataset": "linux"}.get(kind, "other"),
    "description": "zrecon sandbox test image (generated)",
    "files": [{"sha1": sha1, "size": os.path.getsize(stream), "compression": "none"}],
}
if kind == "lx-dataset":
    doc["tags"] = {"kernel_version": "4.3.0"}
with open(manifest + ".tmp", "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
os.replace(manifest + ".tmp", manifest)
EOF
}

# The image, imported with `imgadm install -m <manifest> -f <stream>` (the
# simulator follows imgadm.js installImage), so that the host's imgadm
# database knows it and vmadm create accepts it. A leftover <image>-partial
# is destroyed with imgadm's warning first.
ensure_image() {
  local image=$1 seed=$2 type=$3
  local image_ds=$POOL/$image partial=$POOL/$image-partial
  local stream=$VMADM_SIM_IMAGES/$image.zfs manifest=$VMADM_SIM_IMAGES/$image.json
  if ds_exists "$image_ds@final"; then
    if [[ ! -s $stream ]]; then
      log "saving the stream of $image_ds@final to $stream"
      mkdir -p "$VMADM_SIM_IMAGES"
      zfs send "$image_ds@final" >"$stream.tmp"
      mv "$stream.tmp" "$stream"
    fi
    [[ -f $manifest ]] || write_image_manifest "$image" "$type" "$stream" "$manifest"
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
  [[ -s $stream ]] || build_image_stream "$POOL/$image-build" "$stream" "$seed"
  write_image_manifest "$image" "$type" "$stream" "$manifest"
  log "importing image $image from $stream (imgadm install)"
  "$HOST_DIR/bin/imgadm" install -q -P "$POOL" -m "$manifest" -f "$stream" >&2 ||
    die "imgadm install of $image failed"
  mount_dataset "$image_ds"
}

# bin/vmadm and bin/imgadm run the simulators as this host, whatever
# VMADM_SIM_* the caller has: putting a host's bin first on PATH is what
# selects the host.
ensure_host_dir() {
  mkdir -p "$HOST_DIR/bin" "$VMADM_SIM_STATE" "$IMGADM_SIM_DB"
  local tool content
  for tool in vmadm imgadm; do
    content=$(printf '%s\n' '#!/bin/sh' \
      "# $tool of sandbox host \"$POOL\" (written by tools/sandbox-up.sh)." \
      "VMADM_SIM_POOL=$(printf %q "$POOL")" \
      "VMADM_SIM_STATE=$(printf %q "$VMADM_SIM_STATE")" \
      "VMADM_SIM_IMAGES=$(printf %q "$VMADM_SIM_IMAGES")" \
      "VMADM_SIM_IMGADM=$(printf %q "$HOST_DIR/bin/imgadm")" \
      "IMGADM_SIM_DB=$(printf %q "$IMGADM_SIM_DB")" \
      "IMGADM_SIM_POOL=$(printf %q "$POOL")" \
      'export VMADM_SIM_POOL VMADM_SIM_STATE VMADM_SIM_IMAGES VMADM_SIM_IMGADM' \
      'export IMGADM_SIM_DB IMGADM_SIM_POOL' \
      "exec /usr/bin/python3 $(printf %q "$TOOLS_DIR/$tool-sim") \"\$@\"")
    if [[ ! -f $HOST_DIR/bin/$tool || $(<"$HOST_DIR/bin/$tool") != "$content" ]]; then
      printf '%s\n' "$content" >"$HOST_DIR/bin/$tool"
      chmod 755 "$HOST_DIR/bin/$tool"
    fi
  done
}

main() {
  require_root
  [[ $POOL =~ ^[A-Za-z][A-Za-z0-9_.-]*$ ]] || die "invalid pool name: '$POOL'"
  [[ $IMAGE =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] ||
    die "ZRECON_TEST_IMAGE is not a lower-case UUID: '$IMAGE'"
  [[ $LX_IMAGE =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ && $LX_IMAGE != "$IMAGE" ]] ||
    die "ZRECON_TEST_LX_IMAGE is not a lower-case UUID other than ZRECON_TEST_IMAGE: '$LX_IMAGE'"
  [[ $SEED =~ ^[0-9]+$ ]] || die "ZRECON_TEST_IMAGE_SEED is not a number: '$SEED'"
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock 9
  ensure_zfs_fuse_installed
  ensure_daemon
  ensure_pool
  ensure_system_datasets
  ensure_host_dir
  ensure_image "$IMAGE" "$SEED" zone-dataset
  # lx zones need an lx-dataset image (proptable.js zoneroot_image_types).
  ensure_image "$LX_IMAGE" $((SEED + 1)) lx-dataset
  # kvm and bhyve boot disks clone a zvol image; zfs-fuse has no zvols, so
  # a filesystem stands in for it (docs/sandbox.md).
  ensure_image "$ZVOL_IMAGE" $((SEED + 2)) zvol
  log "host $POOL ready: images $IMAGE (zone-dataset), $LX_IMAGE (lx-dataset), $ZVOL_IMAGE (zvol), vmadm and imgadm in $HOST_DIR/bin"
  "$TOOLS_DIR/sandbox-env.sh"
}

main "$@"
