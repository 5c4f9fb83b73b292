#!/usr/bin/env python3
"""Writes the inputs of the golden plan cases in tests/cases/<case>/.

Each case is a recorded host (inventory/zfs-list.txt and vmadm-list.txt in
the illumos format zrecon reads), a policy, optionally an export catalog
(catalogs/usb/<host>/... laid out as a directory destination), and `args`
(extra `zrecon plan` flags, @CASE@ standing for the case directory).
The expected plans (expected.txt, expected.json) are produced by
`tests/cli/golden_plans_test.py --update` and reviewed by hand; the test
compares zrecon's output with them.

Deterministic: running it twice writes the same bytes. Run from anywhere:
    python3 tests/cases/make_cases.py
"""

import hashlib
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "demo01"
NOW = "2026-11-26T10:30:00Z"

IMG = "390639d4-f146-11e7-9280-37ae5c6d53d4"   # base-64-lts, as in the seed
IMG2 = "7b5981c4-1889-11e7-b4c5-3f3bdfc9b88b"  # the image a zone was reprovisioned to
WEB = "85dbcafe-889a-e402-cf36-c7ffdd15e568"   # joyent, alias web01
APP = "fb603580-42d4-457a-92f5-812723df4bba"   # lx with a delegated dataset, alias web-app
KVM = "bbbf636a-a68d-4069-aff0-d5aaa47976c4"   # kvm, disks -disk0 (image clone), -disk1
BHYVE = "8cc2a1fe-bf3d-4a1d-9f98-7761bc2b82d8"  # bhyve, child disk0 (image clone)
GONE = "0b7c2a36-5d0e-4b8e-a9f1-6b1f0f3b2c41"   # named in a policy, not on the host

BASE_POLICY = """version: 1
host: demo01
destinations:
  usb:
    type: directory
    path: {path}
policies:
  standard:
    keep: {{hourly: 24, daily: 7}}
    datasets: [zoneroot, disks]
{export}zones:
  - match: {{alias: "web*"}}
    policy: standard
"""

EXPORT = """    export:
      - destination: usb
        class: daily
        full_every: {full_every}
        keep_chains: {keep_chains}
"""


def epoch(compact):
    """Seconds since the epoch of a %Y%m%dT%H%M%SZ time."""
    import calendar
    import time
    return calendar.timegm(time.strptime(compact, "%Y%m%dT%H%M%SZ"))


def guid(name):
    return int(hashlib.sha256(name.encode()).hexdigest()[:16], 16) or 1


class Host:
    """A host as `zfs list -t all` and `vmadm list` would show it."""

    def __init__(self):
        self.txg = 1000
        self.datasets = {}  # name -> dict(type, origin, creation, snaps=[...])
        self.zones = []

    def dataset(self, name, origin="-", kind="filesystem"):
        self.txg += 1
        self.datasets[name] = dict(type=kind, origin=origin, txg=self.txg,
                                   creation=1790000000 + self.txg, snaps=[])
        return self

    def snap(self, ds, short, userrefs=0, exported="-"):
        self.txg += 1
        creation = 1790000000 + self.txg
        if short.startswith("zrecon-"):
            creation = epoch(short.rsplit("-", 1)[1])
        self.datasets[ds]["snaps"].append(dict(
            name=short, txg=self.txg, creation=creation, userrefs=userrefs,
            exported=exported))
        return self

    def image(self, uuid):
        return self.dataset("zones/" + uuid).snap("zones/" + uuid, "final")

    def zone(self, uuid, brand, alias, image="", state="running"):
        kinds = {"joyent": "OS", "lx": "LX", "kvm": "KVM", "bhyve": "BHYV"}
        self.zones.append((uuid, kinds[brand], brand, state, image, "zones", alias))
        origin = "zones/%s@final" % image if image and brand not in ("kvm", "bhyve") else "-"
        self.dataset("zones/" + uuid, origin)
        return self.dataset("zones/cores/" + uuid)

    def find(self, ds, short):
        for s in self.datasets[ds]["snaps"]:
            if s["name"] == short:
                return s
        raise KeyError(ds + "@" + short)

    def write(self, directory):
        os.makedirs(directory, exist_ok=True)
        rows = []
        for name in sorted(self.datasets):
            d = self.datasets[name]
            rows.append([name, d["type"], d["origin"], d["creation"], guid(name), d["txg"],
                         "-", 1000000 + d["txg"], "-"])
            for s in sorted(d["snaps"], key=lambda s: s["txg"]):
                full = name + "@" + s["name"]
                rows.append([full, "snapshot", "-", s["creation"], guid(full), s["txg"],
                             s["userrefs"], 4096, s["exported"]])
        with open(os.path.join(directory, "zfs-list.txt"), "w") as f:
            for r in rows:
                f.write("\t".join(str(x) for x in r) + "\n")
        with open(os.path.join(directory, "vmadm-list.txt"), "w") as f:
            for z in sorted(self.zones):
                f.write(":".join(z) + "\n")


