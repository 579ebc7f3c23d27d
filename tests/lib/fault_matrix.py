#!/usr/bin/env python3
"""The fault matrix's case runner (tests/integration/fault_matrix.sh drives it).

usage: fault_matrix.py CLEAN_DIR WORK_DIR EPOCHS [--jobs N] [--doc FILE] [--only REGEX]

CLEAN_DIR holds an undisturbed run against the two-node scenario: sim/ (ccrsim's state
directory: keys, scenario.yml) and state/CLUS1/{journal,audit}.jsonl.  Every `begin`
record of that journal that sends a command (a `command`, or a reboot step's
`shutdown /r /t 0`) is a target; every target meets every fault kind:

  fail         the command does not run: "fault-matrix: injected failure", exit 5
  hang         the command never answers (ccrup's timeout ends it)
  drop         the connection is closed half-way through the command's output (after
               half the bytes the clean run saw; before the exit status if it printed none)
  slow         100 ms before each output chunk
  no-return    (reboot steps) the node's restart never comes back
  new-hostkey  (reboot steps) the node comes back with another host key

and every step with an `http_check` (in the plan, `url`) meets every HTTP fault, served by a
listener of this file that the check's URL (owa_url in the inventory) is pointed at:

  http-refused    nothing listens: the connection is refused
  http-hang       the request is read and never answered
  http-slow-body  200 and a 1000-byte body, one byte every 500 ms
  http-5xx        503 Service Unavailable, every time
  http-bad-tls    https with a self-signed certificate (verification fails)

An HTTP check must give up within `--max-timeout` (3 s) however many retries it has.  Once
cleared the listener answers 200; a certificate ccrup does not trust cannot be cleared from
here, so after http-bad-tls resume must fail the same way (exit 1) within its budget.

Each case: a fresh ccrsim (time scale 0, keys copied from CLEAN_DIR, its own ports), an
inventory copy with short SSH timeouts, the fault, `ccrup apply --yes --max-timeout 3s`,
then the assertions (exit code, time, message, journal, world), then the fault is cleared
(and the operator's remedy applied) and `ccrup resume --yes` must converge on the clean
run's world.  Prints one line per failed case and a summary; with --doc, writes the result
table between the fault-matrix markers.  Exit 0 when every case passed.
"""
import argparse
import calendar
import ssl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

CLUSTER = "CLUS1"
TARGET = "8.1.240.6"
REBOOT_CMD = "shutdown /r /t 0"
MAX_TIMEOUT = "3s"  # ccrup --max-timeout: every step budget
CMD_TIMEOUT_S = 3   # the inventory's ssh.command_timeout (probes)
SLOW_MS = 100
FAIL_EXIT = 5
FAIL_MSG = "fault-matrix: injected failure"
KINDS = ["fail", "hang", "drop", "slow", "no-return", "new-hostkey"]
BOOT_KINDS = ("no-return", "new-hostkey")
HTTP_KINDS = ["http-refused", "http-hang", "http-slow-body", "http-5xx", "http-bad-tls"]
HTTP_PORT = 18400  # + case number % 100, on 127.0.1.<slot>: an address of its own per worker
# What the failure message must say, per kind, besides cluster, node and step.
CAUSE = {
    "fail": r"exited %d: %s" % (FAIL_EXIT, re.escape(FAIL_MSG)),
    "hang": r"timed out",
    "drop": r"connection|closed|lost",
    "no-return": r"did not come back within 3s",
    "new-hostkey": r"has CHANGED",
    "http-refused": r"http check: .*(refused|Failed to connect|Couldn't connect)",
    "http-hang": r"http check: .*(timed out|Timeout)",
    "http-slow-body": r"http check: .*(timed out|Timeout)",
    "http-5xx": r"http check: .* answered 503",
    "http-bad-tls": r"http check: .*(SSL|certificate|TLS)",
}
STEP_SLACK_S = 2.5  # a failed step's time beyond its capped budget (polls, reconnects)
PORT_BASE = 20000  # SSH 20000-21699, HTTP (+10000) 30000-31699: below the ephemeral range, clear of tests/lib/sim.sh (SSH 12000-19999, HTTP 22000-29999)
PORT_SLOTS = 170

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The binaries under test: copies made by the driver (the tree may be rebuilt meanwhile).
CCRUP = os.environ.get("CCRUP", os.path.join(REPO, "bin", "ccrup"))
CCRSIM = os.environ.get("CCRSIM", os.path.join(REPO, "bin", "ccrsim"))
CERT = None  # (certificate, key) of the http-bad-tls listener, made by main()


