#!/usr/bin/python3
"""JSON chores of the hostile-input tests (standard library only).

Usage: hostile_query.py COMMAND ARGS

  payload UUID IMAGE ALIAS    a `vmadm create` payload (brand joyent) for a
                              zone with this exact ALIAS, on stdout
  plan-zones PLAN.json        the uuids of the plan's "zones", one per line
  plan-alias PLAN.json UUID   the alias the plan records for zone UUID,
                              exactly (no newline added)
  zone-alias MANIFEST         the alias of a zone manifest, exactly
  set-link-file MANIFEST FILE the first link of the first chain names FILE
                              (its size and sha256 become FILE's when FILE,
                              taken relative to the manifest's host
                              directory, exists: only the path is wrong)

Exits 2 on a bad command line, 1 on bad input.
"""

import hashlib
import json
import os
import sys


def fail(message, code=1):
    print(f"hostile_query.py: {message}", file=sys.stderr)
    sys.exit(code)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")


def zones_of(path):
    zones = load(path).get("zones")
    if not isinstance(zones, dict):
        fail(f"{path}: no \"zones\" object")
    return zones


def set_link_file(manifest, file):
    doc = load(manifest)
    try:
        stream = doc["chains"][0]["links"][0]["stream"]
    except (KeyError, IndexError, TypeError):
        fail(f"{manifest}: no first link in a first chain")
    stream["file"] = file
    target = os.path.join(os.path.dirname(os.path.dirname(manifest)), file)
    if os.path.isfile(target):
        with open(target, "rb") as f:
            data = f.read()
        stream["size"] = len(data)
        stream["sha256"] = hashlib.sha256(data).hexdigest()
    with open(manifest, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")


def main(argv):
    arity = {"payload": 3, "plan-zones": 1, "plan-alias": 2, "zone-alias": 1,
             "set-link-file": 2}
    if len(argv) < 2 or arity.get(argv[1]) != len(argv) - 2:
        fail("bad command line: " + " ".join(argv[1:]) + "\n" + __doc__.strip().splitlines()[2],
             code=2)
    command, args = argv[1], argv[2:]
    if command == "payload":
        print(json.dumps({"brand": "joyent", "uuid": args[0], "image_uuid": args[1],
                          "alias": args[2], "max_physical_memory": 128}))
    elif command == "plan-zones":
        for uuid in sorted(zones_of(args[0])):
            print(uuid)
    elif command == "plan-alias":
        zone = zones_of(args[0]).get(args[1])
        if zone is None:
            fail(f"{args[0]}: zone {args[1]} is not in the plan")
        sys.stdout.write(zone.get("alias", ""))
    elif command == "zone-alias":
        sys.stdout.write(load(args[0])["zone"]["alias"])
    elif command == "set-link-file":
        set_link_file(args[0], args[1])


if __name__ == "__main__":
    main(sys.argv)
