#!/usr/bin/env python3
"""Generate the competitors of the ccrup benchmark from `ccrup plan -o json`.

usage:
  gen.py seq PLAN.json                       print each cluster's command sequence
  gen.py ansible PLAN.json INVENTORY.yml DIR [--forks N]
                                             DIR/ansible.cfg, DIR/hosts.yml, DIR/site.yml
  gen.py ssh PLAN.json INVENTORY.yml OUT.sh  an OpenSSH ControlMaster script (one cluster)
  gen.py inventory N OUT.yml                 a valid ccrup inventory of N two-node clusters
  gen.py ssh-list LIST INVENTORY.yml OUT.sh  an OpenSSH ControlMaster script sending LIST
  gen.py ansible-list LIST INVENTORY.yml DIR Ansible (raw) sending LIST: DIR/ansible.cfg, ...

LIST (bench.py's sent_list): one remote command per line, "NODE<TAB>R<TAB>COMMAND", in
the order ccrup sent them; R is 1 for a reboot command (the node drops the connection).
The list forms send exactly what a ccrup run sent, probes included, so every tool does the
same work; a command whose node is down (after a reboot) is retried until it answers.

The sequence is the plan's: every step of kind `run` whose `applies` is not "no", with
its exact command and ok_exit, and every `reboot` step as the playbook's reboot_command
followed by reconnecting, in plan order, on the step's node.  No probes, checks, verifies,
waits or gates: the competitors send only the commands ccrup would run if every
conditional step applied (the "blind" script of the plan; ccrup's own probes are counted
separately by ccrsim).
"""
import json
import os
import re
import shlex
import sys


ANSIBLE_CFG = """[defaults]
inventory = %(dir)s/hosts.yml
forks = %(forks)d
gathering = explicit
host_key_checking = True
retry_files_enabled = False
interpreter_python = /usr/bin/python3
nocows = 1
deprecation_warnings = False
localhost_warning = False

[ssh_connection]
pipelining = True
ssh_args = -F /dev/null -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=%(kh)s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes
control_path_dir = %(cp)s
control_path = %(cp)s/%%%%C
retries = 8
"""


def load_plan(path):
    with open(path) as f:
        p = json.load(f)
    if p.get("format") != "ccrup-plan/1":
        sys.exit("gen.py: %s: not a ccrup-plan/1 document" % path)
    return p


def reboot_command(plan):
    path = plan["playbook"]["path"]
    with open(path) as f:
        for line in f:
            m = re.match(r"^reboot_command:\s*(.+?)\s*$", line)
            if m:
                v = m.group(1)
                if v[:1] in "'\"":
                    v = v[1:-1]
                return v
    sys.exit("gen.py: %s: no reboot_command" % path)


def sequence(plan, cl):
    """[(step index, step id, node, command, ok_exit, is_reboot)] for one cluster."""
    rb = reboot_command(plan)
    out = []
    for s in cl["steps"]:
        if s["applies"] == "no":
            continue
        if s["kind"] == "run" and s["command"]:
            # ssh(1) exits with the remote status modulo 256 (3010 arrives as 194).
            ok = s["ok_exit"] or [0]
            ok = sorted(set(ok) | set(v & 255 for v in ok))
            out.append((s["index"], s["id"], s["node"], s["command"], ok, False))
        elif s["kind"] == "reboot":
            out.append((s["index"], s["id"], s["node"], rb, [0], True))
    return out


def load_hosts(inv_path):
    """host -> (address, port), plus ssh settings, from a ccrsim-generated inventory."""
    import yaml  # python3-yaml comes with Debian's ansible

    with open(inv_path) as f:
        inv = yaml.safe_load(f)
    d = inv.get("defaults", {})
    hosts = {}
    for name, h in inv["hosts"].items():
        hosts[name] = (h.get("address", "127.0.0.1"), int(h.get("port", 22)),
                       h.get("user", d.get("user", "administrator")),
                       h.get("identity", d.get("identity")))
    return hosts, inv["ssh"]["known_hosts"]


def role_of(step_node, cl):
    """A step's node as a role name the same for every cluster ('active', 'passive', host)."""
    for r in cl["roles"]:
        if r["host"] == step_node:
            return r["role"]
    for g, members in sorted(cl["groups"].items()):
        if step_node in members:
            return "%s[%d]" % (g, members.index(step_node))
    return step_node


def cmd_seq(argv):
    plan = load_plan(argv[0])
    for cl in plan["clusters"]:
        seq = sequence(plan, cl)
        print("# %s: %d commands (%d reboots)" % (cl["name"], len(seq), sum(1 for x in seq if x[5])))
        for idx, sid, node, cmd, ok, rb in seq:
            print("%3d %-10s %-44s %s%s" % (idx, node, sid, cmd, "  (reboot)" if rb else ""))


