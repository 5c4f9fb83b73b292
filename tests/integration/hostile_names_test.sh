#!/usr/bin/env bash
# zrecon against hostile names and paths, on a real zfs-fuse sandbox host
# with the vmadm simulator. Everything is either handled literally or refused
# with a clear error; nothing runs through a shell ($(touch /tmp/pwned) never
# creates /tmp/pwned) and nothing is written outside the destination.
#  1. Zone aliases with spaces, quotes, `;`, $(...), backquotes, `:`, unicode,
#     escape sequences, a tab, a leading `-`, glob characters and 1000
#     characters: plan shows each (control characters escaped), the plan
#     JSON and the manifests keep it exactly, apply exports every zone into
#     its uuid's directory, verify and restore --dry-run find it by alias.
#  2. A newline in an alias breaks `vmadm list -p` lines: plan and apply
#     refuse the listing naming the line (a stand-in vmadm and the
#     simulator); an alias whose second line is a whole forged row must not
#     make zrecon act on a dataset that is no zone (the image).
#  3. Datasets whose snapshot names would pass ZFS's 255-character limit
#     (found by trying: zfs-fuse refuses 256 for datasets and snapshots alike)
#     are left out with a warning naming them; one that fits exactly is
#     snapshotted and exported.
#  4. Catalogs that point outside: a link file with `..` or an absolute path,
#     a zone, images, chain or config directory symlinked to a directory
#     elsewhere, a link file that is a symlink out: plan, apply, verify and
#     restore refuse with a message naming the file; the directory elsewhere
#     is unchanged.
#  5. A destination path that is a symlink (allowed: a mount point alias;
#     writes land in its target) and a host directory that is a symlink
#     inside the destination (apply refuses before changing anything).
#  6. Policy values with shell metacharacters (alias globs, a destination
#     path with spaces, quotes, $(...) and backquotes) are taken literally.
# Skips (77) without root or zfs-fuse.
#
# Uses its own pool (hostiletest) and directory, never a `zones` sandbox; a
# zfs-fuse daemon that is already running is used as is.
# shellcheck disable=SC2317  # functions called through run() and the EXIT trap
# shellcheck disable=SC2016  # $(...) and backquotes in single quotes are the point
set -uo pipefail

