#!/usr/bin/python3
"""Reads what the kill tests need from a plan, an apply's --json progress and
a directory destination (standard library only).

Usage: kill_query.py COMMAND ARGS

  point PLAN.json EVENTS.jsonl EXIT
                        where an apply of PLAN (a `zrecon plan --json` made
                        just before, same host, same --now) was when it
                        ended, from its progress lines and exit code EXIT:
                        "PHASE<TAB>DETAIL". PHASE is one of
                          planning  before its first action (lock, observe,
                                    plan, destinations prepared)
                          snapshot  export  tips  destroy  removal
                                    the action running, or the last one
                                    finished when it died between two
                          finished  EXIT 0 and every action finished
                        DETAIL names the action ("send 9/21 running",
                        "hold 4/21 done"). Fails when an event contradicts
                        the plan (another kind at that index, another
                        total), when EXIT 0 comes with unfinished actions,
                        or when an action finished other than "done" or
                        was skipped; with KILL_QUERY_FAILURES=1 in the
                        environment (a round that injects a fault) failed
                        and skipped actions are allowed and DETAIL ends
                        with how many there were.
  tips HOSTDIR          per chain of every zone manifest: zone, chain id,
                        dataset, tip snapshot (full name), tip guid
  removed PLAN.json     per remove_export action: zone, chain id
  sends PLAN.json       per send action, in plan order: zone, chain id,
                        "new" or "continued", file
  loose PLAN.json       per file of a remove_loose action, sorted: zone, file
  problems VERIFY.json  every problem of a `zrecon verify --json` document
                        (host, image and zone problems: "FILE: MESSAGE"),
                        nothing when it has none; unknown and leftover
                        files are not problems and are not printed

Fields are TAB-separated. Exits 2 on a bad command line, 1 on bad input.
"""

import json
import os
import sys

PHASES = {
    "snapshot": "snapshot",
    "save_image": "export",
    "send": "export",
    "save_config": "export",
    "hold": "tips",
    "release": "tips",
    "mark_tip": "tips",
    "destroy": "destroy",
    "remove_export": "removal",
    "remove_loose": "cleanup",
}


def fail(message, code=1):
    print(f"kill_query.py: {message}", file=sys.stderr)
    sys.exit(code)


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")


def plan_actions(path):
    doc = load_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("actions"), list):
        fail(f"{path}: not a plan document (no \"actions\" list)")
    return doc["actions"]


def events(path):
    """The complete progress lines; a last line cut by the kill is dropped."""
    found = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        fail(f"{path}: {e}")
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        if not line:
            continue
        try:
            found.append(json.loads(line))
        except ValueError:
            if number == len(lines):  # no newline yet: written when it died
                break
            fail(f"{path}:{number}: not a JSON progress line: {line[:200]!r}")
    return found


def point(plan_path, events_path, exit_code):
    actions = plan_actions(plan_path)
    total = len(actions)
    started, finished = {}, {}
    summary = None
    failures_allowed = os.environ.get("KILL_QUERY_FAILURES") == "1"
    failed = skipped = 0
    for e in events(events_path):
        if e.get("event") == "summary":
            # The last line of a run that ended: its outcome, per zone.
            summary = e
            continue
        if summary is not None:
            fail(f"{events_path}: event {e} after the summary")
        if e.get("event") == "skip" and failures_allowed:
            skipped += 1
            continue
        if e.get("event") == "skip":
            fail(f"{events_path}: action {e.get('index')} skipped: {e.get('reason')}")
        index = e.get("index")
        if not isinstance(index, int) or not 0 <= index < total:
            fail(f"{events_path}: event {e} names no action of the plan ({total} actions)")
        if e.get("event") == "start":
            if e.get("total") != total or e.get("kind") != actions[index]["kind"]:
                fail(f"{events_path}: start of action {index} is {e.get('kind')} of "
                     f"{e.get('total')}, the plan has {actions[index]['kind']} of {total}")
            started[index] = e
        elif e.get("event") == "finish":
            if index not in started:
                fail(f"{events_path}: action {index} finished without starting")
            if e.get("outcome") == "failed" and failures_allowed:
                failed += 1
            elif e.get("outcome") != "done":
                fail(f"{events_path}: action {index} ({actions[index]['kind']}) ended "
                     f"{e.get('outcome')}: {e.get('error', '')}")
            finished[index] = e
    if exit_code == 0:
        if len(finished) != total:
            fail(f"{events_path}: exit 0 but {len(finished)} of {total} actions finished")
        if summary is None or summary.get("outcome") != "ok":
            fail(f"{events_path}: exit 0 but the summary is {summary}")
        return "finished", f"all {total} actions"
    if not started:
        return "planning", "no action started"
    last = max(started)
    state = "done" if last in finished else "running"
    kind = actions[last]["kind"]
    detail = f"{kind} {last + 1}/{total} {state}"
    if failures_allowed:
        detail += f"; {failed} failed, {skipped} skipped"
    return PHASES.get(kind, kind), detail


def tips(hostdir):
    if not os.path.isdir(hostdir):
        return
    for name in sorted(os.listdir(hostdir)):
        path = os.path.join(hostdir, name, "manifest.json")
        if name == "images" or not os.path.isfile(path):
            continue
        doc = load_json(path)
        for chain in doc.get("chains", []):
            if not chain.get("links"):
                fail(f"{path}: chain {chain.get('id')} has no links")
            tip = chain["links"][-1]
            print("\t".join([doc["zone"]["uuid"], chain["id"], chain["dataset"],
                             chain["dataset"] + "@" + tip["snapshot"], tip["guid"]]))


def problems(verify_path):
    doc = load_json(verify_path)
    for host in doc.get("hosts", []):
        found = list(host.get("problems", []))
        for part in host.get("images", []) + host.get("zones", []):
            found.extend(part.get("problems", []))
        for p in found:
            print(f"{host.get('host')}/{p.get('file')}: {p.get('message')}")


def main(argv):
    arity = {"point": 3, "tips": 1, "removed": 1, "sends": 1, "loose": 1, "problems": 1}
    if len(argv) < 2 or arity.get(argv[1]) != len(argv) - 2:
        fail("bad command line: " + " ".join(argv[1:]) + "\n" + __doc__.strip().splitlines()[2],
             code=2)
    command, args = argv[1], argv[2:]
    if command == "point":
        if not args[2].lstrip("-").isdigit():
            fail(f"EXIT must be a number, got {args[2]!r}", code=2)
        print("\t".join(point(args[0], args[1], int(args[2]))))
    elif command == "tips":
        tips(args[0])
    elif command == "removed":
        for a in plan_actions(args[0]):
            if a.get("kind") == "remove_export":
                print(f"{a['zone']}\t{a['chain']}")
    elif command == "sends":
        for a in plan_actions(args[0]):
            if a.get("kind") == "send":
                stream = a["stream"]
                state = "new" if stream["new_chain"] else "continued"
                print(f"{a['zone']}\t{stream['chain']}\t{state}\t{a['file']}")
    elif command == "loose":
        files = [(a["zone"], f) for a in plan_actions(args[0]) if a.get("kind") == "remove_loose"
                 for f in a["files"]]
        for zone, f in sorted(files):
            print(f"{zone}\t{f}")
    elif command == "problems":
        problems(args[0])


if __name__ == "__main__":
    main(sys.argv)