class Catalog:
    """A directory destination's catalog for one host (manifests only)."""

    def __init__(self, host):
        self.host = host
        self.zones = {}
        self.images = {}

    def image(self, uuid):
        snap = "zones/%s@final" % uuid
        s = self.host.find("zones/" + uuid, "final")
        self.images[uuid] = {
            "format_version": 1, "kind": "image",
            "image": {"uuid": uuid, "snapshot": snap, "guid": str(guid(snap)),
                      "createtxg": str(s["txg"]), "written": "2026-10-01T02:00:00Z",
                      "stream": stream("images/%s.zfs" % uuid),
                      "imgadm": stream("images/%s.imgadm" % uuid),
                      "imgadm_type": "zone-dataset"}}
        return self

    def chain(self, zone, alias, brand, image, dataset, key, snaps, origin=""):
        m = self.zones.setdefault(zone, {
            "format_version": 1, "kind": "zone", "host": HOST,
            "zone": {"uuid": zone, "alias": alias, "brand": brand, "image_uuid": image},
            "configs": [], "chains": []})
        start = snaps[0].rsplit("-", 1)[1]
        chain_id = "%s/%s" % (key, start)
        links = []
        prev, prev_guid = origin, guid(origin) if origin else 0
        for i, short in enumerate(snaps):
            full = dataset + "@" + short
            when = short.rsplit("-", 1)[1]
            config = "%s/config/%s.json" % (zone, when)
            if not any(c["file"] == config for c in m["configs"]):
                m["configs"].append(dict(stream(config), written=iso(when)))
            links.append({
                "snapshot": short, "guid": str(guid(full)),
                "createtxg": str(self.host.find(dataset, short)["txg"]
                                 if any(s["name"] == short for s in
                                        self.host.datasets.get(dataset, {"snaps": []})["snaps"])
                                 else 1),
                "creation": epoch(when), "from": prev, "from_guid": str(prev_guid),
                "stream": stream("%s/%s/%04d-%s.zfs" % (zone, chain_id, i + 1, short)),
                "config": config, "written": iso(when)})
            prev, prev_guid = full, guid(full)
        m["chains"].append({"id": chain_id, "dataset": dataset, "origin": origin,
                            "origin_guid": str(guid(origin) if origin else 0),
                            "image_uuid": image if origin else "", "links": links})
        return self

    def write(self, root):
        base = os.path.join(root, HOST)
        os.makedirs(base, exist_ok=True)
        for uuid, m in self.images.items():
            write_json(os.path.join(base, "images", uuid + ".json"), m)
        for uuid, m in self.zones.items():
            write_json(os.path.join(base, uuid, "manifest.json"), m)


def stream(path):
    return {"file": path, "size": 4096, "sha256": hashlib.sha256(path.encode()).hexdigest(),
            "compression": "none"}


def iso(compact):
    return "%s-%s-%sT%s:%s:%sZ" % (compact[0:4], compact[4:6], compact[6:8], compact[9:11],
                                   compact[11:13], compact[13:15])


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")


def hourlies(host, ds, first_day, first_hour, count):
    for i in range(count):
        day, hour = first_day + (first_hour + i) // 24, (first_hour + i) % 24
        host.snap(ds, "zrecon-hourly-202611%02dT%02d0000Z" % (day, hour))


