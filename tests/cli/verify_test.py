"""`zrecon verify --from DIR`: what an operator (or a monitoring check) gets
from the binary for an intact destination and for each kind of damage: exit
codes, the text report and the --json document (README, "Verifying
exports"). Every case works on a copy of tests/fixtures/catalogs/two-chains,
whose files carry their real sizes and sha256 in the manifests.

Run by ctest with /usr/bin/python3, ZRECON (the built binary) and
ZRECON_SOURCE_DIR set.
"""

import datetime
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import jsonschema

SOURCE = os.environ.get("ZRECON_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ZRECON = os.environ.get("ZRECON", os.path.join(SOURCE, "build", "zrecon"))
FIXTURE = os.path.join(SOURCE, "tests", "fixtures", "catalogs", "two-chains")

HOST = "demo01"
ZONE = "8f6d2b3a-61c4-4e0b-b7a1-3c9e5d0f2a47"
IMAGE = "5417ab20-3156-11ea-8b19-2b66f5e7a439"
MANIFEST = ZONE + "/manifest.json"
IMAGE_STREAM = "images/%s.zfs" % IMAGE
OLD_CHAIN = "root/20261101T020000Z"
NEW_CHAIN = "root/20261115T020000Z"
DATA_CHAIN = "data/20261115T020000Z"

PROBLEMS = {"type": "array", "items": {
    "type": "object", "additionalProperties": False, "required": ["file", "message"],
    "properties": {"file": {"type": "string"}, "message": {"type": "string"}}}}
LINK = {"type": "object", "additionalProperties": False,
        "required": ["snapshot", "created", "written"],
        "properties": {"snapshot": {"type": "string"}, "created": {"type": "string"},
                       "written": {"type": "string"}}}
COUNT = {"type": "integer", "minimum": 0}
STRINGS = {"type": "array", "items": {"type": "string"}}

# The --json document as README "Verifying exports" defines it.
VERIFY_JSON_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["format_version", "from", "ok", "summary", "hosts"],
    "properties": {
        "format_version": {"const": 1},
        "from": {"type": "string"},
        "ok": {"type": "boolean"},
        "summary": {"type": "object", "additionalProperties": False,
                    "required": ["hosts", "zones", "images", "problems", "unknown_files",
                                 "leftover_files", "loose_files", "files_read", "bytes_read"],
                    "properties": {k: COUNT for k in (
                        "hosts", "zones", "images", "problems", "unknown_files",
                        "leftover_files", "loose_files", "files_read", "bytes_read")}},
        "hosts": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["host", "dir", "ok", "images", "zones", "unknown_files",
                         "leftover_files", "loose_files", "problems"],
            "properties": {
                "host": {"type": "string"}, "dir": {"type": "string"},
                "ok": {"type": "boolean"},
                "images": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["uuid", "ok", "manifest", "file", "bytes", "written",
                                 "problems"],
                    "properties": {"uuid": {"type": "string"}, "ok": {"type": "boolean"},
                                   "manifest": {"type": "string"}, "file": {"type": "string"},
                                   "bytes": COUNT, "written": {"type": "string"},
                                   "problems": PROBLEMS}}},
                "zones": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["uuid", "alias", "ok", "manifest", "configs", "chains",
                                 "problems"],
                    "properties": {
                        "uuid": {"type": "string"}, "alias": {"type": "string"},
                        "ok": {"type": "boolean"}, "manifest": {"type": "string"},
                        "configs": COUNT, "problems": PROBLEMS,
                        "chains": {"type": "array", "items": {
                            "type": "object", "additionalProperties": False,
                            "required": ["id", "dataset", "ok", "base", "origin", "image_uuid", "links",
                                         "bytes", "first", "tip", "restorable_links",
                                         "restorable_tip"],
                            "properties": {
                                "id": {"type": "string"}, "dataset": {"type": "string"},
                                "ok": {"type": "boolean"},
                                "base": {"enum": ["full", "incremental"]},
                                "origin": {"type": "string"},
                                "image_uuid": {"type": "string"}, "links": COUNT,
                                "bytes": COUNT, "first": LINK, "tip": LINK,
                                "restorable_links": COUNT,
                                "restorable_tip": {"type": "string"}}}}}}},
                "unknown_files": STRINGS, "leftover_files": STRINGS, "loose_files": STRINGS,
                "problems": PROBLEMS}}},
    },
}


