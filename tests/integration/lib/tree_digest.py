#!/usr/bin/python3
"""Describes a directory tree, one line per entry, for comparing a restored
filesystem with the one that was exported (standard library only).

Usage: tree_digest.py ROOT [--exclude REL]...

Every entry below ROOT (ROOT itself is "."), sorted by path, TAB-separated:

  PATH  d  MODE  UID:GID
  PATH  f  MODE  UID:GID  SIZE  MTIME  SHA256
  PATH  l  MODE  UID:GID  -> TARGET
  PATH  ?  MODE  UID:GID  (anything else: fifo, socket, device)

MODE is the permission bits in octal (setuid, setgid and sticky included),
MTIME whole seconds since the epoch. Symlinks are never followed. An
--exclude path (relative to ROOT, e.g. the mountpoint of another dataset)
is left out together with everything below it. Exits 1 when ROOT is not a
directory or an entry cannot be read, 2 on a bad command line.
"""

import hashlib
import os
import stat
import sys


def fail(message, code=1):
    print(f"tree_digest.py: {message}", file=sys.stderr)
    sys.exit(code)


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def describe(root, rel):
    path = os.path.join(root, rel)
    st = os.lstat(path)
    head = [rel, "?", f"{stat.S_IMODE(st.st_mode):04o}", f"{st.st_uid}:{st.st_gid}"]
    if stat.S_ISDIR(st.st_mode):
        head[1] = "d"
    elif stat.S_ISREG(st.st_mode):
        head[1] = "f"
        head += [str(st.st_size), str(int(st.st_mtime)), sha256_of(path)]
    elif stat.S_ISLNK(st.st_mode):
        head[1] = "l"
        head.append("-> " + os.readlink(path))
    return "\t".join(head)


def entries(root, excluded):
    """Relative paths of ROOT and everything below it, minus the excluded."""
    found = ["."]
    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: fail(str(e))):
        rel_dir = os.path.relpath(dirpath, root)
        kept = []
        for d in dirnames:
            rel = os.path.normpath(os.path.join(rel_dir, d))
            if rel in excluded:
                continue
            kept.append(d)
            found.append(rel)
        dirnames[:] = kept  # os.walk descends only into these
        for f in filenames:
            rel = os.path.normpath(os.path.join(rel_dir, f))
            if rel not in excluded:
                found.append(rel)
    return sorted(found)


def main(argv):
    args = argv[1:]
    if not args or args[0].startswith("-"):
        fail("bad command line: " + " ".join(args) + "\n" + __doc__.strip().splitlines()[3], 2)
    root, rest, excluded = args[0], args[1:], set()
    while rest:
        if rest[0] != "--exclude" or len(rest) < 2:
            fail(f"bad command line: unexpected {rest[0]!r}", 2)
        excluded.add(os.path.normpath(rest[1]))
        rest = rest[2:]
    if not os.path.isdir(root):
        fail(f"{root} is not a directory")
    try:
        for rel in entries(root, excluded):
            print(describe(root, rel))
    except OSError as e:
        fail(str(e))


if __name__ == "__main__":
    main(sys.argv)
