#!/usr/bin/python3
"""Reads what zrecon wrote to a directory destination, for shell tests
(standard library only). HOSTDIR is <destination path>/<host>.

Usage: catalog_query.py HOSTDIR COMMAND [ARGS]

  verify                one line per problem, nothing when all is well: a
                        manifest that is not JSON, a file a manifest names
                        that is missing or differs from its recorded size or
                        sha256, an unfinished ".tmp*" file anywhere
  unlisted              files no manifest names (manifests themselves aside)
  tree                  every entry under HOSTDIR, sorted: "DIR/" for
                        directories, "FILE SIZE SHA256" for files
  images                per image manifest: uuid, snapshot, guid, file, imgadm
                        record file and type (- without)
  configs ZONE          the config files of ZONE's manifest, in order
  chains ZONE           per chain of ZONE's manifest, in order: id, dataset,
                        origin, origin_guid, number of links
  links ZONE CHAIN      per link of that chain, in order: snapshot, guid,
                        from, from_guid, file, sha256
  zone ZONE KEY         a key of the manifest's "zone" object
  loose                 per file a zone manifest lists in loose_files, sorted:
                        zone, file

Fields are TAB-separated. Exits 2 on a bad command line, 1 when a manifest
the command needs is missing or unreadable.
"""

import hashlib
import json
import os
import sys


def fail(message, code=1):
    print(f"catalog_query.py: {message}", file=sys.stderr)
    sys.exit(code)


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest_paths(hostdir):
    """(path, kind) of every manifest under hostdir."""
    found = []
    images = os.path.join(hostdir, "images")
    if os.path.isdir(images):
        for name in sorted(os.listdir(images)):
            if name.endswith(".json") and not name.startswith(".tmp"):
                found.append((os.path.join(images, name), "image"))
    if os.path.isdir(hostdir):
        for name in sorted(os.listdir(hostdir)):
            path = os.path.join(hostdir, name, "manifest.json")
            if name != "images" and os.path.isfile(path):
                found.append((path, "zone"))
    return found


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")


def stored_files(doc):
    """Every stored-file record ({file, size, sha256}) a manifest names."""
    if doc.get("kind") == "image":
        return [doc["image"]["stream"]] + ([doc["image"]["imgadm"]] if "imgadm" in doc["image"]
                                           else [])
    files = list(doc.get("configs", []))
    for chain in doc.get("chains", []):
        files.extend(link["stream"] for link in chain.get("links", []))
    return files


def walk(hostdir):
    """Relative paths of every directory and file under hostdir, sorted."""
    dirs, files = [], []
    for root, dirnames, filenames in os.walk(hostdir):
        rel = os.path.relpath(root, hostdir)
        for d in dirnames:
            dirs.append(os.path.normpath(os.path.join(rel, d)))
        for f in filenames:
            files.append(os.path.normpath(os.path.join(rel, f)))
    return sorted(dirs), sorted(files)


def verify(hostdir):
    problems = []
    for path, _ in manifest_paths(hostdir):
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            problems.append(f"{path}: unreadable manifest: {e}")
            continue
        for record in stored_files(doc):
            target = os.path.join(hostdir, record["file"])
            if not os.path.isfile(target):
                problems.append(f"{record['file']}: named by {path} but missing")
                continue
            size = os.path.getsize(target)
            if size != record["size"]:
                problems.append(f"{record['file']}: size {size}, manifest says {record['size']}")
                continue
            digest = sha256_of(target)
            if digest != record["sha256"]:
                problems.append(f"{record['file']}: sha256 {digest}, manifest says {record['sha256']}")
    for rel in walk(hostdir)[1]:
        if os.path.basename(rel).startswith(".tmp"):
            problems.append(f"{rel}: unfinished temporary file left behind")
    return problems


def unlisted(hostdir):
    named = set()
    manifests = set()
    for path, _ in manifest_paths(hostdir):
        manifests.add(os.path.relpath(path, hostdir))
        named.update(os.path.normpath(r["file"]) for r in stored_files(load(path)))
    return [f for f in walk(hostdir)[1] if f not in named and f not in manifests]


def zone_manifest(hostdir, zone):
    path = os.path.join(hostdir, zone, "manifest.json")
    if not os.path.isfile(path):
        fail(f"{path}: no such manifest")
    return load(path)


def chain_of(doc, chain_id):
    for chain in doc.get("chains", []):
        if chain["id"] == chain_id:
            return chain
    fail(f"zone {doc['zone']['uuid']}: no chain {chain_id!r} "
         f"(chains: {', '.join(c['id'] for c in doc.get('chains', [])) or 'none'})")


def row(*fields):
    print("\t".join(str(f) for f in fields))


def main(argv):
    arity = {"verify": 0, "unlisted": 0, "tree": 0, "images": 0, "configs": 1,
             "chains": 1, "links": 2, "zone": 2, "loose": 0}
    if len(argv) < 3 or arity.get(argv[2]) != len(argv) - 3:
        fail(f"bad command line: {' '.join(argv[1:])}\n" + __doc__.strip().splitlines()[3],
             code=2)
    hostdir, command, args = argv[1], argv[2], argv[3:]
    if command == "verify":
        for problem in verify(hostdir):
            print(problem)
    elif command == "unlisted":
        for rel in unlisted(hostdir):
            print(rel)
    elif command == "tree":
        if not os.path.isdir(hostdir):
            return
        dirs, files = walk(hostdir)
        lines = [d + "/" for d in dirs]
        for rel in files:
            path = os.path.join(hostdir, rel)
            lines.append(f"{rel} {os.path.getsize(path)} {sha256_of(path)}")
        for line in sorted(lines):
            print(line)
    elif command == "images":
        for path, kind in manifest_paths(hostdir):
            if kind == "image":
                image = load(path)["image"]
                row(image["uuid"], image["snapshot"], image["guid"], image["stream"]["file"],
                    image.get("imgadm", {}).get("file", "-"), image.get("imgadm_type", "-"))
    elif command == "configs":
        for config in zone_manifest(hostdir, args[0]).get("configs", []):
            print(config["file"])
    elif command == "chains":
        for chain in zone_manifest(hostdir, args[0]).get("chains", []):
            row(chain["id"], chain["dataset"], chain["origin"], chain["origin_guid"],
                len(chain["links"]))
    elif command == "links":
        for link in chain_of(zone_manifest(hostdir, args[0]), args[1])["links"]:
            row(link["snapshot"], link["guid"], link["from"], link["from_guid"],
                link["stream"]["file"], link["stream"]["sha256"])
    elif command == "loose":
        lines = []
        for path, kind in manifest_paths(hostdir):
            if kind == "zone":
                doc = load(path)
                lines += [(doc["zone"]["uuid"], f) for f in doc.get("loose_files", [])]
        for zone, f in sorted(lines):
            row(zone, f)
    elif command == "zone":
        zone = zone_manifest(hostdir, args[0])["zone"]
        if args[1] not in zone:
            fail(f"zone {args[0]}: no key {args[1]!r} in the manifest's zone object")
        print(zone[args[1]])


if __name__ == "__main__":
    main(sys.argv)
