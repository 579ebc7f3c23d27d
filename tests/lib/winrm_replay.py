"""Replay every command of a recorded ccrup run through pywinrm and compare.

usage: winrm_replay.py AUDIT_JSONL SIM_DIR http|https

AUDIT_JSONL is the audit log of an undisturbed `ccrup apply` over SSH against
a fresh ccrsim: every command it sent (probes and steps), on which node, with
its stdout, stderr and exit status.  SIM_DIR is another fresh ccrsim of the
same scenario.  Each command is sent again, in the same order, to the same
node of SIM_DIR with pywinrm's Session.run_cmd (Debian's python3-winrm),
over HTTP (Basic) or HTTPS (Basic, certificate checked against the generated
CA); its stdout, stderr and status must equal what SSH returned (times that
the world clock prints are masked: the clock runs in real time).  A node that
is rebooting is waited for (opening the shell is retried for 20 s).
Prints one line per difference and a summary; exit 1 if any differ.
"""
import json
import re
import sys
import time

import winrm


def hosts(sim_dir):
    inv = open(sim_dir + "/inventory.yml").read()
    out = {}
    for m in re.finditer(r"(?m)^  (\S+):\n    address: (\S+)\n    port: (\d+)\n    winrm_port: (\d+)$", inv):
        out[m.group(1)] = (m.group(2), (int(m.group(3)), int(m.group(4))))
    return out


def session(sim_dir, scheme, addr, ports):
    ssh_port, https_port = ports
    password = open(sim_dir + "/winrm_password").read()
    if scheme == "https":
        return winrm.Session("https://%s:%d/wsman" % (addr, https_port),
                             auth=("administrator", password), transport="ssl",
                             server_cert_validation="validate",
                             ca_trust_path=sim_dir + "/winrm/ca.pem")
    # ccrsim's HTTP port is the SSH port - 8000, its HTTPS port the SSH port - 16000;
    # hosts whose SSH port is 16000 or lower listen on 5985 and 5986 (docs/ccrsim.md).
    http_port = 5985 if ssh_port <= 16000 else ssh_port - 8000
    return winrm.Session("http://%s:%d/wsman" % (addr, http_port),
                         auth=("administrator", password), transport="basic")


def run(sess, cmd):
    """Session.run_cmd's own steps, so that a restart command, whose shell the
    reboot takes away after its exit status was received, is not failed by the
    clean-up (Signal, Delete) that run_cmd sends afterwards."""
    p = sess.protocol
    end = time.time() + 20
    while True:
        try:
            shell = p.open_shell()
            break
        except Exception:  # the node is rebooting: connection refused or reset
            if time.time() > end:
                raise
            time.sleep(0.1)
    cid = p.run_command(shell, cmd)
    out, err, code = p.get_command_output(shell, cid)
    try:
        p.cleanup_command(shell, cid)
        p.close_shell(shell)
    except Exception:
        pass
    return out.decode(), err.decode(), code


# Times the world clock puts in output (it runs in real time, so two runs differ).
TIMES = re.compile(r"\d{14}\.\d{6}[+-]\d{3}|\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}(:\d{2})?( [AP]M)?|"
                   r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?")


def norm(s):
    return TIMES.sub("<time>", s)


def main():
    audit, sim_dir, scheme = sys.argv[1], sys.argv[2], sys.argv[3]
    h = hosts(sim_dir)
    sessions = {n: session(sim_dir, scheme, a, p) for n, (a, p) in h.items()}
    same = differ = 0
    forms = set()
    for line in open(audit):
        e = json.loads(line)
        if e.get("event") != "command" or e.get("exit", -1) < 0:
            continue
        if e.get("stdout_truncated") or e.get("stderr_truncated"):
            continue
        cmd, node = e["command"], e["node"]
        out, err, code = run(sessions[node], cmd)
        forms.add(re.sub(r"\b(NODE\d|HUBCAS)\b", "N", cmd))
        if (norm(out), norm(err), code) == (norm(e["stdout"]), norm(e["stderr"]), e["exit"]):
            same += 1
        else:
            differ += 1
            print("differs on %s: %s\n  ssh:   %r %r %d\n  winrm: %r %r %d" %
                  (node, cmd, e["stdout"], e["stderr"], e["exit"], out, err, code))
    print("winrm_replay %s: %d commands (%d forms) equal, %d differ" %
          (scheme, same, len(forms), differ))
    sys.exit(1 if differ or same == 0 else 0)


if __name__ == "__main__":
    main()
