#!/usr/bin/python3
"""Golden plan cases: runs `zrecon plan` on every tests/cases/<case>/ and
compares the text and JSON plans with expected.txt and expected.json.

Also checks, per case: the JSON plan is valid under schema/plan.schema.json
(an independent validator), planning twice gives byte-identical output, and
--detailed-exitcode says 0 for "No changes." and 2 otherwise.

    tests/cli/golden_plans_test.py            # check (ctest runs this)
    tests/cli/golden_plans_test.py --update   # rewrite expected files; review the diff!
Env: ZRECON (binary), ZRECON_SOURCE_DIR (repository root).
"""

import json
import os
import subprocess
import sys

import jsonschema

SOURCE = os.environ.get("ZRECON_SOURCE_DIR",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ZRECON = os.environ.get("ZRECON", os.path.join(SOURCE, "build", "zrecon"))
CASES = os.path.join(SOURCE, "tests", "cases")


def run(case_dir, extra):
    with open(os.path.join(case_dir, "args")) as f:
        args = [a.replace("@CASE@/", "") for a in json.load(f)]
    cmd = [ZRECON, "plan", "-f", "policy.yaml", "--inventory", "inventory"] + args + extra
    return subprocess.run(cmd, cwd=case_dir, capture_output=True, text=True)


def normalized(plan_json):
    plan = json.loads(plan_json)
    plan["zrecon_version"] = "VERSION"
    return json.dumps(plan, indent=2, sort_keys=False) + "\n"


def main():
    update = "--update" in sys.argv[1:]
    with open(os.path.join(SOURCE, "schema", "plan.schema.json")) as f:
        validator = jsonschema.Draft202012Validator(json.load(f))
    failures = []
    cases = sorted(d for d in os.listdir(CASES)
                   if os.path.isfile(os.path.join(CASES, d, "policy.yaml")))
    if not cases:
        failures.append("no cases found in " + CASES)
    for name in cases:
        d = os.path.join(CASES, name)
        text = run(d, [])
        js = run(d, ["--json"])
        for r in (text, js):
            if r.returncode != 0:
                failures.append("%s: zrecon plan exited %d: %s" % (name, r.returncode, r.stderr))
        if text.returncode or js.returncode:
            continue
        got_json = normalized(js.stdout)
        if update:
            with open(os.path.join(d, "expected.txt"), "w") as f:
                f.write(text.stdout)
            with open(os.path.join(d, "expected.json"), "w") as f:
                f.write(got_json)
            print("updated", name)
            continue
        with open(os.path.join(d, "expected.txt")) as f:
            if f.read() != text.stdout:
                failures.append("%s: text plan differs from expected.txt:\n%s" % (name, text.stdout))
        with open(os.path.join(d, "expected.json")) as f:
            if f.read() != got_json:
                failures.append("%s: JSON plan differs from expected.json" % name)
        errors = sorted(validator.iter_errors(json.loads(js.stdout)), key=lambda e: e.path)
        for e in errors[:5]:
            failures.append("%s: plan JSON violates the schema at %s: %s" %
                            (name, "/".join(str(p) for p in e.absolute_path), e.message))
        again = run(d, ["--json"])
        if again.stdout != js.stdout:
            failures.append("%s: planning twice gave different JSON" % name)
        detailed = run(d, ["--detailed-exitcode"])
        want = 0 if "No changes." in text.stdout else 2
        if detailed.returncode != want:
            failures.append("%s: --detailed-exitcode gave %d, expected %d" %
                            (name, detailed.returncode, want))
    for f in failures:
        print("FAIL", f)
    print("%d cases, %d failures" % (len(cases), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
