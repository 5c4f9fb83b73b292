"""The manual pages and the bash completion stay true to the binary:
`mandoc -T lint` finds nothing in man/zrecon.8 and man/zrecon-policy.5;
every subcommand and every long option that `zrecon <command> --help`
lists appears in zrecon(8) and in the completion's list for that command;
every top-level policy key of the schema is in zrecon-policy(5).

Run by ctest with /usr/bin/python3, ZRECON and ZRECON_SOURCE_DIR set.
"""

import json
import os
import re
import shutil
import subprocess
import unittest

SOURCE = os.environ.get("ZRECON_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ZRECON = os.environ.get("ZRECON", os.path.join(SOURCE, "build", "zrecon"))
MAN8 = os.path.join(SOURCE, "man", "zrecon.8")
MAN5 = os.path.join(SOURCE, "man", "zrecon-policy.5")
COMPLETION = os.path.join(SOURCE, "dist", "completion", "zrecon.bash")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def help_of(*args):
    r = subprocess.run([ZRECON, *args, "--help"], capture_output=True, text=True)
    return r.stdout + r.stderr


def commands():
    text = help_of()
    block = text[text.index("SUBCOMMANDS"):] if "SUBCOMMANDS" in text else text
    return re.findall(r"^\s{2}([a-z]+)\s", block, re.M)


def long_options(command):
    # Option lines only: "  -f,--file TEXT ..." or "  --json ...".
    found = re.findall(r"^\s+(?:-[a-z],)?(--[a-z][a-z-]*)", help_of(command), re.M)
    return sorted(set(o for o in found if o != "--help"))


class ManTest(unittest.TestCase):

    @unittest.skipUnless(shutil.which("mandoc"), "mandoc is not installed")
    def test_lint_clean(self):
        for page in (MAN8, MAN5):
            r = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", page],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_every_command_and_option_is_documented_and_completed(self):
        man = read(MAN8)
        completion = read(COMPLETION)
        found = commands()
        self.assertIn("restore", found)
        self.assertIn("status", found)
        for command in found:
            with self.subTest(command):
                self.assertIn(".Cm %s\n" % command, man)
                case = re.search(r"^\s+%s\) options=\"([^\"]*)\"" % command, completion, re.M)
                self.assertIsNotNone(case, "no completion case for " + command)
                for option in long_options(command):
                    self.assertIn("Fl -%s" % option[2:], man, "%s %s" % (command, option))
                    listed = case.group(1)
                    for var, value in (("$planning", "-f --file --now --host $host"),
                                       ("$host", "--zfs --vmadm --dialect --timeout")):
                        listed = listed.replace(var, value)
                    self.assertIn(option, listed.split(), "%s %s" % (command, option))

    def test_every_policy_key_is_in_the_policy_page(self):
        schema = json.loads(read(os.path.join(SOURCE, "schema", "policy.schema.json")))
        man = read(MAN5)
        for key in schema["properties"]:
            self.assertIn(".It Ic %s\n" % key, man, key)


if __name__ == "__main__":
    unittest.main()
