#!/usr/bin/env bash
# tools/vmadm-sim, tools/imgadm-sim and the sandbox scripts against real ZFS
# (zfs-fuse): the datasets vmadm create/delete make (HVM volumes stood in
# for), vmadm's output formats, messages and exit codes, every rule of
# docs/sandbox.md "What the simulators refuse" refusing, the imgadm image
# install, idempotent sandbox-up/down, and a second host (pool) beside the
# first. Skips (77) without root or zfs-fuse.
#
# Uses its own pools (simtest, simtest2) and directory, so it never touches a
# `zones` sandbox; a zfs-fuse daemon that is already running is used as is.
# shellcheck disable=SC2317  # functions called through run() and the EXIT trap
set -uo pipefail

SRC=${ZRECON_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/integration/lib/assert.sh
. "$SRC/tests/integration/lib/assert.sh"

[[ $EUID -eq 0 ]] || skip "needs root"
[[ -c /dev/fuse ]] || skip "no /dev/fuse: zfs-fuse cannot run"
for tool in zfs-fuse zpool zfs; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done

TOOLS=$SRC/tools
POOL=simtest
POOL2=simtest2
DIR=/var/tmp/zrecon-simtest
WORK=$(mktemp -d)
B=bbbbbbbb-0000-4000-8000-000000000002
C=cccccccc-0000-4000-8000-000000000003
D=dddddddd-0000-4000-8000-000000000004
NOIMG=11111111-1111-4111-8111-111111111111

up() { ZRECON_SANDBOX_POOL=$1 ZRECON_SANDBOX_DIR=$DIR "$TOOLS/sandbox-up.sh"; }
down() { ZRECON_SANDBOX_POOL=$1 ZRECON_SANDBOX_DIR=$DIR "$TOOLS/sandbox-down.sh"; }

cleanup() {
  down "$POOL2" >/dev/null 2>&1
  down "$POOL" >/dev/null 2>&1
  rm -rf "$WORK"
  assert_cleanup
}
trap cleanup EXIT

# Prints the JSON value at a dotted path of a JSON file, or <missing>.
jget() {
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import json, sys
value = json.load(open(sys.argv[1]))
for part in sys.argv[2].split("."):
    if isinstance(value, list):
        value = value[int(part)] if part.isdigit() and int(part) < len(value) else None
    elif isinstance(value, dict) and part in value:
        value = value[part]
    else:
        print("<missing>")
        sys.exit(0)
print(json.dumps(value, ensure_ascii=False, sort_keys=True))
EOF
}

# The datasets (and snapshots) whose name contains $1, with origin and quota.
datasets_of() {
  zfs list -H -t all -r -o name,origin,quota "$POOL" | grep -F -- "$1" | LC_ALL=C sort
}

# Unmounts deepest first, then destroys: a fresh zfs-fuse mount is "busy".
destroy_by_hand() {
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    zfs list -H -r -o mounted,mountpoint,name "$1" 2>/dev/null |
      awk -F'\t' '$1 == "yes" { print length($2) "\t" $3 }' | sort -rn | cut -f2 |
      while read -r ds; do zfs umount "$ds" 2>/dev/null; done
    zfs destroy -r "$1" 2>/dev/null && return 0
    sleep 0.5
  done
  echo "cannot destroy $1" >&2
  return 1
}

# Everything about the sandbox that a second sandbox-up must leave alone.
sandbox_fingerprint() {
  zfs get -H -p -r -o name,property,value guid,creation,mountpoint,compression "$POOL"
  find "$DIR" -path "$DIR/.lock" -prune -o -printf '%p %s %T@ %m\n' | LC_ALL=C sort
}

DAEMON_BEFORE=$(pgrep -x zfs-fuse | head -n 1)
down "$POOL2" >/dev/null 2>&1
down "$POOL" >/dev/null 2>&1

# ------------------------------------------------------------ sandbox-up
run up "$POOL"
if [[ $RC -ne 0 ]] && ! zpool list -H >/dev/null 2>&1; then
  skip "zfs-fuse cannot run here: $ERR"
fi
expect_rc 0
expect_contains "$ERR" "creating pool $POOL on $DIR/$POOL.img" "first sandbox-up creates the pool"
EXPORTS=$OUT
eval "$EXPORTS"
IMG=$ZRECON_TEST_IMAGE
LX_IMG=$ZRECON_TEST_LX_IMAGE
expect_eq "$(command -v vmadm)" "$DIR/$POOL/bin/vmadm" "vmadm on PATH after eval of the exports"
expect_eq "$VMADM_SIM_POOL $VMADM_SIM_STATE" "$POOL $DIR/$POOL/vmadm" "simulator env"
expect_eq "$(zpool list -H -o name "$POOL")" "$POOL" "pool exists"

expect_eq "$(zfs get -H -o value mountpoint,compression "$POOL/cores" | paste -sd' ')" \
  "none gzip" "zones/cores mountpoint and compression"
for ds in cores/global config archive; do
  expect_eq "$(zfs list -H -o name "$POOL/$ds" 2>&1)" "$POOL/$ds" "system dataset $ds"
done

# ------------------------------------------------------------ image
expect_eq "$(zfs list -H -t all -r -o name "$POOL/$IMG")" \
  "$(lines "$POOL/$IMG" "$POOL/$IMG@final")" "image dataset and its only snapshot"
expect_eq "$(readlink "/$POOL/$IMG/root/bin")" "usr/bin" "image symlink"
expect_match "$(du -sb "/$POOL/$IMG/root" | cut -f1)" '^[2-9][0-9]{6}$' "image holds a few MB"
mkdir "$WORK/tree"
/usr/bin/python3 "$TOOLS/test-image/generate.py" "$WORK/tree" 42
tree_sums() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); }
expect_eq "$(tree_sums "/$POOL/$IMG")" "$(tree_sums "$WORK/tree")" \
  "image content is the seeded generator's output"
