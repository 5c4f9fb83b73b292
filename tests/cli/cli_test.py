"""What an operator relies on from the zrecon command line: exit codes
(reconciler/cli/cli.h), where messages go and what they name, for
`validate`, `schema`, `plan` and `inventory`. Runs the real binary; the
live-host paths use stand-in `zfs` and `vmadm` scripts that replay recorded
output from tests/fixtures/inventory and log how they were called.

Run by ctest with /usr/bin/python3, ZRECON (the built binary) and
ZRECON_SOURCE_DIR set.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
import unittest

import jsonschema

SOURCE = os.environ.get("ZRECON_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ZRECON = os.environ.get("ZRECON", os.path.join(SOURCE, "build", "zrecon"))
FIXTURES = os.path.join(SOURCE, "tests", "fixtures")
MIXED = os.path.join(FIXTURES, "inventory", "smartos-mixed")
LEGACY = os.path.join(FIXTURES, "inventory", "legacy-zfs-fuse")
CATALOGS = os.path.join(FIXTURES, "catalogs")
DEFAULT_POLICY = "/opt/zrecon/policy.yaml"

NOW = "2026-11-26T10:30:00Z"
LEGACY_NOW = "2026-11-26T12:30:00Z"  # the legacy recording's hourly is from 10:37
WEB01 = "7aa61170-425a-4b00-b57d-c088ec3b17dc"
CATALOG_ZONE = "8f6d2b3a-61c4-4e0b-b7a1-3c9e5d0f2a47"

# The listing commands zrecon documents (reconciler/inventory/parsers.h).
ZFS_LIST_ARGS = ("list -H -p -t all -o "
                 "name,type,origin,creation,guid,createtxg,userrefs,used,zrecon:exported")
ZFS_GET_ARGS = ("get -H -p -r -o name,property,value "
                "type,origin,creation,guid,createtxg,userrefs,used,zrecon:exported")
VMADM_LIST_ARGS = "lookup -j -o uuid,brand,state,image_uuid,zpool,zonename,flexible_disk_size,alias"

# web01 keeps hourly, daily and weekly snapshots and exports its dailies to
# usb; at NOW the fixture's monthly and last week's weekly are pruned.
EXPORTING_POLICY = """\
version: 1
host: demo01
destinations:
  usb:
    type: directory
    path: {usb}
policies:
  standard:
    keep: {{hourly: 24, daily: 7}}
    export:
      - destination: usb
        class: daily
        full_every: 30d
        keep_chains: 2
zones:
  - match: {{alias: "web*"}}
    policy: standard
"""

# Every class web01 takes already has its snapshot of the current period at
# NOW (weekly is a two-week class here), and nothing is beyond its count.
# app-lx01 is matched too: a zone with zrecon's held chain tips that the
# policy left out would get them released (a change).
SATISFIED_POLICY = """\
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

LEGACY_POLICY = """\
version: 1
host: demo01
policies:
  p:
    keep: {hourly: 24, daily: 7}
zones:
  - match: {alias: "legacy-*"}
    policy: p
"""

# Two errors, no warning: line 4 column 24 and line 6 column 22.
INVALID_POLICY = """\
version: 1
policies:
  p:
    keep: {hourly: 24, fortnightly: 2}
    export:
      - destination: nowhere
        class: hourly
zones:
  - match: {alias: "web*"}
    policy: p
"""

UNKNOWN_POLICY_REFERENCE = """\
version: 1
policies:
  p:
    keep: {hourly: 24}
zones:
  - match: {alias: "web*"}
    policy: nosuch
"""

TWO_ENTRIES_MATCH_WEB01 = """\
version: 1
policies:
  p:
    keep: {hourly: 24}
zones:
  - match: {alias: "web*"}
    policy: p
  - match: {brand: "joyent"}
    policy: p
"""

DIAGNOSTIC_LINE = re.compile(r"^(.+):(\d+):(\d+): (error|warning): (.+)$")
SUMMARY_LINE = re.compile(r"^Plan: \d+ to snapshot, \d+ to send, \d+ to destroy(, [^\n]+)?\.$",
                          re.M)
FINGERPRINT = re.compile(r"^sha256:[0-9a-f]{64}$")


def run_zrecon(*args, cwd=None):
    return subprocess.run([ZRECON, *args], cwd=cwd, capture_output=True, text=True,
                          errors="replace", timeout=120, check=False)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def write_script(path, body):
    write(path, "#!/bin/sh\n" + body)
    os.chmod(path, 0o755)
    return path


