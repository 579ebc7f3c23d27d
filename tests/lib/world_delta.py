#!/usr/bin/env python3
"""What ran on the simulated nodes between two ccrsim world dumps (ccrsim ctl dump).

usage: world_delta.py BEFORE.json AFTER.json [changing|any] [HOST]
  changing (default)  fail if a state-changing command (setup, installers, shutdown,
                      net stop/start, sc config, CMS and cluster moves) ran in between
  any                 fail if any command at all ran in between
  HOST                only look at this host
Prints one line per command whose count grew ("NODE2 +1 net stop SysmonLog") and exits 1
when the check fails, 0 when it holds.
"""
import json
import sys

# the same list as tests/lib/world.py
CHANGING = ("setup.com", "netfx", "shutdown", "net stop", "net start", "sc config",
            "stop-clusteredmailboxserver", "move-clusteredmailboxserver",
            "start-clusteredmailboxserver", "/move:", "reg delete")


def counts(path):
    w = json.load(open(path))
    return {h["name"]: h["commands"] for h in w["hosts"]}


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    before, after = counts(sys.argv[1]), counts(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "changing"
    only = sys.argv[4].lower() if len(sys.argv) > 4 else None
    bad = 0
    for host, cmds in sorted(after.items()):
        if only and host.lower() != only:
            continue
        for cmd, n in sorted(cmds.items()):
            d = n - before.get(host, {}).get(cmd, 0)
            if d <= 0:
                continue
            changing = any(x in cmd.lower() for x in CHANGING)
            print("%s +%d %s%s" % (host, d, cmd, " (changing)" if changing else ""))
            if mode == "any" or changing:
                bad += 1
    return 1 if bad else 0


sys.exit(main())
