#!/usr/bin/env python3
"""Writes a synthetic SmartOS host for benchmarks as `zrecon plan --inventory`
reads it: DIR/zfs-list.txt (illumos format) and DIR/vmadm-lookup.json, the
zones as the live read prints them (`vmadm lookup -j -o
uuid,brand,state,image_uuid,zpool,zonename,flexible_disk_size,alias`), also
the answer of stand-in `vmadm` scripts.

Shape (defaults: 500 zones x 4 datasets x 500 snapshots = 1,000,000 snapshot
rows): images with @final; per zone a zone root cloned from an image, a
delegated data dataset, a second delegated dataset and a cores dataset
(the 4 datasets); per dataset a realistic mix of hourly, daily, weekly and
monthly snapshots ending just before --now, plus a few foreign snapshots
(@first_snap, @vmsnap-*, the other tool's daily), some held ones, and a
chain tip mark (held, as zrecon leaves it). Every 50th zone has a clone of one of its snapshots.
Deterministic for given arguments.

--names picks who owns the timeline: `zrecon` names its snapshots by
zrecon's default template (zrecon-hourly-20261126T090000Z), `sanoid` by
sanoid's (autosnap_2026-11-26_09:00:00_hourly, UTC). Both give the same
datasets, guids, times and row count; only the names differ, so the two tools
can be timed on equal work (bench/sanoid_compare.sh). With `sanoid`, the
host also gets DIR/zfs-get-creation.txt, the answer to the one listing
sanoid runs (`zfs get -Hrpt snapshot creation`), and DIR/datasets.txt, the
zone datasets a sanoid.conf names (one per line).

    bench/make_synthetic_host.py OUT_DIR [--zones 500] [--datasets 4] [--snapshots 500]
                                 [--names zrecon|sanoid] [--now 2026-11-26T10:30:00Z]
"""

import argparse
import calendar
import json
import os
import random
import time

DEFAULT_NOW = "2026-11-26T10:30:00Z"


def parse_now(text):
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        raise argparse.ArgumentTypeError("--now %r is not YYYY-MM-DDTHH:MM:SSZ" % text)


def compact(t):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def zrecon_name(cls, t):
    return "zrecon-%s-%s" % (cls, compact(t))


def sanoid_name(cls, t):
    # sanoid formats local time; the comparison runs it with TZ=UTC.
    return "autosnap_%s_%s" % (time.strftime("%Y-%m-%d_%H:%M:%S", time.gmtime(t)), cls)


NAMERS = {"zrecon": zrecon_name, "sanoid": sanoid_name}
OTHER = {"zrecon": "sanoid", "sanoid": "zrecon"}


