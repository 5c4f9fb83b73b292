"""Hostile names and catalogs against the real binary, off the host (no ZFS,
no root): recorded listings and catalogs from tests/cases/chain-continuation
with the zone's alias or a manifest made hostile. Zone aliases are shown
escaped and kept exactly; a `vmadm list -p` line broken by a newline in an
alias is refused naming the line; manifests naming files outside the
destination, and zone directories symlinked out of it, are refused by plan
and verify naming the file; nothing is written outside. The same on a live
zfs-fuse host, with apply and restore: tests/integration/hostile_names_test.sh.

Run by ctest with /usr/bin/python3, ZRECON (the built binary) and
ZRECON_SOURCE_DIR set.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("ZRECON_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ZRECON = os.environ.get("ZRECON", os.path.join(SOURCE, "build", "zrecon"))
CASE = os.path.join(SOURCE, "tests", "cases", "chain-continuation")
NOW = "2026-11-26T10:30:00Z"
ZONE = "85dbcafe-889a-e402-cf36-c7ffdd15e568"
IMAGE = "390639d4-f146-11e7-9280-37ae5c6d53d4"
HOST = "demo01"
PWNED = "/tmp/pwned"
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f]")

# (alias, how zrecon shows it: util/strings.h Printable)
ALIASES = [
    ("web with spaces", "web with spaces"),
    ("it's \"quoted\"", "it's \"quoted\""),
    ("semi;colon; touch " + PWNED, "semi;colon; touch " + PWNED),
    ("$(touch %s)" % PWNED, "$(touch %s)" % PWNED),
    ("`touch %s`" % PWNED, "`touch %s`" % PWNED),
    ("colon:in:alias:", "colon:in:alias:"),
    ("wëb-ünïcode-日本", "wëb-ünïcode-日本"),
    ("L" * 1000, "L" * 1000),
    ("esc\x1b[31mred\x1b[0m", "esc\\x1b[31mred\\x1b[0m"),
    ("tab\there\x7f", "tab\\there\\x7f"),
    ("bad utf-8 \xff", "bad utf-8 \\xff"),
]


def vmadm_row(alias):
    return "%s:OS:joyent:running:%s:zones:%s" % (ZONE, IMAGE, alias)


class HostileTest(unittest.TestCase):
    def setUp(self):
        if os.path.exists(PWNED):
            os.unlink(PWNED)  # a canary left from elsewhere would hide a real one
        self.tmp = tempfile.mkdtemp(prefix="zrecon-hostile-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.cwd = os.path.join(self.tmp, "cwd")
        os.mkdir(self.cwd)
        self.inventory = os.path.join(self.tmp, "inventory")
        shutil.copytree(os.path.join(CASE, "inventory"), self.inventory)
        self.catalog = os.path.join(self.tmp, "usb")
        shutil.copytree(os.path.join(CASE, "catalogs", "usb"), self.catalog)
        self.elsewhere = os.path.join(self.tmp, "elsewhere")
        os.mkdir(self.elsewhere)
        with open(os.path.join(self.elsewhere, "victim"), "w") as f:
            f.write("victim\n")
        with open(os.path.join(CASE, "policy.yaml"), encoding="utf-8") as f:
            policy = f.read().replace('alias: "web*"', 'alias: "*"')
        self.policy = os.path.join(self.tmp, "policy.yaml")
        with open(self.policy, "w", encoding="utf-8") as f:
            f.write(policy)

    def tearDown(self):
        self.assertFalse(os.path.exists(PWNED), PWNED + " was created")
        self.assertEqual(os.listdir(self.cwd), [], "something was written in the working directory")
        self.assertEqual(sorted(os.listdir(self.elsewhere)), ["victim"],
                         "the directory elsewhere changed")
        with open(os.path.join(self.elsewhere, "victim"), encoding="utf-8") as f:
            self.assertEqual(f.read(), "victim\n", "the victim file elsewhere changed")

    def zrecon(self, *args):
        return subprocess.run([ZRECON, *args], cwd=self.cwd, capture_output=True,
                              encoding="utf-8", errors="surrogateescape")

    def plan(self, *args):
        return self.zrecon("plan", "-f", self.policy, "--inventory", self.inventory, "--now", NOW,
                           "--catalog", "usb=" + self.catalog, *args)

    def set_vmadm_listing(self, text):
        with open(os.path.join(self.inventory, "vmadm-list.txt"), "w", encoding="utf-8",
                  errors="surrogateescape") as f:
            f.write(text)

    def assertExit(self, result, code):
        self.assertEqual(result.returncode, code,
                         "exit %d\nstdout: %s\nstderr: %s" % (result.returncode, result.stdout,
                                                               result.stderr))

    # ---------------------------------------------------------------- aliases

    def test_hostile_aliases_are_shown_escaped_and_kept_exactly(self):
        for alias, shown in ALIASES:
            with self.subTest(alias=alias[:40]):
                # \xff is not UTF-8: written as the byte, as vmadm would print it.
                self.set_vmadm_listing(vmadm_row(alias.replace("\xff", "\udcff")) + "\n")
                text = self.plan()
                self.assertExit(text, 0)
                self.assertIn("# zone %s (%s)\n" % (ZONE, shown), text.stdout)
                self.assertIsNone(RAW_CONTROL.search(text.stdout), "raw control character")
                doc = self.plan("--json")
                self.assertExit(doc, 0)
                # JSON is UTF-8: a stray byte becomes U+FFFD, the rest is kept.
                self.assertEqual(json.loads(doc.stdout)["zones"][ZONE]["alias"],
                                 alias.replace("\xff", "\ufffd"))

    def test_newline_in_alias_is_refused_naming_the_line(self):
        self.set_vmadm_listing(vmadm_row("first line\nsecond line") + "\n")
        result = self.plan()
        self.assertExit(result, 1)
        self.assertEqual(result.stdout, "")
        self.assertRegex(result.stderr, r"vmadm-list\.txt: line 2: expected 7 ':'-separated "
                         r"fields .*got 1: \"second line\"")

    def test_newline_and_a_forged_row_for_a_listed_zone_is_refused(self):
        self.set_vmadm_listing(vmadm_row("x\n" + vmadm_row("forged")) + "\n")
        result = self.plan()
        self.assertExit(result, 1)
        self.assertIn("line 2: duplicate zone '%s' (first at line 1)" % ZONE, result.stderr)

    # ---------------------------------------------------------------- catalogs

    def manifest_path(self):
        return os.path.join(self.catalog, HOST, ZONE, "manifest.json")

    def set_first_link_file(self, file):
        with open(self.manifest_path(), encoding="utf-8") as f:
            doc = json.load(f)
        doc["chains"][0]["links"][0]["stream"]["file"] = file
        with open(self.manifest_path(), "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, sort_keys=True)

    def assertRefused(self, needle, verify_needle):
        result = self.plan()
        self.assertExit(result, 1)
        self.assertEqual(result.stdout, "")
        self.assertIn(needle, result.stderr)
        result = self.zrecon("verify", "--from", self.catalog)
        self.assertExit(result, 1)
        self.assertIn(verify_needle, result.stdout + result.stderr)

    def test_link_file_with_dotdot_is_refused(self):
        victim = os.path.relpath(os.path.join(self.elsewhere, "victim"),
                                 os.path.join(self.catalog, HOST))
        self.set_first_link_file(victim)
        self.assertRefused("chains[0].links[0].stream.file", "chains[0].links[0].stream.file")

    def test_absolute_link_file_is_refused(self):
        self.set_first_link_file(os.path.join(self.elsewhere, "victim"))
        self.assertRefused("chains[0].links[0].stream.file", "chains[0].links[0].stream.file")

    def test_zone_directory_symlinked_out_is_refused(self):
        zone_dir = os.path.join(self.catalog, HOST, ZONE)
        os.mkdir(os.path.join(self.elsewhere, "zone"))
        shutil.copy(self.manifest_path(), os.path.join(self.elsewhere, "zone"))
        shutil.rmtree(zone_dir)
        os.symlink(os.path.join(self.elsewhere, "zone"), zone_dir)
        self.assertRefused(zone_dir + ": is a symlink to ", ZONE + ": is a symlink to ")
        self.assertEqual(os.listdir(os.path.join(self.elsewhere, "zone")), ["manifest.json"],
                         "nothing was written into the zone directory elsewhere")
        shutil.rmtree(os.path.join(self.elsewhere, "zone"))


if __name__ == "__main__":
    unittest.main()