SRC=${ZRECON_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tests/integration/lib/assert.sh
. "$SRC/tests/integration/lib/assert.sh"
# shellcheck source=tests/integration/lib/apply_fixture.sh
. "$SRC/tests/integration/lib/apply_fixture.sh"

POOL=hostiletest
DIR=/var/tmp/zrecon-hostiletest
PWNED=/tmp/pwned
fixture_preflight
ELSEWHERE=$(mktemp -d /tmp/elsewhere.XXXXXX)
cleanup() {
  rm -rf "$ELSEWHERE"
  fixture_cleanup
}
trap cleanup EXIT
fixture_up

hq() { /usr/bin/python3 "$SRC/tests/integration/lib/hostile_query.py" "$@"; }
catalog_of() { /usr/bin/python3 "$SRC/tests/integration/lib/catalog_query.py" "$@"; }
digest() { /usr/bin/python3 "$SRC/tests/integration/lib/tree_digest.py" "$1"; }

# A canary from elsewhere would hide a real one.
rm -f "$PWNED"
expect_no_pwned() { expect_eq "$(ls "$PWNED" 2>/dev/null)" "" "$1: $PWNED was never created"; }

# Relative paths resolve here, so a write that escapes the destination
# through one shows up.
CWD=$WORK/cwd
mkdir -p "$CWD"
cd "$CWD" || exit 1

# hostile_policy FILE DEST_NAME DEST_PATH MATCH...: exports daily to
# directory DEST_PATH (any characters: a single-quoted YAML scalar); one
# zones entry per MATCH (a YAML flow mapping).
hostile_policy() {
  local file=$1 name=$2 path=$3 match
  shift 3
  {
    echo "version: 1"
    echo "destinations:"
    echo "  $name: {type: directory, path: '${path//\'/\'\'}'}"
    cat <<EOF
policies:
  standard:
    keep: {hourly: 3, daily: 2, weekly: 1}
    datasets: [zoneroot]
    export:
      - {destination: $name, class: daily, full_every: 7d, keep_chains: 1}
zones:
EOF
    for match in "$@"; do
      echo "  - match: $match"
      echo "    policy: standard"
    done
  } >"$file"
}

# Raw control characters (other than newline) in the last run's stdout.
raw_controls() { LC_ALL=C grep -c $'[\x01-\x09\x0b-\x1f\x7f]' "$OUT_FILE"; }

# ============================================================ 1. hostile aliases
LONG_ALIAS=$(printf 'L%.0s' {1..1000})
ALIASES=(
  "web with spaces"
  "it's \"quoted\""
  "semi;colon; touch $PWNED"
  "\$(touch $PWNED)"
  "\`touch $PWNED\`"
  "colon:in:alias:"
  "wëb-ünïcode-日本"
  "$LONG_ALIAS"
  $'esc\e[31mred\e[0m'
  $'tab\there'
  "-v --help"
  "*glob?[x]"
)
# How plan, verify and restore show each (util/strings.h Printable).
SHOWN=("${ALIASES[@]}")
SHOWN[8]='esc\x1b[31mred\x1b[0m'
SHOWN[9]='tab\there'
UUIDS=()
for i in "${!ALIASES[@]}"; do
  UUIDS[i]=$(printf 'c0c0c0c0-0000-4000-8000-%012d' "$i")
  run vmadm create <<<"$(hq payload "${UUIDS[i]}" "$IMG" "${ALIASES[i]}")"
  expect_rc 0
  expect_eq "$(vmadm get "${UUIDS[i]}" | /usr/bin/python3 -c \
    'import json, sys; sys.stdout.write(json.load(sys.stdin)["alias"])')" "${ALIASES[i]}" \
    "the simulator keeps alias $(printf '%q' "${ALIASES[i]:0:40}") exactly"
done

USB1=$WORK/usb1
HOST1=$USB1/$(hostname)
mkdir -p "$USB1"
P1=$WORK/all.yaml
hostile_policy "$P1" usb "$USB1" '{alias: "*"}'
MARK=$WORK/mark
touch "$MARK"

run "$ZRECON" plan -f "$P1" --now "$T0"
expect_rc 0
expect_eq "$(raw_controls)" 0 "plan text: no raw control character"
for i in "${!ALIASES[@]}"; do
  expect_contains "$OUT" "# zone ${UUIDS[i]} (${SHOWN[i]})" "plan text shows alias $i escaped"
done
run "$ZRECON" plan -f "$P1" --now "$T0" --json --out "$WORK/p1.json"
expect_rc 0
for i in "${!ALIASES[@]}"; do
  expect_eq "$(hq plan-alias "$WORK/p1.json" "${UUIDS[i]}")" "${ALIASES[i]}" \
    "plan JSON keeps alias $i exactly"
done

run "$ZRECON" apply -f "$P1" --now "$T0"
expect_applied "apply with hostile aliases"
expect_eq "$(raw_controls)" 0 "apply output: no raw control character"
expect_no_pwned "apply with hostile aliases"
expect_eq "$(find "$HOST1" -mindepth 1 -maxdepth 1 -printf '%f\n' | grep -vxE '[0-9a-f-]{36}|images')" "" \
  "the destination holds only uuid directories and images (no alias in a path)"
for i in "${!ALIASES[@]}"; do
  expect_eq "$(hq zone-alias "$HOST1/${UUIDS[i]}/manifest.json")" "${ALIASES[i]}" \
    "manifest of zone $i keeps its alias exactly"
  run "$ZRECON" verify --from "$USB1" --zone="${ALIASES[i]}"
  expect_rc 0
  expect_contains "$OUT" "zone ${UUIDS[i]} (${SHOWN[i]}): OK" "verify --zone finds alias $i"
  expect_eq "$(raw_controls)" 0 "verify of alias $i: no raw control character"
done
for i in 3 4 8; do
  run "$ZRECON" restore --from "$USB1" --zone="${ALIASES[i]}" --dry-run --force
  expect_rc 0
  expect_contains "$OUT" "zone ${UUIDS[i]} (${SHOWN[i]})" "restore --dry-run finds alias $i"
  expect_eq "$(raw_controls)" 0 "restore of alias $i: no raw control character"
done
expect_no_pwned "verify and restore with hostile aliases"
expect_eq "$(find "$CWD" "$WORK" -newer "$MARK" -type f ! -path "$USB1/*" ! -path "$WORK/p1.json")" \
  "" "nothing written outside the destination (in the working directory or next to it)"
POLICY=$P1 HOSTDIR=$HOST1 expect_catalog_sound "hostile aliases"
POLICY=$P1 expect_converged "hostile aliases" "$T0"

# ============================================================ 2. a newline in an alias
# zrecon reads zones with `vmadm lookup -j` (JSON): an alias with a newline
# is just an alias, shown escaped; it cannot forge a row, as it could in
# `vmadm list -p` output. `inventory --save` keeps it in JSON too, and a
# plan of the saved host is the live plan.
NL=d0d0d0d0-0000-4000-8000-000000000002
must vmadm create <<<"$(hq payload "$NL" "$IMG" $'two\nlines')"
run "$ZRECON" plan -f "$P1" --now "$T1D"
expect_rc 0
expect_contains "$OUT" '# zone '"$NL"' (two\nlines)' \
  "simulator, alias with a newline: planned, the alias shown escaped"
LIVE_PLAN=$OUT
run "$ZRECON" inventory --save "$WORK/nl-inventory"
expect_rc 0
run "$ZRECON" plan -f "$P1" --now "$T1D" --inventory "$WORK/nl-inventory" --dialect legacy
expect_rc 0
expect_eq "$(diff <(echo "$LIVE_PLAN") <(echo "$OUT"))" "" \
  "inventory --save keeps an alias with a newline: the saved host plans the same"
must vmadm delete "$NL"

# A newline followed by a whole row: in `vmadm list -p` the row would name
# the image's dataset as a zone root. Read as JSON it stays an alias.
FORGED_ALIAS=$'x\n'"$IMG:OS:joyent:running:$IMG:$POOL:web-forged"
must vmadm create <<<"$(hq payload "$NL" "$IMG" "$FORGED_ALIAS")"
run "$ZRECON" plan -f "$P1" --now "$T1D" --json --out "$WORK/forged.json"
expect_rc 0
expect_eq "$(hq plan-zones "$WORK/forged.json" | grep -xF "$IMG")" "" \
  "an alias with a newline and a forged vmadm row: the image $IMG is not taken for a zone"
must vmadm delete "$NL"

# ============================================================ 3. names at the ZFS length limit
# The planner reserves room for the longest name the template makes for the
# classes the zone takes: "zrecon-weekly-<time>" and "zrecon-hourly-<time>",
# 30 characters, so datasets of up to 255 - 31 = 224 characters are covered.
# name_of_length PARENT LENGTH CHAR: a child of PARENT, LENGTH characters
# in all.
name_of_length() {
  printf '%s/%s' "$1" "$(printf "$3%.0s" $(seq $(($2 - ${#1} - 1))))"
}
FITS=$(name_of_length "$DATA_B" 224 a)
TOO_LONG=$(name_of_length "$DATA_B" 225 b)
AT_LIMIT=$(name_of_length "$DATA_B" 255 c)
for ds in "$FITS" "$TOO_LONG" "$AT_LIMIT"; do must zfs create "$ds"; done
run zfs create "$(name_of_length "$DATA_B" 256 d)"
expect_rc 1
expect_contains "$ERR" "name is too long" "zfs-fuse refuses a 256-character dataset name"
# TOO_LONG is 225 characters: "@" and 29 more make 255.
must zfs snapshot "$TOO_LONG@$(printf 'f%.0s' {1..29})"
must zfs destroy "$TOO_LONG@$(printf 'f%.0s' {1..29})"
run zfs snapshot "$TOO_LONG@$(printf 'f%.0s' {1..30})"
expect_rc 1
expect_contains "$ERR" "name is too long" \
  "zfs-fuse takes a 255-character snapshot name and refuses a 256-character one"

run "$ZRECON" plan -f "$P1" --now "$T1D"
expect_rc 0
for ds in "$TOO_LONG" "$AT_LIMIT"; do
  expect_contains "$OUT" "$ds is left out: with a 30-character snapshot name it exceeds the \
255-character limit" "a ${#ds}-character dataset is left out with a warning naming it"
done
expect_eq "$(grep -F "$FITS" <<<"$OUT" | grep -c 'left out')" 0 \
  "the 224-character dataset is not left out"
run "$ZRECON" apply -f "$P1" --now "$T1D"
expect_applied "apply with names at the limit"
expect_eq "$(zfs list -H -t snapshot -o name -r "$FITS" | grep -cF "@zrecon-")" 3 \
  "the 224-character dataset gets its hourly, daily and weekly snapshots"
expect_eq "$(zfs list -H -t snapshot -o name -r "$TOO_LONG" "$AT_LIMIT")" "" \
  "the datasets left out have no snapshot"
expect_contains "$(catalog_of "$HOST1" chains "$B" | cut -f2)" "$FITS" \
  "the 224-character dataset is exported"
run "$ZRECON" verify --from "$USB1"
expect_rc 0
POLICY=$P1 expect_converged "names at the limit" "$T1D"

# ============================================================ 4. catalogs pointing outside
echo victim >"$ELSEWHERE/victim"
# evil_copy NAME: a copy of the destination (converged at T1D) and a policy
# for it; sets EVIL, EVIL_HOST, EVIL_POLICY.
evil_copy() {
  EVIL=$WORK/evil-$1
  EVIL_HOST=$EVIL/$(hostname)
  EVIL_POLICY=$WORK/evil-$1.yaml
  cp -a "$USB1" "$EVIL"
  hostile_policy "$EVIL_POLICY" evil "$EVIL" '{alias: "*"}'
}

# expect_refused WHAT NOW NEEDLE [VERIFY_NEEDLE]: plan and apply at NOW,
# verify and restore --dry-run of web01 from EVIL all exit 1 naming NEEDLE
# (verify: VERIFY_NEEDLE, as it names files relative to the host directory);
# the host and ELSEWHERE do not change.
expect_refused() {
  local what=$1 now=$2 needle=$3 verify_needle=${4:-$3} before outside
  before=$(host_state)
  outside=$(digest "$ELSEWHERE")
  run "$ZRECON" plan -f "$EVIL_POLICY" --now "$now"
  expect_rc 1
  expect_contains "$ERR" "$needle" "$what: plan refuses, naming it"
  run "$ZRECON" apply -f "$EVIL_POLICY" --now "$now"
  expect_rc 1
  expect_contains "$ERR" "$needle" "$what: apply refuses, naming it"
  expect_eq "$(host_state)" "$before" "$what: apply changed nothing on the host"
  expect_verify_and_restore_refuse "$what" "$needle" "$verify_needle"
  expect_eq "$(digest "$ELSEWHERE")" "$outside" "$what: nothing written or removed elsewhere"
}

# expect_verify_and_restore_refuse WHAT NEEDLE [VERIFY_NEEDLE]
expect_verify_and_restore_refuse() {
  local what=$1 needle=$2 verify_needle=${3:-$2}
  run "$ZRECON" verify --from "$EVIL"
  expect_rc 1
  expect_contains "$OUT$ERR" "$verify_needle" "$what: verify reports it"
  run "$ZRECON" restore --from "$EVIL" --zone web01 --dry-run --force
  expect_rc 1
  expect_contains "$ERR" "$needle" "$what: restore refuses, naming it"
}

evil_copy dotdot
must hq set-link-file "$EVIL_HOST/$A/manifest.json" \
  "$(realpath --relative-to="$EVIL_HOST" "$ELSEWHERE/victim")"
expect_refused "a link file with .." "$T1D" "chains[0].links[0].stream.file"

evil_copy absolute
must hq set-link-file "$EVIL_HOST/$A/manifest.json" "$ELSEWHERE/victim"
expect_refused "an absolute link file" "$T1D" "chains[0].links[0].stream.file"

evil_copy zone-symlink
mv "$EVIL_HOST/$A" "$ELSEWHERE/zone"
ln -s "$ELSEWHERE/zone" "$EVIL_HOST/$A"
expect_refused "a zone directory symlinked out" "$T1D" "$EVIL_HOST/$A" \
  "$A: is a symlink to $ELSEWHERE/zone: zrecon follows no symlink inside a destination"
rm -rf "${ELSEWHERE:?}/zone"

evil_copy images-symlink
mv "$EVIL_HOST/images" "$ELSEWHERE/images"
ln -s "$ELSEWHERE/images" "$EVIL_HOST/images"
expect_refused "the images directory symlinked out" "$T1D" "$EVIL_HOST/images" \
  "images: is a symlink to $ELSEWHERE/images: zrecon follows no symlink inside a destination"
rm -rf "${ELSEWHERE:?}/images"

# Directories below a zone's are not read by plan: the refusal comes when
# apply would write there (the next daily, at T0+2d) and from verify.
T2D=2026-11-28T10:00:00Z
for sub in chain config; do
  evil_copy "$sub-symlink"
  if [[ $sub == chain ]]; then
    REL_DIR=$A/$(catalog_of "$EVIL_HOST" chains "$A" | cut -f1)
  else
    REL_DIR=$A/config
  fi
  mv "$EVIL_HOST/$REL_DIR" "$ELSEWHERE/$sub"
  ln -s "$ELSEWHERE/$sub" "$EVIL_HOST/$REL_DIR"
  OUTSIDE=$(digest "$ELSEWHERE")
  run "$ZRECON" apply -f "$EVIL_POLICY" --now "$T2D"
  expect_rc 1
  expect_match "$OUT" "failed: \[[0-9]+\] [a-z ]+ \(zone $A\): .*$REL_DIR" \
    "the $sub directory symlinked out: apply fails at web01's write there, naming it"
  expect_eq "$(digest "$ELSEWHERE")" "$OUTSIDE" \
    "the $sub directory symlinked out: nothing written or removed elsewhere"
  expect_verify_and_restore_refuse "the $sub directory symlinked out" "$REL_DIR"
  rm -rf "${ELSEWHERE:?}/$sub"
done

# A link file that is a symlink to an identical copy elsewhere: sizes and
# hashes match, only the location is wrong.
evil_copy file-symlink
LINK_FILE=$(catalog_of "$EVIL_HOST" links "$A" "$(catalog_of "$EVIL_HOST" chains "$A" | cut -f1)" |
  head -1 | cut -f5)
mv "$EVIL_HOST/$LINK_FILE" "$ELSEWHERE/stream"
ln -s "$ELSEWHERE/stream" "$EVIL_HOST/$LINK_FILE"
OUTSIDE=$(digest "$ELSEWHERE")
expect_verify_and_restore_refuse "a link file symlinked out" "$LINK_FILE"
expect_eq "$(digest "$ELSEWHERE")" "$OUTSIDE" "a link file symlinked out: nothing changed elsewhere"
rm -f "$ELSEWHERE/stream"
expect_eq "$(ls -A "$ELSEWHERE")" "victim" "only the victim file is left elsewhere"
expect_eq "$(cat "$ELSEWHERE/victim")" "victim" "the victim file is intact"

# ============================================================ 5. symlinks as destinations
# The destination path itself may be a symlink (a mount point alias):
# writes go to its target.
TARGET=$WORK/medium
mkdir -p "$TARGET"
ln -s "$TARGET" "$WORK/usb-link"
P5=$WORK/linked.yaml
hostile_policy "$P5" linked "$WORK/usb-link" '{alias: "web01"}'
run "$ZRECON" apply -f "$P5" --now "$T2D"
expect_applied "a destination path that is a symlink"
expect_eq "$(ls "$TARGET/$(hostname)")" "$(lines "$A" images)" \
  "a destination path that is a symlink: web01 and the image land in its target"
run "$ZRECON" verify --from "$WORK/usb-link"
expect_rc 0
POLICY=$P5 expect_converged "a destination path that is a symlink" "$T2D"

# A host directory that is a symlink inside the destination, even to a
# target inside it: neither the catalog reader nor the writer follows a
# symlink below the path, so plan and apply refuse before anything changes.
mv "$TARGET/$(hostname)" "$TARGET/real-host-dir"
ln -s real-host-dir "$TARGET/$(hostname)"
must write_generation 9
BEFORE=$(host_state)
run "$ZRECON" apply -f "$P5" --now "$T8D"
expect_rc 1
expect_contains "$ERR" "$WORK/usb-link/$(hostname): is a symlink to $TARGET/real-host-dir" \
  "a host directory that is a symlink: apply refuses, naming it"
run "$ZRECON" plan -f "$P5" --now "$T8D"
expect_rc 1
expect_contains "$ERR" "zrecon follows no symlink inside a destination" \
  "a host directory that is a symlink: plan refuses too"
expect_eq "$(host_state)" "$BEFORE" "a host directory that is a symlink: nothing changed"

# ============================================================ 6. hostile policy values
SPACED="$WORK/usb it's \"spaced\" \$(touch $PWNED) \`touch $PWNED\`; x"
mkdir -p "$SPACED"
P6=$WORK/spaced.yaml
# fnmatch globs: metacharacters of the shell are ordinary characters.
hostile_policy "$P6" spaced "$SPACED" '{alias: "$(touch /tmp/pwned)"}' '{alias: "*;*"}' \
  '{alias: "`*"}'
run "$ZRECON" plan -f "$P6" --now "$T8D" --json --out "$WORK/p6.json"
expect_rc 0
expect_eq "$(hq plan-zones "$WORK/p6.json")" "$(lines "${UUIDS[2]}" "${UUIDS[3]}" "${UUIDS[4]}")" \
  "alias globs with shell metacharacters match literally (the ;, \$(...) and backquote zones)"
run "$ZRECON" apply -f "$P6" --now "$T8D"
expect_applied "a destination path with spaces, quotes and \$(...)"
expect_eq "$(ls "$SPACED/$(hostname)")" "$(lines "${UUIDS[2]}" "${UUIDS[3]}" "${UUIDS[4]}" images)" \
  "the exports land in the destination path, taken literally"
run "$ZRECON" verify --from "$SPACED"
expect_rc 0
expect_no_pwned "hostile policy values"
expect_eq "$(find "$CWD" -mindepth 1)" "" "nothing was written in the working directory"

cd / || exit 1
fixture_down
finish
