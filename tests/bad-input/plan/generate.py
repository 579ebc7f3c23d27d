#!/usr/bin/env python3
"""Regenerate the saved-plan fixtures of tests/bad-input/plan/ (for
`ccrup apply INVENTORY --plan FILE`).  Run from the repository root after
`make`:  python3 tests/bad-input/plan/generate.py

The fixtures start from the offline plan of playbooks/inventory.example.yml
(`ccrup plan -o json`) and are damaged one way each.  A plan is pinned to the
SHA-256 of the playbook and inventory it was made from; so that the fixtures
do not go stale whenever the playbook is edited, they hold the placeholders
@PB_SHA@ and @INV_SHA@, which tests/integration/bad_input_cli.sh replaces with
the current digests before use.  Expected results are rows of
tests/bad-input/cli.tsv.
"""
import json
import os
import subprocess

DIR = os.path.join("tests", "bad-input", "plan")


def offline_plan():
    out = subprocess.run(["bin/ccrup", "plan", "playbooks/inventory.example.yml", "-o", "json"],
                         capture_output=True, check=True).stdout
    plan = json.loads(out)
    plan["playbook"]["sha256"] = "@PB_SHA@"
    plan["inventory"]["sha256"] = "@INV_SHA@"
    # Keep the files small: three steps are enough to be a plan.
    for cl in plan["clusters"]:
        cl["steps"] = cl["steps"][:3]
    return plan


def live(plan):
    p = json.loads(json.dumps(plan))
    p["live"] = True
    for cl in p["clusters"]:
        cl["facts"] = [{"fact": "cms_owner", "host": None, "value": "NODE1"},
                       {"fact": "binaries_version", "host": "NODE2", "value": "8.0.685.25"}]
        for s in cl["steps"]:
            s["live"] = "would-run"
            s["detail"] = None
    return p


def write(name, data):
    if not isinstance(data, (str, bytes)):
        data = json.dumps(data, indent=2) + "\n"
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(DIR, name + ".json"), "wb") as f:
        f.write(data)


def main():
    for f in os.listdir(DIR):
        if f.endswith(".json"):
            os.unlink(os.path.join(DIR, f))
    off = offline_plan()
    good = live(off)
    text = json.dumps(good, indent=2) + "\n"
    write("not-json", "This is not a plan.\nccrup plan --live --save PLAN makes one.\n")
    write("empty", "")
    write("truncated", text[: len(text) // 2])
    write("binary", bytes(range(256)) * 4)
    write("yaml-not-json", "format: ccrup-plan/1\nlive: true\nclusters: []\n")
    write("array", "[]\n")
    write("not-live", off)
    p = json.loads(text)
    p["live"] = "true"
    write("live-string", p)
    p = json.loads(text)
    p["clusters"][0]["name"] = "CLUS9"
    write("wrong-cluster", p)
    p = json.loads(text)
    p["clusters"] = []
    write("no-clusters", p)
    p = json.loads(text)
    p["format"] = "ccrup-plan/99"
    write("wrong-format", p)
    p = json.loads(text)
    del p["format"]
    write("no-format", p)
    p = json.loads(text)
    p["format"] = "ccrup-status/1"
    write("status-not-plan", p)
    p = json.loads(text)
    del p["clusters"][0]["facts"]
    write("no-facts", p)
    p = json.loads(text)
    p["playbook"]["sha256"] = "0" * 64
    write("stale-playbook", p)
    p = json.loads(text)
    p["inventory"]["sha256"] = "0" * 64
    write("stale-inventory", p)
    p = json.loads(text)
    p["playbook"]["sha256"] = 42
    write("sha-not-string", p)
    write("nul-byte", text.replace('"CLUS1"', '"CLU\\u0000S1"', 1))
    write("trailing-garbage", text + "}\n")
    print("%d plan fixtures" % len([f for f in os.listdir(DIR) if f.endswith(".json")]))


if __name__ == "__main__":
    main()