def project_version():
    cmake = read(os.path.join(SOURCE, "CMakeLists.txt"))
    return re.search(r"project\(zrecon VERSION (\S+)", cmake).group(1)


def zfs_list_rows(path):
    return [line.split("\t") for line in read(path).splitlines()]


def recorded_zones(path):
    """The zones of a recorded vmadm-list.txt, as sorted tuples without the
    type column (vmadm lookup has none)."""
    rows = [line.split(":", 6) for line in read(path).splitlines()]
    return sorted((r[0], r[2], r[3], r[4], r[5], r[6]) for r in rows)


def saved_zones(path):
    """The zones of a saved vmadm-lookup.json, shaped as recorded_zones."""
    zones = json.loads(read(path))
    return sorted((z["uuid"], z["brand"], z["state"], z.get("image_uuid", ""),
                   z.get("zpool", ""), z.get("alias", "")) for z in zones)


def write_zfs_list_rows(path, rows):
    write(path, "".join("\t".join(row) + "\n" for row in rows))


class TempDirTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="zrecon-cli-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def assertExit(self, result, code):
        self.assertEqual(result.returncode, code,
                         "stdout:\n%s\nstderr:\n%s" % (result.stdout, result.stderr))


class CommandLineTest(unittest.TestCase):
    def test_version(self):
        result = run_zrecon("--version")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "zrecon %s\n" % project_version())

    def test_no_subcommand_is_a_usage_error(self):
        result = run_zrecon()
        self.assertEqual(result.returncode, 64)
        self.assertIn("a command is required", result.stderr)
        self.assertIn("--help", result.stderr)

    def test_no_subcommand_prints_the_usage(self):
        result = run_zrecon()
        output = result.stdout + result.stderr
        for subcommand in ("validate", "plan", "inventory", "schema"):
            self.assertIn(subcommand, output)

    def test_unknown_flag_of_a_subcommand_is_named(self):
        result = run_zrecon("plan", "--bogus")
        self.assertEqual(result.returncode, 64)
        self.assertIn("--bogus", result.stderr)

    def test_unknown_top_level_word_is_a_usage_error(self):
        self.assertEqual(run_zrecon("--bogus").returncode, 64)
        self.assertEqual(run_zrecon("pln").returncode, 64)

    def test_unknown_top_level_word_is_named(self):
        self.assertIn("--bogus", run_zrecon("--bogus").stderr)
        self.assertIn("pln", run_zrecon("pln").stderr)
        self.assertIn('did you mean "plan"', run_zrecon("pln").stderr)

    def test_dialect_must_be_known(self):
        for command in ("plan", "inventory"):
            with self.subTest(command=command):
                result = run_zrecon(command, "--dialect", "bogus")
                self.assertEqual(result.returncode, 64)
                self.assertIn("--dialect", result.stderr)
                self.assertIn("bogus", result.stderr)

    def test_catalog_needs_name_and_dir(self):
        result = run_zrecon("plan", "--catalog", "usb")
        self.assertEqual(result.returncode, 64)
        self.assertIn('--catalog "usb": expected DESTINATION=DIR', result.stderr)


class ValidateTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.good = write(self.path("good.yaml"), SATISFIED_POLICY)
        self.bad = write(self.path("bad.yaml"), INVALID_POLICY)
        self.other = write(self.path("other.yaml"), LEGACY_POLICY)

    def test_every_file_is_reported_in_order(self):
        result = run_zrecon("validate", "-f", self.good, "-f", self.bad, "-f", self.other)
        self.assertExit(result, 1)
        self.assertEqual(result.stdout.splitlines(),
                         ["%s: valid" % self.good, "%s: invalid" % self.bad,
                          "%s: valid" % self.other])
        self.assertEqual(result.stderr.splitlines(), [
            '%s:4:24: error: unknown class "fortnightly" in keep' % self.bad,
            '%s:6:22: error: unknown destination "nowhere"' % self.bad,
        ])

    def test_valid_files_exit_zero_silently(self):
        result = run_zrecon("validate", "-f", self.good, "-f", self.other)
        self.assertExit(result, 0)
        self.assertEqual(result.stderr, "")

    def test_files_may_be_given_as_arguments(self):
        flags = run_zrecon("validate", "-f", self.good, "-f", self.bad)
        args = run_zrecon("validate", self.good, self.bad)
        self.assertExit(args, 1)
        self.assertEqual((args.stdout, args.stderr), (flags.stdout, flags.stderr))

    def test_json_report_matches_the_text_report(self):
        text = run_zrecon("validate", "-f", self.good, "-f", self.bad)
        result = run_zrecon("validate", "-f", self.good, "-f", self.bad, "--format", "json")
        self.assertExit(result, 1)
        self.assertEqual(result.stderr, "")
        report = json.loads(result.stdout)
        self.assertIs(report["valid"], False)
        self.assertEqual(report["files"], [{"file": self.good, "valid": True},
                                           {"file": self.bad, "valid": False}])
        from_json = []
        for d in report["diagnostics"]:
            self.assertEqual(sorted(d), ["column", "file", "line", "message", "severity"])
            self.assertIsInstance(d["line"], int)
            self.assertIsInstance(d["column"], int)
            from_json.append((d["file"], d["line"], d["column"], d["severity"], d["message"]))
        from_text = []
        for line in text.stderr.splitlines():
            m = DIAGNOSTIC_LINE.match(line)
            self.assertIsNotNone(m, line)
            from_text.append((m[1], int(m[2]), int(m[3]), m[4], m[5]))
        self.assertEqual(from_json, from_text)
        self.assertEqual(len(from_json), 2)

    def test_json_report_of_valid_files(self):
        result = run_zrecon("validate", "-f", self.good, "--format", "json")
        self.assertExit(result, 0)
        self.assertEqual(json.loads(result.stdout),
                         {"valid": True, "files": [{"file": self.good, "valid": True}],
                          "diagnostics": []})

    def test_missing_file(self):
        missing = self.path("nosuch.yaml")
        result = run_zrecon("validate", "-f", self.good, "-f", missing)
        self.assertExit(result, 1)
        self.assertIn("%s: invalid" % missing, result.stdout)
        self.assertIn("%s: error: cannot open policy file" % missing, result.stderr)

    def test_default_path(self):
        if os.path.exists(DEFAULT_POLICY):
            self.skipTest(DEFAULT_POLICY + " exists on this machine")
        result = run_zrecon("validate")
        self.assertExit(result, 1)
        self.assertEqual(result.stdout, "%s: invalid\n" % DEFAULT_POLICY)
        self.assertIn("%s: error: cannot open policy file" % DEFAULT_POLICY, result.stderr)

    def test_unknown_format(self):
        result = run_zrecon("validate", "-f", self.good, "--format", "xml")
        self.assertEqual(result.returncode, 64)
        self.assertIn("xml", result.stderr)


class SchemaTest(unittest.TestCase):
    def test_each_schema_is_the_file_in_schema_dir(self):
        for name in ("policy", "plan", "manifest"):
            with self.subTest(name=name):
                result = run_zrecon("schema", name)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.stdout,
                                 read(os.path.join(SOURCE, "schema", name + ".schema.json")))

    def test_default_is_the_policy_schema(self):
        result = run_zrecon("schema")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, read(os.path.join(SOURCE, "schema", "policy.schema.json")))

    def test_unknown_schema(self):
        result = run_zrecon("schema", "bogus")
        self.assertEqual(result.returncode, 64)
        self.assertIn("bogus", result.stderr)
        self.assertEqual(result.stdout, "")


class PlanTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.unreachable = self.path("no-usb-here")
        self.policy = write(self.path("policy.yaml"),
                            EXPORTING_POLICY.format(usb=self.unreachable))

    def plan(self, *args, policy=None, inventory=MIXED):
        return run_zrecon("plan", "-f", policy or self.policy, "--inventory", inventory,
                          "--now", NOW, *args)

    def fingerprint(self, inventory):
        result = self.plan("--json", inventory=inventory)
        self.assertExit(result, 0)
        return json.loads(result.stdout)["fingerprint"]

    def inventory_copy(self, edit=None):
        """A copy of smartos-mixed; edit(rows) may change its zfs list rows."""
        copy = os.path.join(tempfile.mkdtemp(dir=self.tmp), "inventory")
        shutil.copytree(MIXED, copy)
        if edit:
            rows = zfs_list_rows(os.path.join(copy, "zfs-list.txt"))
            edit(rows)
            write_zfs_list_rows(os.path.join(copy, "zfs-list.txt"), rows)
        return copy

    def test_now_must_be_rfc3339(self):
        result = run_zrecon("plan", "-f", self.policy, "--inventory", MIXED, "--now", "yesterday")
        self.assertExit(result, 1)
        self.assertIn('--now "yesterday": expected an RFC 3339 time', result.stderr)

    def test_text_plan(self):
        result = self.plan()
        self.assertExit(result, 0)
        self.assertTrue(result.stdout.startswith(
            "zrecon plan for host demo01 at %s (zfs dialect illumos)\n" % NOW), result.stdout)
        self.assertRegex(result.stdout, SUMMARY_LINE)

    def test_json_plan(self):
        result = self.plan("--json")
        self.assertExit(result, 0)
        plan = json.loads(result.stdout)
        self.assertEqual(plan["format_version"], "1.0")
        self.assertEqual(plan["now"], NOW)
        self.assertRegex(plan["fingerprint"], FINGERPRINT)
        self.assertTrue(plan["actions"])
        for action in plan["actions"]:
            self.assertTrue(action["kind"])
            if action["zone"] != WEB01:
                # app-lx01 has zrecon's held chain tips but this policy leaves
                # it out: they are released, nothing else touches it.
                self.assertIn(action["kind"], ("release", "mark_tip"))
                self.assertIn("no longer protected by the policy", action["reason"])
            self.assertTrue(action["reason"])
            self.assertTrue(action["argv"])
            self.assertTrue(all(isinstance(arg, str) for arg in action["argv"]))
        text = self.plan()
        self.assertIn(plan["summary"]["text"] + "\n", text.stdout)
        schema = json.loads(read(os.path.join(SOURCE, "schema", "plan.schema.json")))
        errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(plan)]
        self.assertEqual(errors, [])

    def test_out_saves_the_json_plan(self):
        out = self.path("saved.json")
        result = self.plan("--out", out)
        self.assertExit(result, 0)
        self.assertRegex(result.stdout, SUMMARY_LINE)
        self.assertIn("Saved the plan to %s" % out, result.stdout)
        self.assertEqual(read(out), self.plan("--json").stdout)

    def test_out_into_a_missing_directory_fails(self):
        out = self.path("no-such-dir", "saved.json")
        result = self.plan("--out", out)
        self.assertExit(result, 1)
        self.assertIn(self.path("no-such-dir"), result.stderr)

    def test_detailed_exitcode(self):
        result = self.plan("--detailed-exitcode")
        self.assertExit(result, 2)
        self.assertRegex(result.stdout, SUMMARY_LINE)
        satisfied = write(self.path("satisfied.yaml"), SATISFIED_POLICY)
        result = self.plan("--detailed-exitcode", policy=satisfied)
        self.assertExit(result, 0)
        self.assertIn("\nNo changes.\n", result.stdout)
        self.assertEqual(self.plan(policy=satisfied).returncode, 0)

    def test_detailed_exitcode_on_error_is_one(self):
        result = self.plan("--detailed-exitcode", inventory=self.path("missing"))
        self.assertExit(result, 1)

    def test_fingerprint_covers_userrefs(self):
        def hold_one(rows):
            snapshot = next(r for r in rows if r[1] == "snapshot" and r[6] == "0")
            snapshot[6] = "1"

        base = self.fingerprint(self.inventory_copy())
        self.assertEqual(base, self.fingerprint(MIXED))
        self.assertNotEqual(base, self.fingerprint(self.inventory_copy(hold_one)))

    def test_fingerprint_ignores_used_and_creation(self):
        def grow(rows):
            snapshot = next(r for r in rows if r[1] == "snapshot" and r[7] == "0")
            snapshot[7] = "4096"
            dataset = next(r for r in rows if r[1] == "filesystem")
            dataset[7] = str(int(dataset[7]) + 1)

        def recreate(rows):
            snapshot = next(r for r in rows if r[1] == "snapshot")
            snapshot[3] = str(int(snapshot[3]) + 60)

        base = self.fingerprint(MIXED)
        for edit in (grow, recreate):
            with self.subTest(edit=edit.__name__):
                copy = self.inventory_copy(edit)
                self.assertNotEqual(read(os.path.join(copy, "zfs-list.txt")),
                                    read(os.path.join(MIXED, "zfs-list.txt")))
                self.assertEqual(self.fingerprint(copy), base)

    def test_corrupt_inventory_line_is_located(self):
        def corrupt_line_5(rows):
            rows[4] = ["garbage line here"]

        copy = self.inventory_copy(corrupt_line_5)
        result = self.plan(inventory=copy)
        self.assertExit(result, 1)
        self.assertIn("%s/zfs-list.txt: line 5:" % copy, result.stderr)
        self.assertIn("garbage line here", result.stderr)

    def test_corrupt_vmadm_line_is_located(self):
        copy = self.inventory_copy()
        vmadm = os.path.join(copy, "vmadm-list.txt")
        lines = read(vmadm).splitlines()
        write(vmadm, "\n".join(lines[:2] + ["not:a:zone"] + lines[2:]) + "\n")
        result = self.plan(inventory=copy)
        self.assertExit(result, 1)
        self.assertIn("%s/vmadm-list.txt: line 3:" % copy, result.stderr)

    def test_inventory_with_both_zone_files_is_refused(self):
        copy = self.inventory_copy()
        write(os.path.join(copy, "vmadm-lookup.json"), "[]\n")
        result = self.plan(inventory=copy)
        self.assertExit(result, 1)
        self.assertIn("%s has both vmadm-lookup.json and vmadm-list.txt; keep one" % copy,
                      result.stderr)

    def test_bad_vmadm_lookup_json_is_located(self):
        copy = self.inventory_copy()
        os.remove(os.path.join(copy, "vmadm-list.txt"))
        write(os.path.join(copy, "vmadm-lookup.json"),
              '[{"uuid": "%s", "brand": "joyent", "state": "running", '
              '"flexible_disk_size": "big"}]\n' % WEB01)
        result = self.plan(inventory=copy)
        self.assertExit(result, 1)
        self.assertIn('%s/vmadm-lookup.json: [0].flexible_disk_size: expected a MiB count, '
                      'got "big"' % copy, result.stderr)

    def test_missing_inventory_dir(self):
        missing = self.path("no-inventory")
        result = self.plan(inventory=missing)
        self.assertExit(result, 1)
        self.assertIn(missing, result.stderr)
        self.assertEqual(result.stdout, "")

    def test_catalog_of_unknown_destination(self):
        result = self.plan("--catalog", "nosuch=/tmp")
        self.assertExit(result, 1)
        self.assertIn('--catalog nosuch=/tmp: the policy has no destination named "nosuch"',
                      result.stderr)

    def test_corrupt_manifest_is_named(self):
        usb = self.path("usb")
        shutil.copytree(os.path.join(CATALOGS, "bad", "truncated"), usb)
        result = self.plan("--catalog", "usb=" + usb)
        self.assertExit(result, 1)
        self.assertIn("destination usb: %s/demo01/%s/manifest.json: invalid JSON" %
                      (usb, CATALOG_ZONE), result.stderr)

    def test_valid_catalog(self):
        result = self.plan("--catalog", "usb=" + os.path.join(CATALOGS, "two-chains"))
        self.assertExit(result, 0)
        self.assertNotIn("unreachable", result.stdout)
        self.assertRegex(result.stdout, SUMMARY_LINE)

    def test_missing_destination_is_a_warning(self):
        result = self.plan()
        self.assertExit(result, 0)
        self.assertIn("Warning: destination usb is unreachable (%s does not exist)" %
                      self.unreachable, result.stdout)
        plan = json.loads(self.plan("--json").stdout)
        self.assertTrue(any(w.startswith("destination usb is unreachable")
                            for w in plan["warnings"]), plan["warnings"])

    def test_invalid_policy_is_located(self):
        bad = write(self.path("bad.yaml"), UNKNOWN_POLICY_REFERENCE)
        result = self.plan(policy=bad)
        self.assertExit(result, 1)
        self.assertIn('%s:7:13: error: unknown policy "nosuch"' % bad, result.stderr)
        self.assertIn("zrecon validate -f %s" % bad, result.stderr)

    def test_zone_matched_twice(self):
        twice = write(self.path("twice.yaml"), TWO_ENTRIES_MATCH_WEB01)
        result = self.plan(policy=twice)
        self.assertExit(result, 1)
        self.assertIn("zone %s (web01) is matched by more than one entry" % WEB01, result.stderr)
        self.assertIn("%s:6:5" % twice, result.stderr)
        self.assertIn("%s:8:5" % twice, result.stderr)


