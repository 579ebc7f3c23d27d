#!/usr/bin/env python3
"""Write-ahead check of a run that stopped because its journal could not be written.

usage: writeahead.py JOURNAL CCRSIM_LOG CLEAN_JOURNAL
  JOURNAL        the journal of the stopped run (what was written before the failure)
  CCRSIM_LOG     the log of `ccrsim -v` for that run: every command, in order, as received
  CLEAN_JOURNAL  the journal of an undisturbed run of the same scenario (the order of actions)
Checks:
  1. every state-changing command ccrsim received has its `begin` record in JOURNAL
     (per node and command line; a reboot's `shutdown` per reboot `begin`, which has a boot_id)
  2. the next action of the clean run after the last one JOURNAL began did not reach its
     node: the command after the failing journal write was not run
Prints what it found ("journal ends at seq 41 (done passive.firewall-start on NODE2); next
action passive.setup on NODE2 `...setup.com /m:upgrade`: not run") and exits 0, or 1.
"""
import collections
import json
import re
import sys

CHANGING = ("setup.com", "netfx", "shutdown", "net stop", "net start", "sc config",
            "stop-clusteredmailboxserver", "move-clusteredmailboxserver",
            "start-clusteredmailboxserver", "/move:", "reg delete")
REBOOT = "shutdown /r /t 0"


def records(path):
    out = []
    for line in open(path, "rb"):
        if line.endswith(b"\n"):
            out.append(json.loads(line))
    return out


def action(r):
    """(node, command) a begin record stands for, or None for a step with no command."""
    if r.get("command"):
        return (r["node"], r["command"])
    if r.get("boot_id") is not None:
        return (r["node"], REBOOT)
    return None


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    recs = records(sys.argv[1])
    clean = records(sys.argv[3])
    execs = collections.Counter()
    for line in open(sys.argv[2], errors="replace"):
        m = re.match(r"ccrsim: ([^:]+): exec (.*)$", line.rstrip("\n"))
        if m:
            execs[(m.group(1), m.group(2))] += 1
    begun = collections.Counter(a for a in (action(r) for r in recs if r["event"] == "begin") if a)
    bad = 0
    for (node, cmd), n in sorted(execs.items()):
        if any(x in cmd.lower() for x in CHANGING) and n > begun[(node, cmd)]:
            print("write-ahead broken: %s ran `%s` %d times, journal has %d begin records for it"
                  % (node, cmd, n, begun[(node, cmd)]))
            bad += 1
    last = recs[-1] if recs else {}
    print("journal ends at seq %s (%s %s on %s)" % (last.get("seq"), last.get("event"),
                                                    last.get("step"), last.get("node")))
    done_keys = collections.Counter((r["step"], r["node"]) for r in recs if r["event"] == "begin")
    seen = collections.Counter()
    nxt = None
    for r in clean:
        if r["event"] != "begin" or action(r) is None:
            continue
        k = (r["step"], r["node"])
        seen[k] += 1
        if seen[k] > done_keys[k]:
            nxt = r
            break
    if nxt is None:
        print("no action left after the journal's end")
    else:
        node, cmd = action(nxt)
        ran = execs[(node, cmd)]
        allowed = begun[(node, cmd)]
        verdict = "not run" if ran <= allowed else "RUN %d times with %d begin records" % (ran, allowed)
        print("next action %s on %s `%s`: %s" % (nxt["step"], node, cmd, verdict))
        if ran > allowed:
            bad += 1
    return 1 if bad else 0


sys.exit(main())
