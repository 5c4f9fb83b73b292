#!/usr/bin/env python3
"""Helpers of bench/sanoid_compare.sh: equivalent configurations for zrecon
and sanoid, the check that both decide the same snapshots, and the report.

    sanoid_compare.py configs HOST WORK [--keep C=N,...] [--due C,...] [--export DIR]
        writes WORK/policy.yaml and WORK/sanoid/sanoid.conf for HOST/datasets.txt
    sanoid_compare.py check PLAN_JSON SANOID_OUTPUT
    sanoid_compare.py report RESULTS_TSV PNG
    sanoid_compare.py measure TIME_FILE OUT -- ARGV...
        runs ARGV (stdout to OUT, stderr to OUT.err) and writes
        "wall_s user_s sys_s maxrss_kib" to TIME_FILE; exits with ARGV's status

Retention settings. zrecon counts the snapshot it is about to take ("planned
ones count and are newest", reconciler/plan/retention.h); sanoid prunes from
the listing it read before taking (prune_snapshots uses %snapsbytype built
at start-up). So for a class due in this run, zrecon `keep: N+1` and sanoid
`N` leave the same existing snapshots; for the other classes the counts are
equal. On the synthetic timeline (bench/make_synthetic_host.py) only hourly
is due at --now: hourlies end the hour before it, while today's daily, this
week's Monday weekly and this month's 1st monthly exist. The check below
verifies that claim: if any other class were due, the takes would differ.

sanoid's preferred times are set to the start of each period (hourly_min 0,
daily_hour/min 0, weekly Monday 00:00, monthly the 1st 00:00), which is where
zrecon's UTC-aligned periods start (docs/policy.md, Classes), and sanoid runs
with TZ=UTC.

sanoid prunes a snapshot only when its type has more than `count` snapshots
AND it is older than count x period (hourly 1h, daily 1d, weekly 7d, monthly
31d); zrecon prunes on the count alone. With one snapshot per period, the
oldest snapshot beyond the count is at least `count` periods old for hourly,
daily and weekly; for monthly (30-day spacing against sanoid's 31 days) when
count < 25. So the two agree on this timeline; with gaps or several
snapshots in one period they would not.
"""

import argparse
import collections
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import calendar
import time

# What zrecon keeps by default (the counts of bench/policy.yaml) and which
# classes are due at --now on the synthetic timeline.
ZRECON_KEEP = {"hourly": 245, "daily": 199, "weekly": 41, "monthly": 10}
DUE_AT_NOW = {"hourly"}
# Plan actions of the export phase, which sanoid has no counterpart for.
EXPORT_KINDS = {"send", "save_image", "save_config", "hold", "release", "mark_tip",
                "remove_export"}

ZRECON_NAME = re.compile(r"^zrecon-([a-z][a-z0-9_]*)-(\d{8}T\d{6}Z)$")
SANOID_NAME = re.compile(r"^autosnap_(\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d)_([a-z]+ly)$")
SANOID_TAKE = re.compile(r"^taking snapshot (\S+?)( \(zfs recursive\))?$")
SANOID_PRUNE = re.compile(r"^INFO: pruning (\S+) \.\.\. $")
SANOID_DEFER = re.compile(r"^INFO: deferring pruning of (\S+) ")
ZRECON_KEPT = re.compile(r"^keeping (\S+): .*; kept: (.*)$")


def sanoid_counts(keep, due):
    return {c: n - (1 if c in due else 0) for c, n in keep.items()}