def policy(export=True, full_every="30d", keep_chains=2, path="/mnt/usb/zrecon", extra=""):
    text = BASE_POLICY.format(
        path=path,
        export=EXPORT.format(full_every=full_every, keep_chains=keep_chains) if export else "")
    return text + extra


def case(name, host, policy_text, args, catalog=None, readme=""):
    d = os.path.join(HERE, name)
    if os.path.isdir(d):
        for sub in ("inventory", "catalogs"):
            shutil.rmtree(os.path.join(d, sub), ignore_errors=True)
    os.makedirs(d, exist_ok=True)
    host.write(os.path.join(d, "inventory"))
    with open(os.path.join(d, "policy.yaml"), "w") as f:
        f.write(policy_text)
    if catalog is not None:
        catalog.write(os.path.join(d, "catalogs", "usb"))
        # git keeps no empty directories: this file keeps an empty (but
        # reachable) destination in the checkout.
        with open(os.path.join(d, "catalogs", "usb", "README.md"), "w") as f:
            f.write("A directory destination as `--catalog usb=catalogs/usb` reads it.\n")
    with open(os.path.join(d, "args"), "w") as f:
        json.dump(["--now", NOW] + args, f)
        f.write("\n")
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write("# %s\n\n%s\n" % (name, readme.strip()))


USB = ["--catalog", "usb=@CASE@/catalogs/usb"]
ROOT = "zones/" + WEB
APPROOT = "zones/" + APP


def web_and_app(host):
    host.image(IMG).zone(WEB, "joyent", "web01", IMG).zone(APP, "lx", "web-app", IMG)
    host.dataset(APPROOT + "/data")
    return host


