#!/usr/bin/env python3
"""Assertions over a ccrsim world dump (ccrsim ctl dump), for integration tests.

usage: world.py DUMP.json CHECK [ARGS]
  upgraded CLUSTER TARGET FIREWALL [OUTAGES]
                                     both nodes and the CMS at TARGET, CMS Online,
                                     setup /m:upgrade once per node, /UpgradeCMS once,
                                     SharedAccess start type FIREWALL on both nodes,
                                     exactly OUTAGES (1) outage intervals, all closed
                                     (an unplanned failover is an outage of its own)
  converged CLUSTER TARGET FIREWALL EPOCHS
                                     like upgraded, after crashes: setup may have been
                                     retried, but each node rebooted exactly as often as
                                     EPOCHS says ("NODE1=1,NODE2=2") and one outage
  rolled CLUSTER VERSION KB CMSVER EPOCHS [OUTAGES]
                                     an update rollup: both nodes at VERSION with KB
                                     installed once, the CMS Online at CMSVER (a rollup
                                     never changes it), each node rebooted as EPOCHS says
                                     ("-": not checked), at most OUTAGES (1) outage
                                     intervals in the world's history, all closed
                                     (a rollup runs no setup.com: check with count)
  org CLUSTER SCHEMA AD              the organisation prepared for SCHEMA / AD versions
  untouched CLUSTER                  no state-changing command ran anywhere
  quiet-since BEFORE.json            no state-changing command ran between BEFORE.json
                                     and this dump (each one that did is printed)
  count HOST COMMAND N               HOST ran COMMAND exactly N times
  cms CLUSTER OWNER STATE VERSION    the CMS is where and what it should be
  services CLUSTER BEFORE.json SVC...
                                     on every member, each named service has the
                                     start type and state it had in BEFORE.json (a
                                     service absent there must be absent here)
Exit 0 when the check holds; 1 with a message naming what differs.
"""
import json
import sys

CHANGING = ("setup.com", "netfx", "shutdown", "net stop", "net start", "sc config",
            "stop-clusteredmailboxserver", "move-clusteredmailboxserver",
            "start-clusteredmailboxserver", "/move:", "reg delete", "msiexec")


def fail(msg):
    print("world check failed: " + msg)
    sys.exit(1)


def host(w, name):
    for h in w["hosts"]:
        if h["name"].lower() == name.lower():
            return h
    fail("no host %s" % name)


def cluster(w, name):
    for c in w["clusters"]:
        if c["name"].lower() == name.lower():
            return c
    fail("no cluster %s" % name)


def count(h, needle):
    return sum(n for cmd, n in h["commands"].items() if needle.lower() in cmd.lower())


def upgraded(w, cname, target, firewall, outages="1"):
    c = cluster(w, cname)
    if c["cms"]["version"] != target:
        fail("CMS version %s, want %s" % (c["cms"]["version"], target))
    if c["cms"]["state"] != "Online":
        fail("CMS state %s, want Online" % c["cms"]["state"])
    for n in c["members"]:
        h = host(w, n)
        if h["binaries_version"] != target:
            fail("%s binaries %s, want %s" % (n, h["binaries_version"], target))
        k = count(h, "/m:upgrade")
        if k != 1:
            fail("%s ran setup /m:upgrade %d times, want 1" % (n, k))
        fw = h["services"].get("SharedAccess", {}).get("start")
        if fw != firewall:
            fail("%s SharedAccess start type %s, want %s" % (n, fw, firewall))
    k = sum(count(host(w, n), "/upgradecms") for n in c["members"])
    if k != 1:
        fail("/UpgradeCMS ran %d times, want 1" % k)
    outs = c["outages"]
    if len(outs) != int(outages) or any(o.get("end_ms") is None for o in outs):
        fail("outages %s, want exactly %s, closed" % (outs, outages))


