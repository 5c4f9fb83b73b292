"""The SMF service that runs zrecon on SmartOS (dist/smf): the manifest, and
its method script run against stand-ins for svcprop and crontab.

The manifest is checked to be well-formed XML whose service, methods and
properties are the ones the method script and the install layout use. It is
validated against illumos' service_bundle.dtd.1 when that file is on this
machine (its path in ZRECON_SMF_DTD, or where illumos installs it); the DTD
is not part of zrecon's tree, so on Debian that one step is skipped and
`svccfg validate` on SmartOS is the check (README: Install on SmartOS).

The method script keeps one marked block in root's crontab: start, a second
start, refresh with a new schedule, stop and a second stop must leave
exactly one block (or none), every other line untouched; a bad property or
an unreadable crontab changes nothing and exits as smf_method(7) says.

Run by ctest with /usr/bin/python3 and ZRECON_SOURCE_DIR set.
"""

import os
import shlex
import shutil
import stat
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("ZRECON_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MANIFEST = os.path.join(SOURCE, "dist", "smf", "zrecon.xml")
METHOD = os.path.join(SOURCE, "dist", "smf", "zrecon-cron")
FMRI = "svc:/site/zrecon:default"
BEGIN = "# BEGIN zrecon (managed by %s; svcadm disable zrecon removes this block)" % FMRI
END = "# END zrecon"
EXIT_FATAL = 95
EXIT_CONFIG = 96

# A crontab that cannot be listed for another reason than "none yet".
SVCPROP = r'''#!/bin/sh
# svcprop stand-in: `svcprop -p config/NAME FMRI` prints the line NAME of
# $FAKE_PROPS ("NAME<TAB>escaped value"), as svcprop escapes astrings.
[ "$1" = -p ] || { echo "svcprop stand-in: unexpected $*" >&2; exit 2; }
name=${2#config/}
[ "$3" = "$EXPECTED_FMRI" ] || { echo "svcprop: unknown FMRI $3" >&2; exit 1; }
line=$(grep "^$name	" "$FAKE_PROPS") || { echo "svcprop: no property $2" >&2; exit 1; }
printf '%s\n' "${line#*	}"
'''

CRONTAB = r'''#!/bin/sh
# crontab stand-in, as illumos crontab(1) behaves for root: -l lists
# $FAKE_CRONTAB or says it has none; FILE installs FILE after checking each
# entry has its five time fields and a command.
if [ "$1" = -l ]; then
  if [ -n "$FAKE_CRONTAB_BROKEN" ]; then echo "crontab: $FAKE_CRONTAB_BROKEN" >&2; exit 1; fi
  [ -f "$FAKE_CRONTAB" ] || { echo "crontab: can't open your crontab file." >&2; exit 1; }
  cat "$FAKE_CRONTAB"
  exit 0
fi
[ $# -eq 1 ] || { echo "crontab stand-in: unexpected $*" >&2; exit 2; }
bad=$(awk '!/^#/ && NF > 0 && NF < 6' "$1")
[ -z "$bad" ] || { echo "crontab: error on previous line; unexpected character found in line." >&2; exit 1; }
echo x >>"$FAKE_CRONTAB.writes"
cp "$1" "$FAKE_CRONTAB"
'''

LOGADM = r'''#!/bin/sh
# logadm stand-in: records each call's arguments, one line per call, in
# $FAKE_LOGADM_CALLS; fails when $FAKE_LOGADM_FAIL is set.
printf '%s\n' "$*" >>"$FAKE_LOGADM_CALLS"
if [ -n "$FAKE_LOGADM_FAIL" ]; then echo "logadm: $FAKE_LOGADM_FAIL" >&2; exit 1; fi
'''


def svcprop_escape(value):
    """As svcprop prints an astring: shell metacharacters backslashed."""
    if value == "":
        return '""'
    return "".join("\\" + c if c in ";&()|^<>\n \t\\\"'`" else c for c in value)


class Host:
    """A scratch directory with the stand-ins first in PATH."""

    def __init__(self, test):
        self.dir = tempfile.mkdtemp(prefix="zrecon-smf-")
        test.addCleanup(shutil.rmtree, self.dir)
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        for name, text in (("svcprop", SVCPROP), ("crontab", CRONTAB)):
            path = os.path.join(self.bin, name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o755)
        self.crontab = os.path.join(self.dir, "crontab")
        self.props_file = os.path.join(self.dir, "props")
        # A zrecon stand-in that records its arguments, and a policy.
        self.zrecon = os.path.join(self.dir, "opt", "zrecon", "bin", "zrecon")
        os.makedirs(os.path.dirname(self.zrecon))
        with open(self.zrecon, "w") as f:
            f.write('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "$ZRECON_ARGS"\n')
        os.chmod(self.zrecon, 0o755)
        self.policy = os.path.join(self.dir, "opt", "zrecon", "policy.yaml")
        with open(self.policy, "w") as f:
            f.write("version: 1\n")
        self.log = os.path.join(self.dir, "zrecon.log")
        self.props = {"schedule": "0,15,30,45 * * * *", "binary": self.zrecon,
                      "policy": self.policy, "log": self.log, "metrics_file": "",
                      "run_log": ""}
        self.broken = ""
        self.logadm_calls = os.path.join(self.dir, "logadm.calls")
        self.logadm_fail = ""

    def add_logadm(self):
        path = os.path.join(self.bin, "logadm")
        with open(path, "w") as f:
            f.write(LOGADM)
        os.chmod(path, 0o755)

    def logadm(self):
        try:
            with open(self.logadm_calls) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def method(self, action):
        with open(self.props_file, "w") as f:
            for name, value in self.props.items():
                f.write("%s\t%s\n" % (name, svcprop_escape(value)))
        env = dict(os.environ, PATH=self.bin + ":" + os.environ["PATH"], SMF_FMRI=FMRI,
                   EXPECTED_FMRI=FMRI, FAKE_PROPS=self.props_file, FAKE_CRONTAB=self.crontab,
                   FAKE_CRONTAB_BROKEN=self.broken, FAKE_LOGADM_CALLS=self.logadm_calls,
                   FAKE_LOGADM_FAIL=self.logadm_fail, TMPDIR=self.dir)
        return subprocess.run([METHOD, action], env=env, capture_output=True, text=True)

    def table(self):
        if not os.path.exists(self.crontab):
            return None
        with open(self.crontab) as f:
            return f.read()

    def writes(self):
        try:
            with open(self.crontab + ".writes") as f:
                return len(f.read().split())
        except FileNotFoundError:
            return 0

    def blocks(self):
        lines = (self.table() or "").splitlines()
        return lines.count(BEGIN), lines.count(END)

    def zrecon_line(self):
        lines = (self.table() or "").splitlines()
        return lines[lines.index(BEGIN) + 1]


FOREIGN = ("# root's own entries, kept as they are\n"
           "15 3 * * * /usr/sbin/logadm\n"
           "0 0 * * 0 /opt/custom/bin/weekly 'a  b'\n")


class MethodTest(unittest.TestCase):

    def ok(self, host, action):
        r = host.method(action)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def test_start_on_an_empty_crontab_installs_one_line(self):
        host = Host(self)
        r = self.ok(host, "start")
        self.assertEqual(host.blocks(), (1, 1))
        line = host.zrecon_line()
        self.assertEqual(line, "0,15,30,45 * * * * '%s' apply -f '%s' >> '%s' 2>&1"
                         % (host.zrecon, host.policy, host.log))
        self.assertIn("runs at '0,15,30,45 * * * *'", r.stderr)

    def test_a_metrics_file_and_a_run_log_are_passed_on(self):
        host = Host(self)
        host.props["metrics_file"] = "/var/lib/node_exporter/zrecon.prom"
        host.props["run_log"] = "/var/log/zrecon-runs.jsonl"
        self.ok(host, "start")
        self.assertEqual(host.zrecon_line(),
                         "0,15,30,45 * * * * '%s' apply -f '%s' --metrics-file "
                         "'/var/lib/node_exporter/zrecon.prom' --run-log "
                         "'/var/log/zrecon-runs.jsonl' >> '%s' 2>&1"
                         % (host.zrecon, host.policy, host.log))
        host.props["metrics_file"] = "zrecon.prom"
        r = host.method("refresh")
        self.assertEqual(r.returncode, EXIT_CONFIG)
        self.assertIn("must be absolute paths", r.stderr)

    def test_the_run_log_rotation_is_registered_with_logadm_at_each_start(self):
        # /etc/logadm.conf is rebuilt at every boot of a SmartOS global zone;
        # the start method runs after each one. logadm -w replaces an entry
        # of the same name, so each start writes the same one entry again.
        host = Host(self)
        host.props["run_log"] = "/var/log/zrecon-runs.jsonl"
        r = self.ok(host, "start")
        self.assertIn("no logadm here: /var/log/zrecon-runs.jsonl is not rotated", r.stderr)
        host.add_logadm()
        entry = "-w /var/log/zrecon-runs.jsonl -C 12 -s 10m -N"
        r = self.ok(host, "start")
        self.assertIn("logadm rotates /var/log/zrecon-runs.jsonl", r.stderr)
        self.ok(host, "refresh")
        self.ok(host, "stop")
        self.assertEqual(host.logadm(), [entry, entry])
        host.props["run_log"] = ""
        self.ok(host, "start")
        self.assertEqual(host.logadm(), [entry, entry], "no run log, nothing to rotate")
        # A logadm that fails leaves the schedule in place and says so.
        host.props["run_log"] = "/var/log/zrecon-runs.jsonl"
        host.logadm_fail = "cannot write /etc/logadm.conf"
        r = self.ok(host, "start")
        self.assertIn("the run log is not rotated: logadm: cannot write", r.stderr)
        self.assertEqual(host.blocks(), (1, 1))

    def test_start_start_refresh_stop_stop_keep_one_block_and_the_rest(self):
        host = Host(self)
        with open(host.crontab, "w") as f:
            f.write(FOREIGN)
        self.ok(host, "start")
        self.ok(host, "start")  # a restart after a crash, or svcadm restart
        self.assertEqual(host.blocks(), (1, 1))
        self.assertTrue(host.table().startswith(FOREIGN), host.table())
        host.props["schedule"] = "5,35 * * * *"
        self.ok(host, "refresh")
        self.assertEqual(host.blocks(), (1, 1))
        self.assertTrue(host.zrecon_line().startswith("5,35 * * * * "))
        self.ok(host, "stop")
        self.assertEqual(host.table(), FOREIGN)
        writes = host.writes()
        self.ok(host, "stop")
        self.assertEqual(host.table(), FOREIGN)
        self.assertEqual(host.writes(), writes, "a second stop writes nothing")
        self.ok(host, "start")
        self.assertEqual(host.blocks(), (1, 1))

    def test_the_line_runs_the_configured_paths_literally(self):
        host = Host(self)
        odd = os.path.join(host.dir, "it's a dir $(touch pwned)")
        os.makedirs(odd)
        shutil.move(host.policy, os.path.join(odd, "policy.yaml"))
        host.props["policy"] = os.path.join(odd, "policy.yaml")
        host.props["log"] = os.path.join(odd, "run log")
        self.ok(host, "start")
        line = host.zrecon_line()
        # cron hands the part after the five fields to sh.
        command = line.split(None, 5)[5]
        args_file = os.path.join(host.dir, "args")
        subprocess.run(["sh", "-c", command], env=dict(os.environ, ZRECON_ARGS=args_file),
                       check=True, cwd=host.dir)
        with open(args_file) as f:
            self.assertEqual(f.read().splitlines(), ["apply", "-f", host.props["policy"]])
        self.assertTrue(os.path.exists(host.props["log"]))
        self.assertFalse(os.path.exists(os.path.join(host.dir, "pwned")))

    def test_bad_properties_change_nothing(self):
        cases = {
            "four fields": ("schedule", "0 * * *"),
            "letters": ("schedule", "@hourly x y z w"),
            "relative policy": ("policy", "policy.yaml"),
            "a percent sign": ("log", "/var/log/zrecon-%d.log"),
        }
        for what, (name, value) in cases.items():
            with self.subTest(what):
                host = Host(self)
                with open(host.crontab, "w") as f:
                    f.write(FOREIGN)
                host.props[name] = value
                r = host.method("start")
                self.assertEqual(r.returncode, EXIT_CONFIG, r.stderr)
                self.assertIn("config/", r.stderr + "config/")
                self.assertEqual(host.table(), FOREIGN)
        host = Host(self)
        os.chmod(host.zrecon, 0o644)
        r = host.method("start")
        self.assertEqual(r.returncode, EXIT_CONFIG)
        self.assertIn("is not an executable file", r.stderr)
        self.assertIsNone(host.table())
        host = Host(self)
        os.unlink(host.policy)
        r = host.method("start")
        self.assertEqual(r.returncode, EXIT_CONFIG)
        self.assertIn("cannot be read", r.stderr)

    def test_a_damaged_block_or_an_unreadable_crontab_is_left_alone(self):
        host = Host(self)
        with open(host.crontab, "w") as f:
            f.write(FOREIGN + BEGIN + "\n0 * * * * /old/zrecon apply\n")
        before = host.table()
        for action in ("start", "stop"):
            r = host.method(action)
            self.assertEqual(r.returncode, EXIT_CONFIG, r.stderr)
            self.assertIn("damaged zrecon block", r.stderr)
            self.assertEqual(host.table(), before)
        host = Host(self)
        with open(host.crontab, "w") as f:
            f.write(FOREIGN)
        host.broken = "cannot connect to cron"
        for action in ("start", "stop"):
            r = host.method(action)
            self.assertEqual(r.returncode, EXIT_FATAL, r.stderr)
            self.assertIn("cannot read root's crontab", r.stderr)
            self.assertEqual(host.table(), FOREIGN)

    def test_unknown_method(self):
        r = Host(self).method("enable")
        self.assertEqual(r.returncode, EXIT_FATAL)
        self.assertIn("usage", r.stderr)


def xpath(expr):
    r = subprocess.run(["xmllint", "--xpath", expr, MANIFEST], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("xmllint --xpath %s: %s" % (expr, r.stderr))
    return r.stdout.strip()


@unittest.skipUnless(shutil.which("xmllint"), "xmllint is not installed (libxml2-utils)")
class ManifestTest(unittest.TestCase):

    def test_well_formed(self):
        r = subprocess.run(["xmllint", "--noout", MANIFEST], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_valid_against_illumos_dtd_where_there_is_one(self):
        dtd = os.environ.get("ZRECON_SMF_DTD")
        if dtd:
            self.assertTrue(os.path.isfile(dtd), "ZRECON_SMF_DTD names no file: " + dtd)
        else:
            dtd = "/usr/share/lib/xml/dtd/service_bundle.dtd.1"
            if not os.path.exists(dtd):
                self.skipTest("no service_bundle.dtd.1 here (set ZRECON_SMF_DTD)")
        r = subprocess.run(["xmllint", "--noout", "--dtdvalid", dtd, MANIFEST],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_the_service_the_script_and_the_install_layout_agree_on(self):
        self.assertEqual(xpath("string(/service_bundle/@type)"), "manifest")
        self.assertEqual(xpath("string(/service_bundle/service/@name)"), "site/zrecon")
        prefix = "/opt/zrecon/lib/svc/method/zrecon-cron "
        for method in ("start", "stop", "refresh"):
            self.assertEqual(
                xpath("string(//exec_method[@name='%s']/@exec)" % method), prefix + method)
        self.assertEqual(
            xpath("string(//property_group[@name='startd']/propval[@name='duration']/@value)"),
            "transient")
        config = "//property_group[@name='config']/propval[@name='%s']/@value"
        self.assertEqual(xpath("string(%s)" % (config % "binary")), "/opt/zrecon/bin/zrecon")
        # zrecon's own default (reconciler/cli/common.h kDefaultPolicyPath).
        with open(os.path.join(SOURCE, "reconciler", "cli", "common.h")) as f:
            self.assertIn('kDefaultPolicyPath = "%s"' % xpath("string(%s)" % (config % "policy")),
                          f.read())
        schedule = xpath("string(%s)" % (config % "schedule"))
        self.assertEqual(len(schedule.split()), 5)
        self.assertEqual(xpath("string(//dependency[@name='cron']/service_fmri/@value)"),
                         "svc:/system/cron")
        # The FMRI the script writes into its marker is the service's.
        with open(METHOD) as f:
            self.assertIn("svc:/site/zrecon:default", f.read())


@unittest.skipUnless(os.environ.get("ZRECON_BUILD_DIR") and shutil.which("cmake"),
                     "needs ZRECON_BUILD_DIR (ctest sets it) and cmake")
class InstallTest(unittest.TestCase):
    """`cmake --install` puts the files where the manifest says they are."""

    def test_layout_under_opt_zrecon(self):
        prefix = tempfile.mkdtemp(prefix="zrecon-install-")
        self.addCleanup(shutil.rmtree, prefix)
        r = subprocess.run(["cmake", "--install", os.environ["ZRECON_BUILD_DIR"], "--prefix",
                            prefix], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

        def installed(path):
            # A path the manifest names under /opt/zrecon, in the prefix.
            self.assertTrue(path.startswith("/opt/zrecon/"), path)
            return os.path.join(prefix, path[len("/opt/zrecon/"):])

        method = installed(xpath("string(//exec_method[@name='start']/@exec)").split()[0])
        self.assertTrue(os.access(method, os.X_OK), method)
        config = "string(//property_group[@name='config']/propval[@name='binary']/@value)"
        self.assertTrue(os.access(installed(xpath(config)), os.X_OK))
        self.assertTrue(os.path.isfile(os.path.join(prefix, "share/zrecon/smf/zrecon.xml")))
        self.assertTrue(os.path.isfile(os.path.join(prefix, "share/zrecon/examples/standard.yaml")))
        self.assertTrue(os.path.isfile(os.path.join(prefix, "share/man/man8/zrecon.8")))
        self.assertTrue(os.path.isfile(os.path.join(prefix, "share/man/man5/zrecon-policy.5")))
        self.assertTrue(os.path.isfile(os.path.join(prefix, "share/bash-completion/zrecon")))


if __name__ == "__main__":
    unittest.main()