MANIFEST=$DIR/images/$IMG.json
expect_eq "$(jget "$MANIFEST" uuid) $(jget "$MANIFEST" type) $(jget "$MANIFEST" os)" \
  "\"$IMG\" \"zone-dataset\" \"smartos\"" "image manifest"
expect_eq "$(jget "$MANIFEST" files.0.size)" "$(stat -c %s "$DIR/images/$IMG.zfs")" \
  "manifest records the kept stream's size"

# ------------------------------------------------------------ idempotent up
BEFORE=$(sandbox_fingerprint)
run up "$POOL"
expect_rc 0
expect_out "$EXPORTS"
expect_eq "$(sandbox_fingerprint)" "$BEFORE" "second sandbox-up changes nothing"

# A leftover -partial is removed with imgadm's warning; the image comes back
# from the kept stream with the same @final guid.
GUID=$(zfs get -H -p -o value guid "$POOL/$IMG@final")
destroy_by_hand "$POOL/$IMG"
zfs create "$POOL/$IMG-partial"
run up "$POOL"
expect_rc 0
expect_contains "$ERR" \
  "Warning: deleting partial dataset left over from earlier import attempt: $POOL/$IMG-partial" \
  "imgadm warning for a leftover partial import"
expect_eq "$(zfs list -H -t all -o name -r "$POOL" | grep -F "$IMG")" \
  "$(lines "$POOL/$IMG" "$POOL/$IMG@final")" "image re-imported, no -partial left"
expect_eq "$(zfs get -H -p -o value guid "$POOL/$IMG@final")" "$GUID" \
  "re-import from the kept stream keeps the @final guid"

# ------------------------------------------------------------ create
cat >"$WORK/a.json" <<EOF
{"brand": "joyent", "image_uuid": "$IMG", "alias": "alpha", "max_physical_memory": 512,
 "quota": 5, "resolvers": ["8.8.8.8"], "tags": {"role": "db"},
 "customer_metadata": {"user-script": "true"},
 "nics": [{"nic_tag": "admin", "ip": "10.0.0.5", "mac": "2:8:20:a:b:c"}]}
EOF
run vmadm create <"$WORK/a.json"
expect_rc 0
expect_out ""
expect_match "$ERR" '^Successfully created VM [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' \
  "create from stdin generates a UUID"
A=${ERR##* }
expect_eq "$(datasets_of "$A")" "$(lines "$POOL/$A	$POOL/$IMG@final	5G" "$POOL/cores/$A	-	100G" |
  LC_ALL=C sort)" "joyent VM: zone root cloned from the image @final, cores"
expect_eq "$(zfs get -H -o value devices "$POOL/$A") $(zfs get -H -o value mountpoint "$POOL/cores/$A")" \
  "off /$POOL/$A/cores" "zone root devices=off, cores mounted in the zone"
expect_eq "$(cat "/$POOL/$A/root/etc/motd")" "zrecon sandbox test image" "zone root holds root/ from the image"

cat >"$WORK/b.json" <<EOF
{"brand": "lx", "uuid": "$B", "image_uuid": "$LX_IMG", "alias": "beta", "autoboot": false,
 "delegate_dataset": true}
EOF
run vmadm create -f "$WORK/b.json"
expect_rc 0
expect_err "Successfully created VM $B"
expect_eq "$(datasets_of "$B")" "$(lines "$POOL/$B	$POOL/$LX_IMG@final	10G" "$POOL/$B/data	-	none" \
  "$POOL/cores/$B	-	100G")" "lx VM with delegated dataset, default quota 10G"

run vmadm create -f - <<<"{\"brand\": \"joyent-minimal\", \"uuid\": \"$C\", \"image_uuid\": \"$IMG\",
  \"quota\": 0, \"max_physical_memory\": 1024}"