def write_configs(host, work, keep, due, export_dir):
    """zrecon's policy.yaml and an equivalent sanoid.conf (one section per
    line of HOST/datasets.txt). With export_dir, zrecon also exports the
    daily class there; sanoid has no export."""
    with open(os.path.join(host, "datasets.txt")) as f:
        datasets = [line.strip() for line in f if line.strip()]
    os.makedirs(os.path.join(work, "sanoid"), exist_ok=True)
    keep_text = ", ".join("%s: %d" % kv for kv in keep.items())
    destinations = export = ""
    if export_dir:
        destinations = "destinations:\n  usb:\n    path: %s\n" % export_dir
        export = "    export:\n      - {destination: usb, class: daily}\n"
    with open(os.path.join(work, "policy.yaml"), "w") as f:
        f.write("# Written by bench/sanoid_compare.py: the retention of the sanoid.conf beside it.\n"
                "version: 1\n%spolicies:\n  standard:\n"
                "    keep: {%s}\n    datasets: [zoneroot, cores]\n%s"
                "zones:\n  - match: {uuid: \"*\"}\n    policy: standard\n"
                "limits:\n  max_destroy: 10000000\n" % (destinations, keep_text, export))
    counts = sanoid_counts(keep, due)
    with open(os.path.join(work, "sanoid", "sanoid.conf"), "w") as f:
        f.write("# Written by bench/sanoid_compare.py: the retention of ../policy.yaml.\n"
                "[template_bench]\n")
        for cls in ("frequently", "hourly", "daily", "weekly", "monthly", "yearly"):
            f.write("\t%s = %d\n" % (cls, counts.get(cls, 0)))
        f.write("\tautosnap = yes\n\tautoprune = yes\n\thourly_min = 0\n"
                "\tdaily_hour = 0\n\tdaily_min = 0\n"
                "\tweekly_wday = 1\n\tweekly_hour = 0\n\tweekly_min = 0\n"
                "\tmonthly_mday = 1\n\tmonthly_hour = 0\n\tmonthly_min = 0\n\n")
        for ds in datasets:
            f.write("[%s]\n\tuse_template = bench\n\n" % ds)
    print("configs: %d datasets, zrecon keep %s, sanoid %s" % (len(datasets), keep, counts))


def decision_key(full_name, pattern, where):
    """(dataset, class, epoch) of a zrecon- or sanoid-named snapshot."""
    dataset, _, short = full_name.partition("@")
    m = pattern.match(short)
    if not m:
        sys.exit("check: %s: %r is not a snapshot name of that tool" % (where, full_name))
    if pattern is ZRECON_NAME:
        cls, t = m.group(1), calendar.timegm(time.strptime(m.group(2), "%Y%m%dT%H%M%SZ"))
    else:
        cls, t = m.group(2), calendar.timegm(time.strptime(m.group(1), "%Y-%m-%d_%H:%M:%S"))
    return (dataset, cls, t)


def zrecon_decisions(plan_path):
    with open(plan_path) as f:
        plan = json.load(f)
    take, prune, kept = set(), set(), {}
    for a in plan["actions"]:
        if a["kind"] in EXPORT_KINDS:
            continue
        if a["kind"] not in ("snapshot", "destroy"):
            sys.exit("check: %s: unexpected %s action" % (plan_path, a["kind"]))
        target = take if a["kind"] == "snapshot" else prune
        for s in a["snapshots"]:
            target.add(decision_key(s, ZRECON_NAME, plan_path))
    for note in plan.get("notes", []):
        m = ZRECON_KEPT.match(note)
        if m:
            kept[decision_key(m.group(1), ZRECON_NAME, plan_path)] = m.group(2)
    return take, prune, kept


def sanoid_decisions(output_path):
    take, prune = set(), set()
    with open(output_path) as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            m = SANOID_TAKE.match(line)
            if m:
                take.add(decision_key(m.group(1), SANOID_NAME, "%s:%d" % (output_path, number)))
                continue
            m = SANOID_PRUNE.match(line)
            if m:
                prune.add(decision_key(m.group(1), SANOID_NAME, "%s:%d" % (output_path, number)))
                continue
            if SANOID_DEFER.match(line):
                sys.exit("check: %s:%d: sanoid deferred a prune (a zfs send/receive "
                         "process matched): %s" % (output_path, number, line))
    return take, prune


def show(keys, limit=5):
    return ", ".join("%s %s@%s" % (d, c, time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(t)))
                     for d, c, t in sorted(keys)[:limit]) + (" ..." if len(keys) > limit else "")