def uuid(rng):
    h = "%032x" % rng.getrandbits(128)
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def snapshot_plan(count, now, names):
    """(name, time) of `count` snapshots, oldest first, ending before now.

    One snapshot per period and class, each at the start of its period (UTC),
    as a tool run from cron leaves them: hourlies up to the hour before now,
    dailies from today's midnight, weeklies on Mondays, monthlies every 30
    days. Retention counts below the numbers present prune the oldest ones
    of each class; which ones does not depend on how the counts are read
    (newest N, or older than N periods), see bench/sanoid_compare.sh."""
    name = NAMERS[names]
    foreign = ["first_snap", "vmsnap-before-upgrade",
               NAMERS[OTHER[names]]("daily", now - 25 * 86400 - now % 86400)]
    monthly = max(1, count // 50)
    weekly = max(1, count // 12)
    daily = max(1, count * 2 // 5)
    hourly = count - monthly - weekly - daily - len(foreign)
    out = []
    hour0 = now - now % 3600
    for i in range(hourly):
        out.append((name("hourly", hour0 - (i + 1) * 3600), hour0 - (i + 1) * 3600))
    day0 = now - now % 86400
    for i in range(daily):
        out.append((name("daily", day0 - i * 86400), day0 - i * 86400))
    # 1970-01-01 was a Thursday: days since the epoch + 3, mod 7, counts from Monday.
    monday = day0 - ((day0 // 86400 + 3) % 7) * 86400
    for i in range(weekly):
        t = monday - i * 7 * 86400
        out.append((name("weekly", t), t))
    for i in range(monthly):
        t = day0 - 25 * 86400 - i * 30 * 86400
        out.append((name("monthly", t), t))
    for i, foreign_name in enumerate(foreign):
        out.append((foreign_name, now - 400 * 86400 + i))
    out.sort(key=lambda x: x[1])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--zones", type=int, default=500)
    ap.add_argument("--datasets", type=int, default=4, help="datasets per zone (>= 2)")
    ap.add_argument("--snapshots", type=int, default=500, help="snapshots per dataset")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--names", choices=sorted(NAMERS), default="zrecon",
                    help="whose naming the timeline uses")
    ap.add_argument("--now", type=parse_now, default=parse_now(DEFAULT_NOW),
                    help="the snapshots end just before this UTC time")
    a = ap.parse_args()
    if a.zones < 1 or a.datasets < 2 or a.snapshots < 10:
        ap.error("need --zones >= 1, --datasets >= 2 and --snapshots >= 10")
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    images = [uuid(rng) for _ in range(5)]
    guid = [10 ** 18]
    txg = [1000]

    def g():
        guid[0] += rng.randrange(1, 10 ** 6)
        return guid[0]

    def t():
        txg[0] += 1
        return txg[0]

    plan = snapshot_plan(a.snapshots, a.now, a.names)
    rows = []  # (name, line)
    managed = []  # zone datasets, for a sanoid.conf
    rows.append(("zones", "zones\tfilesystem\t-\t1700000000\t%d\t1\t-\t1000000000\t-" % g()))
    rows.append(("zones/cores", "zones/cores\tfilesystem\t-\t1700000000\t%d\t2\t-\t4096\t-" % g()))
    for img in images:
        rows.append(("zones/" + img, "zones/%s\tfilesystem\t-\t1700000100\t%d\t%d\t-\t300000000\t-"
                     % (img, g(), t())))
        rows.append(("zones/%s@final" % img, "zones/%s@final\tsnapshot\t-\t1700000101\t%d\t%d\t0\t0\t-"
                     % (img, g(), t())))
    zones = []
    for z in range(a.zones):
        zid = uuid(rng)
        img = images[z % len(images)]
        zones.append("%s:OS:joyent:running:%s:zones:web%03d" % (zid, img, z))
        root = "zones/" + zid
        datasets = [(root, "zones/%s@final" % img)]
        for k in range(a.datasets - 2):
            datasets.append(("%s/data%d" % (root, k), "-"))
        datasets.append(("zones/cores/" + zid, "-"))
        for ds, origin in datasets:
            managed.append(ds)
            rows.append((ds, "%s\tfilesystem\t%s\t1750000000\t%d\t%d\t-\t123456789\t-"
                         % (ds, origin, g(), t())))
            for i, (name, when) in enumerate(plan):
                # A chain tip carries zrecon's hold, as apply leaves it.
                tip = i == len(plan) - 30
                held = 1 if i % 97 == 5 or tip else 0
                mark = "usb" if tip else "-"
                rows.append((ds + "@" + name, "%s@%s\tsnapshot\t-\t%d\t%d\t%d\t%d\t%d\t%s"
                             % (ds, name, when, g(), t(), held, 65536 + i, mark)))
        if z % 50 == 0:
            clone = "zones/%s-debug" % zid
            rows.append((clone, "%s\tfilesystem\t%s@%s\t1760000000\t%d\t%d\t-\t4096\t-"
                         % (clone, root, plan[len(plan) // 2][0], g(), t())))
    # zfs list order: by dataset name, a dataset's snapshots right after it.
    rows.sort(key=lambda r: (r[0].split("@")[0], "@" in r[0]))
    with open(os.path.join(a.out, "zfs-list.txt"), "w") as f:
        for _, line in rows:
            f.write(line + "\n")
    keys = ("uuid", "type", "brand", "state", "image_uuid", "zpool", "alias")
    lookup = [dict(zip(keys, z.split(":", 6))) for z in sorted(zones)]
    for z in lookup:
        del z["type"]  # vmadm lookup has no such key; zrecon derives it from the brand
    stale = os.path.join(a.out, "vmadm-list.txt")  # written by older versions
    if os.path.exists(stale):
        os.remove(stale)  # zrecon refuses a directory with both files
    with open(os.path.join(a.out, "vmadm-lookup.json"), "w") as f:
        f.write(json.dumps(lookup, indent=2) + "\n")
    if a.names == "sanoid":
        # `zfs get -H -p -r -t snapshot creation`: name, property, value, source.
        with open(os.path.join(a.out, "zfs-get-creation.txt"), "w") as f:
            for name, line in rows:
                if "@" in name:
                    f.write("%s\tcreation\t%s\t-\n" % (name, line.split("\t", 4)[3]))
        with open(os.path.join(a.out, "datasets.txt"), "w") as f:
            f.write("\n".join(managed) + "\n")
    snaps = sum(1 for name, _ in rows if "@" in name)
    print("wrote %s: %d rows (%d snapshots), %d zones" % (a.out, len(rows), snaps, len(zones)))


if __name__ == "__main__":
    main()