class FakeHost:
    """Stand-in zfs and vmadm in DIR, replaying recorded listings. Each logs
    "NAME ARGS" to DIR/calls.log; an unexpected call exits 99."""

    def __init__(self, root):
        self.root = root
        self.log = os.path.join(root, "calls.log")
        self.zfs = os.path.join(root, "zfs")
        self.vmadm = os.path.join(root, "vmadm")

    def _script(self, path, name, cases):
        body = 'printf "%%s\\n" "%s $*" >> %s\ncase "$*" in\n' % (name, shlex.quote(self.log))
        for pattern, action in cases:
            body += "  %s) %s ;;\n" % (pattern, action)
        body += '  *) echo "fake %s: unexpected: $*" >&2; exit 99 ;;\nesac\n' % name
        write_script(path, body)

    def illumos_zfs(self, listing):
        self._script(self.zfs, "zfs",
                     [(shlex.quote(ZFS_LIST_ARGS), "exec cat " + shlex.quote(listing))])

    def legacy_zfs(self, get_output):
        # zfs-fuse's zfs list has no -p: usage error before touching a pool.
        reject = "echo \"invalid option 'p'\" >&2; echo 'usage:' >&2; exit 2"
        self._script(self.zfs, "zfs",
                     [("'list '*' -p '*", reject),
                      (shlex.quote(ZFS_GET_ARGS), "exec cat " + shlex.quote(get_output))])

    def garbage_zfs(self):
        self._script(self.zfs, "zfs", [(shlex.quote(ZFS_LIST_ARGS),
                                        "printf 'zones\\tfilesystem\\t-\\t1\\t2\\t3\\t-\\t4\\t-\\n"
                                        "this is not zfs output\\n'")])

    def vmadm_lists(self, listing):
        # The recorded `vmadm list -p` lines, answered as `vmadm lookup -j -o
        # ...` prints them (keys vmadm leaves unset are omitted).
        zones = []
        for line in read(listing).splitlines():
            uuid, _type, brand, state, image, zpool, alias = line.split(":", 6)
            zone = {"uuid": uuid, "brand": brand, "state": state}
            for key, value in (("image_uuid", image), ("zpool", zpool), ("alias", alias)):
                if value:
                    zone[key] = value
            zones.append(zone)
        answer = os.path.join(self.root, "vmadm-lookup.json")
        write(answer, json.dumps(zones, indent=2) + "\n")
        self._script(self.vmadm, "vmadm",
                     [(shlex.quote(VMADM_LIST_ARGS), "exec cat " + shlex.quote(answer))])

    def failing_vmadm(self):
        self._script(self.vmadm, "vmadm",
                     [("*", "echo 'zoneadm: zone manager is down' >&2; exit 1")])

    def calls(self):
        return read(self.log).splitlines() if os.path.exists(self.log) else []

    def flags(self):
        return ["--zfs", "./zfs", "--vmadm", "./vmadm"]