def check(plan_path, sanoid_path):
    """Exits 1 unless both tools take the same snapshots and prune the same
    ones, apart from snapshots zrecon keeps for a reason sanoid does not see
    (a hold, a clone, an export chain tip): sanoid's `zfs destroy` of a held
    or cloned snapshot fails at run time."""
    z_take, z_prune, z_kept = zrecon_decisions(plan_path)
    s_take, s_prune = sanoid_decisions(sanoid_path)
    problems = []
    if z_take != s_take:
        problems.append("takes differ: only zrecon: [%s]; only sanoid: [%s]"
                        % (show(z_take - s_take), show(s_take - z_take)))
    only_zrecon = z_prune - s_prune
    if only_zrecon:
        problems.append("only zrecon prunes: [%s]" % show(only_zrecon))
    only_sanoid = s_prune - z_prune
    unexplained = {k for k in only_sanoid if k not in z_kept}
    if unexplained:
        problems.append("only sanoid prunes: [%s]" % show(unexplained))
    if not z_take or not z_prune:
        problems.append("nothing to compare: zrecon takes %d and prunes %d" % (len(z_take), len(z_prune)))
    if problems:
        sys.exit("check: the decisions differ:\n  " + "\n  ".join(problems))
    why = collections.Counter(z_kept[k].split(" (")[0] for k in only_sanoid)
    extra = ""
    if why:
        extra = "; sanoid also prunes %d that zrecon keeps (%s)" % (
            len(only_sanoid), ", ".join("%s: %d" % kv for kv in sorted(why.items())))
    print("agree: %d to take, %d to prune%s" % (len(z_take), len(z_prune), extra))


def measure(time_file, out, argv):
    """GNU time's figures (wait4's rusage of the process and the children it
    waited for), at the microsecond resolution of rusage instead of GNU
    time's 10 ms: zrecon plans 10,000 rows in about that."""
    with open(out, "wb") as stdout, open(out + ".err", "wb") as stderr:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    with open(time_file, "w") as f:
        f.write("%.4f %.4f %.4f %d\n" % (wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss))
    return child.returncode


def median(values):
    return statistics.median(values)