expect_rc 0
expect_err "Successfully created VM $C"
expect_eq "$(datasets_of "$C")" "$(lines "$POOL/$C	$POOL/$IMG@final	none" "$POOL/cores/$C	-	100G")" \
  "quota 0 clones without a quota"

# ------------------------------------------------------------ list
run vmadm list
expect_rc 0
expect_out "$(lines \
  "UUID                                  TYPE  RAM      STATE             ALIAS" \
  "$B  LX    256      stopped           beta" \
  "$A  OS    512      running           alpha" \
  "$C  OS    1024     running           -")"
run vmadm list -p -o uuid,type,brand,state,image_uuid,zpool,alias
expect_out "$(lines "$B:LX:lx:stopped:$LX_IMG:$POOL:beta" "$A:OS:joyent:running:$IMG:$POOL:alpha" \
  "$C:OS:joyent-minimal:running:$IMG:$POOL:")"
run vmadm list -p -h -o uuid,alias brand=lx
expect_out "$(lines "UUID:ALIAS" "$B:beta")"
run vmadm list -H -s -ram -o uuid,ram
expect_out "$(lines "$C  1024" "$A  512" "$B  256")"
run vmadm list -H -s alias -o alias,uuid
expect_out "$(lines "alpha       $A" "beta        $B" "-           $C")"
run vmadm list -H -s -alias -o alias
expect_out "$(lines "-" "beta" "alpha")"
run vmadm list -H -o uuid,quota,zonepath,zone_state brand=lx
expect_out "$B  10     /$POOL/$B  installed"
run vmadm list -p -o nics.0.ip,tags.role,max_physical_memory alias=alpha
expect_out "10.0.0.5:db:512"
run vmadm list -p -o uuid type=OS alias=~ALP
expect_out "$A"
run vmadm list -p -o uuid brand=~^joyent
expect_out "$(lines "$A" "$C")"
run vmadm list -p -o uuid nics.*.ip=10.0.0.5
expect_out "$A"
run vmadm list -p -o uuid nics.*.mac=02:08:20:0a:0b:0c
expect_out "$A"
run vmadm list -p -o uuid tags.role=db state=running
expect_out "$A"
run vmadm list alias=nomatch
expect_out "UUID                                  TYPE  RAM      STATE             ALIAS"
run vmadm list -p alias=nomatch
expect_rc 0
expect_out ""
run vmadm list foo=1
expect_rc 1
expect_err 'Invalid filter key: "foo"'
run vmadm list -o uuid,bogus
expect_rc 1
expect_err "invalid order field: bogus"
run vmadm list -s -bogus
expect_rc 1
expect_err "invalid sort field: -bogus"
run vmadm list -o nics.*.ip
expect_rc 1
expect_err 'Invalid order key: "nics.*.ip"'

# ------------------------------------------------------------ get
vmadm get "$A" >"$WORK/a.get"
expect_eq "$(jget "$WORK/a.get" uuid) $(jget "$WORK/a.get" zonename) $(jget "$WORK/a.get" brand)" \
  "\"$A\" \"$A\" \"joyent\"" "get: identity"
expect_eq "$(jget "$WORK/a.get" state) $(jget "$WORK/a.get" zone_state) $(jget "$WORK/a.get" autoboot)" \
  '"running" "running" true' "get: state of an autoboot VM"
expect_eq "$(jget "$WORK/a.get" zonepath) $(jget "$WORK/a.get" zfs_filesystem) $(jget "$WORK/a.get" zpool)" \
  "\"/$POOL/$A\" \"$POOL/$A\" \"$POOL\"" "get: ZFS placement"
expect_eq "$(jget "$WORK/a.get" quota) $(jget "$WORK/a.get" max_physical_memory) $(jget "$WORK/a.get" ram)" \
  "5 512 <missing>" "get: quota from ZFS, memory, no ram for OS VMs"
expect_eq "$(jget "$WORK/a.get" tags) $(jget "$WORK/a.get" customer_metadata) $(jget "$WORK/a.get" nics.0.ip)" \
  '{"role": "db"} {"user-script": "true"} "10.0.0.5"' "get: payload keys kept"
expect_eq "$(jget "$WORK/a.get" image_uuid) $(jget "$WORK/a.get" snapshots) $(jget "$WORK/a.get" type)" \
  "\"$IMG\" [] <missing>" "get: image, snapshots, no fake type"
expect_match "$(jget "$WORK/a.get" create_timestamp)" \
  '^"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"$' "get: create_timestamp format"
expect_eq "$(/usr/bin/python3 -c 'import json,sys; d=open(sys.argv[1]).read();
print(d == json.dumps(json.loads(d), indent=2, ensure_ascii=False) + "\n")' "$WORK/a.get")" \
  True "get prints JSON.stringify(vm, null, 2) plus a newline"
