#!/usr/bin/env python3
"""Helpers of bench/process_count.sh: sanoid's view of a saved inventory,
processes per phase (from a wrapper log, predicted from a plan, and from
sanoid's output), and the table.

    process_count.py sanoid-host INVENTORY_DIR OUT_DIR
    process_count.py log LOG                    processes a wrapper log shows, per phase
    process_count.py plan PLAN_JSON             processes apply runs for the plan, per phase
    process_count.py sanoid SANOID_OUTPUT LOG   sanoid's processes, per phase
    process_count.py table COUNTS.json...       the Markdown table

Each counting command prints one JSON object {"label": ..., phase: n, ...}.
Phases: read (listing the state), snapshot, export (sends, zone configs,
chain tip holds and marks, snapshot look-ups), prune (destroys), and
`other` for sanoid's lock and busy checks (ps).
"""

import argparse
import calendar
import collections
import json
import os
import re
import sys
import time

PHASES = ("read", "snapshot", "export", "prune", "other")
ZRECON_NAME = re.compile(r"^zrecon-([a-z][a-z0-9_]*)-(\d{8}T\d{6}Z)$")
SANOID_TAKE = re.compile(r"^taking snapshot \S+@\S+")
SANOID_PRUNE = re.compile(r"^INFO: pruning (\S+)@autosnap_\S+_([a-z]+ly) \.\.\. $")


def emit(label, counts, **extra):
    out = {"label": label}
    out.update({p: counts.get(p, 0) for p in PHASES})
    out["total"] = sum(counts.get(p, 0) for p in PHASES)
    out.update(extra)
    print(json.dumps(out))


def sanoid_host(inventory, out):
    """Writes OUT/zfs-get-creation.txt (sanoid's listing) and OUT/datasets.txt
    from an illumos-format inventory: the zones' datasets (zone root and
    below, cores) with each zrecon-named snapshot renamed the way sanoid
    names the same snapshot, autosnap_<UTC time>_<class>, and its creation
    set to that time. On the sandbox every snapshot was created just now;
    sanoid decides from `creation`, zrecon from the name."""
    zones = {}  # zone name -> pool
    with open(os.path.join(inventory, "vmadm-lookup.json")) as f:
        for z in json.load(f):
            zones[z.get("zonename") or z["uuid"]] = z.get("zpool") or "zones"
    roots = {"%s/%s" % (pool, name) for name, pool in zones.items()}
    cores = {"%s/cores/%s" % (pool, name) for name, pool in zones.items()}

    def managed(ds):
        return ds in cores or ds in roots or any(ds.startswith(r + "/") for r in roots)

    os.makedirs(out, exist_ok=True)
    datasets, rows = [], []
    with open(os.path.join(inventory, "zfs-list.txt")) as f:
        for line in f:
            name, kind, _, creation = line.split("\t", 4)[:4]
            ds, _, short = name.partition("@")
            if not managed(ds):
                continue
            if kind != "snapshot":
                datasets.append(ds)
                continue
            m = ZRECON_NAME.match(short)
            if m:
                t = calendar.timegm(time.strptime(m.group(2), "%Y%m%dT%H%M%SZ"))
                short = "autosnap_%s_%s" % (time.strftime("%Y-%m-%d_%H:%M:%S", time.gmtime(t)),
                                            m.group(1))
                creation = str(t)
            rows.append("%s@%s\tcreation\t%s\t-\n" % (ds, short, creation))
    with open(os.path.join(out, "zfs-get-creation.txt"), "w") as f:
        f.writelines(rows)
    with open(os.path.join(out, "datasets.txt"), "w") as f:
        f.write("\n".join(datasets) + "\n")
    print("sanoid host: %d datasets, %d snapshots" % (len(datasets), len(rows)), file=sys.stderr)


def phase_of_call(words):
    """The phase of one logged call: ["zfs", "get", ...] or ["vmadm", ...]."""
    tool, args = words[0], words[1:]
    sub = args[0] if args else ""
    if tool == "vmadm":
        return "read" if sub in ("list", "lookup") else "export"  # vmadm get: the zone config
    if tool == "ps":
        return "other"
    if sub == "list" or (sub == "get" and ("-r" in args or "-Hrpt" in args)):
        return "read"
    if sub == "snapshot":
        return "snapshot"
    if sub == "destroy":
        return "prune"
    if sub in ("send", "hold", "release", "set", "inherit", "get"):
        return "export"  # get without -r: guid/createtxg of a snapshot to send
    sys.exit("process_count: no phase for logged call %r" % " ".join(words))


