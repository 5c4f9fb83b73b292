"""Checks schema/manifest.schema.json with an independent validator
(python3-jsonschema) against the catalog fixtures: every good manifest is
valid, every schema-detectable corruption is refused at the right place.

Run by ctest with /usr/bin/python3 and ZRECON_SOURCE_DIR set.
"""

import copy
import glob
import json
import os
import unittest

import jsonschema

SOURCE = os.environ.get("ZRECON_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCHEMA_PATH = os.path.join(SOURCE, "schema", "manifest.schema.json")
CATALOGS = os.path.join(SOURCE, "tests", "fixtures", "catalogs")
ZONE = "8f6d2b3a-61c4-4e0b-b7a1-3c9e5d0f2a47"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def manifests(root):
    """Zone and image manifests of a destination; config files are vmadm output."""
    zones = glob.glob(os.path.join(root, "*", "*", "manifest.json"))
    images = glob.glob(os.path.join(root, "*", "images", "*.json"))
    return sorted(zones + images)


def leaf_errors(errors):
    """Errors under oneOf/anyOf branches, flattened, with absolute paths."""
    for e in errors:
        if e.context:
            yield from leaf_errors(e.context)
        else:
            yield e


class ManifestSchemaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.schema = load(SCHEMA_PATH)
        jsonschema.Draft202012Validator.check_schema(cls.schema)
        cls.validator = jsonschema.Draft202012Validator(cls.schema)
        cls.good_zone = load(os.path.join(CATALOGS, "two-chains", "demo01", ZONE, "manifest.json"))

    def assert_refused_at(self, doc, path):
        errors = list(self.validator.iter_errors(doc))
        self.assertTrue(errors, "schema accepted a document it should refuse at %s" % (path,))
        paths = [list(e.absolute_path) for e in leaf_errors(errors)]
        self.assertIn(path, paths)

    def test_every_property_is_documented(self):
        missing = []

        def walk(node, where):
            if isinstance(node, dict):
                for name, sub in node.get("properties", {}).items():
                    if "description" not in sub:
                        missing.append(where + "/" + name)
                for key, sub in node.items():
                    # if/then/else only restate constraints of documented properties.
                    if key not in ("if", "then", "else"):
                        walk(sub, where + "/" + key)
            elif isinstance(node, list):
                for i, sub in enumerate(node):
                    walk(sub, "%s/%d" % (where, i))

        walk(self.schema, "#")
        self.assertEqual(missing, [])

    def test_good_fixture_manifests_are_valid(self):
        found = manifests(os.path.join(CATALOGS, "two-chains"))
        self.assertEqual(len(found), 2)
        for path in found:
            with self.subTest(path=path):
                errors = [e.message for e in self.validator.iter_errors(load(path))]
                self.assertEqual(errors, [])

    def test_bad_fixtures_are_refused(self):
        cases = {
            "path-traversal": ["chains", 0, "links", 0, "stream", "file"],
            "bad-guid": ["chains", 1, "links", 1, "guid"],
            "newer-format": ["format_version"],
        }
        for name, path in cases.items():
            with self.subTest(fixture=name):
                doc = load(os.path.join(CATALOGS, "bad", name, "demo01", ZONE, "manifest.json"))
                self.assert_refused_at(doc, path)

    def test_truncated_fixture_is_not_json(self):
        path = os.path.join(CATALOGS, "bad", "truncated", "demo01", ZONE, "manifest.json")
        with self.assertRaises(json.JSONDecodeError):
            load(path)

    def test_mutations_are_refused_where_they_are(self):
        link = ["chains", 1, "links", 0]
        mutations = [
            (link + ["stream", "sha256"], "A" * 64),
            (link + ["stream", "sha256"], "abc"),
            (link + ["stream", "compression"], "gzip"),
            (link + ["stream", "size"], -1),
            (link + ["stream", "file"], "/etc/shadow"),
            (link + ["stream", "file"], "a//b"),
            (link + ["stream", "file"], "a/./b"),
            (link + ["config"], "../config.json"),
            (link + ["guid"], 12345),
            (link + ["guid"], "0123"),
            (link + ["createtxg"], "-1"),
            (link + ["creation"], "1794708000"),
            (link + ["from"], "zones/x"),
            (link + ["from_guid"], "0"),
            (link + ["written"], "yesterday"),
            (["chains", 2, "links", 0, "from_guid"], "5"),
            (["chains", 2, "image_uuid"], "5417ab20-3156-11ea-8b19-2b66f5e7a439"),
            (["chains", 0, "origin_guid"], "0"),
            (["chains", 0, "links"], []),
            (["zone", "uuid"], ZONE.upper()),
            (["zone", "image_uuid"], "not-a-uuid"),
            (["host"], "demo01/x"),
            (["kind"], "image"),
        ]
        for path, value in mutations:
            with self.subTest(path=path, value=value):
                doc = copy.deepcopy(self.good_zone)
                target = doc
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = value
                self.assert_refused_at(doc, path)

    def test_unknown_and_missing_keys_are_refused(self):
        doc = copy.deepcopy(self.good_zone)
        doc["chains"][0]["links"][0]["gud"] = "1"
        self.assert_refused_at(doc, ["chains", 0, "links", 0])
        doc = copy.deepcopy(self.good_zone)
        del doc["chains"][0]["links"][0]["stream"]["sha256"]
        self.assert_refused_at(doc, ["chains", 0, "links", 0, "stream"])

    def test_loose_files_are_optional_relative_and_unique(self):
        doc = copy.deepcopy(self.good_zone)
        self.assertNotIn("loose_files", doc)
        doc["loose_files"] = [ZONE + "/root/20261117T020000Z/0003-x.zfs",
                              ZONE + "/config/20261117T020000Z.json"]
        self.assertEqual([e.message for e in self.validator.iter_errors(doc)], [])
        doc["loose_files"] = []
        self.assertEqual([e.message for e in self.validator.iter_errors(doc)], [])
        for bad in ["/etc/passwd", ZONE + "/../x.zfs", ZONE + "//x.zfs", 7]:
            with self.subTest(entry=bad):
                doc["loose_files"] = [ZONE + "/a.zfs", bad]
                self.assert_refused_at(doc, ["loose_files", 1])
        doc["loose_files"] = [ZONE + "/a.zfs", ZONE + "/a.zfs"]
        self.assert_refused_at(doc, ["loose_files"])
        doc["loose_files"] = ZONE + "/a.zfs"
        self.assert_refused_at(doc, ["loose_files"])

    def test_ordinary_dotted_names_are_valid_paths(self):
        doc = copy.deepcopy(self.good_zone)
        doc["chains"][0]["links"][0]["stream"]["file"] = "a/.hidden/..b/.../c.zfs"
        self.assertEqual([e.message for e in self.validator.iter_errors(doc)], [])


if __name__ == "__main__":
    unittest.main()