def report(results_path, png_path):
    """Prints the Markdown table of medians, the growth with size, and draws
    the figure."""
    runs = collections.defaultdict(list)
    with open(results_path) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            user, sys_ = float(r["user_s"]), float(r["sys_s"])
            runs[(int(r["rows"]), r["tool"])].append(
                (float(r["wall_s"]), user + sys_, int(r["rss_kib"]) / 1024.0, user, sys_))
    tools = ["zrecon-inventory", "zrecon-standin", "sanoid", "sanoid-nobusy"]
    sizes = sorted({n for n, _ in runs})
    # (wall, cpu, rss, user, sys) medians, each taken on its own, and the run count.
    med = {key: tuple(median(v[i] for v in values) for i in range(5)) + (len(values),)
           for key, values in runs.items()}
    print("| rows | candidate | runs | wall s | CPU s (user + sys) | peak RSS MiB | CPU µs/row "
          "| sanoid/zrecon wall | sanoid/zrecon CPU |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        for tool in tools:
            if (n, tool) not in med:
                continue
            wall, cpu, rss, user, sys_, count = med[(n, tool)]
            ratio_wall = ratio_cpu = ""
            if tool.startswith("sanoid") and (n, "zrecon-standin") in med:
                zw, zc = med[(n, "zrecon-standin")][:2]
                ratio_wall = "**%.0f**" % (wall / zw)
                ratio_cpu = "**%.0f**" % (cpu / zc)
            print("| %s | %s | %d | %.3f | %.3f (%.3f + %.3f) | %.0f | %.2f | %s | %s |"
                  % ("{:,}".format(n), tool, count, wall, cpu, user, sys_, rss, cpu / n * 1e6,
                     ratio_wall, ratio_cpu))
    for a, b in zip(sizes, sizes[1:]):
        print("\nGrowth from %s to %s rows (x%.1f):" % ("{:,}".format(a), "{:,}".format(b), b / a))
        for tool in tools:
            if (a, tool) in med and (b, tool) in med:
                x, y = med[(a, tool)], med[(b, tool)]
                print("- %s: wall x%.1f, CPU x%.1f, peak RSS x%.1f"
                      % (tool, y[0] / x[0], y[1] / x[1], y[2] / x[2]))
    plot(sizes, tools, med, png_path)


def plot(sizes, tools, med, png_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    labels = {"zrecon-inventory": "zrecon plan --inventory",
              "zrecon-standin": "zrecon plan, stand-in zfs/vmadm",
              "sanoid": "sanoid --cron --readonly, stand-in zfs",
              "sanoid-nobusy": "sanoid, --force-prune (no ps per prune)"}
    panels = (("wall time (median)", "seconds", 0), ("CPU time, user + sys (median)", "seconds", 1),
              ("peak memory (median)", "MiB RSS", 2))
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    plain = FuncFormatter(lambda v, _: "%g" % v)
    for ax, (title, unit, field) in zip(axes, panels):
        for tool in tools:
            xs = [n for n in sizes if (n, tool) in med]
            if xs:
                ax.plot(xs, [med[(n, tool)][field] for n in xs], marker="o", label=labels[tool])
        top = med.get((sizes[-1], "zrecon-standin")) if sizes else None
        if top and field < 2:
            ax.plot(sizes, [top[field] * n / sizes[-1] for n in sizes], linestyle=":", color="grey",
                    label="linear in rows (through zrecon's largest)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: "{:,.0f}".format(v)))
        ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("snapshot rows on the host")
        ax.set_ylabel(unit)
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("zrecon plan and sanoid --cron --readonly deciding the same snapshots "
                 "(bench/sanoid_compare.sh)", fontsize=10)
    fig.tight_layout()
    fig.savefig(png_path, dpi=80)
    print("\nwrote %s (%d bytes)" % (png_path, os.path.getsize(png_path)))


def class_counts(text):
    """"hourly=245,daily=199" -> {"hourly": 245, "daily": 199}."""
    out = {}
    for item in text.split(","):
        cls, sep, n = item.partition("=")
        if not sep or not re.fullmatch(r"[a-z]+ly", cls) or not n.isdigit():
            raise argparse.ArgumentTypeError("expected CLASS=N,... with sanoid's classes "
                                             "(hourly, daily, ...), got %r" % item)
        out[cls] = int(n)
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("configs", help="equivalent zrecon policy and sanoid.conf")
    c.add_argument("host")
    c.add_argument("work")
    c.add_argument("--keep", type=class_counts, default=dict(ZRECON_KEEP),
                   help="zrecon keep counts (default %(default)s)")
    c.add_argument("--due", default=",".join(sorted(DUE_AT_NOW)),
                   help="classes due at --now (default %(default)s)")
    c.add_argument("--export", metavar="DIR", help="also export the daily class to DIR (zrecon)")
    k = sub.add_parser("check", help="both tools take and prune the same snapshots")
    k.add_argument("plan_json")
    k.add_argument("sanoid_output")
    r = sub.add_parser("report", help="Markdown table of medians and the figure")
    r.add_argument("results_tsv")
    r.add_argument("png")
    m = sub.add_parser("measure", help="run a command, write its wall, CPU and peak RSS")
    m.add_argument("time_file")
    m.add_argument("out")
    m.add_argument("argv", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    if a.command == "configs":
        write_configs(a.host, a.work, a.keep, set(filter(None, a.due.split(","))), a.export)
    elif a.command == "check":
        check(a.plan_json, a.sanoid_output)
    elif a.command == "measure":
        command = a.argv[1:] if a.argv[:1] == ["--"] else a.argv
        if not command:
            ap.error("measure: no command given")
        sys.exit(measure(a.time_file, a.out, command))
    else:
        report(a.results_tsv, a.png)


if __name__ == "__main__":
    main(sys.argv[1:])
