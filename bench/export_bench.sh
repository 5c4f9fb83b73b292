#!/usr/bin/env bash
# Export overhead: zrecon exporting a zone's stream to a directory
# destination versus a plain `zfs send -i <image>@final <snap> > FILE`, side
# by side on the same snapshot, in alternating order each round. See
# BENCHMARKS.md ("Export overhead") for how to read the figures.
#
#   bench/export_bench.sh [--size-mib N] [--runs N] [--zrecon PATH] [--before PATH]
#
#   --size-mib N   incompressible MiB written into the zone (default 512, at
#                  least 256); a quarter as much compressible text is added
#   --runs N       measured rounds after one warm-up of each (default 5)
#   --zrecon PATH  the binary to measure (default build/zrecon)
#   --before PATH  a second zrecon binary (e.g. a build of the previous
#                  commit) measured in the same rounds, for a before/after
#                  comparison under the same load
#
# Needs root, zfs-fuse (brought up by tools/sandbox-up.sh), zstd, openssl
# and python3. Brings up its own sandbox host (pool `benchpool` in
# /var/tmp/zrecon-exportbench) and tears it down on exit, whatever happens.
# Progress goes to stderr, the results table to stdout; BENCHMARKS.md
# explains its columns.
set -euo pipefail
shopt -s inherit_errexit # a failure inside $(...) must end the run too
cd "$(dirname "$0")/.."
ROOT=$PWD
SIZE_MIB=512 RUNS=5 ZRECON=$ROOT/build/zrecon BEFORE=
BENCH=/var/tmp/zrecon-exportbench
HOST=bench                              # the policy's host: the destination's top directory
ALIAS=exportbench

usage() {
  echo "usage: $0 [--size-mib N (>= 256)] [--runs N (>= 1)] [--zrecon PATH] [--before PATH]" >&2
  exit 64
}
BENCH_NAME=export_bench
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"

