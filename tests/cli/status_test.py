"""`zrecon status`: a Nagios/Icinga check of how fresh each protected
zone's snapshots and exports are, against a recorded SmartOS host
(tests/fixtures/inventory/smartos-mixed) aged with --now, and a destination
catalog from tests/fixtures/catalogs. Runs the real binary.

Run by ctest with /usr/bin/python3, ZRECON and ZRECON_SOURCE_DIR set.
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("ZRECON_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ZRECON = os.environ.get("ZRECON", os.path.join(SOURCE, "build", "zrecon"))
MIXED = os.path.join(SOURCE, "tests", "fixtures", "inventory", "smartos-mixed")
WEB01 = "7aa61170-425a-4b00-b57d-c088ec3b17dc"

# web01 and app-lx01 of the recording hold an hourly of 10:00, a daily of
# 00:00 on 2026-11-26 (and older weeklies and monthlies).
SNAPSHOTS_ONLY = """\
version: 1
host: demo01
classes: {weekly: 2w}
policies:
  standard:
    keep: {hourly: 24, daily: 7, weekly: 4, monthly: 12}
zones:
  - match: {alias: "web*"}
    policy: standard
  - match: {alias: "app-*"}
    policy: standard
"""

WITH_EXPORT = """\
version: 1
host: demo01
destinations:
  usb: {{type: directory, path: {usb}}}
policies:
  standard:
    keep: {{hourly: 24, daily: 7}}
    export:
      - {{destination: usb, class: daily}}
zones:
  - match: {{alias: "web*"}}
    policy: standard
"""


class StatusTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="zrecon-status-")
        self.addCleanup(shutil.rmtree, self.dir)

    def policy(self, text):
        path = os.path.join(self.dir, "policy.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def status(self, policy, now, *extra):
        return subprocess.run([ZRECON, "status", "-f", policy, "--inventory", MIXED, "--now", now]
                              + list(extra), capture_output=True, text=True)

    def test_exit_codes_follow_the_age_in_periods(self):
        policy = self.policy(SNAPSHOTS_ONLY)
        cases = [("2026-11-26T10:30:00Z", 0, "ZRECON OK - 2 zones protected: 2 ok"),
                 ("2026-11-26T12:30:00Z", 1, "ZRECON WARNING - 2 zones protected: 0 ok, 2 warning"),
                 ("2026-11-26T14:30:00Z", 2, "ZRECON CRITICAL - 2 zones protected: 0 ok, 0 warning, 2 critical")]
        for now, code, first in cases:
            with self.subTest(now):
                r = self.status(policy, now)
                self.assertEqual(r.returncode, code, r.stdout + r.stderr)
                self.assertTrue(r.stdout.startswith(first + ","), r.stdout)
        r = self.status(policy, "2026-11-26T12:30:00Z", "--warn", "3", "--crit", "6")
        self.assertEqual(r.returncode, 0, r.stdout)
        r = self.status(policy, "2026-11-26T12:30:00Z")
        self.assertIn("WARNING: web01 (%s): the newest hourly snapshot of zones/%s is 2h30m old, "
                      "over 1.5 periods of 1h\n" % (WEB01, WEB01), r.stdout)

    def test_json(self):
        r = self.status(self.policy(SNAPSHOTS_ONLY), "2026-11-26T14:30:00Z", "--json")
        self.assertEqual(r.returncode, 2)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["health"], "CRITICAL")
        self.assertEqual(doc["exit_code"], 2)
        self.assertEqual(doc["now"], "2026-11-26T14:30:00Z")
        web = [z for z in doc["zones"] if z["uuid"] == WEB01][0]
        self.assertEqual(web["alias"], "web01")
        hourly = web["snapshots"][0]
        self.assertEqual(hourly["class"], "hourly")
        self.assertEqual(hourly["age_seconds"], 4 * 3600 + 1800)
        self.assertEqual(hourly["health"], "CRITICAL")
        self.assertEqual([s["class"] for s in web["snapshots"]],
                         ["hourly", "daily", "weekly", "monthly"])

    def test_exports_on_the_media(self):
        usb = os.path.join(self.dir, "usb")
        os.mkdir(usb)
        policy = self.policy(WITH_EXPORT.format(usb=usb))
        r = self.status(policy, "2026-11-26T10:30:00Z", "--json")
        self.assertEqual(r.returncode, 2, r.stdout)
        export = json.loads(r.stdout)["zones"][0]["exports"][0]
        self.assertEqual(export["destination"], "usb")
        self.assertTrue(export["reachable"])
        self.assertEqual(export["why"], "zones/%s was never exported to usb" % WEB01)
        # The medium unplugged: unknown, not a failure of the zone.
        os.rmdir(usb)
        r = self.status(policy, "2026-11-26T10:30:00Z")
        self.assertEqual(r.returncode, 3, r.stdout)
        self.assertIn("UNKNOWN: web01 (%s): destination usb is unreachable (%s does not exist)"
                      % (WEB01, usb), r.stdout)

    def test_metrics_file(self):
        metrics = os.path.join(self.dir, "zrecon_status.prom")
        r = self.status(self.policy(SNAPSHOTS_ONLY), "2026-11-26T12:30:00Z", "--metrics-file",
                        metrics)
        self.assertEqual(r.returncode, 1)
        with open(metrics) as f:
            lines = f.read().splitlines()
        self.assertIn("# TYPE zrecon_health gauge", lines)
        self.assertIn("zrecon_health 1", lines)
        self.assertIn('zrecon_snapshot_newest_timestamp_seconds{zone="%s",alias="web01",'
                      'class="hourly",dataset="zones/%s"} 1795687200' % (WEB01, WEB01), lines)
        self.assertEqual([n for n in os.listdir(self.dir) if n.startswith(".tmp")], [])
        # A host that cannot be read: the file says UNKNOWN rather than the old level.
        r = subprocess.run([ZRECON, "status", "-f", os.path.join(self.dir, "absent.yaml"),
                            "--metrics-file", metrics], capture_output=True, text=True)
        self.assertEqual(r.returncode, 3)
        with open(metrics) as f:
            self.assertIn("zrecon_health 3", f.read().splitlines())

    def test_anything_that_cannot_be_read_is_unknown(self):
        r = subprocess.run([ZRECON, "status", "-f", os.path.join(self.dir, "absent.yaml"),
                            "--inventory", MIXED], capture_output=True, text=True)
        self.assertEqual(r.returncode, 3)
        self.assertTrue(r.stdout.startswith("ZRECON UNKNOWN - invalid policy"), r.stdout)
        self.assertEqual(len(r.stdout.splitlines()), 1, "one line for the monitoring system")
        r = self.status(self.policy(SNAPSHOTS_ONLY), "2026-11-26T10:30:00Z", "--warn", "4",
                        "--crit", "2")
        self.assertEqual(r.returncode, 3)
        self.assertIn("--crit at least --warn", r.stdout)


if __name__ == "__main__":
    unittest.main()