# ---- targets ---------------------------------------------------------------------------

def distinctive(cmd):
    """The part of a command a fault matches on (a substring no probe contains)."""
    for word in ("Stop-ClusteredMailboxServer", "Move-ClusteredMailboxServer", "/UpgradeCMS",
                 "/m:upgrade", "NetFx20SP1"):
        if word in cmd:
            return word
    return cmd


def load_targets(clean):
    """[(step, node, command, key, nth, out_bytes, is_reboot, prev)] in the clean run's order."""
    outputs = {}
    for line in open(os.path.join(clean, "state", CLUSTER, "audit.jsonl")):
        r = json.loads(line)
        if r.get("event") == "command" and r.get("step"):
            outputs[(r["step"], r["node"])] = len(r.get("stdout") or "") + len(r.get("stderr") or "")
    seen, targets, last_cmd = {}, [], {}
    for line in open(os.path.join(clean, "state", CLUSTER, "journal.jsonl")):
        r = json.loads(line)
        if r["event"] != "begin" or not r.get("node"):
            continue
        reboot = "boot_id" in r and not r.get("command")
        cmd = r.get("command") or (REBOOT_CMD if reboot else None)
        if cmd is None:
            continue  # a wait step sends no command of its own
        key = distinctive(cmd)
        nth = seen[(r["node"], key)] = seen.get((r["node"], key), 0) + 1
        t = {"step": r["step"], "node": r["node"], "command": cmd, "key": key, "nth": nth,
             "out": outputs.get((r["step"], r["node"]), 0), "reboot": reboot,
             "prev": last_cmd.get(r["node"])}
        targets.append(t)
        if not reboot:
            last_cmd[r["node"]] = t
    return targets


# ---- ccrsim ----------------------------------------------------------------------------

class Sim:
    def __init__(self, clean, d, slot, jobs):
        self.dir = os.path.join(d, "sim")
        os.makedirs(os.path.join(self.dir, "hostkeys"), mode=0o700)
        src = os.path.join(clean, "sim")
        for f in os.listdir(os.path.join(src, "hostkeys")):
            shutil.copy2(os.path.join(src, "hostkeys", f), os.path.join(self.dir, "hostkeys", f))
        for f in ("client_ed25519", "client_ed25519.pub", "authorized_keys"):
            shutil.copy2(os.path.join(src, f), os.path.join(self.dir, f))
        scn = [l for l in open(os.path.join(src, "scenario.yml")) if not l.startswith("base_port:")]
        self.proc = None
        for attempt in range(8):
            self.base = PORT_BASE + ((slot + attempt * jobs) % PORT_SLOTS) * 10
            with open(os.path.join(self.dir, "scenario.yml"), "w") as f:
                f.writelines(scn)
                f.write("base_port: %d\n" % self.base)
            pidf = os.path.join(self.dir, "ccrsim.pid")
            if os.path.exists(pidf):
                os.unlink(pidf)
            log = open(os.path.join(self.dir, "ccrsim.log"), "w")
            self.proc = subprocess.Popen(
                [CCRSIM, "--scenario", os.path.join(self.dir, "scenario.yml"), "--time-scale", "0",
                 "--state-dir", self.dir] +
                (["--transport", os.environ["SIM_TRANSPORT"]] if os.environ.get("SIM_TRANSPORT")
                 else []), stdout=log, stderr=subprocess.STDOUT)
            log.close()
            t0 = time.time()
            while time.time() - t0 < 20 and self.proc.poll() is None and \
                    not (os.path.exists(pidf) and os.path.getsize(pidf) > 0):
                time.sleep(0.01)
            if self.proc.poll() is None and os.path.exists(pidf):
                break
            self.stop()
            if "in use" not in open(os.path.join(self.dir, "ccrsim.log")).read():
                raise RuntimeError("ccrsim did not start: " +
                                   open(os.path.join(self.dir, "ccrsim.log")).read()[-500:])
        else:
            raise RuntimeError("ccrsim: no free ports")
        self.known_hosts = os.path.join(self.dir, "known_hosts")

    def ctl(self, req):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(20)
        s.connect(os.path.join(self.dir, "control.sock"))
        s.sendall((json.dumps(req) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        s.close()
        rep = json.loads(buf)
        if not rep.get("ok"):
            raise RuntimeError("ccrsim ctl %s: %s" % (req.get("op"), rep.get("error")))
        return rep

    def fault(self, f):
        self.ctl({"op": "fault-add", "fault": f})

    def clear(self):
        self.ctl({"op": "fault-clear", "host": None})

    def dump(self):
        return self.ctl({"op": "dump"})

    def host(self, w, name):
        return next(h for h in w["hosts"] if h["name"] == name)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class HttpFault:
    """A listener the HTTP check meets instead of ccrsim's: one fault kind until clear()."""

    def __init__(self, slot, n, kind, cert):
        self.addr = "127.0.1.%d" % (slot % 250 + 1)
        self.port = HTTP_PORT + n % 100  # a port per case: the last one may still linger
        self.kind, self.mode, self.hits = kind, kind, 0
        self.stopped = threading.Event()
        self.lsock = None
        self.ctx = None
        if kind == "http-bad-tls":
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(cert[0], cert[1])
        if kind != "http-refused":
            self.listen()

    def url(self):
        return "%s://%s:%d/owa/" % ("https" if self.ctx else "http", self.addr, self.port)

    def listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.addr, self.port))
        s.listen(16)
        s.settimeout(0.2)
        self.lsock = s
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.stopped.is_set():
            try:
                c, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        self.hits += 1
        try:
            c.settimeout(10)
            if self.ctx:
                c = self.ctx.wrap_socket(c, server_side=True)
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = c.recv(4096)
                if not chunk:
                    return
                buf += chunk
            mode = self.mode
            if mode == "http-hang":
                self.stopped.wait(30)
            elif mode == "http-slow-body":
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n")
                for _ in range(1000):
                    if self.stopped.wait(0.5) or self.mode != mode:
                        break
                    c.sendall(b"x")
            elif mode == "http-5xx":
                c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                          b"Connection: close\r\n\r\n")
            else:
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK")
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def clear(self):
        self.mode = "ok"
        if self.lsock is None:
            self.listen()

    def stop(self):
        self.stopped.set()
        if self.lsock:
            self.lsock.close()


