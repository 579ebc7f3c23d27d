#!/usr/bin/env python3
"""Run a command list through pywinrm (Debian's python3-winrm), as a careful
client would: one shell per host kept open across commands (as ccrup does),
recreated when a reboot took it away.  The list is every command an audit log
(audit.jsonl of a ccrup run) records, in order, on the same hosts.

usage: winrm_py.py AUDIT SIM_DIR  ->  prints "<commands> <seconds>"
"""
import json
import sys
import time

import winrm

sys.path.insert(0, "tests/lib")
from winrm_replay import hosts  # noqa: E402  (the generated inventory's hosts and ports)


def main():
    audit, sim_dir = sys.argv[1], sys.argv[2]
    password = open(sim_dir + "/winrm_password").read()
    # What ccrup sent: a compound probe's `batch` event, not its parts' `command` events.
    cmds = [(e["node"], e["command"]) for e in map(json.loads, open(audit))
            if e.get("event") == "batch" or (e.get("event") == "command" and "batch" not in e)]
    protos, shells = {}, {}
    for name, (addr, (_, port)) in hosts(sim_dir).items():
        protos[name] = winrm.Session("https://%s:%d/wsman" % (addr, port),
                                     auth=("administrator", password), transport="ssl",
                                     server_cert_validation="validate",
                                     ca_trust_path=sim_dir + "/winrm/ca.pem").protocol
    t0 = time.monotonic()
    for node, cmd in cmds:
        p = protos[node]
        end = time.monotonic() + 30
        while True:
            try:
                if node not in shells:
                    shells[node] = p.open_shell()
                cid = p.run_command(shells[node], cmd)
                p.get_command_output(shells[node], cid)
                try:
                    p.cleanup_command(shells[node], cid)
                except Exception:
                    pass  # a restart command: its shell went with the reboot
                break
            except Exception:
                shells.pop(node, None)  # rebooting, or the shell is gone: a new one
                if time.monotonic() > end:
                    raise
                time.sleep(0.05)
    print(len(cmds), "%.3f" % (time.monotonic() - t0))


main()