def main():
    # fresh-host: two zones, nothing yet, an empty reachable destination.
    h = web_and_app(Host())
    case("fresh-host", h, policy(), USB, Catalog(h), """
First run on a host: hourly and daily are due for both zones (the lx zone's
delegated dataset is snapshotted in the same atomic call); the image stream
goes to usb once, then each zone's config and the first link of each chain:
an incremental from the image origin for the zone roots, a full stream for
the delegated dataset. Every new chain tip gets a hold and the
zrecon:exported mark.""")

    # nothing-due: everything done in this hour and day; tips marked and held.
    h = Host().image(IMG).zone(WEB, "joyent", "web01", IMG)
    h.snap(ROOT, "zrecon-daily-20261126T000000Z", userrefs=1, exported="usb")
    h.snap(ROOT, "zrecon-hourly-20261126T100000Z")
    cat = Catalog(h).image(IMG).chain(WEB, "web01", "joyent", IMG, ROOT, "root",
                                      ["zrecon-daily-20261126T000000Z"], "zones/%s@final" % IMG)
    case("nothing-due", h, policy(), USB, cat, """
The hourly and daily of the current periods exist, the destination's chain
tip is today's daily, marked and held: the plan is `No changes.`""")

    # prune-foreign-held: 30 hourlies, foreign snapshots, a held old hourly.
    h = Host().image(IMG).zone(WEB, "joyent", "web01", IMG)
    h.snap(ROOT, "first_snap").snap(ROOT, "vmsnap-before-upgrade")
    hourlies(h, ROOT, 25, 4, 30)  # 2026-11-25T04:00 .. 2026-11-26T09:00
    h.snap(ROOT, "autosnap_2026-11-26_00:00:00_daily")
    h.snap(ROOT, "zrepl_20261126_000000_000")
    h.snap(ROOT, "zrecon-daily-20261126T000000Z")
    h.find(ROOT, "zrecon-hourly-20261125T050000Z")["userrefs"] = 1
    case("prune-foreign-held", h, policy(export=False), [], None, """
30 hourlies exist and one more is due: keep 24 leaves 7 candidates, but the
one held by someone (userrefs 1, 05:00) stays. Foreign snapshots
(@first_snap, @vmsnap-*, sanoid's autosnap_*, zrepl_*) are never touched.
Shown with --verbose so the note about the held snapshot is visible.""")
    with open(os.path.join(HERE, "prune-foreign-held", "args"), "w") as f:
        json.dump(["--now", NOW, "--verbose"], f)
        f.write("\n")

    # clone-origin-chain-start: the image is on usb already; a zone cloned from
    # another zone's snapshot gets a full stream.
    h = Host().image(IMG).zone(WEB, "joyent", "web01", IMG)
    h.snap(ROOT, "zrecon-daily-20261126T000000Z").snap(ROOT, "zrecon-hourly-20261126T100000Z")
    h.zone(APP, "lx", "web-copy")
    h.datasets[APPROOT]["origin"] = ROOT + "@zrecon-daily-20261126T000000Z"
    h.snap(APPROOT, "zrecon-daily-20261126T000000Z").snap(APPROOT, "zrecon-hourly-20261126T100000Z")
    case("clone-origin-chain-start", h, policy(), USB, Catalog(h).image(IMG), """
web01 is a clone of the image, whose stream is already on usb (same guid):
its first chain starts with `zfs send -i zones/<image>@final`, no image
stream again. web-copy is a clone of web01's daily snapshot, not of an
image: its chain starts with a full stream, and web01's daily stays because
it is a clone origin.""")

    # chain-continuation: tip is yesterday's daily, today's exists.
    h = Host().image(IMG).zone(WEB, "joyent", "web01", IMG)
    h.snap(ROOT, "zrecon-daily-20261124T000000Z")
    h.snap(ROOT, "zrecon-daily-20261125T000000Z", userrefs=1, exported="usb")
    h.snap(ROOT, "zrecon-daily-20261126T000000Z").snap(ROOT, "zrecon-hourly-20261126T100000Z")
    cat = Catalog(h).image(IMG).chain(
        WEB, "web01", "joyent", IMG, ROOT, "root",
        ["zrecon-daily-20261124T000000Z", "zrecon-daily-20261125T000000Z"], "zones/%s@final" % IMG)
    case("chain-continuation", h, policy(), USB, cat, """
The chain root/20261124T000000Z ends at yesterday's daily: today's daily is
sent as link 3, incremental from the tip; the new tip is held and marked
before the old one is released and unmarked.""")

    # interrupted-export: a killed apply left files its manifests list as loose.
    h = Host().image(IMG).zone(WEB, "joyent", "web01", IMG)
    h.snap(ROOT, "zrecon-daily-20261125T000000Z", userrefs=1, exported="usb")
    h.snap(ROOT, "zrecon-daily-20261126T000000Z").snap(ROOT, "zrecon-hourly-20261126T100000Z")
    cat = Catalog(h).image(IMG).chain(
        WEB, "web01", "joyent", IMG, ROOT, "root",
        ["zrecon-daily-20261125T000000Z"], "zones/%s@final" % IMG)
    cat.chain(GONE, "old01", "joyent", IMG, "zones/" + GONE, "root",
              ["zrecon-daily-20261101T000000Z"], "zones/%s@final" % IMG)
    cat.zones[WEB]["loose_files"] = [
        "%s/config/20261126T000000Z.json" % WEB,
        "%s/root/20261125T000000Z/0002-zrecon-daily-20261126T000000Z.zfs" % WEB]
    cat.zones[GONE]["loose_files"] = [
        "%s/root/20261101T000000Z/0002-zrecon-daily-20261102T000000Z.zfs" % GONE]
    case("interrupted-export", h, policy(), USB, cat, """
An apply was killed after linking today's config and stream of web01 into
place and before recording them, and an older one in the middle of an export
of old01, a zone no longer on the host: their manifests list those files as
loose. The plan removes them first (remove_loose, whatever the zone), then
exports today's daily again under the same name.""")

    # full-every-rollover: chain started 2026-10-20, full_every 30d, keep 1.
    h = Host().image(IMG).zone(WEB, "joyent", "web01", IMG)
    h.snap(ROOT, "zrecon-daily-20261020T000000Z")
    h.snap(ROOT, "zrecon-daily-20261125T000000Z", userrefs=1, exported="usb")
    h.snap(ROOT, "zrecon-daily-20261126T000000Z").snap(ROOT, "zrecon-hourly-20261126T100000Z")
    cat = Catalog(h).image(IMG).chain(
        WEB, "web01", "joyent", IMG, ROOT, "root",
        ["zrecon-daily-20261020T000000Z", "zrecon-daily-20261125T000000Z"], "zones/%s@final" % IMG)
    case("full-every-rollover", h, policy(keep_chains=1), USB, cat, """
The current chain started 2026-10-20; full_every 30d expired on 2026-11-19,
so today's daily starts a new chain from the image origin. With
keep_chains 1 the old chain's streams and configs are removed from usb,
last of all, after the new chain is written.""")

    # reprovisioned-zone: the chain was from IMG, the zone is now a clone of IMG2.
    h = Host().image(IMG).image(IMG2).zone(WEB, "joyent", "web01", IMG2)
    h.snap(ROOT, "zrecon-daily-20261126T000000Z").snap(ROOT, "zrecon-hourly-20261126T100000Z")
    cat = Catalog(h).image(IMG).chain(WEB, "web01", "joyent", IMG, ROOT, "root",
                                      ["zrecon-daily-20261120T000000Z"], "zones/%s@final" % IMG)
    case("reprovisioned-zone", h, policy(), USB, cat, """
The catalog's chain starts from zones/<IMG>@final but the zone root is now a
clone of zones/<IMG2>@final (reprovisioned): a new chain starts, with the
reason shown, and IMG2's image stream is saved first.""")

    # missing-zone: the policy names a zone that is not on the host.
    h = Host().image(IMG).zone(WEB, "joyent", "web01", IMG)
    h.snap(ROOT, "zrecon-daily-20261126T000000Z").snap(ROOT, "zrecon-hourly-20261126T100000Z")
    extra = "  - match: {uuid: %s}\n    policy: standard\n" % GONE
    case("missing-zone", h, policy(export=False, extra=extra), [], None, """
The policy's second entry names a uuid that is not on this host: a warning,
not an error; the other zone is planned normally (nothing due here).""")

    # kvm-bhyve-disks.
    h = Host().image(IMG).zone(KVM, "kvm", "web-kvm").zone(BHYVE, "bhyve", "web-bhyve")
    h.dataset("zones/%s-disk0" % KVM, "zones/%s@final" % IMG, "volume")
    h.dataset("zones/%s-disk1" % KVM, "-", "volume")
    h.dataset("zones/%s/disk0" % BHYVE, "zones/%s@final" % IMG, "volume")
    case("kvm-bhyve-disks", h, policy(), USB, Catalog(h), """
kvm: zone root zones/<uuid> plus volumes zones/<uuid>-disk0 (a clone of the
image) and -disk1; bhyve: zone root with child volume zones/<uuid>/disk0 (a
clone of the image). Each zone's datasets are one atomic snapshot call; the
image-based disks start from the image origin, the others with full
streams; the cores datasets are not in `datasets` and are left alone.""")

    # unreachable-destination: media not mounted; the mark protects the tip.
    h = Host().image(IMG).zone(WEB, "joyent", "web01", IMG)
    for day in range(14, 27):
        exported = "usb" if day == 15 else "-"
        h.snap(ROOT, "zrecon-daily-202611%02dT000000Z" % day, userrefs=1 if day == 15 else 0,
               exported=exported)
    h.snap(ROOT, "zrecon-hourly-20261126T100000Z")
    case("unreachable-destination", h, policy(path="/nonexistent/zrecon-usb"), [], None, """
usb is not mounted (its path does not exist): a warning, no exports, and the
daily of 2026-11-15, the chain tip recorded in zrecon:exported, is kept
although retention (daily 7) would prune it.""")

    # legacy-dialect: zfs-fuse's CLI: -r snapshot, one destroy per snapshot.
    h = web_and_app(Host())
    hourlies(h, ROOT, 25, 10, 24)
    h.snap(ROOT, "zrecon-daily-20261126T000000Z")
    case("legacy-dialect", h, policy(export=False), ["--dialect", "legacy"], None, """
The same decisions in zfs-fuse's dialect: the lx zone's tree is snapshotted
with one `zfs snapshot -r` per name (atomic), destroys go one snapshot per
call.""")


if __name__ == "__main__":
    main()
