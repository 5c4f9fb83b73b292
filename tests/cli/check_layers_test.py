#!/usr/bin/env python3
"""tools/check_layers.py: the tree keeps ARCHITECTURE.md's layer rules, and
the check fails on an include the table forbids (run on a copy of the tree
with one bad include added)."""

import os
import shutil
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("ZRECON_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CHECK = os.path.join(SOURCE, "tools", "check_layers.py")


def run(root):
    return subprocess.run(["/usr/bin/python3", CHECK, root], capture_output=True, text=True)


class CheckLayersTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="zrecon-layers-")
        self.addCleanup(tmp.cleanup)
        self.root = tmp.name
        shutil.copytree(os.path.join(SOURCE, "reconciler"), os.path.join(self.root, "reconciler"))
        shutil.copy(os.path.join(SOURCE, "ARCHITECTURE.md"), self.root)

    def add_line(self, rel, line, after="#define"):
        path = os.path.join(self.root, rel)
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
        at = next(i for i, l in enumerate(lines) if l.startswith(after)) + 1
        lines.insert(at, line + "\n")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(lines)
        return at + 1

    def test_the_tree_keeps_the_rules(self):
        result = run(SOURCE)
        self.assertEqual((result.returncode, result.stdout), (0, ""))

    def test_a_forbidden_layer(self):
        line = self.add_line("reconciler/plan/plan.h", '#include "reconciler/host/host.h"')
        result = run(self.root)
        self.assertEqual(result.returncode, 1)
        self.assertIn("reconciler/plan/plan.h:%d: includes reconciler/host/host.h (plan may "
                      "include catalog, host/zfs_dialect.h, inventory, policy, util)" % line,
                      result.stdout)

    def test_a_library_in_a_header_or_a_layer_without_it(self):
        self.add_line("reconciler/catalog/catalog.h", "#include <nlohmann/json.hpp>")
        self.add_line("reconciler/host/posix_host.cc", "#include <zstd.h>",
                      after='#include "reconciler/host/posix_host.h"')
        result = run(self.root)
        self.assertEqual(result.returncode, 1)
        self.assertIn("includes nlohmann/json.hpp: a header exposes nlohmann", result.stdout)
        self.assertIn("reconciler/host/posix_host.cc:2: includes zstd.h: host does not use zstd",
                      result.stdout)

    def test_the_table_and_the_check_agree(self):
        path = os.path.join(self.root, "ARCHITECTURE.md")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace("util, catalog; zstd, openssl", "util, catalog; openssl"))
        result = run(self.root)
        self.assertEqual(result.returncode, 1)
        self.assertIn("the row of storage/ does not name zstd", result.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
