#!/usr/bin/env python3
"""Regenerate the committed seed corpora of tests/fuzz/corpus/<target>/.

Run from the repository root after the playbooks, fixtures or the ccrsim
scenario change:  python3 tests/fuzz/make-seeds.py
Seeds are small on purpose: libFuzzer mutates them, it does not need many.
Needs bin/ccrup (for the substituted commands of every step: `ccrup plan -o json`).
"""
import glob
import hashlib
import json
import os
import shutil
import subprocess
import zlib

import yaml

ROOT = os.getcwd()
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def reset(target):
    shutil.rmtree(os.path.join(CORPUS, target), ignore_errors=True)


def yaml_files(pattern):
    return sorted(glob.glob(os.path.join(ROOT, pattern)))


def is_playbook(path):
    try:
        with open(path, "rb") as f:
            return b"\nphases:" in f.read() or os.path.basename(path).startswith("pb-")
    except OSError:
        return False


def seed_yaml():
    reset("playbook")
    reset("inventory")
    for p in yaml_files("playbooks/*.yml") + yaml_files("tests/bad-input/*.yml"):
        target = "playbook" if is_playbook(p) else "inventory"
        with open(p, "rb") as f:
            put(target, os.path.basename(p), f.read())


# ---- expressions -----------------------------------------------------------

EXPR_KEYS = {"require", "when", "where", "until", "check", "verify", "ready"}

EXTRA_EXPR = [
    "cms_owner != node",
    "copy_queue <= 10 and copy_status == 'Healthy'",
    "exchange_version >= 8.1.240.6",
    "not (os_sp < 2) or force",
    "0x1F == 31", "-0x10 < 0", "8.10 > 8.9", "08.01.0240.006 == 8.1.240.6",
    "'8.1' == 8.1.0", "x == '08'", "force == true", "(a == b) == false",
    "\"it's\" == 'it\\'s'", "a or b and c", "not a and b", "not x == 1",
    "saved.firewall_start == 'AUTO_START'", "x_unknown == 1", "a AND b", "a = b",
    "a < b < c", "true < 1", "(a == b", "x == 'abc", "'a\\nb'", "12abc", "",
    "a ==", "a == 'x' 'y'", "a $ b", "(((((((((((a)))))))))))",
    "abc < def", "9223372036854775807 > -9223372036854775808", "99999999999999999999 > 1",
    "1.2. == 1", "0x == 0", "not not not a", "a\n and\tb",
]