def short_inventory(sim, d, owa_url=None):
    """ccrsim's inventory with short SSH timeouts (the same file for apply and resume)."""
    text = open(os.path.join(sim.dir, "inventory.yml")).read()
    text = re.sub(r"(?m)^  connect_timeout: .*$", "  connect_timeout: 2s", text)
    text = re.sub(r"(?m)^  command_timeout: .*$", "  command_timeout: %ds" % CMD_TIMEOUT_S, text)
    if owa_url:
        text, n = re.subn(r"(?m)^(\s+owa_url: ).*$", lambda m: m.group(1) + owa_url, text)
        if n != 1:
            raise RuntimeError("no owa_url in ccrsim's inventory")
    path = os.path.join(d, "inventory.yml")
    with open(path, "w") as f:
        f.write(text)
    return path


def ccrup(args, log, limit=60):
    t0 = time.time()
    with open(log, "w") as out:
        p = subprocess.Popen([CCRUP] + args, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        try:
            rc = p.wait(limit)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = "killed"
    return rc, time.time() - t0, open(log).read()


# ---- one case --------------------------------------------------------------------------

def fault_for(t, kind):
    f = {"host": t["node"], "kind": kind}
    if kind in BOOT_KINDS:
        f["count"] = 1
        return f
    f.update({"match": t["key"], "nth": t["nth"]})
    if kind == "fail":
        f.update({"exit": FAIL_EXIT, "message": FAIL_MSG})
    elif kind == "drop":
        f["after_bytes"] = t["out"] // 2
    elif kind == "slow":
        f["delay_ms"] = SLOW_MS
    return f


def expected(t, kind, has_check):
    """The documented exit code of the faulted run."""
    if kind == "slow":
        return 0  # harmless: the output only arrives later
    if kind == "drop":
        # The command ran (the drop comes after its output began); ccrup reconnects and a
        # step's check proves it done; a reboot's drop is the reboot itself.  A step with
        # no check cannot be settled: exit 1, and resume runs it again (idempotent).
        return 0 if (t["reboot"] or has_check) else 1
    return 1


def iso_ms(t):
    """Milliseconds of a journal time (2026-11-21T10:41:07.412Z)."""
    return calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) * 1000 + int(t[20:23])


