"""Checks schema/policy.schema.json with an independent validator
(python3-jsonschema over PyYAML's reading of the files) and `zrecon validate`
against the same files: every example passes both; every fixture under
tests/fixtures/policies/invalid/schema is refused by both; every invalid
fixture makes `zrecon validate` exit 1 and print exactly the diagnostics its
.expected file lists (LINE:COL: text), as FILE:LINE:COL on stderr.

Run by ctest with /usr/bin/python3, ZRECON (the built binary) and
ZRECON_SOURCE_DIR set.
"""

import glob
import json
import os
import subprocess
import unittest

import jsonschema

try:
    import yaml  # Debian: python3-yaml
except ImportError:  # pragma: no cover - reported as skipped tests
    yaml = None

SOURCE = os.environ.get("ZRECON_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ZRECON = os.environ.get("ZRECON", "")
SCHEMA_PATH = os.path.join(SOURCE, "schema", "policy.schema.json")
EXAMPLES = sorted(glob.glob(os.path.join(SOURCE, "examples", "*.yaml")))
INVALID = os.path.join(SOURCE, "tests", "fixtures", "policies", "invalid")
SCHEMA_INVALID = sorted(glob.glob(os.path.join(INVALID, "schema", "*.yaml")))
ZRECON_INVALID = sorted(glob.glob(os.path.join(INVALID, "zrecon", "*.yaml")))
NEEDS_YAML = unittest.skipIf(yaml is None, "python3-yaml is not installed")


def read_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def expected_lines(path):
    with open(os.path.splitext(path)[0] + ".expected", encoding="utf-8") as f:
        return [line for line in f.read().splitlines() if line]


def run_zrecon(*args):
    return subprocess.run([ZRECON, *args], capture_output=True, text=True,
                          errors="replace", timeout=60, check=False)


class PolicySchemaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(SCHEMA_PATH, encoding="utf-8") as f:
            cls.schema_text = f.read()
        cls.schema = json.loads(cls.schema_text)
        jsonschema.Draft202012Validator.check_schema(cls.schema)
        cls.validator = jsonschema.Draft202012Validator(cls.schema)

    def test_fixture_sets_are_not_empty(self):
        self.assertGreaterEqual(len(EXAMPLES), 4)
        self.assertGreaterEqual(len(SCHEMA_INVALID), 15)
        self.assertGreaterEqual(len(ZRECON_INVALID), 10)

    def test_schema_header(self):
        self.assertEqual(self.schema["$schema"], "https://json-schema.org/draft/2020-12/schema")
        self.assertTrue(self.schema["$id"].endswith("/policy.schema.json"))
        self.assertTrue(self.schema["title"])

    def test_every_property_is_documented_and_closed(self):
        undocumented, open_objects = [], []

        def walk(node, where):
            if isinstance(node, dict):
                for name, sub in node.get("properties", {}).items():
                    if "description" not in sub:
                        undocumented.append(where + "/properties/" + name)
                if "properties" in node and node.get("additionalProperties") is not False:
                    open_objects.append(where)
                for key, sub in node.items():
                    if key != "if":  # a condition, not a shape
                        walk(sub, where + "/" + key)
            elif isinstance(node, list):
                for i, sub in enumerate(node):
                    walk(sub, "%s/%d" % (where, i))

        walk(self.schema, "#")
        self.assertEqual(undocumented, [])
        self.assertEqual(open_objects, [])

    @NEEDS_YAML
    def test_examples_pass_the_schema(self):
        for path in EXAMPLES:
            with self.subTest(path=os.path.basename(path)):
                errors = [e.message for e in self.validator.iter_errors(read_yaml(path))]
                self.assertEqual(errors, [])

    @NEEDS_YAML
    def test_schema_invalid_fixtures_fail_the_schema(self):
        for path in SCHEMA_INVALID:
            with self.subTest(path=os.path.basename(path)):
                self.assertFalse(self.validator.is_valid(read_yaml(path)))

    @NEEDS_YAML
    def test_schema_refuses_what_zrecon_refuses_in_small_cases(self):
        base = {"version": 1, "policies": {"p": {"keep": {"daily": 7}}},
                "zones": [{"match": {"alias": "*"}, "policy": "p"}]}
        self.assertTrue(self.validator.is_valid(base))
        bad = [
            ("naming", "zrecon-{class}-{time}-{time}"),
            ("naming", "zrecon {class}{time}"),
            ("naming", "{klass}-{class}-{time}"),
            ("classes", {"hourly": "100001h"}),
            ("classes", {"hourly": "0h"}),
            ("classes", {"hourly": "1s"}),
            ("host", "two words"),
            ("limits", {"max_destroy": -1}),
            ("destinations", {"d": {"path": "/"}}),
            ("destinations", {"d": {"path": "///"}}),
            ("destinations", {"d": {"path": "/a\0b"}}),
            ("destinations", {"d": {"path": "/x", "host": "vault"}}),
            ("destinations", {"d": {"type": "ssh", "path": "/x"}}),
            ("destinations", {"d": {"type": "ssh", "host": "-oProxyCommand=x", "path": "/x"}}),
            ("destinations", {"d": {"type": "ssh", "host": "h", "path": "/x",
                                    "identity": "key.pem"}}),
            ("destinations", {"d": {"type": "ssh", "host": "h", "path": "/x", "port": 0}}),
        ]
        for key, value in bad:
            with self.subTest(key=key, value=value):
                doc = dict(base, **{key: value})
                self.assertFalse(self.validator.is_valid(doc))
        good = [("naming", "{time}_{class}.x:y"), ("classes", {"hourly": "0100000h"}),
                ("destinations", {"d": {"path": "//mnt"}}),
                ("destinations", {"d": {"type": "ssh", "host": "vault.example", "port": 2222,
                                        "user": "backup", "path": "/srv/zrecon",
                                        "identity": "/opt/zrecon/id_ed25519",
                                        "known_hosts": "/opt/zrecon/known_hosts"}})]
        for key, value in good:
            with self.subTest(key=key, value=value):
                self.assertTrue(self.validator.is_valid(dict(base, **{key: value})))

    def test_validate_accepts_every_example_silently(self):
        self.assertTrue(ZRECON, "ZRECON must name the zrecon binary")
        for path in EXAMPLES:
            with self.subTest(path=os.path.basename(path)):
                result = run_zrecon("validate", "-f", path)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.stderr, "")

    def test_validate_reports_exactly_the_expected_diagnostics(self):
        self.assertTrue(ZRECON, "ZRECON must name the zrecon binary")
        for path in SCHEMA_INVALID + ZRECON_INVALID:
            with self.subTest(path=os.path.relpath(path, INVALID)):
                result = run_zrecon("validate", "-f", path)
                self.assertEqual(result.returncode, 1, result.stderr)
                printed = result.stderr.splitlines()
                expected = expected_lines(path)
                self.assertEqual(len(printed), len(expected), result.stderr)
                for want, got in zip(expected, printed):
                    position, _, text = want.partition(": ")
                    self.assertTrue(got.startswith("%s:%s: " % (path, position)), (want, got))
                    self.assertIn(text, got, (want, got))

    def test_validate_checks_every_file_given(self):
        self.assertTrue(ZRECON, "ZRECON must name the zrecon binary")
        bad = os.path.join(INVALID, "zrecon", "unknown-references.yaml")
        result = run_zrecon("validate", "-f", EXAMPLES[0], "-f", bad)
        self.assertEqual(result.returncode, 1)
        self.assertIn(bad + ":", result.stderr)
        self.assertNotIn(EXAMPLES[0] + ":", result.stderr)

    def test_schema_command_prints_the_file(self):
        self.assertTrue(ZRECON, "ZRECON must name the zrecon binary")
        result = run_zrecon("schema", "policy")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, self.schema_text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