def run_zrecon(*args):
    return subprocess.run([ZRECON, *args], capture_output=True, text=True, errors="replace",
                          timeout=120, check=False)


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def rfc3339(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class VerifyTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="zrecon-verify-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name
        self.dest = os.path.join(self.tmp, "dest")
        shutil.copytree(FIXTURE, self.dest)
        with open(self.host_path(MANIFEST), encoding="utf-8") as f:
            self.manifest = json.load(f)

    def host_path(self, relative, host=HOST):
        return os.path.join(self.dest, host, relative)

    def chain(self, chain_id):
        return next(c for c in self.manifest["chains"] if c["id"] == chain_id)

    def link_file(self, chain_id, index):
        return self.chain(chain_id)["links"][index]["stream"]["file"]

    def verify(self, *args, code):
        result = run_zrecon("verify", "--from", self.dest, *args)
        self.assertEqual(result.returncode, code,
                         "stdout:\n%s\nstderr:\n%s" % (result.stdout, result.stderr))
        return result

    def verify_json(self, *args, code):
        doc = json.loads(self.verify("--json", *args, code=code).stdout)
        jsonschema.validate(doc, VERIFY_JSON_SCHEMA)
        self.assertEqual(doc["ok"], code == 0)
        return doc

    def flip_byte(self, relative, offset):
        with open(self.host_path(relative), "r+b") as f:
            f.seek(offset)
            byte = f.read(1)
            f.seek(offset)
            f.write(bytes([byte[0] ^ 0x01]))

    def data_bytes(self):
        """Bytes of every file verify hashes: all but the manifests."""
        total = 0
        for root, _, files in os.walk(self.dest):
            for name in files:
                if name != "manifest.json" and not name.endswith(IMAGE + ".json"):
                    total += os.path.getsize(os.path.join(root, name))
        return total

    # -- intact ------------------------------------------------------------

    def test_intact_destination_passes_with_every_chain_described(self):
        result = self.verify(code=0)
        self.assertEqual(result.stderr, "")
        lines = result.stdout.splitlines()
        self.assertEqual(lines[0], "host %s (%s/%s)" % (HOST, self.dest, HOST))
        self.assertIn("  image %s: OK" % IMAGE, lines)
        self.assertIn("  zone %s (web01): OK" % ZONE, lines)
        for chain in self.manifest["chains"]:
            first, tip = chain["links"][0], chain["links"][-1]
            at = lines.index("    chain %s of %s: OK" % (chain["id"], chain["dataset"]))
            base = ("incremental from image " + chain["image_uuid"]) if first["from"] else \
                "full stream"
            size = sum(link["stream"]["size"] for link in chain["links"])
            self.assertEqual(lines[at + 1:at + 5], [
                "      %d links, %d bytes, base: %s" % (len(chain["links"]), size, base),
                "      snapshots %s .. %s" % (first["snapshot"], tip["snapshot"]),
                "      created   %s .. %s" % (rfc3339(first["creation"]),
                                               rfc3339(tip["creation"])),
                "      written   %s .. %s" % (first["written"], tip["written"]),
            ])
        self.assertEqual(lines[-1], "verify: OK: 1 host, 1 zone, 1 image; read 11 files, %d bytes"
                         % self.data_bytes())
        self.assertNotIn("problem", result.stdout)

    def test_a_host_directory_is_accepted_as_from(self):
        result = run_zrecon("verify", "--from", os.path.join(self.dest, HOST) + "/")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertTrue(result.stdout.startswith("host %s (%s/%s)\n" % (HOST, self.dest, HOST)))

    def test_json_document_of_an_intact_destination(self):
        doc = self.verify_json(code=0)
        self.assertEqual(doc["from"], self.dest)
        self.assertEqual(doc["summary"], {
            "hosts": 1, "zones": 1, "images": 1, "problems": 0, "unknown_files": 0,
            "leftover_files": 0, "loose_files": 0, "files_read": 11,
            "bytes_read": self.data_bytes()})
        (host,) = doc["hosts"]
        self.assertEqual((host["host"], host["dir"], host["ok"]),
                         (HOST, os.path.join(self.dest, HOST), True))
        self.assertEqual(host["images"][0]["file"], IMAGE_STREAM)
        self.assertEqual(host["images"][0]["bytes"],
                         os.path.getsize(self.host_path(IMAGE_STREAM)))
        (zone,) = host["zones"]
        self.assertEqual((zone["uuid"], zone["alias"], zone["configs"]),
                         (ZONE, "web01", len(self.manifest["configs"])))
        self.assertEqual([c["id"] for c in zone["chains"]],
                         [c["id"] for c in self.manifest["chains"]])
        for got, chain in zip(zone["chains"], self.manifest["chains"]):
            tip = chain["links"][-1]
            self.assertEqual(got["tip"], {"snapshot": tip["snapshot"],
                                          "created": rfc3339(tip["creation"]),
                                          "written": tip["written"]})
            self.assertEqual(got["links"], len(chain["links"]))
            self.assertEqual(got["restorable_links"], len(chain["links"]))
            self.assertEqual(got["restorable_tip"], tip["snapshot"])
            incremental = chain["links"][0]["from"] != ""
            self.assertEqual((got["base"], got["origin"], got["image_uuid"]),
                             ("incremental", chain["origin"], chain["image_uuid"]) if incremental
                             else ("full", "", ""))

    # -- damaged files -----------------------------------------------------

    def test_flipped_byte_in_a_stream_is_a_sha256_mismatch(self):
        file = self.link_file(NEW_CHAIN, 1)
        recorded = self.chain(NEW_CHAIN)["links"][1]["stream"]["sha256"]
        self.flip_byte(file, os.path.getsize(self.host_path(file)) // 2)
        actual = sha256_of(self.host_path(file))
        result = self.verify(code=1)
        problem = "%s: sha256 mismatch: recorded %s, file has %s" % (file, recorded, actual)
        self.assertIn("    problem: " + problem, result.stdout.splitlines())
        self.assertIn("  zone %s (web01): PROBLEMS" % ZONE, result.stdout)
        self.assertIn("    chain %s of zones/%s: PROBLEMS (restorable up to @%s, 1 of 2 links)"
                      % (NEW_CHAIN, ZONE, self.chain(NEW_CHAIN)["links"][0]["snapshot"]),
                      result.stdout)
        self.assertIn("    chain %s of zones/%s: OK" % (OLD_CHAIN, ZONE), result.stdout)
        self.assertTrue(result.stdout.endswith("; 1 problem, 0 unknown files in 1 host\n"),
                        result.stdout)
        zone = self.verify_json(code=1)["hosts"][0]["zones"][0]
        self.assertFalse(zone["ok"])
        self.assertEqual(zone["problems"], [{"file": file, "message": problem.split(": ", 1)[1]}])

    def test_flipped_byte_in_a_config_fails_the_chains_that_name_it(self):
        config = self.chain(DATA_CHAIN)["links"][1]["config"]
        self.flip_byte(config, 0)
        result = self.verify(code=1)
        self.assertIn("    problem: %s: sha256 mismatch: recorded " % config, result.stdout)
        for chain_id in (NEW_CHAIN, DATA_CHAIN):
            self.assertIn("chain %s of zones/%s" % (chain_id, ZONE), result.stdout)
        self.assertEqual(result.stdout.count(": PROBLEMS (every stream verifies)"), 2)

    def test_truncated_file_is_a_size_mismatch(self):
        file = self.link_file(DATA_CHAIN, 0)
        size = os.path.getsize(self.host_path(file))
        os.truncate(self.host_path(file), size - 10)
        result = self.verify(code=1)
        self.assertIn("    problem: %s: size mismatch: recorded %d bytes, file has %d"
                      % (file, size, size - 10), result.stdout.splitlines())
        self.assertIn("of zones/%s/data: PROBLEMS (nothing restorable)" % ZONE, result.stdout)

    def test_deleted_stream_is_missing(self):
        file = self.link_file(OLD_CHAIN, 1)
        os.remove(self.host_path(file))
        result = self.verify(code=1)
        self.assertIn("    problem: %s: missing" % file, result.stdout.splitlines())

    def test_without_the_image_stream_clone_chains_are_incomplete(self):
        os.remove(self.host_path(IMAGE_STREAM))
        result = self.verify(code=1)
        lines = result.stdout.splitlines()
        self.assertIn("  image %s: PROBLEMS" % IMAGE, lines)
        self.assertIn("    problem: %s: missing" % IMAGE_STREAM, lines)
        for chain_id in (OLD_CHAIN, NEW_CHAIN):
            self.assertIn("    problem: %s: chain %s is incomplete: its base is an incremental "
                          "from zones/%s@final and the stream of image %s does not verify: "
                          "missing" % (IMAGE_STREAM, chain_id, IMAGE, IMAGE), lines)
            self.assertIn("    chain %s of zones/%s: PROBLEMS (nothing restorable)"
                          % (chain_id, ZONE), lines)
        self.assertIn("    chain %s of zones/%s/data: OK" % (DATA_CHAIN, ZONE), lines)

    # -- files nobody knows ------------------------------------------------

    def test_stray_and_temporary_files_are_reported_and_kept(self):
        stray = ZONE + "/root/notes.txt"
        leftover = "images/.tmp.%s.zfs.4242.0" % IMAGE
        with open(self.host_path(leftover), "w") as f:
            f.write("partial")
        result = self.verify(code=0)
        self.assertIn("  leftover temporary file (not a problem; the next apply removes it): "
                      + leftover, result.stdout.splitlines())
        with open(self.host_path(stray), "w") as f:
            f.write("hello")
        result = self.verify(code=1)
        self.assertIn("  unknown file (no manifest names it): " + stray,
                      result.stdout.splitlines())
        self.assertIn("  zone %s (web01): OK" % ZONE, result.stdout)
        self.assertIn("host %s: PROBLEMS" % HOST, result.stdout)
        self.assertTrue(os.path.exists(self.host_path(stray)))
        self.assertTrue(os.path.exists(self.host_path(leftover)))
        host = self.verify_json(code=1)["hosts"][0]
        self.assertEqual((host["unknown_files"], host["leftover_files"]), ([stray], [leftover]))

    def test_files_the_manifest_lists_as_loose_are_a_note_not_a_problem(self):
        # An apply killed after linking a stream into place, before recording it.
        linked = ZONE + "/" + NEW_CHAIN + "/0003-zrecon-daily-20261117T020000Z.zfs"
        with open(self.host_path(linked), "w") as f:
            f.write("linked, never recorded")
        result = self.verify(code=1)
        self.assertIn("  unknown file (no manifest names it): " + linked,
                      result.stdout.splitlines())
        never_committed = ZONE + "/config/20261117T020000Z.json"
        self.manifest["loose_files"] = [never_committed, linked]
        with open(self.host_path(MANIFEST), "w", encoding="utf-8") as f:
            json.dump(self.manifest, f, indent=2, sort_keys=True)
        result = self.verify(code=0)
        lines = result.stdout.splitlines()
        self.assertIn("  loose file (its manifest lists it; not a problem; the next apply "
                      "removes it): " + linked, lines)
        self.assertNotIn("unknown file", result.stdout)
        self.assertNotIn(never_committed, result.stdout)
        self.assertIn("host %s: OK" % HOST, lines)
        self.assertTrue(os.path.exists(self.host_path(linked)))
        doc = self.verify_json(code=0)
        self.assertEqual(doc["summary"]["loose_files"], 1)
        self.assertEqual(doc["summary"]["unknown_files"], 0)
        self.assertEqual(doc["hosts"][0]["loose_files"], [linked])

    def test_a_file_both_loose_and_recorded_invalidates_the_manifest(self):
        recorded = self.link_file(NEW_CHAIN, 1)
        self.manifest["loose_files"] = [recorded]
        with open(self.host_path(MANIFEST), "w", encoding="utf-8") as f:
            json.dump(self.manifest, f, indent=2, sort_keys=True)
        result = self.verify(code=1)
        index = [c["id"] for c in self.manifest["chains"]].index(NEW_CHAIN)
        self.assertIn('    problem: %s: invalid manifest: loose_files[0]: "%s" is recorded at '
                      "chains[%d].links[1].stream.file: a file is either recorded or loose, "
                      "never both" % (MANIFEST, recorded, index), result.stdout.splitlines())

    # -- manifests ---------------------------------------------------------

    def test_corrupt_manifest_is_reported_with_the_decoder_message(self):
        self.manifest["chains"][0]["links"][1]["from_guid"] = "77"
        with open(self.host_path(MANIFEST), "w", encoding="utf-8") as f:
            json.dump(self.manifest, f)
        result = self.verify(code=1)
        expected_guid = self.manifest["chains"][0]["links"][0]["guid"]
        self.assertIn('    problem: %s: invalid manifest: chains[0].links[1].from_guid: '
                      'expected "%s" (guid of the previous link), got "77"'
                      % (MANIFEST, expected_guid), result.stdout.splitlines())
        self.assertIn("  zone %s: PROBLEMS" % ZONE, result.stdout)
        self.assertNotIn("unknown file (", result.stdout)

    def test_truncated_manifest(self):
        with open(self.host_path(MANIFEST), "r+b") as f:
            f.truncate(40)
        zone = self.verify_json(code=1)["hosts"][0]["zones"][0]
        self.assertEqual(zone["chains"], [])
        (problem,) = zone["problems"]
        self.assertEqual(problem["file"], MANIFEST)
        self.assertTrue(problem["message"].startswith("invalid manifest: invalid JSON: "),
                        problem["message"])

    # -- selection and bad input -------------------------------------------

    def test_zone_by_alias_or_uuid(self):
        os.makedirs(self.host_path("0b7e9c4d-2f1a-4d3e-9a8b-6c5d4e3f2a10"))
        with open(self.host_path("0b7e9c4d-2f1a-4d3e-9a8b-6c5d4e3f2a10/manifest.json"), "w") as f:
            f.write("{")
        self.verify(code=1)
        for zone in ("web01", ZONE):
            doc = self.verify_json("--zone", zone, code=0)
            self.assertEqual([z["uuid"] for z in doc["hosts"][0]["zones"]], [ZONE])

    def test_unknown_zone_is_an_error(self):
        result = self.verify("--zone", "web1", code=1)
        self.assertEqual(result.stdout, "")
        self.assertEqual(result.stderr, 'zrecon: no zone with uuid or alias "web1" in %s '
                         '(did you mean "web01"?)\n' % self.dest)

    def test_several_hosts_and_host_selection(self):
        shutil.copytree(os.path.join(self.dest, HOST), os.path.join(self.dest, "demo02"))
        os.remove(self.host_path(IMAGE_STREAM, host="demo02"))
        doc = self.verify_json(code=1)
        self.assertEqual([(h["host"], h["ok"]) for h in doc["hosts"]],
                         [("demo01", True), ("demo02", False)])
        # demo02's manifests say host demo01: stored under the wrong host.
        self.assertIn({"file": MANIFEST,
                       "message": 'host is "demo01" but the manifest is stored under host '
                                  'directory "demo02"'},
                      doc["hosts"][1]["zones"][0]["problems"])
        self.verify("--host", "demo01", code=0)
        result = self.verify("--host", "demo03", code=1)
        self.assertEqual(result.stderr, 'zrecon: no host directory "demo03" in %s '
                         '(hosts: demo01, demo02)\n' % self.dest)

    def test_missing_or_empty_from(self):
        result = run_zrecon("verify", "--from", os.path.join(self.tmp, "absent"))
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, "zrecon: %s/absent does not exist\n" % self.tmp)
        os.mkdir(os.path.join(self.tmp, "empty"))
        result = run_zrecon("verify", "--from", os.path.join(self.tmp, "empty"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("holds no host directory", result.stderr)
        self.assertIn("is the medium mounted?", result.stderr)

    def test_usage_errors(self):
        self.assertEqual(run_zrecon("verify").returncode, 64)
        self.assertEqual(run_zrecon("verify", "--from", self.dest, "--bogus").returncode, 64)


if __name__ == "__main__":
    unittest.main()
