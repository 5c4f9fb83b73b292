#!/usr/bin/python3
"""Reads a `zrecon plan --json` document for shell tests (standard library only).

Usage: plan_query.py PLAN.json COMMAND [ARGS]

  get KEY               a top-level value: strings raw, anything else as JSON
  kinds                 the kind of every action, one per line, in plan order
  indices KIND          the indices of the actions of KIND, one per line
  field KIND NAME       for each action of KIND, its field NAME on one line:
                        strings raw, lists joined by one space, else JSON
  argv INDEX            the argv of action INDEX, each argument NUL-terminated
                        (read it with `mapfile -d '' -t`)
  mentions TEXT         "INDEX KIND" of every action any of whose values
                        contains TEXT
  actions               every action as canonical JSON, one per line
  zone-after INDEX      how many actions after action INDEX are of its zone
                        (what apply skips when action INDEX fails)

Exits 2 on a bad command line, 1 when the file is not a plan document.
"""

import json
import sys


def fail(message, code=1):
    print(f"plan_query.py: {message}", file=sys.stderr)
    sys.exit(code)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")
    if not isinstance(doc, dict) or not isinstance(doc.get("actions"), list):
        fail(f"{path}: not a plan document (no \"actions\" list)")
    return doc


def show(value):
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " ".join(value)
    return json.dumps(value, sort_keys=True)


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings_in(v)


def main(argv):
    if len(argv) < 3:
        fail(__doc__.strip().splitlines()[2], code=2)
    doc = load(argv[1])
    actions = doc["actions"]
    command, args = argv[2], argv[3:]
    arity = {"get": 1, "kinds": 0, "indices": 1, "field": 2, "argv": 1,
             "mentions": 1, "actions": 0, "zone-after": 1}
    if arity.get(command) != len(args):
        fail(f"bad command line: {' '.join(argv[2:])}", code=2)
    if command == "get":
        if args[0] not in doc:
            fail(f"{argv[1]}: no top-level key {args[0]!r}")
        print(show(doc[args[0]]))
    elif command == "kinds":
        for a in actions:
            print(a.get("kind"))
    elif command == "indices":
        for i, a in enumerate(actions):
            if a.get("kind") == args[0]:
                print(i)
    elif command == "field":
        for a in actions:
            if a.get("kind") == args[0]:
                print(show(a.get(args[1], "")))
    elif command == "argv":
        if not args[0].isdigit() or int(args[0]) >= len(actions):
            fail(f"{argv[1]}: no action {args[0]} (the plan has {len(actions)})")
        for arg in actions[int(args[0])].get("argv", []):
            sys.stdout.write(arg + "\0")
    elif command == "mentions":
        for i, a in enumerate(actions):
            if any(args[0] in s for s in strings_in(a)):
                print(i, a.get("kind"))
    elif command == "zone-after":
        if not args[0].isdigit() or int(args[0]) >= len(actions):
            fail(f"{argv[1]}: no action {args[0]} (the plan has {len(actions)})")
        index = int(args[0])
        zone = actions[index].get("zone")
        print(sum(1 for a in actions[index + 1:] if a.get("zone") == zone))
    elif command == "actions":
        for a in actions:
            print(json.dumps(a, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv)
