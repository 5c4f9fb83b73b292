#!/usr/bin/env python3
"""Checks every #include under reconciler/ against the layer table.

The rules below are the table "Layers and their rules" of ARCHITECTURE.md,
made checkable: which layers (directories of reconciler/) a layer's files
may include, single headers allowed from elsewhere, and which third-party
libraries a layer may use (in .cc files only: no header of a layer exposes
one). The script also checks that ARCHITECTURE.md's table lists exactly
these layers and names, in each row, every layer and library allowed here,
so that the table and the check cannot drift apart.

Exit 0 when every include is allowed; else 1, one line per offence:
    reconciler/plan/plan.h:9: includes reconciler/host/host.h (plan may include ...)

    python3 tools/check_layers.py [SOURCE_DIR]
"""

import os
import re
import sys

# layer -> (layers it may include, single headers it may include from other
# layers, third-party libraries its .cc files may use)
RULES = {
    "util": (set(), set(), {"openssl", "fmt"}),
    "policy": ({"util"}, set(), {"yaml-cpp", "re2"}),
    "inventory": ({"util"}, {"policy/policy.h"}, {"nlohmann"}),
    "catalog": ({"util"}, set(), {"nlohmann"}),
    "plan": ({"util", "policy", "inventory", "catalog"}, {"host/zfs_dialect.h"},
             {"nlohmann", "re2"}),
    "host": ({"util"}, {"inventory/parsers.h", "inventory/inventory.h"}, set()),
    "storage": ({"util", "catalog"}, set(), {"zstd", "openssl", "curl", "libxml2"}),
    "apply": ({"util", "catalog", "inventory", "plan", "host", "storage"}, set(),
              {"nlohmann", "fmt"}),
    "restore": ({"util", "catalog", "inventory", "host", "storage"}, set(),
                {"nlohmann"}),
    "cli": ({"util", "policy", "inventory", "catalog", "plan", "host", "storage", "apply",
             "restore"}, set(), {"nlohmann", "CLI11", "fmt"}),
}

# How each library's headers are included.
LIBRARIES = {
    "openssl": re.compile(r"^openssl/"),
    "fmt": re.compile(r"^fmt/"),
    "yaml-cpp": re.compile(r"^yaml-cpp/"),
    "re2": re.compile(r"^re2/"),
    "nlohmann": re.compile(r"^nlohmann/"),
    "zstd": re.compile(r"^zstd(_errors)?\.h$"),
    "CLI11": re.compile(r"^CLI/"),
    "curl": re.compile(r"^curl/"),
    "libxml2": re.compile(r"^libxml/"),
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def check_sources(root):
    offences = []
    base = os.path.join(root, "reconciler")
    for layer in sorted(os.listdir(base)):
        path = os.path.join(base, layer)
        if not os.path.isdir(path):
            continue
        if layer not in RULES:
            offences.append("reconciler/%s/: a layer the table does not list" % layer)
            continue
        layers, headers, libraries = RULES[layer]
        for name in sorted(os.listdir(path)):
            if not name.endswith((".h", ".cc")):
                continue
            rel = "reconciler/%s/%s" % (layer, name)
            with open(os.path.join(path, name), encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    quote, target = m.groups()
                    where = "%s:%d: includes %s" % (rel, number, target)
                    if quote == '"':
                        if not target.startswith("reconciler/"):
                            continue
                        parts = target.split("/")
                        other = parts[1]
                        single = "/".join(parts[1:])
                        if other == layer or other in layers or single in headers:
                            continue
                        offences.append("%s (%s may include %s)" % (
                            where, layer, ", ".join(sorted(layers | headers)) or "nothing else"))
                        continue
                    for library, pattern in LIBRARIES.items():
                        if not pattern.search(target):
                            continue
                        if library not in libraries:
                            offences.append("%s: %s does not use %s" % (where, layer, library))
                        elif name.endswith(".h"):
                            offences.append("%s: a header exposes %s; include it in the .cc" %
                                            (where, library))
    return offences


def check_table(root):
    """ARCHITECTURE.md's table must list the same layers, and each row name
    every layer and library this script allows that layer."""
    offences = []
    with open(os.path.join(root, "ARCHITECTURE.md"), encoding="utf-8") as f:
        text = f.read()
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^\| `([a-z]+)/` \|(.*)\|(.*)\|\s*$", line)
        if m:
            rows[m.group(1)] = m.group(3)
    if set(rows) != set(RULES):
        offences.append("ARCHITECTURE.md's layer table lists %s; tools/check_layers.py has %s" %
                        (sorted(rows), sorted(RULES)))
    for layer, (layers, headers, libraries) in RULES.items():
        cell = rows.get(layer)
        if cell is None:
            continue
        if layer == "cli" and "everything" in cell:
            continue
        for name in sorted(layers | headers | libraries):
            if name not in cell:
                offences.append("ARCHITECTURE.md: the row of %s/ does not name %s, which "
                                "tools/check_layers.py allows it" % (layer, name))
    return offences


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    offences = check_sources(root) + check_table(root)
    for o in offences:
        print(o)
    return 1 if offences else 0


if __name__ == "__main__":
    sys.exit(main())
