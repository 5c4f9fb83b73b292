# shellcheck shell=bash
# The disaster the `zrecon restore` integration tests recover from. Source it
# after assert.sh and apply_fixture.sh (preflight, sandbox, timeline,
# catalog), set POOL and DIR, then call drill_up: on a sandbox host, zone
# drill-web (joyent, W) and drill-app (lx with a delegated dataset, L) get
# files (nested directories, a 20 MiB random file, symlinks, modes 0600,
# 0700, 0755, 1777, another owner), are exported at T0 (daily) to directory
# USB, changed, and exported again at T0+1d (incremental). It records, for
# every covered dataset, the tree as of each exported snapshot and the
# snapshots' guids, and each zone's identity, then checks the catalog holds
# exactly those snapshots.
#
# DRILL_DESTINATION_DIR (default usb) names USB's directory in WORK; a test
# may redefine write_drill_policy (an ssh destination at $USB, say; with an
# object store, HOSTDIR never appears and the catalog checks are the
# test's). DRILL_BLOB_BYTES (default 20 MiB) sizes drill-web's random file.
#
# Sets: WORK USB HOSTDIR POLICY IMG IMG_GUID LX_IMG LX_IMG_GUID W L D0 D1
# (short snapshot names; drill-app is an lx zone, made from LX_IMG)
# and, under $WORK/expected, the recorded state:
#   tree.<dataset key>.<D0|D1>  tree_digest.py of W, L, L.data at that snapshot
#   snaps.<dataset key>         "<short name> <guid>" of every exported snapshot
#   identity.<W|L>              vm_identity before the disaster
# (dataset keys: W, L, L.data).
#
# Actions:
#   on_host POOL CMD...                runs CMD with POOL's vmadm first on PATH
#   drill_lose_zone POOL ZONE          `zrecon unprotect`s the zone (vmadm
#                                      delete fails on zrecon's holds), deletes
#                                      the zone and its datasets
#   drill_lose_image POOL [IMAGE...]   destroys POOL's image datasets (default
#                                      both) and their imgadm records
#   drill_down POOL...                 tears the hosts down; checks their pools
#                                      and the sandbox directory are gone
#
# Checks (each reports what it expected and what it found):
#   expect_restore_ok WHAT             the last run is a restore that succeeded:
#                                      exit 0, no step reported FAILED; returns 1
#                                      otherwise, so the checks of what it made
#                                      can be skipped
#   expect_dataset WHAT DS KEY SNAP    DS is mounted, has the tree of KEY as of
#                                      SNAP and exactly the exported snapshots
#                                      up to SNAP, with their exported guids
#   expect_zone WHAT POOL ZONE         vmadm (POOL's) shows the zone with its
#                                      recorded identity on POOL; its root is a
#                                      clone of POOL's image @final, which has
#                                      the exported guid; the cores dataset is
#                                      mounted; no -partial dataset on POOL
#   expect_web_restored WHAT POOL SNAP expect_zone and expect_dataset for W
#   host_state POOL                    datasets, snapshots, guids and zones of
#                                      POOL: compare two calls to show that
#                                      nothing changed
# shellcheck disable=SC2034  # variables used by the scripts that source this

W=de11de11-0000-4000-8000-0000000000a1 # drill-web, joyent
L=de11de11-0000-4000-8000-0000000000b2 # drill-app, lx, delegate_dataset
D0=zrecon-daily-$S0
D1=zrecon-daily-$S1D

on_host() {
  local host=$1
  shift
  env PATH="$DIR/$host/bin:$PATH" ZRECON_IMGADM_DB="$DIR/$host/imgadm" "$@"
}

tree_digest() { /usr/bin/python3 "$SRC/tests/integration/lib/tree_digest.py" "$@"; }

# The dataset behind a key (W, L, L.data) on POOL.
dataset_of() {
  case $2 in
    W) echo "$1/$W" ;;
    L) echo "$1/$L" ;;
    L.data) echo "$1/$L/data" ;;
  esac
}

# A zone root's tree leaves out the mountpoints of the zone's other datasets.
tree_of() {
  local ds=$1 key=$2
  case $key in
    L.data) tree_digest "$(mountpoint_of "$ds")" ;;
    *) tree_digest "$(mountpoint_of "$ds")" --exclude cores --exclude data ;;
  esac
}

# "<short name> <guid>" of the snapshots of DS itself, oldest first.
snapshot_guids() {
  zfs get -H -p -r -o name,value guid "$1" |
    awk -F'\t' -v prefix="$1@" 'index($1, prefix) == 1 { print substr($1, length(prefix) + 1) " " $2 }'
}

