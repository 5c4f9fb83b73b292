#!/usr/bin/env python3
"""Writes a synthetic SmartOS host for benchmarks: DIR/zfs-list.txt and
DIR/vmadm-list.txt in the illumos format `zrecon plan --inventory` reads.

Shape (defaults: 500 zones x 4 datasets x 500 snapshots = 1,000,000 snapshot
rows): images with @final; per zone a zone root cloned from an image, a
delegated data dataset, a second delegated dataset and a cores dataset
(the 4 datasets); per dataset a realistic mix of zrecon hourly, daily,
weekly and monthly snapshots ending just before --now, plus a few foreign
snapshots (@first_snap, @vmsnap-*, sanoid's autosnap_*), some held ones, and
chain tip marks. Every 50th zone has a clone of one of its snapshots.
Deterministic for given arguments.

    bench/make_synthetic_host.py OUT_DIR [--zones 500] [--datasets 4] [--snapshots 500]
"""

import argparse
import calendar
import os
import random
import time

NOW = calendar.timegm(time.strptime("2026-11-26T10:30:00Z", "%Y-%m-%dT%H:%M:%SZ"))


def compact(t):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def uuid(rng):
    h = "%032x" % rng.getrandbits(128)
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def snapshot_plan(count):
    """(name, time) of `count` snapshots, oldest first, ending before NOW."""
    foreign = ["first_snap", "vmsnap-before-upgrade", "autosnap_2026-11-01_00:00:00_daily"]
    monthly = max(1, count // 50)
    weekly = max(1, count // 12)
    daily = max(1, count * 2 // 5)
    hourly = count - monthly - weekly - daily - len(foreign)
    out = []
    hour0 = NOW - NOW % 3600
    for i in range(hourly):
        out.append(("zrecon-hourly-" + compact(hour0 - (i + 1) * 3600), hour0 - (i + 1) * 3600))
    day0 = NOW - NOW % 86400
    for i in range(daily):
        out.append(("zrecon-daily-" + compact(day0 - i * 86400), day0 - i * 86400))
    for i in range(weekly):
        t = day0 - 3 * 86400 - i * 7 * 86400  # Mondays
        out.append(("zrecon-weekly-" + compact(t), t))
    for i in range(monthly):
        t = day0 - 25 * 86400 - i * 30 * 86400
        out.append(("zrecon-monthly-" + compact(t), t))
    for i, name in enumerate(foreign):
        out.append((name, NOW - 400 * 86400 + i))
    out.sort(key=lambda x: x[1])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--zones", type=int, default=500)
    ap.add_argument("--datasets", type=int, default=4, help="datasets per zone (>= 2)")
    ap.add_argument("--snapshots", type=int, default=500, help="snapshots per dataset")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
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

    plan = snapshot_plan(a.snapshots)
    rows = []  # (name, line)
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
            rows.append((ds, "%s\tfilesystem\t%s\t1750000000\t%d\t%d\t-\t123456789\t-"
                         % (ds, origin, g(), t())))
            for i, (name, when) in enumerate(plan):
                held = 1 if i % 97 == 5 else 0
                mark = "usb" if i == len(plan) - 30 else "-"
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
    with open(os.path.join(a.out, "vmadm-list.txt"), "w") as f:
        f.write("\n".join(sorted(zones)) + "\n")
    snaps = sum(1 for name, _ in rows if "@" in name)
    print("wrote %s: %d rows (%d snapshots), %d zones" % (a.out, len(rows), snaps, len(zones)))


if __name__ == "__main__":
    main()