vmadm get "$B" >"$WORK/b.get"
expect_eq "$(jget "$WORK/b.get" datasets) $(jget "$WORK/b.get" state) $(jget "$WORK/b.get" zone_state)" \
  "[\"$POOL/$B/data\"] \"stopped\" \"installed\"" "get: delegated dataset, stopped VM"
vmadm get "$C" >"$WORK/c.get"
expect_eq "$(jget "$WORK/c.get" quota) $(jget "$WORK/c.get" alias)" "0 <missing>" "get: quota 0, no alias"

run vmadm get "$D"
expect_rc 1
expect_err "zoneadm: $D: No such zone configured"
run vmadm get not-a-uuid
expect_rc 2
expect_eq "$(head -n 2 <<<"$ERR")" "$(lines "Invalid or missing UUID for get" \
  "Usage: /usr/vm/sbin/vmadm <command> [options]")" "bad UUID: message and usage"

# ------------------------------------------------------------ lookup
run vmadm lookup brand=lx
expect_out "$B"
run vmadm lookup type=OS
expect_out "$(printf '%s\n' "$A" "$C" | LC_ALL=C sort)"
run vmadm lookup -1 alias=alpha
expect_out "$A"
run vmadm lookup -1 type=OS
expect_rc 1
expect_err "Requested unique lookup but found 2 results."
run vmadm lookup -j -o uuid,alias alias=alpha
expect_out "$(lines "[" "  {" "    \"uuid\": \"$A\"," "    \"alias\": \"alpha\"" "  }" "]")"
vmadm lookup -j alias=alpha >"$WORK/a.lookup"
expect_eq "$(jget "$WORK/a.lookup" 0.uuid) $(jget "$WORK/a.lookup" 0.type) $(jget "$WORK/a.lookup" 0.ram)" \
  "\"$A\" \"OS\" 512" "lookup -j: full objects with the fake fields"
run vmadm lookup alias=nomatch
expect_rc 0
expect_out ""
run vmadm lookup -o uuid
expect_rc 1
expect_err "Cannot specify -o without -j"
run vmadm lookup bogus=1
expect_rc 1
expect_err 'Invalid lookup key: "bogus"'

# ------------------------------------------------------------ stop / start
run vmadm stop "$A"
expect_rc 0
expect_err "Successfully completed stop for VM $A"
expect_eq "$(vmadm list -H -o state,zone_state uuid="$A")" "stopped           installed" "stopped state"
run vmadm stop "$A" -F
expect_rc 0
expect_err "VM $A is already not 'running' (currently: stopped)"
run vmadm start "$A"
expect_rc 0
expect_err "Successfully started VM $A"
run vmadm start "$A"
expect_rc 0
expect_err "VM $A is already 'running'"
run vmadm stop -F "$A"
expect_rc 0
expect_err "Successfully completed stop for VM $A"
run vmadm stop "$D"
expect_rc 1
expect_err "bad statusCode: 404"
run vmadm start "$D"
expect_rc 1
expect_err "Unable to start VM $D: bad statusCode: 404"

# ------------------------------------------------------------ usage and create errors
run vmadm
expect_rc 2
expect_eq "$(head -n 1 <<<"$ERR")" "Usage: /usr/vm/sbin/vmadm <command> [options]" "no command: usage"
run vmadm frob
expect_rc 2
expect_eq "$(head -n 1 <<<"$ERR")" 'Invalid command: "frob".' "unknown command"
run vmadm -h
expect_rc 2
run vmadm info "$A"
expect_rc 1
expect_err 'vmadm-sim: command "info" is not simulated'

run vmadm create <<<'{"brand": "joyent",'
expect_rc 1
expect_match "$ERR" '^Invalid JSON payload: ' "bad JSON"
run vmadm create -f "$WORK/b.json"
expect_rc 1
expect_err "VM with UUID $B already exists"
run vmadm create <<<"{\"brand\": \"joyent\", \"uuid\": \"$D\", \"image_uuid\": \"$NOIMG\"}"
expect_rc 1
# VM.js validateImage: `imgadm get` fails for an image that is not installed.
expect_err "Invalid value(s) for: image_uuid"
expect_eq "$(datasets_of "$D")$(ls "$VMADM_SIM_STATE/$D.json" 2>/dev/null)" "" "failed create leaves nothing"
# HVM zones, their volumes stood in for by filesystems (zfs-fuse has no
# zvols), with VM.js's payload rules (VM.js:5350-5390, 1040-1060).
ZVOL=$ZRECON_TEST_ZVOL_IMAGE
run vmadm create <<<"{\"brand\": \"kvm\", \"uuid\": \"$D\", \"disks\": [{\"image_uuid\": \"$ZVOL\",
  \"path\": \"/dev/zvol/rdsk/$POOL/$D-disk0\"}]}"
expect_rc 1
expect_err "you cannot specify a path for a disk unless you set nocreate=true"
run vmadm create <<<"{\"brand\": \"kvm\", \"uuid\": \"$D\", \"disks\": [{\"image_uuid\": \"$ZVOL\",
  \"block_size\": 8192}]}"
expect_rc 1
expect_err "setting both .block_size and .image_uuid on a volume is invalid"
run vmadm create <<<"{\"brand\": \"kvm\", \"uuid\": \"$D\", \"disks\": [{\"size\": 1024},
  {\"image_uuid\": \"$IMG\"}]}"
expect_rc 1
expect_err "Invalid value(s) for: disks.1.image_uuid"
expect_eq "$(datasets_of "$D")$(ls "$VMADM_SIM_STATE/$D.json" 2>/dev/null)" "" \
  "refused HVM creates leave nothing"
run vmadm create <<<"{\"brand\": \"kvm\", \"uuid\": \"$D\", \"autoboot\": false, \"disks\": [
  {\"image_uuid\": \"$ZVOL\", \"boot\": true}, {\"media\": \"cdrom\", \"path\": \"/x.iso\"},
  {\"size\": 1024}]}"
expect_rc 0
expect_eq "$(zfs list -H -o name,origin -r "$POOL" | grep -F "$D" | grep -v cores)" \
  "$(lines "$POOL/$D	-" "$POOL/$D-disk0	$POOL/$ZVOL@final" "$POOL/$D-disk1	-")" \
  "kvm: volumes named by position (a cdrom takes none), the image disk a clone of @final"
vmadm get "$D" >"$WORK/d.json"
expect_eq "$(jget "$WORK/d.json" disks.0.path) $(jget "$WORK/d.json" disks.0.block_size) $(jget "$WORK/d.json" disks.2.zfs_filesystem)" \
  "\"/dev/zvol/rdsk/$POOL/$D-disk0\" 8192 \"$POOL/$D-disk1\"" "kvm: get reports path and block_size"
# A raw `vmadm get` of an HVM zone is no create payload: its disks have path.
run vmadm create -f "$WORK/d.json"
expect_rc 1
expect_err "you cannot specify a path for a disk unless you set nocreate=true"
must vmadm delete "$D"
expect_eq "$(datasets_of "$D")" "" "kvm: delete removes the zone root, the volumes and cores"
run vmadm create <<<"{\"brand\": \"bhyve\", \"uuid\": \"$D\", \"autoboot\": false, \"disks\": [
  {\"image_uuid\": \"$ZVOL\", \"boot\": true}]}"
expect_rc 0
expect_eq "$(zfs list -H -o name,origin -r "$POOL/$D")" \
  "$(lines "$POOL/$D	-" "$POOL/$D/disk0	$POOL/$ZVOL@final")" "bhyve: disk0 below the zone root"
must vmadm delete "$D"
run vmadm create <<<"{\"image_uuid\": \"$IMG\"}"
expect_rc 1
expect_contains "$ERR" "brand" "missing brand"
run vmadm create <<<"{\"brand\": \"joyent\", \"image_uuid\": \"$IMG\", \"quota\": -1}"
expect_rc 1
expect_err "Invalid value(s) for: quota (-1)"
run vmadm create -f "$WORK/none.json"
expect_rc 1
expect_err "File: $WORK/none.json does not exist."

# ------------------------------------------------------------ datasets changed by hand
# What a restore does: destroy the zone root, receive a stream in its place.
zfs snapshot -r "$POOL/$B@r1"
zfs send -R -I "$POOL/$LX_IMG@final" "$POOL/$B@r1" >"$WORK/b.zfs"
zfs umount "$POOL/cores/$B"
destroy_by_hand "$POOL/$B"
vmadm get "$B" >"$WORK/b.gone"
expect_eq "$(jget "$WORK/b.gone" quota) $(jget "$WORK/b.gone" datasets)" \
  "<missing> [\"$POOL/$B/data\"]" "get without the zone root: no quota, config kept"
run vmadm list -H -o uuid,quota,state brand=lx
expect_out "$B  -      stopped"
zfs receive "$POOL/$B" <"$WORK/b.zfs"
run vmadm get "$B"
expect_rc 0
expect_eq "$(jget "$OUT_FILE" quota) $(zfs get -H -o value origin "$POOL/$B")" "10 $POOL/$LX_IMG@final" \
  "get after receive reports the received dataset"

# ------------------------------------------------------------ delete and re-create
vmadm get "$B" >"$WORK/b.saved"
run vmadm delete "$B"
expect_rc 0
expect_err "Successfully deleted VM $B"
expect_eq "$(datasets_of "$B")" "" "delete removes zone root, data, snapshots, cores"
expect_eq "$(zfs list -H -t all -o name -r "$POOL/$IMG")" "$(lines "$POOL/$IMG" "$POOL/$IMG@final")" \
  "delete keeps the image"
expect_eq "$(ls "$VMADM_SIM_STATE" | grep '\.json$')" "$(printf '%s.json\n' "$A" "$C" | LC_ALL=C sort)" \
  "state file removed"
run vmadm delete "$B"
expect_rc 1
expect_err "Failed to delete VM $B: VM $B not found"
run vmadm create -f "$WORK/b.saved"
expect_rc 0
expect_err "Successfully created VM $B"
vmadm get "$B" >"$WORK/b.again"
for key in uuid alias brand quota datasets image_uuid autoboot; do
  expect_eq "$(jget "$WORK/b.again" "$key")" "$(jget "$WORK/b.saved" "$key")" "re-created from get: $key"
done
expect_eq "$(datasets_of "$B")" "$(lines "$POOL/$B	$POOL/$LX_IMG@final	10G" "$POOL/$B/data	-	none" \
  "$POOL/cores/$B	-	100G")" "re-created from get: datasets"

zfs snapshot "$POOL/$C@indestructible"
zfs hold do_not_destroy "$POOL/$C@indestructible"
expect_eq "$(vmadm list -p -o indestructible_zoneroot uuid="$C")" "true" "indestructible hold is listed"
run vmadm delete "$C"
expect_rc 1
expect_err "Failed to delete VM $C: indestructible_zoneroot is set, cannot delete"
zfs release do_not_destroy "$POOL/$C@indestructible"
run vmadm delete "$C"
expect_rc 0
expect_eq "$(datasets_of "$C")" "" "delete after the hold is released"

# ------------------------------------------------------------ what real SmartOS refuses
# Each rule of docs/sandbox.md "What the simulators refuse", refusing.
E=eeeeeeee-0000-4000-8000-000000000005
# "<state> <autoboot> [<more keys>]" of vmadm get.
vm_state() {
  vmadm get "$1" | /usr/bin/python3 -c 'import json, sys
vm = json.load(sys.stdin)
print(" ".join(json.dumps(vm.get(k)).strip(chr(34)) for k in ["state", "autoboot"] + sys.argv[1:]))' "${@:2}"
}
gone() { expect_eq "$(datasets_of "$E")$(ls "$VMADM_SIM_STATE/$E.json" 2>/dev/null)" "" "$1: nothing created"; }

# imgadm: an image dataset without a database record has no manifest type.
IMGDB=$IMGADM_SIM_DB/images/$POOL-$IMG.json
mv "$IMGDB" "$WORK/img.record"
run imgadm get -P "$POOL" "$IMG"
expect_rc 0
expect_eq "$OUT" "$(printf '{\n  "manifest": {\n    "uuid": "%s"\n  },\n  "zpool": "%s"\n}' "$IMG" "$POOL")" \
  "imgadm get of an image it has no record of: the minimal info (database.js loadImage)"
run vmadm create <<<"{\"brand\": \"joyent\", \"uuid\": \"$E\", \"image_uuid\": \"$IMG\"}"
expect_rc 1
expect_err "Invalid value(s) for: image_uuid"
gone "an image unknown to imgadm"
mv "$WORK/img.record" "$IMGDB"
run imgadm get -P "$POOL" "$NOIMG"
expect_rc 3
expect_err "imgadm: error (ImageNotInstalled): image \"$NOIMG\" was not found on zpool \"$POOL\""
run imgadm list -j
expect_rc 0
expect_eq "$(/usr/bin/python3 -c 'import json,sys; print(" ".join(sorted(
  i["manifest"]["uuid"] + ":" + i["manifest"].get("type", "?") for i in json.load(sys.stdin)
  if i["zpool"] == sys.argv[1])))' "$POOL" <<<"$OUT")" \
  "$(printf '%s\n' "$IMG:zone-dataset" "$LX_IMG:lx-dataset" "$ZRECON_TEST_ZVOL_IMAGE:zvol" |
    LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')" \
  "imgadm list -j: the three images with their types, no zone root"

# The brand's image types (proptable.js zoneroot_image_types).
run vmadm create <<<"{\"brand\": \"lx\", \"uuid\": \"$E\", \"image_uuid\": \"$IMG\"}"
expect_rc 1
expect_err "Invalid value(s) for: image_uuid"
gone "lx from a zone-dataset image"
run vmadm create <<<"{\"brand\": \"joyent\", \"uuid\": \"$E\", \"image_uuid\": \"$LX_IMG\"}"
expect_rc 1
expect_err "Invalid value(s) for: image_uuid"
gone "joyent from an lx-dataset image"

# checkDatasetProvisionable: joyent and builder read zoneinit.json inside
# the mounted image; joyent-minimal has var_svc_provisioning.
zfs umount "$POOL/$IMG"
run vmadm create <<<"{\"brand\": \"joyent\", \"uuid\": \"$E\", \"image_uuid\": \"$IMG\"}"
expect_rc 1
expect_err "provisioning dataset $IMG with brand joyent is not supported"
gone "joyent from an unmounted image"
run vmadm create <<<"{\"brand\": \"joyent-minimal\", \"uuid\": \"$E\", \"image_uuid\": \"$IMG\",
  \"autoboot\": false}"
expect_rc 0
must vmadm delete "$E"
zfs mount "$POOL/$IMG"

# quota is an integer (fractional GiB refused); autoboot boots and provisions.
run vmadm create <<<"{\"brand\": \"joyent\", \"uuid\": \"$E\", \"image_uuid\": \"$IMG\", \"quota\": 2.5}"
expect_rc 1
expect_err "Invalid value(s) for: quota (2.5)"
gone "a fractional quota"
PROVISIONED=$VMADM_SIM_STATE/provisioned.log
BEFORE_LOG=$(grep -c "^$E " "$PROVISIONED" 2>/dev/null)
run vmadm create <<<"{\"brand\": \"joyent\", \"uuid\": \"$E\", \"image_uuid\": \"$IMG\", \"autoboot\": false,
  \"nics\": [{\"ip\": \"10.0.0.9\"}]}"
expect_rc 0
expect_eq "$(vm_state "$E")" "stopped false" "autoboot false: the new zone never boots"
expect_eq "$(grep -c "^$E " "$PROVISIONED" 2>/dev/null)" "$BEFORE_LOG" "autoboot false: no provisioning ran"
must vmadm start "$E"
expect_eq "$(vm_state "$E")" "running true" "start sets autoboot=true (startZone)"
must vmadm stop "$E"
expect_eq "$(vm_state "$E")" "stopped false" "stop sets autoboot=false (VM.stop)"
run vmadm update "$E" autoboot=true quota=3
expect_rc 0
expect_err "Successfully updated VM $E"
expect_eq "$(vm_state "$E" quota) $(zfs get -H -o value quota "$POOL/$E")" "stopped true 3 3G" \
  "update: autoboot and quota, the quota on the zone root"
run vmadm update "$E" quota=1.5
expect_rc 1
expect_err "Invalid value(s) for: quota"
run vmadm update "$E" indestructible_zoneroot=true
expect_rc 0
expect_eq "$(zfs get -H -o value userrefs "$POOL/$E@indestructible")" 1 \
  "update indestructible_zoneroot: @indestructible with a do_not_destroy hold"
run vmadm delete "$E"
expect_rc 1
expect_err "Failed to delete VM $E: indestructible_zoneroot is set, cannot delete"
must vmadm update "$E" indestructible_zoneroot=false
must vmadm delete "$E"
run vmadm create <<<"{\"brand\": \"joyent\", \"uuid\": \"$E\", \"image_uuid\": \"$IMG\",
  \"nics\": [{\"ip\": \"10.0.0.9\"}]}"
expect_rc 0
expect_eq "$(vm_state "$E")" "running true" "autoboot (the default): the new zone boots"
expect_eq "$(grep -c "^$E booted and provisioned (zoneinit, user-script) with nics \[10.0.0.9\]" \
  "$PROVISIONED")" "$((BEFORE_LOG + 1))" "autoboot: provisioning ran in the zone, with its IP"

# A user hold makes the brand's zfs destroy -rF retry forever (smartos-live#292).
must zfs snapshot "$POOL/$E@kept"
must zfs hold zrecon "$POOL/$E@kept"
STATE=$(datasets_of "$E")
run vmadm delete "$E"
expect_rc 1
expect_contains "$ERR" "cannot destroy snapshot $POOL/$E@kept: dataset is busy" \
  "delete of a zone with a held snapshot fails, naming it"
expect_eq "$(datasets_of "$E") $(ls "$VMADM_SIM_STATE/$E.json")" "$STATE $VMADM_SIM_STATE/$E.json" \
  "delete with a held snapshot: everything left in place"
must zfs release zrecon "$POOL/$E@kept"
must vmadm delete "$E"
gone "delete after the hold is released"

# imgadm install checks the file against manifest.files[0] (size, sha1).
/usr/bin/python3 - "$DIR/images/$IMG.json" "$WORK/bad-sha1.json" "$WORK/bad-size.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["uuid"] = "eeeeeeee-1111-4111-8111-111111111111"
m["files"][0]["sha1"] = "0" * 40
json.dump(m, open(sys.argv[2], "w"))
m["files"][0]["size"] += 1
json.dump(m, open(sys.argv[3], "w"))
EOF
run imgadm install -P "$POOL" -m "$WORK/bad-sha1.json" -f "$DIR/images/$IMG.zfs"
expect_rc 1
expect_contains "$ERR" "image file checksum (sha1) error: manifest says \"0000000000000000000000000000000000000000\"" \
  "imgadm install: wrong sha1 refused"
run imgadm install -P "$POOL" -m "$WORK/bad-size.json" -f "$DIR/images/$IMG.zfs"
expect_rc 1
expect_contains "$ERR" "image file size error: manifest says" "imgadm install: wrong size refused"
expect_eq "$(zfs list -H -o name -r "$POOL" | grep -c eeeeeeee-1111)$(ls "$IMGADM_SIM_DB/images" | grep -c eeeeeeee-1111)" \
  "00" "imgadm install refused: no dataset, no database record"

# ------------------------------------------------------------ a zone with its own zonename
# createZone: zfs_filesystem = zpool/zonename (VM.js:9703); cores
# zpool/cores/zonename (vmadmd.js:1915); proptable.js:2275 allows zonename on
# create. zrecon reads it with lookup and restores the zone under it.
N=dddddddd-0000-4000-8000-00000000000e
run vmadm create <<<"{\"brand\": \"joyent\", \"uuid\": \"$N\", \"image_uuid\": \"$IMG\",
  \"zonename\": \"build-01\", \"autoboot\": false, \"delegate_dataset\": true}"
expect_rc 0
expect_eq "$(zfs list -H -o name,origin -r "$POOL" | grep -F build-01)" \
  "$(lines "$POOL/build-01	$POOL/$IMG@final" "$POOL/build-01/data	-" "$POOL/cores/build-01	-")" \
  "zonename: zone root, delegated dataset and cores named by it"
expect_eq "$(vmadm lookup -j -o uuid,zonename,zfs_filesystem uuid="$N" | tr -d ' \n')" \
  "[{\"uuid\":\"$N\",\"zonename\":\"build-01\",\"zfs_filesystem\":\"$POOL/build-01\"}]" \
  "zonename: lookup reports it"
run vmadm create <<<"{\"brand\": \"joyent\", \"image_uuid\": \"$IMG\", \"zonename\": \"build-01\"}"
expect_rc 1
expect_err "zone build-01 already exists"
vmadm get "$N" >"$WORK/n.saved"
run vmadm delete "$N"
expect_rc 0
expect_eq "$(zfs list -H -o name -r "$POOL" | grep -c build-01)" "0" "zonename: delete removes them all"
run vmadm create -f "$WORK/n.saved"
expect_rc 0
expect_eq "$(zfs list -H -o name -r "$POOL" | grep -F build-01)" \
  "$(lines "$POOL/build-01" "$POOL/build-01/data" "$POOL/cores/build-01")" \
  "zonename: re-created from vmadm get under the same names"
must vmadm delete "$N"

# ------------------------------------------------------------ a second host
HOST1_LIST=$(vmadm list -p)
run up "$POOL2"
expect_rc 0
expect_contains "$ERR" "importing image $IMG from $DIR/images/$IMG.zfs" "second host imports the kept stream"
expect_eq "$(zfs get -H -p -o value guid "$POOL2/$IMG@final")" \
  "$(zfs get -H -p -o value guid "$POOL/$IMG@final")" "both hosts hold the same image @final"
VMADM2=$DIR/$POOL2/bin/vmadm
run "$VMADM2" list -p
expect_out ""
run "$VMADM2" create -f "$WORK/b.saved"
expect_rc 1
expect_err "Invalid value(s) for: zpool (\"$POOL\"); this host's zpool is $POOL2"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["zpool"]=sys.argv[2];
json.dump(d, open(sys.argv[1], "w"))' "$WORK/b.saved" "$POOL2"
run "$VMADM2" create -f "$WORK/b.saved"
expect_rc 0
expect_eq "$(zfs list -H -t all -r -o name,origin "$POOL2" | grep -F "$B")" \
  "$(lines "$POOL2/$B	$POOL2/$LX_IMG@final" "$POOL2/$B/data	-" "$POOL2/cores/$B	-")" \
  "VM created on the second host's pool"
expect_eq "$(vmadm list -p)" "$HOST1_LIST" "first host unaffected"
run down "$POOL2"
expect_rc 0
expect_eq "$(zpool list -H -o name "$POOL2" 2>/dev/null)$(zpool list -H -o name "$POOL")" "$POOL" \
  "second host gone, first intact"
expect_eq "$(vmadm list -p -o uuid)" "$(lines "$B" "$A")" "first host's VMs intact"

# ------------------------------------------------------------ sandbox-down
run down "$POOL"
expect_rc 0
expect_eq "$(zpool list -H -o name "$POOL" 2>&1 >/dev/null | grep -c 'no such pool')" "1" "pool destroyed"
expect_eq "$(ls -d "$DIR" "/$POOL" 2>/dev/null)" "" "sandbox directory and mountpoint removed"
run down "$POOL"
expect_rc 0
if [[ -n $DAEMON_BEFORE ]]; then
  expect_eq "$(pgrep -x zfs-fuse | head -n 1)" "$DAEMON_BEFORE" "a daemon we did not start keeps running"
fi

finish