def converged(w, cname, target, firewall, epochs):
    c = cluster(w, cname)
    if c["cms"]["version"] != target or c["cms"]["state"] != "Online":
        fail("CMS %s %s, want %s Online" % (c["cms"]["version"], c["cms"]["state"], target))
    want = dict(kv.split("=") for kv in epochs.split(","))
    for n in c["members"]:
        h = host(w, n)
        if h["binaries_version"] != target:
            fail("%s binaries %s, want %s" % (n, h["binaries_version"], target))
        fw = h["services"].get("SharedAccess", {}).get("start")
        if fw != firewall:
            fail("%s SharedAccess start type %s, want %s" % (n, fw, firewall))
        if str(h["boot_epoch"]) != want.get(n):
            fail("%s boot epoch %s, want %s (a reboot repeated or missed)"
                 % (n, h["boot_epoch"], want.get(n)))
    outs = c["outages"]
    if len(outs) != 1 or outs[0].get("end_ms") is None:
        fail("outages %s, want exactly one, closed" % outs)


def rolled(w, cname, version, kb, cmsver, epochs, outages="1"):
    c = cluster(w, cname)
    if c["cms"]["version"] != cmsver or c["cms"]["state"] != "Online":
        fail("CMS %s %s, want %s Online" % (c["cms"]["version"], c["cms"]["state"], cmsver))
    want = dict(kv.split("=") for kv in epochs.split(",")) if epochs != "-" else {}
    for n in c["members"]:
        h = host(w, n)
        if h["binaries_version"] != version:
            fail("%s binaries %s, want %s" % (n, h["binaries_version"], version))
        kbs = [r["kb"] for r in h["msi"]["rollups"]]
        if kbs.count(int(kb)) != 1:
            fail("%s rollups %s, want KB%s once" % (n, kbs, kb))
        if h["pending_reboot"]:
            fail("%s still has a restart pending" % n)
        if want and str(h["boot_epoch"]) != want.get(n):
            fail("%s boot epoch %s, want %s (a reboot repeated or missed)"
                 % (n, h["boot_epoch"], want.get(n)))
    outs = c["outages"]
    if len(outs) > int(outages) or any(o.get("end_ms") is None for o in outs):
        fail("outages %s, want at most %s, closed" % (outs, outages))


def untouched(w, cname):
    c = cluster(w, cname)
    for n in list(c["members"]) + list(c["hub_cas"]):
        for cmd, k in host(w, n)["commands"].items():
            if any(x in cmd.lower() for x in CHANGING):
                fail("%s ran a changing command: %s (x%d)" % (n, cmd, k))


def services(w, cname, before_path, *names):
    b = json.load(open(before_path))
    for n in cluster(w, cname)["members"]:
        was, now = host(b, n)["services"], host(w, n)["services"]
        for s in names:
            if s not in was:
                if s in now:
                    fail("%s %s exists now but not before" % (n, s))
                continue
            want = (was[s].get("start"), was[s].get("state"))
            got = (now.get(s, {}).get("start"), now.get(s, {}).get("state"))
            if got != want:
                fail("%s %s start/state %s, want %s as before the run" % (n, s, got, want))


def quiet_since(w, before_path):
    before = {h["name"]: h["commands"] for h in json.load(open(before_path))["hosts"]}
    n = 0
    for h in w["hosts"]:
        for cmd, k in h["commands"].items():
            d = k - before.get(h["name"], {}).get(cmd, 0)
            if d and any(c in cmd.lower() for c in CHANGING):
                print("%s: %s x%d" % (h["name"], cmd, d))
                n += d
    if n:
        fail("%d state-changing command(s) ran" % n)


def main():
    w = json.load(open(sys.argv[1]))
    what, args = sys.argv[2], sys.argv[3:]
    if what == "upgraded":
        upgraded(w, *args)
    elif what == "converged":
        converged(w, *args)
    elif what == "rolled":
        rolled(w, *args)
    elif what == "org":
        o = w["organization"]
        if (o["schema_version"], o["ad_version"]) != (args[1], args[2]):
            fail("organisation schema %s AD %s, want %s %s"
                 % (o["schema_version"], o["ad_version"], args[1], args[2]))
    elif what == "untouched":
        untouched(w, *args)
    elif what == "quiet-since":
        quiet_since(w, *args)
    elif what == "count":
        k = count(host(w, args[0]), args[1])
        if k != int(args[2]):
            fail("%s ran %r %d times, want %s" % (args[0], args[1], k, args[2]))
    elif what == "cms":
        c = cluster(w, args[0])["cms"]
        got = (c["owner"], c["state"], c["version"])
        if got != tuple(args[1:4]):
            fail("CMS is %s, want %s" % (got, tuple(args[1:4])))
    elif what == "services":
        services(w, *args)
    else:
        fail("unknown check " + what)


main()