class HooksPlanTest(TempDirTest):
    """A policy's snapshot hooks appear in the plan around each zone's
    snapshot, as the plan schema describes them."""

    def test_hooks_in_the_plan_json(self):
        policy = SATISFIED_POLICY.replace(
            "    keep: {hourly: 24, daily: 7, weekly: 4, monthly: 12}\n",
            "    keep: {hourly: 24, daily: 7, weekly: 4, monthly: 12}\n"
            "    hooks: {pre_snapshot: [/opt/custom/bin/freeze, --all], timeout_seconds: 9}\n")
        write(self.path("policy.yaml"), policy)
        result = run_zrecon("plan", "-f", self.path("policy.yaml"), "--inventory", MIXED,
                            "--now", "2026-11-26T11:30:00Z", "--json")
        self.assertExit(result, 0)
        plan = json.loads(result.stdout)
        schema = json.loads(run_zrecon("schema", "plan").stdout)
        errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(plan)]
        self.assertEqual(errors, [])
        kinds = [a["kind"] for a in plan["actions"]]
        self.assertEqual(kinds[:4], ["hook", "snapshot", "hook", "snapshot"])
        hook = plan["actions"][0]
        self.assertEqual(hook["hook"], "pre_snapshot")
        self.assertEqual(hook["timeout_seconds"], 9)
        self.assertEqual(hook["argv"][0], "/usr/bin/env")
        self.assertEqual(hook["argv"][-2:], ["/opt/custom/bin/freeze", "--all"])
        self.assertIn("ZRECON_ZONE=" + hook["zone"], hook["argv"])