def cmd_ansible(argv):
    forks = 5
    if "--forks" in argv:
        i = argv.index("--forks")
        forks = int(argv[i + 1])
        del argv[i:i + 2]
    plan, inv_path, out = load_plan(argv[0]), argv[1], argv[2]
    hosts, known_hosts = load_hosts(inv_path)
    os.makedirs(out, exist_ok=True)
    clusters = plan["clusters"]
    seqs = [sequence(plan, cl) for cl in clusters]
    # Every cluster has the same steps: slot k is step seqs[c][k] on each cluster's own node.
    shape = [(x[1], role_of(x[2], clusters[0]), x[4], x[5]) for x in seqs[0]]
    for c, s in zip(clusters, seqs):
        if [(x[1], role_of(x[2], c), x[4], x[5]) for x in s] != shape:
            sys.exit("gen.py: cluster %s has a different plan shape" % c["name"])
    used = {}
    hostvars = {}
    for s in seqs:
        for k, x in enumerate(s):
            hostvars.setdefault(x[2], {})["c%d" % k] = x[3]
            used[x[2]] = True
    # Inventory: every host that runs something, one group per role.
    lines = ["all:", "  hosts:"]
    for name in sorted(used):
        addr, port, user, ident = hosts[name]
        lines.append("    %s:" % name)
        lines.append("      ansible_host: %s" % addr)
        lines.append("      ansible_port: %d" % port)
        lines.append("      ansible_user: %s" % user)
        if ident:
            lines.append("      ansible_ssh_private_key_file: %s" % json.dumps(ident))
        lines.append("      cmds:")
        for k in sorted(hostvars[name], key=lambda v: int(v[1:])):
            lines.append("        %s: %s" % (k, json.dumps(hostvars[name][k])))
    roles = {}
    for c, s in zip(clusters, seqs):
        for x in s:
            roles.setdefault(role_of(x[2], c), set()).add(x[2])
    lines.append("  children:")
    gname = {}
    for r in sorted(roles):
        g = "role_" + re.sub(r"[^A-Za-z0-9_]", "_", r)
        gname[r] = g
        lines.append("    %s:" % g)
        lines.append("      hosts:")
        for h in sorted(roles[r]):
            lines.append("        %s: {}" % h)
    with open(os.path.join(out, "hosts.yml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    # Playbook: consecutive slots on the same role share a play.
    plays = []
    for k, (sid, role, ok, rb) in enumerate(shape):
        if not plays or plays[-1][0] != role:
            plays.append((role, []))
        plays[-1][1].append((k, sid, ok, rb))
    pb = ["# Generated by bench/gen.py from `ccrup plan -o json`: the plan's run commands",
          "# and reboots, in order, with Ansible's raw module (ssh -tt; no Python on the node)."]
    for role, tasks in plays:
        pb.append("- hosts: %s" % gname[role])
        pb.append("  gather_facts: false")
        pb.append("  any_errors_fatal: false")
        pb.append("  tasks:")
        for k, sid, ok, rb in tasks:
            pb.append("    - name: %s" % json.dumps(sid))
            pb.append("      raw: \"{{ cmds.c%d }}\"" % k)
            pb.append("      register: r%d" % k)
            if rb:
                # The node closes the connection as it goes down: any status is fine;
                # then drop the (dead) ControlPersist master so the next task reconnects.
                pb.append("      failed_when: false")
                pb.append("    - meta: reset_connection")
            else:
                pb.append("      failed_when: r%d.rc not in %s" % (k, json.dumps(ok)))
    with open(os.path.join(out, "site.yml"), "w") as f:
        f.write("\n".join(pb) + "\n")
    cp = os.path.join(out, "cp")
    os.makedirs(cp, exist_ok=True)
    cfg = ANSIBLE_CFG % {"dir": os.path.abspath(out), "forks": forks, "kh": known_hosts, "cp": os.path.abspath(cp)}
    with open(os.path.join(out, "ansible.cfg"), "w") as f:
        f.write(cfg)
    print("%s: %d hosts, %d plays, %d tasks per cluster, forks %d"
          % (out, len(used), len(plays), len(shape), forks))


def cm_prelude(comment, known_hosts, ident):
    """The start of a generated ControlMaster script: comment lines, ssh options, and the
    functions master (start or restart a host's master, retrying every 10 ms while the node
    is down) and reboot (send the command; the node drops the connection; a new master)."""
    return (["#!/bin/sh"] + ["# " + c for c in comment] +
            ["set -u",
             "D=$(mktemp -d /tmp/ccrup-bench-cm.XXXXXX)",
             "O='-F /dev/null -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes "
             "-o IdentitiesOnly=yes -o BatchMode=yes -i %s'" % (known_hosts, ident),
             "# master HOST ADDR PORT USER",
             "master() {",
             "\tn=0",
             "\tuntil ssh $O -f -M -N -o ControlPersist=no -S \"$D/$1\" -p \"$3\" -l \"$4\" \"$2\" 2>/dev/null; do",
             "\t\tn=$((n + 1)); [ $n -lt 500 ] || { echo \"$1: cannot connect\" >&2; exit 1; }",
             "\t\tsleep 0.01",
             "\tdone",
             "}",
             "# reboot HOST ADDR PORT USER CMD",
             "reboot() {",
             "\tssh $O -S \"$D/$1\" -p \"$3\" -l \"$4\" \"$2\" \"$5\" >/dev/null 2>&1",
             "\tssh $O -S \"$D/$1\" -O exit -p \"$3\" -l \"$4\" \"$2\" 2>/dev/null",
             "\tmaster \"$1\" \"$2\" \"$3\" \"$4\"",
             "}"])


def cm_write(out, sh, hosts, used, body, ncmds):
    """Write a ControlMaster script: masters up, body, masters down."""
    q = shlex.quote
    for h in used:
        a, p, u, _ = hosts[h]
        sh.append("master %s %s %d %s" % (q(h), q(a), p, q(u)))
    sh += body
    for h in used:
        a, p, u, _ = hosts[h]
        sh.append("ssh $O -S \"$D/%s\" -O exit -p %d -l %s %s 2>/dev/null" % (h, p, q(u), q(a)))
    sh.append("rm -rf \"$D\"")
    with open(out, "w") as f:
        f.write("\n".join(sh) + "\n")
    os.chmod(out, 0o755)
    print("%s: %d commands on %d hosts" % (out, ncmds, len(used)))


def cmd_ssh(argv):
    plan, inv_path, out = load_plan(argv[0]), argv[1], argv[2]
    hosts, known_hosts = load_hosts(inv_path)
    if len(plan["clusters"]) != 1:
        sys.exit("gen.py ssh: one cluster only")
    seq = sequence(plan, plan["clusters"][0])
    q = shlex.quote
    used = []
    for x in seq:
        if x[2] not in used:
            used.append(x[2])
    ident = hosts[used[0]][3]
    sh = cm_prelude(["Generated by bench/gen.py from `ccrup plan -o json`: the plan's run commands and",
                     "reboots, in order, over one OpenSSH ControlMaster per host (ssh -S SOCK host cmd)."],
                    known_hosts, ident)
    sh += ["# run HOST ADDR PORT USER 'OK EXITS' CMD",
           "run() {",
           "\tssh $O -S \"$D/$1\" -p \"$3\" -l \"$4\" \"$2\" \"$6\" >/dev/null 2>&1",
           "\trc=$?",
           "\tcase \" $5 \" in *\" $rc \"*) ;; *) echo \"$1: '$6' exited $rc\" >&2; exit 1 ;; esac",
           "}"]
    body = []
    for idx, sid, node, cmd, ok, rb in seq:
        a, p, u, _ = hosts[node]
        args = "%s %s %d %s" % (q(node), q(a), p, q(u))
        if rb:
            body.append("reboot %s %s    # %s" % (args, q(cmd), sid))
        else:
            body.append("run %s %s %s    # %s" % (args, q(" ".join(str(v) for v in ok)), q(cmd), sid))
    cm_write(out, sh, hosts, used, body, len(seq))


def cmd_inventory(argv):
    n, out = int(argv[0]), argv[1]
    lines = ["# Generated by bench/gen.py: %d two-node CCR clusters (%d hosts)." % (n, 3 * n),
             "inventory: bench-%d" % n, "format: 1", "", "ssh:",
             "  known_hosts: /nonexistent/known_hosts", "  connect_timeout: 10s",
             "  command_timeout: 10m", "", "defaults:", "  user: administrator", "",
             "hosts:"]
    for i in range(1, n + 1):
        for h, k in (("HUBCAS", 0), ("NODE1", 1), ("NODE2", 2)):
            lines.append("  %s-%04d:" % (h, i))
            lines.append("    address: 127.%d.%d.%d" % ((i >> 8) & 255, i & 255, k + 1))
            lines.append("    port: 22")
    lines.append("")
    lines.append("clusters:")
    for i in range(1, n + 1):
        lines.append("  - name: CLUS-%04d" % i)
        lines.append("    cms: E2K7CCR-%04d" % i)
        lines.append("    members: [NODE1-%04d, NODE2-%04d]" % (i, i))
        lines.append("    active: NODE1-%04d" % i)
        lines.append("    hub_cas: [HUBCAS-%04d]" % i)
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


def load_list(path):
    """[(node, is_reboot, command)] from a LIST file."""
    out = []
    with open(path) as f:
        for line in f:
            node, rb, cmd = line.rstrip("\n").split("\t", 2)
            out.append((node, rb == "1", cmd))
    return out


def cmd_ssh_list(argv):
    lst, (hosts, known_hosts), out = load_list(argv[0]), load_hosts(argv[1]), argv[2]
    q = shlex.quote
    used = []
    for node, _, _ in lst:
        if node not in used:
            used.append(node)
    ident = hosts[used[0]][3]
    sh = cm_prelude(["Generated by bench/gen.py ssh-list: the commands a ccrup run sent, in order, over",
                     "one OpenSSH ControlMaster per host; exit statuses are not judged (probes fail too)."],
                    known_hosts, ident)
    sh += ["# run HOST ADDR PORT USER CMD: 255 is ssh's own failure (the node is down): reconnect, retry",
          "run() {",
          "\tn=0",
          "\twhile ssh $O -S \"$D/$1\" -p \"$3\" -l \"$4\" \"$2\" \"$5\" >/dev/null 2>&1; [ $? = 255 ]; do",
          "\t\tn=$((n + 1)); [ $n -lt 500 ] || { echo \"$1: cannot run '$5'\" >&2; exit 1; }",
          "\t\tssh $O -S \"$D/$1\" -O exit -p \"$3\" -l \"$4\" \"$2\" 2>/dev/null",
          "\t\tmaster \"$1\" \"$2\" \"$3\" \"$4\"",
          "\tdone",
          "}"]
    body = []
    for node, rb, cmd in lst:
        a, p, u, _ = hosts[node]
        body.append("%s %s %s %d %s %s" % ("reboot" if rb else "run", q(node), q(a), p, q(u), q(cmd)))
    cm_write(out, sh, hosts, used, body, len(lst))


def cmd_ansible_list(argv):
    lst, (hosts, known_hosts), out = load_list(argv[0]), load_hosts(argv[1]), argv[2]
    os.makedirs(out, exist_ok=True)
    used = sorted({node for node, _, _ in lst})
    lines = ["all:", "  hosts:"]
    for name in used:
        addr, port, user, ident = hosts[name]
        lines += ["    %s:" % name, "      ansible_host: %s" % addr, "      ansible_port: %d" % port,
                  "      ansible_user: %s" % user]
        if ident:
            lines.append("      ansible_ssh_private_key_file: %s" % json.dumps(ident))
    with open(os.path.join(out, "hosts.yml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "cmds.json"), "w") as f:
        json.dump({"c": [cmd for _, _, cmd in lst]}, f)
    # One play over the list's hosts, each task for its own node (the others skip it): one
    # play instead of one per run of commands on a node, which costs Ansible far less.  A node
    # that is down (after a reboot) is retried until it answers; a reboot drops that node's
    # ControlPersist master.
    pb = ["# Generated by bench/gen.py ansible-list: the commands a ccrup run sent, in order,",
          "# with Ansible's raw module; exit statuses are not judged (probes fail too).",
          "- hosts: all", "  gather_facts: false", "  vars_files: [cmds.json]", "  tasks:"]
    for k, (node, rb, _) in enumerate(lst):
        pb += ["    - raw: \"{{ c[%d] }}\"" % k, "      when: inventory_hostname == %s" % json.dumps(node),
               "      register: r%d" % k, "      ignore_errors: true", "      ignore_unreachable: true"]
        if rb:
            pb += ["    - meta: reset_connection",
                   "      when: inventory_hostname == %s" % json.dumps(node)]
        else:
            pb += ["      until: not (r%d.unreachable | default(false))" % k,
                   "      retries: 500", "      delay: 0"]
    with open(os.path.join(out, "site.yml"), "w") as f:
        f.write("\n".join(pb) + "\n")
    cp = os.path.join(out, "cp")
    os.makedirs(cp, exist_ok=True)
    with open(os.path.join(out, "ansible.cfg"), "w") as f:
        f.write(ANSIBLE_CFG % {"dir": os.path.abspath(out), "forks": 5, "kh": known_hosts,
                               "cp": os.path.abspath(cp)})
    print("%s: %d commands on %d hosts" % (out, len(lst), len(used)))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, argv = sys.argv[1], sys.argv[2:]
    {"seq": cmd_seq, "ansible": cmd_ansible, "ssh": cmd_ssh,
     "inventory": cmd_inventory,
     "ssh-list": cmd_ssh_list, "ansible-list": cmd_ansible_list}.get(cmd, lambda a: sys.exit(__doc__))(argv)


if __name__ == "__main__":
    main()
