#!/usr/bin/env python3
"""Drive `ccrup apply|resume` in guided mode through a pseudo-terminal.

usage: guided.py ANSWERS LOG -- ccrup ARGS...
ANSWERS is a comma-separated list of STEP=LETTERS (e.g. "passive.dotnet-sp1=dy,
passive.stop-remote-registry=s,passive.firewall-start-type=q"): at the prompt for STEP
the letters are typed one per prompt; any other step is answered "y".  The second
question that guards skipping or marking done a step that can strand the cluster
("Skip STEP although ...? [y]es, skip it [n]o, back") takes the next letter of the same
step (default "n").  Everything the
terminal shows is written to LOG.  Exits with ccrup's exit status.
"""
import os
import pty
import re
import select
import sys
import time

PROMPT = re.compile(rb"Run (\S+) on (\S+)\? \[y\]es \[s\]kip \[d\]etails \[r\]etry \[m\]ark-done \[q\]uit")
GUARD = re.compile(rb"(?:[Ss]kip|[Mm]ark done) (\S+) although .*?\[n\]o, back")


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
        m = PROMPT.search(buf)
        g = GUARD.search(buf)
        if g and (m is None or g.start() < m.start()):
            queue = answers.get(g.group(1).decode())
            os.write(fd, ((queue.pop(0) if queue else "n") + "\n").encode())
            buf = buf[g.end():]
        elif m:
            step = m.group(1).decode()
            queue = answers.get(step)
            letter = queue.pop(0) if queue else "y"
            os.write(fd, (letter + "\n").encode())
            buf = buf[m.end():]
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


main()