def journal_records(state):
    path = os.path.join(state, CLUSTER, "journal.jsonl")
    if not os.path.exists(path):
        return []
    recs = []
    for line in open(path):
        try:
            recs.append(json.loads(line))
        except ValueError:
            recs.append({})
    return recs


def audit_records(state):
    path = os.path.join(state, CLUSTER, "audit.jsonl")
    return [json.loads(l) for l in open(path)] if os.path.exists(path) else []


def audit_shows(recs, t, kind):
    """None when the faulted run's audit log shows the fault on t's command, else why not."""
    starts = [i for i, r in enumerate(recs) if r.get("event") == "run-start"]
    recs = recs[starts[-1]:] if starts else recs
    seen = [r for r in recs if r.get("event") == "command" and r.get("step") == t["step"] and
            r.get("node") == t["node"] and r.get("command") == t["command"]]
    if not seen:
        return "no command record for `%s` of %s on %s" % (t["command"], t["step"], t["node"])
    r = seen[0]
    got = len(r.get("stdout") or "") + len(r.get("stderr") or "")
    if kind == "fail" and (r["exit"] != FAIL_EXIT or FAIL_MSG not in (r.get("stderr") or "")):
        return "exit %s, stderr %r: not the injected failure" % (r["exit"], r.get("stderr"))
    if kind == "hang" and (r["exit"] != -1 or r["duration_ms"] < CMD_TIMEOUT_S * 1000 - 100):
        return "exit %s after %d ms: not a timeout" % (r["exit"], r["duration_ms"])
    if kind == "drop" and (r["exit"] != -1 or got > t["out"] // 2):
        return "exit %s with %d bytes: not dropped half-way through %d bytes" % (
            r["exit"], got, t["out"])
    if kind == "slow" and r["duration_ms"] < SLOW_MS:
        return "took %d ms: not slowed" % r["duration_ms"]
    if kind in BOOT_KINDS and r["exit"] != 0:
        return "the restart command exited %s" % r["exit"]
    return None


def status_cluster(text):
    """This cluster's object in `ccrup status -o json` (format ccrup-status/1)."""
    return next(c for c in json.loads(text)["clusters"] if c["name"] == CLUSTER)


def run_case(c, clean, work, epochs, slot, jobs, checks, window):
    t, kind = c["t"], c["kind"]
    d = os.path.join(work, "%03d" % c["n"])
    os.makedirs(d)
    state = os.path.join(d, "state")
    res = {"exit": None, "secs": None, "resumed": False, "problems": [], "note": ""}
    sim = None
    hf = None
    http = kind in HTTP_KINDS
    try:
        sim = Sim(clean, d, slot, jobs)
        if http:
            hf = HttpFault(slot, c["n"], kind, CERT)
        inv = short_inventory(sim, d, hf.url() if hf else None)
        base = [inv, "--yes", "--state-dir", state, "--max-timeout", MAX_TIMEOUT]
        verb = "apply"
        if kind in BOOT_KINDS and c["earlier_reboot"]:
            # A boot fault hits the node's next restart, whichever step issues it: stop the
            # run just before this reboot (a failed command), then let resume meet the fault.
            p = t["prev"]
            sim.fault({"host": p["node"], "match": p["key"], "nth": p["nth"], "kind": "fail",
                       "exit": FAIL_EXIT, "message": FAIL_MSG})
            rc, _, out = ccrup(["apply"] + base, os.path.join(d, "prestop.log"))
            sim.clear()
            if rc != 1:
                res["problems"].append("pre-stop at %s exited %s" % (p["step"], rc))
                return res
            verb = "resume"
            res["note"] = "met by resume after a stop at %s" % p["step"]
        if not http:
            sim.fault(fault_for(t, kind))
        rc, secs, out = ccrup([verb] + base, os.path.join(d, "faulted.log"))
        res["exit"], res["secs"] = rc, secs
        want = 1 if http else expected(t, kind, (t["step"], t["node"]) in checks)
        budget = 10 + (CMD_TIMEOUT_S if kind in ("hang", "no-return") or http else 0)
        if rc != want:
            res["problems"].append("exit %s, want %s" % (rc, want))
        if secs > budget:
            res["problems"].append("took %.1fs, budget %ds" % (secs, budget))
        recs = journal_records(state)
        failed = [r for r in recs if r.get("event") == "failed"]
        if rc == 1:
            last = failed[-1] if failed else {}
            if last.get("step") != t["step"] or last.get("node") != t["node"]:
                res["problems"].append("journal's failed step is %s on %s, want %s on %s" % (
                    last.get("step"), last.get("node"), t["step"], t["node"]))
            else:
                # The step itself, from `begin` to `failed`, keeps its (capped) budget.
                begin = [r for r in recs if r.get("event") == "begin" and
                         r.get("step") == t["step"] and r.get("node") == t["node"]]
                took = (iso_ms(last["time"]) - iso_ms(begin[-1]["time"])) / 1000.0 \
                    if begin else None
                # An HTTP check gives up within --max-timeout, retries and pauses included.
                limit = STEP_SLACK_S + (CMD_TIMEOUT_S if kind in ("hang", "no-return") else
                                        int(MAX_TIMEOUT[:-1]) if http else 0)
                if took is None or took > limit:
                    res["problems"].append("the step took %ss from begin to failed, budget %ss"
                                           % (took, limit))
            end = r"(?![\w.\[-])"
            for what, pat in (("cluster", r"cluster %s%s" % (CLUSTER, end)),
                              ("node", r"node %s%s" % (t["node"], end)),
                              ("step", r"step %s%s" % (re.escape(t["step"]), end)),
                              ("cause", CAUSE.get(kind, "$^"))):
                if not re.search(pat, out):
                    res["problems"].append("message does not name the %s (/%s/)" % (what, pat))
        st_rc, _, st_out = ccrup(["status", inv, "--state-dir", state, "-o", "json"],
                                 os.path.join(d, "status.json"))
        in_window = rc == 1 and t["step"] in window
        if st_rc != 0:
            res["problems"].append("status -o json exited %s: %s" % (st_rc, st_out[-200:]))
        else:
            sc = status_cluster(st_out)
            want_state = {0: "done", 1: "failed"}.get(rc)
            if sc.get("state") != want_state or bool(sc["outage"]["ongoing"]) != in_window:
                res["problems"].append("status says %s, outage ongoing %s; want %s, %s" % (
                    sc.get("state"), sc["outage"]["ongoing"], want_state, in_window))
        w = sim.dump()
        if http:
            fired = hf.hits if kind != "http-refused" else 1
        else:
            fired = sum(f["fired"] for f in w["faults"] if f["kind"] == kind)
        if fired < 1:
            res["problems"].append("the %s fault never fired: the case proves nothing" % kind)
        # The audit log has what ccrup sent and received: the fault must show there, on
        # this step's command (so it hit the intended command, not a probe).
        why = None if http else audit_shows(audit_records(state), t, kind)
        if why:
            res["problems"].append("audit log: " + why)
        cl = next(x for x in w["clusters"] if x["name"] == CLUSTER)
        if cl["cms"]["state"] != "Online" and not in_window:
            res["problems"].append("CMS %s after a failure outside the outage window" %
                                   cl["cms"]["state"])
        if len(cl["outages"]) > 1:
            res["problems"].append("%d outages after the faulted run" % len(cl["outages"]))
        if in_window:
            _, _, st_text = ccrup(["status", inv, "--state-dir", state],
                                  os.path.join(d, "status.txt"))
            if "OUTAGE ONGOING" not in st_text:
                res["problems"].append("failure in the outage window, but `ccrup status` does "
                                       "not say OUTAGE ONGOING")
        # The operator's remedy, then resume.
        sim.clear()
        if hf:
            hf.clear()
        extra = []
        if kind == "no-return":
            t0 = time.time()
            while sim.host(sim.dump(), t["node"])["power"] != "up" and time.time() - t0 < 10:
                time.sleep(0.02)
        if kind == "new-hostkey":
            port = sim.host(w, t["node"])["port"]
            subprocess.run(["ssh-keygen", "-q", "-R", "[127.0.0.1]:%d" % port, "-f",
                            sim.known_hosts], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=True)
            extra = ["--trust-new-hosts"]
        rrc, rsecs, rout = ccrup(["resume"] + base + extra, os.path.join(d, "resume.log"))
        w = sim.dump()
        with open(os.path.join(d, "world.json"), "w") as f:
            json.dump(w, f)
        chk = subprocess.run([sys.executable, os.path.join(REPO, "tests", "lib", "world.py"),
                              os.path.join(d, "world.json"), "converged", CLUSTER, TARGET,
                              "DISABLED", epochs], capture_output=True, text=True)
        st_rc, _, st_out = ccrup(["status", inv, "--state-dir", state, "-o", "json"],
                                 os.path.join(d, "status2.json"))
        if kind == "http-bad-tls":
            # Nothing here can make ccrup trust the certificate: resume must fail the same
            # way, in its budget, and never claim the step done.
            res["note"] = "the certificate stays untrusted: resume fails the same way (exit 1)"
            if rrc != 1 or rsecs > budget or not re.search(CAUSE[kind], rout):
                res["problems"].append("resume with the untrusted certificate: exit %s in %.1fs"
                                       % (rrc, rsecs))
            elif st_rc != 0 or status_cluster(st_out).get("state") != "failed":
                res["problems"].append("status after the failed resume: %s" % st_out[-300:])
        elif rrc != 0:
            res["problems"].append("resume exited %s: %s" % (rrc, " | ".join(
                l for l in rout.splitlines() if "CLUS1" in l)[-300:]))
        elif chk.returncode != 0:
            res["problems"].append("after resume: " + chk.stdout.strip())
        elif st_rc != 0:
            res["problems"].append("status -o json after resume exited %s" % st_rc)
        elif status_cluster(st_out).get("state") != "done" or \
                status_cluster(st_out)["outage"]["ongoing"]:
            res["problems"].append("status after resume: %s" % st_out[-300:])
        else:
            res["resumed"] = True
    except Exception as e:  # a harness failure is a failed case, never a crash
        tb = traceback.extract_tb(e.__traceback__)[-1]
        res["problems"].append("harness: %r at line %d" % (e, tb.lineno))
    finally:
        if hf:
            hf.stop()
        if sim:
            sim.stop()
        if not res["problems"] and not os.environ.get("FAULT_MATRIX_KEEP"):
            shutil.rmtree(d, ignore_errors=True)
    return res


def load_plan(clean):
    """From `ccrup plan -o json`: the steps that have a check, and the outage window's steps."""
    out = subprocess.run([CCRUP, "plan", os.path.join(clean, "sim", "inventory.yml"), "-o", "json"],
                         capture_output=True, text=True, check=True).stdout
    cl = next(c for c in json.loads(out)["clusters"] if c["name"] == CLUSTER)
    checks = {(s["id"], s["node"]) for s in cl["steps"] if s.get("check")}
    ids = [s["id"] for s in cl["steps"]]
    o = cl["outage"]
    window = set(ids[ids.index(o["from"]):ids.index(o["to"]) + 1])
    http = [{"step": s["id"], "node": s["node"], "command": None, "reboot": False, "http": True}
            for s in cl["steps"] if s.get("url")]
    return checks, window, http


# ---- the table -------------------------------------------------------------------------

def cell(c):
    if c is None:
        return "n/a"
    r = c["res"]
    if r["exit"] is None:
        return "**FAIL**"
    s = "%s · %.1fs · %s" % (r["exit"], r["secs"], "ok" if r["resumed"] else "NO")
    if r["problems"]:
        s = "**FAIL** " + s
    return s


def write_doc(doc, targets, cells, summary):
    lines = []
    for kinds, pick in ((KINDS, lambda t: not t.get("http")), (HTTP_KINDS, lambda t: t.get("http"))):
        rows = [(i, t) for i, t in enumerate(targets) if pick(t)]
        if not rows:
            continue
        lines += ["", "| step | node | " + " | ".join(kinds) + " |",
                  "| --- | --- |" + " --- |" * len(kinds)]
        for i, t in rows:
            lines.append("| `%s` | %s | %s |" % (t["step"], t["node"], " | ".join(
                cell(cells.get((i, k))) for k in kinds)))
    lines.append("")
    lines.extend(summary)
    lines.append("")
    block = "\n".join(lines)
    begin, end = "<!-- fault-matrix:begin -->", "<!-- fault-matrix:end -->"
    text = open(doc).read() if os.path.exists(doc) else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + begin + block + end + tail
    else:
        text += "\n## Fault matrix\n\n" + begin + block + end + "\n"
    tmp = doc + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, doc)