class NotifyTest(TempDirTest):
    """The policy's notify commands after an apply: argv without a shell,
    the run's record on stdin, ZRECON_* in the environment, a time limit;
    their failure never changes apply's exit code."""

    def setUp(self):
        super().setUp()
        self.host = FakeHost(self.tmp)
        self.host.illumos_zfs(os.path.join(MIXED, "zfs-list.txt"))
        self.host.vmadm_lists(os.path.join(MIXED, "vmadm-list.txt"))
        # Records what it was given: arguments, the environment, stdin.
        self.hook = write_script(self.path("hook"), (
            'printf "%s\\n" "$@" > "$0.args"\n'
            'env | grep ^ZRECON_ | sort > "$0.env"\n'
            'cat > "$0.stdin"\n'
            'exit "${HOOK_EXIT:-0}"\n'))

    def apply(self, notify, env=None):
        write(self.path("policy.yaml"), SATISFIED_POLICY + notify)
        return subprocess.run(
            [ZRECON, "apply", "-f", "policy.yaml", "--now", NOW, "--host", "demo01",
             *self.host.flags()], cwd=self.tmp, capture_output=True, text=True, timeout=60,
            env=dict(os.environ, ZRECON_LOCK=self.path("lock"), **(env or {})))

    def given(self):
        return (read(self.hook + ".args").splitlines(),
                dict(line.split("=", 1) for line in read(self.hook + ".env").splitlines()),
                json.loads(read(self.hook + ".stdin")))

    def test_on_success_after_a_run_with_nothing_to_do(self):
        result = self.apply("notify:\n  on_success: [%s, \"a b\", $HOME]\n"
                            "  on_failure: [/bin/false]\n" % self.hook)
        self.assertExit(result, 0)
        args, env, record = self.given()
        self.assertEqual(args, ["a b", "$HOME"], "arguments are passed literally")
        self.assertEqual(env["ZRECON_OUTCOME"], "ok")
        self.assertEqual(env["ZRECON_HOST"], "demo01")
        self.assertEqual(env["ZRECON_FAILED_ZONES"], "")
        self.assertEqual(record["outcome"], "ok")
        self.assertEqual(record["actions"]["done"], 0)

    def test_on_failure_when_the_host_cannot_be_read(self):
        self.host.failing_vmadm()
        result = self.apply("notify:\n  on_failure: [%s]\n" % self.hook)
        self.assertExit(result, 1)
        _, env, record = self.given()
        self.assertEqual(env["ZRECON_OUTCOME"], "failed")
        self.assertEqual(env["ZRECON_SUMMARY"], "failed before its first action")
        self.assertIn("zone manager is down", record["error"])

    def test_a_failing_or_hanging_command_is_reported_and_changes_nothing(self):
        result = self.apply("notify:\n  on_success: [%s]\n" % self.hook, env={"HOOK_EXIT": "3"})
        self.assertExit(result, 0)
        self.assertIn("zrecon: notify on_success: ", result.stderr)
        self.assertIn("exited 3", result.stderr)
        sleeper = write_script(self.path("sleeper"), "exec sleep 30\n")
        started = time.monotonic()
        result = self.apply("notify:\n  on_success: [%s]\n  timeout_seconds: 1\n" % sleeper)
        self.assertExit(result, 0)
        self.assertLess(time.monotonic() - started, 20)
        self.assertIn("timed out", result.stderr)


class InventoryTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.host = FakeHost(self.tmp)

    def inventory(self, *args):
        return run_zrecon("inventory", *self.host.flags(), *args, cwd=self.tmp)

    def counts(self, inventory):
        types = [row[1] for row in zfs_list_rows(os.path.join(inventory, "zfs-list.txt"))]
        zones = len(read(os.path.join(inventory, "vmadm-list.txt")).splitlines())
        return "%d filesystems, %d volumes, %d snapshots, %d bookmarks; %d zones" % (
            types.count("filesystem"), types.count("volume"), types.count("snapshot"),
            types.count("bookmark"), zones)

    def test_illumos_host_is_saved_as_recorded(self):
        self.host.illumos_zfs(os.path.join(MIXED, "zfs-list.txt"))
        self.host.vmadm_lists(os.path.join(MIXED, "vmadm-list.txt"))
        result = self.inventory("--save", "out")
        self.assertExit(result, 0)
        self.assertEqual(self.host.calls(), ["zfs " + ZFS_LIST_ARGS, "vmadm " + VMADM_LIST_ARGS])
        self.assertEqual(read(self.path("out", "zfs-list.txt")),
                         read(os.path.join(MIXED, "zfs-list.txt")))
        # The zones are saved as `vmadm lookup -j` prints them, in uuid
        # order; the recording is in vmadm's default order (ram).
        self.assertEqual(saved_zones(self.path("out", "vmadm-lookup.json")),
                         recorded_zones(os.path.join(MIXED, "vmadm-list.txt")))
        self.assertFalse(os.path.exists(self.path("out", "vmadm-list.txt")))
        self.assertIn("zfs dialect illumos: %s" % self.counts(MIXED), result.stdout)
        self.assertIn("saved out/zfs-list.txt and out/vmadm-lookup.json", result.stdout)
        # What was saved plans like the recording it came from.
        saved = self.path("out")
        policy = os.path.join(SOURCE, "examples", "standard.yaml")
        a = run_zrecon("plan", "-f", policy, "--inventory", saved, "--now", NOW, cwd=self.tmp)
        b = run_zrecon("plan", "-f", policy, "--inventory", MIXED, "--now", NOW, cwd=self.tmp)
        self.assertEqual((a.returncode, a.stdout.replace(saved, "X")),
                         (b.returncode, b.stdout.replace(MIXED, "X")))
        self.assertIn("snapshot", a.stdout)

    def test_legacy_zfs_is_detected(self):
        self.host.legacy_zfs(os.path.join(LEGACY, "zfs-get.txt"))
        self.host.vmadm_lists(os.path.join(LEGACY, "vmadm-list.txt"))
        result = self.inventory("--save", "out")
        self.assertExit(result, 0)
        self.assertEqual(self.host.calls(), ["zfs " + ZFS_LIST_ARGS, "zfs " + ZFS_GET_ARGS,
                                             "vmadm " + VMADM_LIST_ARGS])
        self.assertIn("zfs dialect legacy: %s" % self.counts(LEGACY), result.stdout)
        self.assertEqual(read(self.path("out", "zfs-list.txt")),
                         read(os.path.join(LEGACY, "zfs-list.txt")))
        self.assertEqual(saved_zones(self.path("out", "vmadm-lookup.json")),
                         recorded_zones(os.path.join(LEGACY, "vmadm-list.txt")))

    def test_legacy_zfs_with_illumos_dialect_is_an_error(self):
        self.host.legacy_zfs(os.path.join(LEGACY, "zfs-get.txt"))
        self.host.vmadm_lists(os.path.join(LEGACY, "vmadm-list.txt"))
        result = self.inventory("--dialect", "illumos")
        self.assertExit(result, 1)
        self.assertEqual(self.host.calls(), ["zfs " + ZFS_LIST_ARGS])
        self.assertIn("./zfs %s exited 2: invalid option 'p'" % ZFS_LIST_ARGS, result.stderr)

    def test_failing_vmadm(self):
        self.host.illumos_zfs(os.path.join(MIXED, "zfs-list.txt"))
        self.host.failing_vmadm()
        result = self.inventory("--save", "out")
        self.assertExit(result, 1)
        self.assertIn("./vmadm %s exited 1: zoneadm: zone manager is down" % VMADM_LIST_ARGS,
                      result.stderr)
        self.assertFalse(os.path.exists(self.path("out")))

    def test_garbage_from_zfs(self):
        self.host.garbage_zfs()
        self.host.vmadm_lists(os.path.join(MIXED, "vmadm-list.txt"))
        result = self.inventory()
        self.assertExit(result, 1)
        self.assertIn("./zfs %s: line 2:" % ZFS_LIST_ARGS, result.stderr)
        self.assertIn("this is not zfs output", result.stderr)

    def test_zfs_that_cannot_run(self):
        self.host.vmadm_lists(os.path.join(MIXED, "vmadm-list.txt"))
        result = self.inventory()
        self.assertExit(result, 1)
        self.assertIn("cannot run ./zfs", result.stderr)

    def plan_json(self, policy, now, *args):
        result = run_zrecon("plan", "-f", policy, "--now", now, "--json", *self.host.flags(),
                            *args, cwd=self.tmp)
        self.assertExit(result, 0)
        return json.loads(result.stdout)

    def test_plan_of_live_host_equals_plan_of_recording(self):
        self.host.illumos_zfs(os.path.join(MIXED, "zfs-list.txt"))
        self.host.vmadm_lists(os.path.join(MIXED, "vmadm-list.txt"))
        policy = write(self.path("policy.yaml"),
                       EXPORTING_POLICY.format(usb=self.path("no-usb-here")))
        live = self.plan_json(policy, NOW)
        self.assertTrue(live["actions"])
        self.assertEqual(live["actions"][0]["argv"][0], "./zfs")
        self.assertEqual(live, self.plan_json(policy, NOW, "--inventory", MIXED))

    def test_plan_of_legacy_host_equals_plan_of_recording(self):
        self.host.legacy_zfs(os.path.join(LEGACY, "zfs-get.txt"))
        self.host.vmadm_lists(os.path.join(LEGACY, "vmadm-list.txt"))
        policy = write(self.path("policy.yaml"), LEGACY_POLICY)
        live = self.plan_json(policy, LEGACY_NOW)
        self.assertEqual(live["dialect"], "legacy")
        self.assertTrue(live["actions"])
        self.assertEqual(live, self.plan_json(policy, LEGACY_NOW, "--inventory", LEGACY,
                                              "--dialect", "legacy"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