# What a restore must bring back of `vmadm get`: pool-independent keys only.
vm_identity() {
  on_host "$1" vmadm get "$2" | /usr/bin/python3 -c '
import json, sys
vm = json.load(sys.stdin)
keys = ("uuid", "alias", "brand", "image_uuid", "max_physical_memory", "quota")
print(" ".join(f"{k}={vm.get(k)}" for k in keys))'
}

vm_field() {
  on_host "$1" vmadm get "$2" | /usr/bin/python3 -c '
import json, sys
print(json.dumps(json.load(sys.stdin).get(sys.argv[1])))' "$3"
}

host_state() {
  zfs list -H -t all -o name,origin,mounted,userrefs -r "$1" | LC_ALL=C sort
  zfs get -H -p -r -o name,value guid "$1" | LC_ALL=C sort
  echo "-- zones"
  on_host "$1" vmadm list -p -o uuid,alias,brand,state,zpool
}

partial_datasets() { zfs list -H -t all -o name -r "$1" | grep -e '-partial' || true; }

# A mounted filesystem is busy for zfs-fuse for a moment: unmount, retry.
destroy_busy() {
  local err
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    err=$(zfs destroy -r "$1" 2>&1) && return 0
    [[ $err == *busy* ]] || break
    zfs umount "$1" >/dev/null 2>&1
    sleep 0.5
  done
  echo "cannot destroy $1: $err" >&2
  return 1
}

write_t0() {
  local w l d
  w=$(mountpoint_of "$POOL/$W")/root
  l=$(mountpoint_of "$POOL/$L")/root
  d=$(mountpoint_of "$POOL/$L/data")
  mkdir -p "$w/srv/www/assets/css" "$w/srv/data" "$w/usr/local/bin" "$w/root/.ssh" "$w/var/tmp" &&
    echo "<h1>drill T0</h1>" >"$w/srv/www/index.html" &&
    echo "body { color: #222; }" >"$w/srv/www/assets/css/site.css" &&
    head -c "${DRILL_BLOB_BYTES:-20971520}" /dev/urandom >"$w/srv/data/blob.bin" &&
    printf '#!/bin/sh\necho drill\n' >"$w/usr/local/bin/tool.sh" &&
    echo "not a real key" >"$w/root/.ssh/id_ed25519" &&
    : >"$w/srv/data/empty" &&
    ln -s assets "$w/srv/www/current" &&
    ln -s /etc/motd "$w/srv/motd-link" &&
    chmod 0755 "$w/usr/local/bin/tool.sh" && chmod 0700 "$w/root/.ssh" &&
    chmod 0600 "$w/root/.ssh/id_ed25519" && chmod 0640 "$w/srv/data/blob.bin" &&
    chmod 1777 "$w/var/tmp" && chmod 0750 "$w/srv/data" &&
    chown 1001:1001 "$w/srv/www/index.html" &&
    mkdir -p "$l/opt/app" "$d/db" &&
    echo "app T0" >"$l/opt/app/config.ini" && chmod 0600 "$l/opt/app/config.ini" &&
    head -c 4194304 /dev/urandom >"$d/db/table-0.bin" &&
    echo "wal 0" >"$d/db/wal" && chmod 0600 "$d/db/wal" && ln -s table-0.bin "$d/db/current"
}

# Content, layout, modes and symlink targets all change; part of the big
# file is rewritten in place, so the incremental carries only that.
write_t1() {
  local w l d
  w=$(mountpoint_of "$POOL/$W")/root
  l=$(mountpoint_of "$POOL/$L")/root
  d=$(mountpoint_of "$POOL/$L/data")
  echo "<h1>drill T0+1d</h1>" >"$w/srv/www/index.html" &&
    head -c 1048576 /dev/urandom | dd of="$w/srv/data/blob.bin" bs=1M seek=7 conv=notrunc \
      status=none &&
    mkdir -p "$w/srv/www/news/2026" && echo "new" >"$w/srv/www/news/2026/item.html" &&
    rm "$w/srv/www/assets/css/site.css" &&
    chmod 0700 "$w/usr/local/bin/tool.sh" &&
    ln -sfn assets/css "$w/srv/www/current" &&
    echo "app T0+1d" >>"$l/opt/app/config.ini" &&
    head -c 1048576 /dev/urandom >"$d/db/table-1.bin" &&
    ln -sfn table-1.bin "$d/db/current" && chmod 0644 "$d/db/wal"
}

record_trees() {
  local key
  for key in W L L.data; do
    tree_of "$(dataset_of "$POOL" "$key")" "$key" >"$WORK/expected/tree.$key.$1" ||
      return 1
  done
}

write_drill_policy() {
  cat >"$POLICY" <<EOF
version: 1
destinations:
  usb: {type: directory, path: $USB}
policies:
  drill:
    keep: {daily: 7}
    # cores too: a received cores dataset must get its mountpoint back (its
    # parent <pool>/cores has mountpoint=none).
    datasets: [zoneroot, cores]
    export:
      - {destination: usb, class: daily}
zones:
  - match: {alias: "drill-*"}
    policy: drill
EOF
}

