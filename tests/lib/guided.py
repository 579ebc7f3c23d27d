#!/usr/bin/env python3
"""Drive `ccrup apply|resume` in guided mode through a pseudo-terminal.

usage: guided.py ANSWERS LOG -- ccrup ARGS...
ANSWERS is a comma-separated list of STEP=LETTERS (e.g. "passive.dotnet-sp1=dy,
passive.stop-remote-registry=s,passive.firewall-start-type=q"): at the prompt for STEP
the letters are typed one per prompt; any other step is answered "y".  A step that
starts an outage or is the point of no return asks for a word ("Type 'outage' to run
..."): "y" answers it with that word; "Y" types a bare "y" (refused, then asked again).
After a failed step ("STEP on NODE failed. [r]etry [d]etails [q]uit") the letters of
"STEP!fail" are used, "q" by default; at a gate ("... [y]es [n]o [q]uit") those of "gate",
"y" by default.  Everything the terminal shows is written to LOG.
GUIDED_THINK_MS (environment) makes the operator think that long before every answer.
The second question that guards skipping or marking done a step that can
strand the cluster ("Skip STEP although ...? [y]es, skip it [n]o, back"), or quitting
while the outage runs ("Quit before STEP while the outage is ongoing? ... [n]o, back"),
takes the next letter of the same step ("n" by default).  `resume --rebind`'s question ("Rebind the roles
and re-plan the rest of the run? [y]es [n]o") takes the letters of "rebind", "y" by default.
Exits with ccrup's exit status.
"""
import os
import pty
import re
import select
import sys
import time

ANSI = re.compile(rb"\x1b\[[0-9;]*[A-Za-z]")
PROMPT = re.compile(
    rb"Run (\S+) on (\S+)\? \[y\]es \[s\]kip \[d\]etails \[r\]etry \[m\]ark-done \[q\]uit"
    rb"|Type '(\w+)' to run (\S+) on (\S+), or \[s\]kip \[d\]etails \[r\]etry \[m\]ark-done \[q\]uit"
    rb"|(\S+) on (\S+) failed\. \[r\]etry \[d\]etails \[q\]uit"
    rb"|(\[y\]es \[n\]o \[q\]uit)")
GUARD = re.compile(rb"(?:Skip|Mark done|Quit before) (\S+) (?:although|while) .*?\[n\]o, back")
REBIND = re.compile(rb"Rebind the roles and re-plan the rest of the run\? \[y\]es \[n\]o")


def main():
    answers = {}
    for item in filter(None, sys.argv[1].split(",")):
        step, letters = item.split("=")
        answers[step] = list(letters)
    log = open(sys.argv[2], "wb")
    argv = sys.argv[sys.argv.index("--") + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    think = int(os.environ.get("GUIDED_THINK_MS", "0")) / 1000.0
    buf = b""
    deadline = time.time() + 120
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        log.write(data)
        log.flush()
        buf += data
        buf = ANSI.sub(b"", buf)
        m = PROMPT.search(buf)
        g = GUARD.search(buf)
        rb = REBIND.search(buf)
        if rb:
            queue = answers.get("rebind")
            os.write(fd, ((queue.pop(0) if queue else "y") + "\n").encode())
            buf = buf[rb.end():]
            continue
        if g and (m is None or g.start() < m.start()):
            queue = answers.get(g.group(1).decode())
            os.write(fd, ((queue.pop(0) if queue else "n") + "\n").encode())
            buf = buf[g.end():]
            continue
        if m:
            if m.group(1):
                step, word, default = m.group(1).decode(), None, "y"
            elif m.group(4):
                step, word, default = m.group(4).decode(), m.group(3).decode(), "y"
            elif m.group(6):
                step, word, default = m.group(6).decode() + "!fail", None, "q"
            else:
                step, word, default = "gate", None, "y"
            queue = answers.get(step)
            letter = queue.pop(0) if queue else default
            if letter == "y" and word:
                letter = word
            elif letter == "Y":
                letter = "y"
            if think:
                time.sleep(think)
            os.write(fd, (letter + "\n").encode())
            buf = buf[m.end():]
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


main()
