#!/usr/bin/python3
"""Writes the sandbox test image's file tree into a directory.

Usage: generate.py TARGET_DIR [SEED]

The tree mimics a small zone image: root/etc, root/usr/bin, root/usr/lib,
root/usr/share/doc, root/var/zoneinit/zoneinit.json, an empty root/var/log
and symlinks (root/bin -> usr/bin, root/etc/localtime). About 3 MiB in
total, half text, half random bytes.
Everything (names, bytes, modes, mtimes) is a function of SEED, so two runs
produce byte-identical trees. Standard library only.
"""

import os
import random
import sys

MTIME = 1_500_000_000  # fixed, so a tree's metadata is reproducible too
WORDS = ("zone", "snapshot", "pool", "dataset", "clone", "origin", "quota",
         "stream", "image", "retention", "export", "restore", "manifest")


def text_lines(rng, count):
    return "".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12))) + "\n"
                   for _ in range(count))


def plan(rng):
    """The files to write: (relative path, bytes, mode)."""
    files = [
        ("root/etc/motd", b"zrecon sandbox test image\n", 0o644),
        ("root/etc/hosts", b"127.0.0.1\tlocalhost\n::1\tlocalhost\n", 0o644),
        ("root/etc/passwd", b"root:x:0:0:Super-User:/root:/bin/sh\n"
                            b"nobody:x:60001:60001:Nobody:/:\n", 0o644),
        ("root/etc/release", b"  zrecon test image (deterministic)\n", 0o444),
        ("root/usr/share/zoneinfo/UTC", b"TZif2\0" + bytes(38), 0o644),
        # What SmartOS base images ship and VM.js checkDatasetProvisionable
        # (VM.js:9574-9675) reads before creating a joyent or builder zone.
        ("root/var/zoneinit/zoneinit.json",
         b'{"features": {"var_svc_provisioning": true}}\n', 0o644),
    ]
    for i in range(6):
        size = rng.randint(128, 384) * 1024
        files.append((f"root/usr/bin/tool{i}", rng.randbytes(size), 0o755))
    for i in range(3):
        files.append((f"root/usr/lib/lib{i}.so.1", rng.randbytes(rng.randint(64, 192) * 1024),
                      0o755))
    for i in range(8):
        files.append((f"root/usr/share/doc/page{i}.txt",
                      text_lines(rng, rng.randint(800, 2400)).encode(), 0o644))
    return files


def write_tree(target, seed):
    rng = random.Random(seed)
    dirs = set()
    for rel, data, mode in plan(rng):
        path = os.path.join(target, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        dirs.add(os.path.dirname(rel))
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        os.utime(path, (MTIME, MTIME))
    os.makedirs(os.path.join(target, "root/var/log"), exist_ok=True)
    dirs.add("root/var/log")
    links = {"root/bin": "usr/bin", "root/etc/localtime": "../usr/share/zoneinfo/UTC"}
    for rel, dest in links.items():
        path = os.path.join(target, rel)
        if not os.path.islink(path):
            os.symlink(dest, path)
        os.utime(path, (MTIME, MTIME), follow_symlinks=False)
    for rel in sorted(dirs | {"root/var", "root/usr/share", "root/usr", "root"},
                      key=len, reverse=True):
        os.utime(os.path.join(target, rel), (MTIME, MTIME))


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        seed = int(argv[2]) if len(argv) == 3 else 42
    except ValueError:
        print(f"generate.py: SEED must be an integer, got {argv[2]!r}", file=sys.stderr)
        return 2
    if not os.path.isdir(argv[1]):
        print(f"generate.py: {argv[1]}: not a directory", file=sys.stderr)
        return 1
    write_tree(argv[1], seed)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