# ---- main ------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("clean")
    ap.add_argument("work")
    ap.add_argument("epochs")
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--doc")
    ap.add_argument("--only", help="regex over 'STEP NODE KIND'")
    a = ap.parse_args()
    global CERT
    checks, window, http_targets = load_plan(a.clean)
    targets = load_targets(a.clean)
    n_cmd = len(targets)
    targets += http_targets
    CERT = (os.path.join(a.work, "tls.crt"), os.path.join(a.work, "tls.key"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=owa.invalid", "-keyout", CERT[1], "-out", CERT[0]],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    first_reboot = {}
    cases = []
    for i, t in enumerate(targets):
        if t["reboot"]:
            first_reboot.setdefault(t["node"], i)
        for kind in (HTTP_KINDS if t.get("http") else KINDS):
            if kind in BOOT_KINDS and not t["reboot"]:
                continue
            if a.only and not re.search(a.only, "%s %s %s" % (t["step"], t["node"], kind)):
                continue
            cases.append({"n": len(cases) + 1, "i": i, "t": t, "kind": kind,
                          "earlier_reboot": first_reboot.get(t["node"], i) < i})
    cells_all = n_cmd * len(KINDS) + len(http_targets) * len(HTTP_KINDS)
    print("fault_matrix: %d command steps x %d fault kinds, %d HTTP checks x %d HTTP faults: "
          "%d cases (%d n/a)" % (n_cmd, len(KINDS), len(http_targets), len(HTTP_KINDS), len(cases),
                                 cells_all - len(cases) if not a.only else 0), flush=True)
    t0 = time.time()
    lock = threading.Lock()
    queue = list(cases)
    # Long cases first, so the pool does not end waiting on one of them.
    queue.sort(key=lambda c: c["kind"] not in ("hang", "no-return", "http-hang"))

    def worker(slot):
        while True:
            with lock:
                if not queue or not os.path.isdir(a.clean):
                    return  # done, or the test's directory was removed under us
                c = queue.pop(0)
            c["res"] = run_case(c, a.clean, a.work, a.epochs, slot, a.jobs, checks, window)
            if c["res"]["problems"]:
                with lock:
                    print("not ok - %s on %s, %s: %s" % (c["t"]["step"], c["t"]["node"],
                                                         c["kind"], "; ".join(c["res"]["problems"])),
                          flush=True)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(a.jobs)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.time() - t0
    if not os.path.isdir(a.clean) or any("res" not in c for c in cases):
        print("fault_matrix: aborted: %s vanished; the results table is left alone" % a.clean)
        return 1
    bad = [c for c in cases if c["res"]["problems"]]
    by_exit = {}
    for c in cases:
        by_exit[c["res"]["exit"]] = by_exit.get(c["res"]["exit"], 0) + 1
    resumed = sum(1 for c in cases if c["res"]["resumed"])
    summary = [
        "Totals: %d command steps x %d fault kinds and %d HTTP checks x %d HTTP faults = %d cells: "
        "%d cases run, %d n/a; %d passed, %d failed; "
        "exit 0 in %d, exit 1 in %d; resume converged in %d of %d; %.0f s with %d cases at once "
        "(ccrsim time scale 0, `--max-timeout %s`, `command_timeout: %ds`, `connect_timeout: 2s`)."
        % (n_cmd, len(KINDS), len(http_targets), len(HTTP_KINDS), cells_all, len(cases),
           cells_all - len(cases), len(cases) - len(bad), len(bad),
           by_exit.get(0, 0), by_exit.get(1, 0), resumed, len(cases), elapsed, a.jobs,
           MAX_TIMEOUT, CMD_TIMEOUT_S)]
    notes = sorted({(c["t"]["step"], c["kind"], c["res"]["note"]) for c in cases if c["res"]["note"]})
    for step, kind, note in notes:
        summary.append("")
        summary.append("`%s` × %s: %s (a boot fault takes the node's next restart)." % (
            step, kind, note))
    if a.doc and not a.only:
        cells = {(c["i"], c["kind"]): c for c in cases}
        write_doc(a.doc, targets, cells, summary)
    print("fault_matrix: %d passed, %d failed in %.0fs" % (len(cases) - len(bad), len(bad), elapsed))
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