# The chain of dataset key KEY as the catalog records it: "<snapshot> <guid>".
catalog_snapshots() {
  local zone chain
  case $1 in
    W) zone=$W chain=root/$S0 ;;
    L) zone=$L chain=root/$S0 ;;
    L.data) zone=$L chain=root+data/$S0 ;;
  esac
  catalog links "$zone" "$chain" | cut -f1,2 | tr '\t' ' '
}

drill_up() {
  WORK=$(mktemp -d)
  mkdir -p "$WORK/expected"
  sandbox_up
  must on_host "$POOL" vmadm create <<<"{\"brand\": \"joyent\", \"uuid\": \"$W\",
    \"image_uuid\": \"$IMG\", \"alias\": \"drill-web\", \"max_physical_memory\": 512, \"quota\": 5}"
  must on_host "$POOL" vmadm create <<<"{\"brand\": \"lx\", \"uuid\": \"$L\",
    \"image_uuid\": \"$LX_IMG\", \"alias\": \"drill-app\", \"delegate_dataset\": true}"
  USB=$WORK/${DRILL_DESTINATION_DIR:-usb}
  HOSTDIR=$USB/$(hostname)
  POLICY=$WORK/policy.yaml
  mkdir -p "$USB"
  write_drill_policy
  must write_t0
  must on_host "$POOL" "$ZRECON" apply -f "$POLICY" --now "$T0"
  must record_trees "$D0"
  must write_t1
  must on_host "$POOL" "$ZRECON" apply -f "$POLICY" --now "$T1D"
  must record_trees "$D1"
  IMG_GUID=$(zfs get -H -p -o value guid "$POOL/$IMG@final")
  LX_IMG_GUID=$(zfs get -H -p -o value guid "$POOL/$LX_IMG@final")
  local key
  for key in W L L.data; do
    snapshot_guids "$(dataset_of "$POOL" "$key")" >"$WORK/expected/snaps.$key"
    expect_eq "$(cut -d' ' -f1 "$WORK/expected/snaps.$key")" "$(lines "$D0" "$D1")" \
      "setup: $key has the daily snapshots of T0 and T0+1d"
    [[ -d $HOSTDIR ]] || continue # an object store: the test checks it its own way
    expect_eq "$(catalog_snapshots "$key")" "$(<"$WORK/expected/snaps.$key")" \
      "setup: the catalog's chain of $key is those snapshots, with their guids"
  done
  [[ -d $HOSTDIR ]] && expect_eq "$(catalog images | cut -f1,3,6)" \
    "$(lines "$IMG	$IMG_GUID	zone-dataset" "$LX_IMG	$LX_IMG_GUID	lx-dataset")" \
    "setup: the image streams are on the media, with imgadm's records"
  vm_identity "$POOL" "$W" >"$WORK/expected/identity.W"
  vm_identity "$POOL" "$L" >"$WORK/expected/identity.L"
  # Both zones booted once when created (autoboot); a restore must not boot them.
  cp "$DIR/$POOL/vmadm/provisioned.log" "$WORK/expected/provisioned.$POOL"
  expect_eq "$(<"$WORK/expected/identity.W")" "uuid=$W alias=drill-web brand=joyent \
image_uuid=$IMG max_physical_memory=512 quota=5" "setup: drill-web as created"
  ((FAILURES == 0)) || finish
}

# Releases zrecon's holds on the chain tips (else `vmadm delete` fails:
# "dataset is busy"), then deletes zone $2 of pool $1 and what a failed
# restore of it left.
drill_lose_zone() {
  local host=$1 zone=$2
  # vmadm delete would hang on zrecon's holds (smartos-live#292).
  must on_host "$host" "$ZRECON" unprotect -f "$POLICY" "$zone"
  expect_eq "$(zfs list -H -t snapshot -o name,userrefs,zrecon:exported -r "$host/$zone" \
    "$host/cores/$zone" 2>/dev/null | awk -F'\t' '$2 > 0 || $3 != "-"')" "" \
    "zrecon unprotect $zone: no snapshot of it is held or marked any more"
  must on_host "$host" vmadm delete "$zone"
  # What a failed restore left, so that the steps after its report still run.
  zfs list -H -o name "$host/$zone-partial" >/dev/null 2>&1 && must destroy_busy "$host/$zone-partial"
  expect_eq "$(zfs list -H -t all -o name -r "$host" | grep -F "$zone")" "" \
    "zone $zone is gone from $host with its datasets"
}