def walk_exprs(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in EXPR_KEYS:
                if isinstance(v, str):
                    out.append(v)
                elif isinstance(v, list):
                    out.extend(x for x in v if isinstance(x, str))
            walk_exprs(v, out)
    elif isinstance(node, list):
        for v in node:
            walk_exprs(v, out)


def seed_expr():
    reset("expr")
    exprs = []
    for p in yaml_files("playbooks/*.yml"):
        with open(p) as f:
            try:
                walk_exprs(yaml.safe_load(f), exprs)
            except yaml.YAMLError:
                pass
    exprs += EXTRA_EXPR
    pairs = [("8.1", "8.1.0.0"), ("10", "9"), ("0x1f", "31"), ("abc", "ABC"), ("-5", "3")]
    for i, e in enumerate(dict.fromkeys(exprs)):
        a, b = pairs[i % len(pairs)]
        data = e.encode()
        if i % 3 == 0:
            data += b"\0" + a.encode() + b"\0" + b.encode()
        put("expr", "expr-%03d" % i, data)


# ---- journals ---------------------------------------------------------------

def jline(rec):
    body = json.dumps(rec, separators=(",", ":"))
    crc = "%08x" % zlib.crc32(body.encode())
    return body[:-1] + ',"crc":"%s"}\n' % crc


def journal(events):
    lines = []
    for i, ev in enumerate(events, 1):
        rec = {"seq": i, "time": "2026-11-21T10:31:%02d.412Z" % (i % 60),
               "run_id": "2026-11-21T10-20-03-4242"}
        rec.update(ev)
        lines.append(jline(rec))
    return lines


def run_events():
    sha = hashlib.sha256(b"x").hexdigest()
    return [
        {"event": "run-start", "cluster": "CLUS1", "playbook": "ccr-sp1",
         "playbook_path": "playbooks/ccr-sp1.yml", "playbook_sha256": sha,
         "inventory_path": "inv.yml", "inventory_sha256": sha, "mode": "unattended"},
        {"event": "bind", "role": "active", "host": "NODE1"},
        {"event": "gate", "step": "preflight.lab-tested", "node": "NODE1", "answer": "yes",
         "by": "inventory acknowledge"},
        {"event": "skipped", "step": "prepare.dotnet", "node": "NODE2",
         "reason": "check", "detail": "net_sp = '1'"},
        {"event": "begin", "step": "node2.setup", "node": "NODE2", "wall_ms": 1763720000000,
         "command": "\"D:\\Exchange2007SP1\\setup.com\" /m:upgrade"},
        {"event": "done", "step": "node2.setup", "node": "NODE2", "duration_ms": 2140,
         "exit": 0},
        {"event": "record", "step": "x.rec", "node": "NODE1", "name": "firewall_start",
         "value": "AUTO_START", "item": None},
        {"event": "outage-start", "step": "cms.stop", "node": "NODE1",
         "wall_ms": 1763720000000},
        {"event": "failed", "step": "cms.move", "node": "NODE1", "reason": "exit 1",
         "exit": 1},
        {"event": "run-end", "result": "failed", "detail": "step failed"},
    ]


def seed_journal():
    reset("journal")
    lines = journal(run_events())
    put("journal", "good-full", "".join(lines))
    put("journal", "good-one", lines[0])
    put("journal", "empty", "")
    put("journal", "torn-tail", "".join(lines[:4]) + lines[4][:40])
    put("journal", "bad-crc", "".join(lines[:2]) + lines[2].replace('"crc":"', '"crc":"0'))
    put("journal", "gap", lines[0] + lines[2])
    put("journal", "dup", lines[0] + lines[0])
    put("journal", "not-object", lines[0] + "[1,2,3]\n")
    put("journal", "empty-line", lines[0] + "\n" + lines[1])
    put("journal", "unicode", "".join(journal([{"event": "done", "detail": "caf\u00e9 \u2713 \n\t\\"}])))


# ---- substitution -----------------------------------------------------------

SUBST = {
    0: ["NODE1", "node1.contoso.local", "a-b", "NODE1;reboot", "x..y"],        # name
    1: ["MSExchangeIS", "HealthService", "svc@1", "a b", "x" * 81],            # service
    2: ["D:\\Exchange2007SP1\\setup.com", "/usr/bin/x", "C:\\a b\\(x86)", "-rf", "a\"&b"],
    3: ["8.1.240.6", "8", "1.", "8..1", "12345678901"],                        # version
    4: ["10", "-3", "+1", "0x10", "99999999999999999999"],                     # int
    5: ["word_1.x-y", "", "a b"],                                              # word
    6: ["SP1 upgrade (node 2): start, then stop", "a;b", "x" * 201],           # text
    7: ["", "https://owa.contoso.local/owa", "http://[::1]:8080/x?a=1", "ftp://x", "http://a:99999/"],
    8: ["none", "original", "None", "other"],                                  # enum
}


def seed_subst():
    reset("subst")
    n = 0
    for kind, values in SUBST.items():
        for v in values:
            for src in range(8):
                if (n + src) % 3:
                    continue
                put("subst", "subst-%03d" % n, bytes([kind, src]) + v.encode())
                n += 1


# ---- ccrsim commands --------------------------------------------------------

def plan_commands(inventory):
    out = subprocess.run([os.path.join(ROOT, "bin", "ccrup"), "plan", inventory, "-o", "json"],
                         capture_output=True, check=True).stdout
    plan = json.loads(out)
    cmds = []
    for cl in plan["clusters"]:
        for s in cl["steps"]:
            node = s.get("node") or ""
            if s.get("command"):
                cmds.append((node, s["command"]))
            for k in ("check", "verify"):
                c = s.get(k)
                if isinstance(c, dict) and c.get("command"):
                    cmds.append((node, c["command"]))
            r = s.get("reboot") or {}
            ready = r.get("ready") or {}
            if ready.get("command"):
                cmds.append((node, ready["command"]))
            rec = s.get("record") or {}
            if rec.get("source") and " " in rec["source"]:
                cmds.append((node, rec["source"]))
    return cmds


def fact_commands(playbook):
    with open(playbook) as f:
        pb = yaml.safe_load(f)
    defaults = {k: str(v.get("default", "")) for k, v in (pb.get("vars") or {}).items()
                if isinstance(v, dict) and not isinstance(v.get("default"), list)}
    cmds = []
    for fact in (pb.get("facts") or {}).values():
        run = fact.get("run", "")
        for k, v in defaults.items():
            run = run.replace("${%s}" % k, v)
        run = run.replace("${cms}", "E2K7CCR")
        cmds.append(run)
    return cmds


def scenario_hosts(path):
    try:
        with open(path) as f:
            sc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError):
        return ["NODE1", "NODE2", "HUBCAS"]
    hosts = sc.get("hosts") if isinstance(sc, dict) else None
    if isinstance(hosts, dict):
        return list(hosts)
    if isinstance(hosts, list):
        return [h.get("name") if isinstance(h, dict) else str(h) for h in hosts]
    return ["NODE1", "NODE2", "HUBCAS"]


def seed_simcmd():
    reset("simcmd")
    hosts = [h.upper() for h in scenario_hosts(os.path.join(ROOT, "mock-nodes/scenarios/two-node.yml"))]
    def hostbyte(node):
        return bytes([hosts.index(node.upper()) if node.upper() in hosts else 0])
    cmds = plan_commands(os.path.join(ROOT, "playbooks/inventory.example.yml"))
    facts = fact_commands(os.path.join(ROOT, "playbooks/ccr-sp1.yml"))
    seen = {}
    for node, c in cmds:
        seen.setdefault(c, node)
    for c in facts:
        seen.setdefault(c, "NODE1")
    for c in ["hostname", "whoami", "ipconfig", "dir C:\\", "exit 3", "", "echo hi",
              "sc query", "sc qc MSExchangeIS", "net start", "cluster group",
              "cluster res", "reg query HKLM\\SOFTWARE\\Nope", "shutdown /a"]:
        seen.setdefault(c, "NODE1")
    for i, (c, node) in enumerate(seen.items()):
        put("simcmd", "cmd-%03d" % i, hostbyte(node) + c.encode())
    # The whole procedure in plan order, one command per line, as one input: deep world states.
    script = b"\n".join(hostbyte(n) + c.encode() for n, c in cmds)
    put("simcmd", "procedure", script)


if __name__ == "__main__":
    seed_yaml()
    seed_expr()
    seed_journal()
    seed_subst()
    seed_simcmd()
    for t in sorted(os.listdir(CORPUS)):
        print("%-10s %d seeds" % (t, len(os.listdir(os.path.join(CORPUS, t)))))