while (($#)); do
  case $1 in
    --size-mib) (($# >= 2)) || usage; need_int "$1" "$2"; SIZE_MIB=$((10#$2)); shift 2 ;;
    --runs) (($# >= 2)) || usage; need_int "$1" "$2"; RUNS=$((10#$2)); shift 2 ;;
    --zrecon) (($# >= 2)) || usage; ZRECON=$(realpath -m "$2"); shift 2 ;;
    --before) (($# >= 2)) || usage; BEFORE=$(realpath -m "$2"); shift 2 ;;
    *) echo "$0: unknown argument '$1'" >&2; usage ;;
  esac
done
((SIZE_MIB >= 256)) || { echo "$0: --size-mib $SIZE_MIB is below 256" >&2; usage; }
((RUNS >= 1)) || { echo "$0: --runs must be at least 1" >&2; usage; }
[[ $EUID -eq 0 ]] || die "run as root (zfs-fuse needs it)"
[[ -x $ZRECON ]] || die "$ZRECON is missing: cmake --build build --target zrecon"
[[ -z $BEFORE || -x $BEFORE ]] || die "--before $BEFORE is not an executable"
command -v zstd >/dev/null || die "the zstd CLI is missing: tools/install-deps.sh installs it"
command -v openssl >/dev/null || die "the openssl CLI is missing: tools/install-deps.sh installs it"
PY=/usr/bin/python3
TEXT_MIB=$((SIZE_MIB / 4))
DATA_MIB=$((SIZE_MIB + TEXT_MIB))

export ZRECON_SANDBOX_DIR=$BENCH/sandbox ZRECON_SANDBOX_POOL=benchpool
export ZRECON_SANDBOX_SIZE=$((DATA_MIB + 1024))M
WORK=$BENCH/work
POOL=$ZRECON_SANDBOX_POOL
SNAP= # set once the snapshot exists; teardown releases zrecon's hold on it

# Runs from the EXIT trap, after any failure: every step is attempted.
teardown() {
  set +e
  # vmadm delete cannot destroy a held snapshot: drop zrecon's hold first.
  [[ -z $SNAP ]] || zfs release zrecon "$SNAP" >/dev/null 2>&1
  tools/sandbox-down.sh >/dev/null 2>&1 || log "tools/sandbox-down.sh failed; pool $POOL may remain"
  rm -rf "$BENCH"
  return 0
}

# Room for the pool's data plus, at once, the plain file, the two zrecon
# files and the dd file (at most the stream size each), plus a GiB of slack.
check_space() {
  local need_kib=$(((DATA_MIB * 5 + 1024) * 1024)) avail_kib
  avail_kib=$(df --output=avail -k /var/tmp | tail -n 1)
  ((avail_kib >= need_kib)) || die "/var/tmp has $((avail_kib / 1024)) MiB free;" \
    "--size-mib $SIZE_MIB needs $((need_kib / 1024))"
}

# One zone, N MiB of random data and N/4 MiB of text in its root, and a
# snapshot under zrecon's naming template dated $NOW, so zrecon adopts it as
# the newest daily and plans no snapshot of its own.
bring_up_host() {
  log "bringing up sandbox host $POOL in $ZRECON_SANDBOX_DIR (pool file $ZRECON_SANDBOX_SIZE)"
  local out payload
  out=$(tools/sandbox-up.sh 2>&1 >"$BENCH/sandbox.env") || die "tools/sandbox-up.sh failed: $out"
  eval "$(<"$BENCH/sandbox.env")"
  IMAGE=$ZRECON_TEST_IMAGE
  payload="{\"brand\": \"joyent\", \"alias\": \"$ALIAS\", \"image_uuid\": \"$IMAGE\",
    \"autoboot\": false, \"quota\": $((DATA_MIB / 1024 + 2))}"
  out=$(vmadm create 2>&1 <<<"$payload") || die "vmadm create failed: $out"
  ZONE=$(vmadm lookup alias=$ALIAS)
  local root
  root=$(zfs get -H -o value mountpoint "$POOL/$ZONE")/root/var/bench
  mkdir -p "$root"
  log "writing $SIZE_MIB MiB of random data and $TEXT_MIB MiB of text into zone $ZONE"
  head -c $((SIZE_MIB << 20)) /dev/urandom >"$root/random.bin"
  # seq dies of SIGPIPE once head has enough, which pipefail would report.
  { seq -f '%.0f GET /api/v1/items?page=1 200 0.004s "Mozilla/5.0 (X11; Linux x86_64)"' \
    1 1000000000 || true; } | head -c $((TEXT_MIB << 20)) >"$root/access.log"
  NOW=$(date -u +%Y-%m-%dT%H:00:00Z)
  FROM=$POOL/$IMAGE@final
  SNAP=$POOL/$ZONE@zrecon-daily-$(date -u -d "$NOW" +%Y%m%dT%H%M%SZ)
  zfs snapshot "$SNAP"
  [[ $(zfs get -H -o value origin "$POOL/$ZONE") == "$FROM" ]] ||
    die "$POOL/$ZONE is not a clone of $FROM"
}

write_policy() {
  mkdir -p "$WORK"
  cat >"$WORK/policy.yaml" <<YAML
version: 1
host: $HOST
destinations:
  plain: {path: $WORK/dest-none}
  packed: {path: $WORK/dest-zstd, compression: zstd}
policies:
  bench:
    keep: {daily: 1}
    datasets: [zoneroot]
    export:
      - {destination: plain, class: daily}
      - {destination: packed, class: daily}
zones:
  - match: {alias: $ALIAS}
    policy: bench
YAML
}


# The baseline, and the same file made durable: zrecon fsyncs what it writes,
# a shell redirect does not. Then the floor set by hashing: one SHA-256 of
# the file, on one core, read from the page cache, with the library zrecon
# uses (OpenSSL's libcrypto, through the openssl CLI). SHA-256 cannot be
# split across cores, so no exporter that hashes the stream finishes before
# max(send, hash). Prints "seconds seconds_with_fsync bytes sha256
# hash_seconds".
plain_send() {
  local out=$WORK/plain.zfs start send_s sync_s sha
  rm -f "$out"
  start=$EPOCHREALTIME
  zfs send -i "$FROM" "$SNAP" >"$out"
  send_s=$(since "$start")
  sync "$out"
  sync_s=$(since "$start")
  start=$EPOCHREALTIME
  sha=$(openssl dgst -sha256 -r "$out" | cut -d' ' -f1)
  echo "$send_s $sync_s $(stat -c %s "$out") $sha $(since "$start")"
}

# The seed's manual procedure as an operator runs it: the send into a file,
# `sha256sum` of it (for the checksum file that goes with it), `sync`.
manual_send() {
  local out=$WORK/manual.zfs start
  rm -f "$out" "$out.sha256"
  start=$EPOCHREALTIME
  zfs send -i "$FROM" "$SNAP" >"$out" && sha256sum "$out" >"$out.sha256" && sync
  since "$start"
  rm -f "$out" "$out.sha256"
}

# What zfs-fuse alone delivers: the same stream into /dev/null.
devnull_send() {
  local start=$EPOCHREALTIME
  zfs send -i "$FROM" "$SNAP" >/dev/null
  since "$start"
}

# The floor of any exporter that reads the stream from a pipe and leaves a
# durable file: dd in zrecon's 4 MiB blocks, no hashing, one fsync.
dd_send() {
  local out=$WORK/dd.zfs start
  rm -f "$out"
  start=$EPOCHREALTIME
  zfs send -i "$FROM" "$SNAP" | dd bs=4M iflag=fullblock conv=fsync status=none of="$out"
  since "$start"
  rm -f "$out"
}

# A fresh first export to both destinations by zrecon binary $1: plan,
# check that the only two stream sends are exactly the baseline's command,
# apply, and print one line per destination from the plan and the JSON
# progress events: "destination seconds bytes stored file sha256_in_manifest".
# `apply -f` plans again rather than applying the saved plan: the saved
# plan's fingerprint covers every pool, and other users' pools on a shared
# machine change often enough to make it stale. The start events must show
# the same actions as the saved plan, which checks that both plans agree.
zrecon_export() {
  local zrecon=$1 err
  rm -rf "$WORK/dest-none" "$WORK/dest-zstd"
  mkdir -p "$WORK/dest-none" "$WORK/dest-zstd"
  err=$("$zrecon" plan -f "$WORK/policy.yaml" --now "$NOW" --host $HOST --json \
    2>&1 >"$WORK/plan.json") || die "$zrecon plan failed (exit $?): $err"
  err=$("$zrecon" apply -f "$WORK/policy.yaml" --now "$NOW" --host $HOST --json \
    2>&1 >"$WORK/events.jsonl") || die "$zrecon apply failed (exit $?): $err"
  "$PY" - "$WORK" "$HOST" "$FROM" "$SNAP" <<'PY'
import json, os, sys
work, host, origin, snap = sys.argv[1:]
plan = json.load(open(work + "/plan.json"))
sends = [(i, a) for i, a in enumerate(plan["actions"]) if a["kind"] == "send"]
want = ["zfs", "send", "-i", origin, snap]
if sorted(a["destination"] for _, a in sends) != ["packed", "plain"] or \
        any(a["argv"] != want for _, a in sends):
    sys.exit("export_bench: the plan's sends are not exactly %s to each destination" % want)
started, finish = {}, {}
for line in open(work + "/events.jsonl"):
    e = json.loads(line)
    if e["event"] == "start":
        started[e["index"]] = (e["total"], e["kind"], e["argv"])
    if e["event"] == "finish":
        finish[e["index"]] = e
actions = plan["actions"]
if started != {i: (len(actions), a["kind"], a["argv"]) for i, a in enumerate(actions)}:
    sys.exit("export_bench: zrecon apply ran other actions than zrecon plan showed")
for i, a in sends:
    e = finish.get(i)
    if e is None or e["outcome"] != "done":
        sys.exit("export_bench: send to %s did not finish: %s" % (a["destination"], e))
    d = plan["destinations"][a["destination"]]["path"] + "/" + host
    manifest = json.load(open("%s/%s/manifest.json" % (d, a["zone"])))
    links = [l for c in manifest["chains"] for l in c["links"] if l["stream"]["file"] == a["file"]]
    if len(links) != 1:
        sys.exit("export_bench: %s records %s %d times" % (d, a["file"], len(links)))
    # Ties the event to its destination: the two sends differ only in size.
    size = os.path.getsize(d + "/" + a["file"])
    if not size == e["stored"] == links[0]["stream"]["size"]:
        sys.exit("export_bench: %s/%s holds %d bytes, the send of action %d stored %d"
                 % (d, a["file"], size, i, e["stored"]))
    print(a["destination"], e["seconds"], e["bytes"], e["stored"], d + "/" + a["file"],
          links[0]["stream"]["sha256"])
PY
}

# Every file must hold the baseline stream: the uncompressed one byte for
# byte, the compressed one once decompressed, and each must match the SHA-256
# zrecon recorded in its manifest.
verify() {
  local sha=$1 none_file=$2 none_sha=$3 zstd_file=$4 zstd_sha=$5 got
  got=$(sha256sum <"$none_file" | cut -d' ' -f1)
  [[ $got == "$sha" ]] || die "$none_file differs from the plain send ($got, expected $sha)"
  [[ $none_sha == "$sha" ]] || die "manifest sha256 $none_sha of $none_file is not $sha"
  got=$(zstd -dcq "$zstd_file" | sha256sum | cut -d' ' -f1)
  [[ $got == "$sha" ]] || die "zstd -dc $zstd_file differs from the plain send ($got)"
  got=$(sha256sum <"$zstd_file" | cut -d' ' -f1)
  [[ $got == "$zstd_sha" ]] || die "manifest sha256 $zstd_sha of $zstd_file is not $got"
}

# Exports with zrecon binary $1 and checks the files against the baseline
# stream (size $BASELINE_BYTES, SHA-256 $BASELINE_SHA) before the next
# export deletes them. Prints "seconds seconds_zstd stored_zstd".
measured_export() {
  local zr n_s n_bytes n_file n_sha z_s z_bytes z_stored z_file z_sha
  zr=$(zrecon_export "$1")
  read -r _ n_s n_bytes _ n_file n_sha < <(grep '^plain ' <<<"$zr")
  read -r _ z_s z_bytes z_stored z_file z_sha < <(grep '^packed ' <<<"$zr")
  [[ $n_bytes == "$BASELINE_BYTES" && $z_bytes == "$BASELINE_BYTES" ]] ||
    die "$1: stream sizes differ: plain $BASELINE_BYTES, zrecon $n_bytes and $z_bytes"
  verify "$BASELINE_SHA" "$n_file" "$n_sha" "$z_file" "$z_sha"
  echo "$n_s $z_s $z_stored"
}

# One measured round; appends a line to $WORK/rounds.tsv. The plain send,
# zrecon and (with --before) the other zrecon run in an order that rotates
# round by round, so that none always runs first or last.
round() {
  local n=$1 candidates=(plain zrecon) order=() c i plain zr zb="- - -" devnull floor
  [[ -z $BEFORE ]] || candidates+=(before)
  for ((i = 0; i < ${#candidates[@]}; i++)); do
    order+=("${candidates[$(((i + n - 1) % ${#candidates[@]}))]}")
  done
  for c in "${order[@]}"; do
    case $c in
      plain) plain=$(plain_send) ;;
      zrecon) zr=$(measured_export "$ZRECON") ;;
      before) zb=$(measured_export "$BEFORE") ;;
    esac
  done
  devnull=$(devnull_send)
  floor=$(dd_send)
  local manual
  manual=$(manual_send)
  local p_s p_sync_s p_bytes p_sha p_hash_s n_s z_s z_stored b_s bz_s
  read -r p_s p_sync_s p_bytes p_sha p_hash_s <<<"$plain"
  [[ $p_bytes == "$BASELINE_BYTES" && $p_sha == "$BASELINE_SHA" ]] ||
    die "round $n: zfs send produced a different stream ($p_sha, first $BASELINE_SHA)"
  read -r n_s z_s z_stored <<<"$zr"
  read -r b_s bz_s _ <<<"$zb"
  local joined
  joined=$(IFS=,; echo "${order[*]}")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$joined" \
    "$p_bytes" "$p_s" "$p_sync_s" "$devnull" "$floor" "$n_s" "$z_s" "$z_stored" "$b_s" "$bz_s" \
    "$p_hash_s" "$manual" >>"$WORK/rounds.tsv"
  log "$(printf 'round %d/%d (%s): plain %.2fs, zrecon %.2fs, zrecon+zstd %.2fs' \
    "$n" "$RUNS" "$joined" "$p_s" "$n_s" "$z_s")${BEFORE:+, before ${b_s}s}; files verified"
}

report() {
  "$PY" - "$WORK/rounds.tsv" "$SIZE_MIB" "$TEXT_MIB" <<'PY'
import statistics, sys
path, size_mib, text_mib = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(path)]
before = rows[0][10] != "-"
print("export of one zone: %s MiB random + %s MiB text, stream %.1f MB; rates in MB/s (10^6 B/s)"
      % (size_mib, text_mib, int(rows[0][2]) / 1e6))
rates = ["plain", "fsync", "null", "dd", "sha", "zrecon", "zstd", "manual"]
ratios = ["ratio", "r_fsync", "r_dd", "floor", "r_floor", "m_ratio"]
titles = {"plain": "plain", "fsync": "+fsync", "null": ">null", "dd": "pipe|dd",
          "zrecon": "zrecon", "zstd": "+zstd", "before": "before", "bzstd": "b+zstd",
          "sha": "sha256", "ratio": "ratio", "r_fsync": "r/fsync", "r_dd": "r/dd",
          "floor": "floor", "r_floor": "r/floor", "b_ratio": "b/plain",
          "b_fsync": "b/fsync", "saved": "zstd saved", "manual": "manual",
          "m_ratio": "m/zrecon"}
if before:
    rates += ["before", "bzstd"]
    ratios += ["b_ratio", "b_fsync"]
keys = rates + ratios + ["saved"]
order_width = max(12, max(len(r[1]) for r in rows))
line = "%-6s %-" + str(order_width) + "s " + " ".join("%7s" for _ in rates + ratios) + " %10s"
print(line % (("round", "order") + tuple(titles[k] for k in keys)))
cols = {k: [] for k in keys}
saved_bytes = []

def show(label, order, v):
    print(line % ((label, order) + tuple("%.0f" % v[k] for k in rates) +
                  tuple("%.2f" % v[k] for k in ratios) + ("%.1f%%" % (100 * v["saved"]),)))

for n, order, b, p, ps, dn, dd, zn, zz, stored, bn, bz, h, man in rows:
    b, stored = int(b), int(stored)
    p, ps, dn, dd, zn, zz, h, man = map(float, (p, ps, dn, dd, zn, zz, h, man))
    # The floor of a durable hashed export in this round (issue 13): the
    # send into a file made durable, and the hash of the stream on one
    # core, perfectly overlapped.
    best = max(ps, h)
    v = dict(plain=b / p / 1e6, fsync=b / ps / 1e6, null=b / dn / 1e6, dd=b / dd / 1e6,
             sha=b / h / 1e6, zrecon=b / zn / 1e6, zstd=b / zz / 1e6, manual=b / man / 1e6,
             ratio=zn / p, r_fsync=zn / ps, r_dd=zn / dd, floor=best / p, r_floor=zn / best,
             m_ratio=man / zn, saved=1 - stored / b)
    if before:
        bn, bz = float(bn), float(bz)
        v.update(before=b / bn / 1e6, bzstd=b / bz / 1e6, b_ratio=bn / p, b_fsync=bn / ps)
    for k in keys:
        cols[k].append(v[k])
    saved_bytes.append(b - stored)
    show(n, order, v)
m = {k: statistics.median(c) for k, c in cols.items()}
show("median", "", m)
print("median zrecon_time / plain_time: %.2f (target <= 1.10: %s); "
      "zrecon_time / (plain + fsync)_time: %.2f" %
      (m["ratio"], "met" if m["ratio"] <= 1.10 else "NOT met", m["r_fsync"]))
print("median floor (max(plain + fsync, sha256) / plain, the best ratio any durable exporter "
      "hashing the stream can reach here): %.2f; zrecon_time / max(plain + fsync, sha256)_time: "
      "%.2f (target <= 1.10: %s)" %
      (m["floor"], m["r_floor"], "met" if m["r_floor"] <= 1.10 else "NOT met"))
if before:
    print("before: zrecon_time / plain_time %.2f, / (plain + fsync)_time %.2f; "
          "median before_time / zrecon_time: %.2f" %
          (m["b_ratio"], m["b_fsync"],
           statistics.median(float(r[10]) / float(r[7]) for r in rows)))
print("the manual procedure (zfs send > file && sha256sum file && sync) takes %.2f times as "
      "long as zrecon's export" % m["m_ratio"])
print("zstd saved %d bytes (%.1f%%)" % (statistics.median(saved_bytes), 100 * m["saved"]))
PY
}

main() {
  [[ -e $BENCH ]] && { log "removing leftovers of an earlier run in $BENCH"; teardown; }
  check_space
  trap teardown EXIT
  mkdir -p "$BENCH"
  trap 'exit 130' INT TERM
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
  bring_up_host
  write_policy
  log "warm-up: one plain send and one export per zrecon (not measured)"
  local warm
  warm=$(plain_send)
  read -r _ _ BASELINE_BYTES BASELINE_SHA _ <<<"$warm"
  zrecon_export "$ZRECON" >/dev/null
  [[ -z $BEFORE ]] || zrecon_export "$BEFORE" >/dev/null
  : >"$WORK/rounds.tsv"
  for n in $(seq 1 "$RUNS"); do round "$n"; done
  machine_line
  echo "load average: $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after"
  echo "zrecon: $ZRECON ($("$ZRECON" --version 2>/dev/null || echo unknown version))"
  [[ -z $BEFORE ]] ||
    echo "before: $BEFORE ($("$BEFORE" --version 2>/dev/null || echo unknown version))"
  report
}

main