# The images (default both) go with `imgadm delete`, which removes their
# records too (database.js deleteImage).
drill_lose_image() {
  local host=$1 image
  shift
  (($#)) || set -- "$IMG" "$LX_IMG"
  for image in "$@"; do
    zfs list -H -o name "$host/$image" >/dev/null 2>&1 &&
      must on_host "$host" imgadm delete -P "$host" "$image"
    expect_eq "$(ls "$DIR/$host/imgadm/images/$host-$image.json" 2>/dev/null)" "" \
      "imgadm delete removed the record of $image"
    expect_eq "$(zfs list -H -t all -o name -r "$host" | grep -F "$image")" "" \
      "image $image is gone from $host"
    run on_host "$host" imgadm get -P "$host" "$image"
    expect_rc 3
  done
}

expect_restore_ok() {
  local before=$FAILURES
  expect_rc 0
  expect_eq "$(grep -F -A1 FAILED <<<"$OUT")" "" "$1: no step of the restore failed"
  ((FAILURES == before))
}

expect_dataset() {
  local what=$1 ds=$2 key=$3 snap=$4 mounted
  mounted=$(zfs get -H -o value mounted "$ds" 2>&1)
  expect_eq "$mounted" yes "$what: $ds is mounted"
  # Mounted by hand if need be, so that its content is still compared.
  [[ $mounted == no ]] && zfs mount "$ds"
  expect_eq "$(diff "$WORK/expected/tree.$key.$snap" <(tree_of "$ds" "$key" 2>&1))" "" \
    "$what: $ds holds every file, directory and symlink of $key as of @$snap (content, mode, \
owner, target); diff expected actual"
  expect_eq "$(snapshot_guids "$ds")" "$(sed "/^$snap /q" "$WORK/expected/snaps.$key")" \
    "$what: $ds has the exported snapshots up to @$snap, with the exported guids"
}

expect_zone() {
  local what=$1 host=$2 zone=$3 key image guid
  key=$([[ $zone == "$W" ]] && echo W || echo L)
  image=$([[ $zone == "$W" ]] && echo "$IMG" || echo "$LX_IMG")
  guid=$([[ $zone == "$W" ]] && echo "$IMG_GUID" || echo "$LX_IMG_GUID")
  expect_eq "$(vm_identity "$host" "$zone" 2>&1)" "$(<"$WORK/expected/identity.$key")" \
    "$what: vmadm get on $host shows the zone as it was (uuid, alias, brand, image, memory, quota)"
  expect_eq "$(vm_field "$host" "$zone" zpool)" "\"$host\"" "$what: the zone lives on $host"
  expect_eq "$(zfs get -H -o value origin "$host/$zone" 2>&1)" "$host/$image@final" \
    "$what: the zone root is a clone of the image"
  expect_eq "$(zfs get -H -p -o value guid "$host/$image@final" 2>&1)" "$guid" \
    "$what: $host/$image@final is the exported image (same guid)"
  expect_eq "$(on_host "$host" imgadm get -P "$host" "$image" | /usr/bin/python3 -c '
import json, sys
print(json.load(sys.stdin)["manifest"].get("type"))' 2>&1)" \
    "$([[ $zone == "$W" ]] && echo zone-dataset || echo lx-dataset)" \
    "$what: imgadm knows the image, with its manifest type"
  expect_eq "$(zfs get -H -o value mounted "$host/$image" 2>&1)" yes \
    "$what: the image is mounted, as imgadm leaves it"
  expect_eq "$(vm_field "$host" "$zone" autoboot)" true "$what: autoboot as saved (true)"
  expect_eq "$(grep -c "^$zone " "$DIR/$host/vmadm/provisioned.log" 2>/dev/null)" \
    "$(grep -c "^$zone " "$WORK/expected/provisioned.$host" 2>/dev/null)" \
    "$what: the zone never booted during the restore (no provisioning ran)"
  expect_eq "$(zfs get -H -o value mounted,mountpoint,quota "$host/cores/$zone" 2>&1 | tr '\n' ' ')" \
    "yes /$host/$zone/cores 100G " \
    "$what: the zone's cores dataset is mounted where vmadm puts it, with vmadm's quota"
  expect_eq "$(zfs get -H -o value devices "$host/$zone" 2>&1)" off \
    "$what: the zone root has devices=off, as vmadm clones it"
  expect_eq "$(partial_datasets "$host")" "" "$what: no -partial dataset left on $host"
}

expect_web_restored() {
  expect_zone "$1" "$2" "$W"
  expect_dataset "$1" "$2/$W" W "$3"
}

drill_down() {
  local host
  for host in "$@"; do
    POOL=$host run _sandbox down
    expect_rc 0
    expect_eq "$(zpool list -H -o name 2>/dev/null | grep -cx "$host")" 0 "pool $host destroyed"
  done
  expect_eq "$(ls -d "$DIR" 2>/dev/null)" "" "sandbox directory $DIR removed"
}