def count_log(path):
    counts = collections.Counter()
    with open(path) as f:
        for line in f:
            if line.strip():
                counts[phase_of_call(line.split())] += 1
    return counts


def count_plan(path):
    """What apply spawns for the plan (reconciler/apply/executor.cc): one
    process per action argv; before a send or image save, a `zfs send -nP`
    size estimate in the illumos dialect, and a `zfs get` of the snapshot
    when the plan creates it (its guid is not known yet); plus the two
    listings the plan itself read."""
    with open(path) as f:
        plan = json.load(f)
    counts = collections.Counter(read=2)
    phase = {"snapshot": "snapshot", "destroy": "prune"}
    for a in plan["actions"]:
        kind = a["kind"]
        if kind == "remove_export":
            continue  # deletes files on the destination, no process
        counts[phase.get(kind, "export")] += 1
        if kind in ("send", "save_image"):
            if plan["dialect"] == "illumos":
                counts["export"] += 1
            if a["stream"]["guid"] == "0":
                counts["export"] += 1
    return counts, plan["dialect"]


def count_sanoid(output, log):
    """sanoid --cron --readonly: the processes it ran (LOG: the stand-in zfs
    and the ps wrapper) plus those --readonly skipped, from its code
    (sanoid 2.1): per snapshot taken, `zfs snapshot` inside Capture::Tiny's
    tee_stderr, which forks a perl tee process; per snapshot pruned,
    `zfs destroy`; per dataset and type pruned, a `ps -p` for the cache
    lock that removecachedsnapshots takes after the destroys."""
    ran = count_log(log)
    takes = prunes = 0
    batches = set()
    with open(output) as f:
        for line in f:
            if SANOID_TAKE.match(line):
                takes += 1
            m = SANOID_PRUNE.match(line)
            if m:
                prunes += 1
                batches.add((m.group(1), m.group(2)))  # dataset, type
    # What --readonly itself ran, from the code: a ps for the cache lock per
    # `zfs get`; per batch a ps for the pruning lock; per prune a busy check.
    expected_ps = ran["read"] + len(batches) + prunes
    if ran["other"] != expected_ps:
        sys.exit("process_count: sanoid ran %d ps, the code paths predict %d"
                 % (ran["other"], expected_ps))
    would = collections.Counter(ran)
    would["snapshot"] += 2 * takes
    would["prune"] += prunes
    would["other"] += len(batches)
    return ran, would, takes, prunes, len(batches)


def table(paths):
    rows = []
    for p in paths:
        with open(p) as f:
            rows.extend(json.loads(line) for line in f if line.strip())
    # sanoid exports nothing: the last column is the work both tools do.
    print("| candidate | read | snapshot | export | prune | other (ps) | total | total without export |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %s | %s | %d |" % (r["label"], " | ".join(str(r[k]) for k in PHASES + ("total",)),
                                    r["total"] - r["export"]))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sanoid-host")
    s.add_argument("inventory")
    s.add_argument("out")
    lg = sub.add_parser("log")
    lg.add_argument("log")
    lg.add_argument("--label", required=True)
    pl = sub.add_parser("plan")
    pl.add_argument("plan_json")
    pl.add_argument("--label", required=True)
    sa = sub.add_parser("sanoid")
    sa.add_argument("output")
    sa.add_argument("log")
    t = sub.add_parser("table")
    t.add_argument("counts", nargs="+")
    a = ap.parse_args(argv)
    if a.command == "sanoid-host":
        sanoid_host(a.inventory, a.out)
    elif a.command == "log":
        emit(a.label, count_log(a.log))
    elif a.command == "plan":
        counts, dialect = count_plan(a.plan_json)
        emit(a.label, counts, dialect=dialect)
    elif a.command == "sanoid":
        ran, would, takes, prunes, batches = count_sanoid(a.output, a.log)
        emit("sanoid --readonly, ran", ran)
        emit("sanoid, would run", would, takes=takes, prunes=prunes, batches=batches)
    else:
        table(a.counts)


if __name__ == "__main__":
    main(sys.argv[1:])
