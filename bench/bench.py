#!/usr/bin/env python3
"""The ccrup benchmark (make bench -> bench/run.sh -> this).  Never part of `make check`.

Every measurement runs against ccrsim on loopback, with a fresh simulated world per run,
each tool under `/usr/bin/time -f '%e %U %S %M'` around build/bench/reap (a child
subreaper, so daemonized ssh masters are counted and ended).  Results go to
build/bench/results.json; bench/report.py turns them into docs/benchmarks.md.

Environment:
  BENCH_RUNS=5          runs per tool in the sequence comparison (a)
  BENCH_FLEETS=10,100,334
  BENCH_PARALLEL=10,50,100,all
  BENCH_ANSIBLE_FLEET=0 (off: see bench/notes.md)  BENCH_ANSIBLE_FORKS=50  BENCH_ANSIBLE_CAP=900 (seconds)
  BENCH_SCALE=0.01      time scale of the realistic run (d)
  BENCH_ONLY=a,b,c,d,e  sections to run (e: shared state on etcd)
  BENCH_ETCD_RECORDS=500  BENCH_ETCD_TTL=2  BENCH_ETCD_ROUNDS=5
"""
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
os.chdir(ROOT)
BB = os.path.join(ROOT, "build", "bench")
REAP = os.path.join(BB, "reap")
SCN = "mock-nodes/scenarios/two-node.yml"
TARGET = "8.1.240.6"
ENV = os.environ


def envlist(name, default):
    return [x.strip() for x in ENV.get(name, default).split(",") if x.strip()]


RUNS = int(ENV.get("BENCH_RUNS", "5"))
ONLY = set(envlist("BENCH_ONLY", "a,b,c,d,e"))
TMP = tempfile.mkdtemp(prefix="ccrup-bench.")


def log(msg):
    print(msg, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


# ---------------------------------------------------------------- ccrsim


class Sim:
    """One ccrsim on loopback, in its own state directory and port range."""

    def __init__(self, scale=0, fleet=None, scenario=SCN):
        self.dir = tempfile.mkdtemp(prefix="sim.", dir=TMP)
        self.scale, self.fleet, self.scenario = scale, fleet, scenario
        self.proc = None

    def start(self):
        with open(self.scenario) as f:
            text = re.sub(r"(?m)^base_port:.*\n", "", f.read())
        hosts = 3  # a fleet puts every host on its own address, with the scenario's ports
        for attempt in range(12):
            # SSH 20000-21999, HUB/CAS HTTP at SSH + 10000 (30000-31999), WinRM at SSH - 10000:
            # apart from the tests' bands (tests/lib/sim.sh: SSH 12000-19999) and below the
            # ephemeral ports (32768-), where TIME_WAIT sockets of client connections sit.
            base = random.randrange(20000, 22000 - hosts, 100)
            scn = os.path.join(self.dir, "scenario.yml")
            with open(scn, "w") as f:
                f.write(text + "base_port: %d\n" % base)
            pidf = os.path.join(self.dir, "ccrsim.pid")
            if os.path.exists(pidf):
                os.unlink(pidf)
            args = ["bin/ccrsim", "--scenario", scn, "--time-scale", str(self.scale),
                    "--state-dir", self.dir]
            if self.fleet:
                args += ["--fleet", str(self.fleet)]
            self.logf = open(os.path.join(self.dir, "ccrsim.log"), "w")
            self.proc = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT)
            for _ in range(1200):
                if os.path.exists(pidf) and os.path.getsize(pidf) > 0:
                    self.inv = os.path.join(self.dir, "inventory.yml")
                    return self
                if self.proc.poll() is not None:
                    break
                time.sleep(0.025)
            self.stop()
            with open(os.path.join(self.dir, "ccrsim.log")) as f:
                out = f.read()
            if "in use" not in out:
                raise RuntimeError("ccrsim did not start: " + out[-2000:])
        raise RuntimeError("ccrsim: no free port range")

    def ctl(self, *args):
        r = subprocess.run(["bin/ccrsim", "ctl", "--state-dir", self.dir] + list(args),
                           capture_output=True, text=True, timeout=120)
        return r.stdout

    def dump(self):
        return json.loads(self.ctl("dump"))

    def status(self, key):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def cpu_s(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


# ---------------------------------------------------------------- measuring


def timed(cmd, out, env=None, timeout=None):
    """Run cmd under /usr/bin/time and reap; wall s, user s, sys s, peak RSS KiB, rc."""
    tf = os.path.join(TMP, "time.%d" % random.randrange(1 << 30))
    t0 = time.time()
    with open(out, "w") as o:
        p = subprocess.Popen(["/usr/bin/time", "-f", "%e %U %S %M", "-o", tf, REAP] + cmd,
                             stdout=o, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        capped = False
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            capped = True  # end the whole process group: time, reap, the tool
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    t1 = time.time()
    with open(tf) as f:
        lines = [l for l in f.read().splitlines() if re.match(r"^[0-9.]+ [0-9.]+ [0-9.]+ [0-9]+$", l)]
    e, u, s, m = lines[-1].split() if lines else (t1 - t0, 0, 0, 0)
    # time(1) prints the wall time in hundredths: too coarse for a 0.05 s run.  Our own clock
    # around it, less what starting time(1) and reap costs (measured once), is finer.
    wall = float(e) if float(e) >= 1 or cmd == ["true"] else max(t1 - t0 - launch_cost(), 0.0)
    return {"wall": wall, "user": float(u), "sys": float(s), "cpu": float(u) + float(s),
            "rss_kb": int(m), "rc": p.returncode, "capped": capped, "t0": t0, "t1": t1}


_LAUNCH = []


def launch_cost():
    """Seconds that timed() adds around a tool that does nothing (time(1), reap, fork/exec)."""
    if not _LAUNCH:
        runs = []
        for _ in range(7):
            r = timed(["true"], os.devnull)
            runs.append(r["t1"] - r["t0"])
        _LAUNCH.append(statistics.median(runs))
    return _LAUNCH[0]


def world_done(w):
    hosts = {h["name"]: h for h in w["hosts"]}
    n = 0
    for c in w["clusters"]:
        if (c["cms"]["version"] == TARGET and c["cms"]["state"] == "Online"
                and all(hosts[m]["binaries_version"] == TARGET for m in c["members"])):
            n += 1
    return n


def commands_sent(w):
    """Remote commands the world received: ccrsim's per-host `requests` (one per SSH exec or
    WinRM Command, a compound probe counting once) where its dump has them, else the sum of
    its per-host command counts (every command it interpreted)."""
    return sum(h["requests"] if "requests" in h else sum(h["commands"].values())
               for h in w["hosts"])


def commands_run(w):
    """Every command the world interpreted, the parts of compound probes included."""
    return sum(sum(h["commands"].values()) for h in w["hosts"])


def med(xs):
    return statistics.median(xs) if xs else None


def plan_json(inv, out):
    with open(out, "w") as f:
        subprocess.run(["bin/ccrup", "plan", inv, "-o", "json"], stdout=f, check=True)
    return out


# ---------------------------------------------------------------- (a) one cluster, three tools


def inventory_hosts(inv):
    """Host name -> (address, port) of a generated inventory."""
    hosts, cur = {}, None
    with open(inv) as f:
        for line in f:
            m = re.match(r"^  ([A-Za-z0-9.-]+):\s*$", line)
            if m:
                cur = hosts.setdefault(m.group(1), {})
                continue
            m = re.match(r"^    (address|port): (\S+)", line)
            if m and cur is not None:
                cur[m.group(1)] = m.group(2)
    return hosts


def sent_list(audit, reboot_cmd):
    """[(node, is_reboot, command)]: the remote commands a ccrup run sent, in order, from its
    audit log.  A compound probe is one remote command (its `batch` event carries what was
    sent); its parts' `command` events (with a "batch" field) were not sent on their own."""
    out = []
    with open(audit) as f:
        for line in f:
            r = json.loads(line)
            if r.get("event") == "batch" or (r.get("event") == "command" and "batch" not in r):
                out.append((r["node"], r["command"] == reboot_cmd, r["command"]))
    return out


def write_list(lst, out):
    """LIST for bench/gen.py's ssh-list and ansible-list: NODE, reboot flag, command."""
    with open(out, "w") as o:
        for node, rb, cmd in lst:
            o.write("%s\t%d\t%s\n" % (node, rb, cmd))


def floor_list(lst, inv, out):
    """The same, addressed to inv's hosts, for bench/floor.c."""
    hosts = inventory_hosts(inv)
    with open(out, "w") as o:
        for node, _, cmd in lst:
            h = hosts[node]
            o.write("%s %s\t%s\n" % (h["address"], h["port"], cmd))
    return len(lst)


def sp1_reboot_command():
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import gen
    return gen.reboot_command({"playbook": {"path": "playbooks/ccr-sp1.yml"}})


def run_tool(tool, runs_dir, i):
    sim = Sim(0).start()
    try:
        d = os.path.join(runs_dir, "%s.%d" % (tool, i))
        os.makedirs(d)
        env = dict(ENV)
        if tool == "ccrup":
            cmd = ["bin/ccrup", "apply", sim.inv, "--yes", "-q", "--state-dir", d + "/state"]
        elif tool in ("floor", "ansible-list", "openssh-list"):
            # Exactly what this round's ccrup run sent, probes included, to a fresh world.
            audit = os.path.join(runs_dir, "ccrup.%d" % i, "state", "CLUS1", "audit.jsonl")
            lst = sent_list(audit, sp1_reboot_command())
            write_list(lst, d + "/list")
            if tool == "floor":
                floor_list(lst, sim.inv, d + "/flist")
                key = os.path.join(sim.dir, "client_ed25519")
                cmd = ["sh", "-c", 'exec "$0" administrator "$1" < "$2"', os.path.join(BB, "floor"),
                       key, d + "/flist"]
            elif tool == "ansible-list":
                subprocess.run([sys.executable, "bench/gen.py", "ansible-list", d + "/list", sim.inv,
                                d + "/ans"], check=True, stdout=subprocess.DEVNULL)
                env["ANSIBLE_CONFIG"] = d + "/ans/ansible.cfg"
                cmd = ["ansible-playbook", d + "/ans/site.yml"]
            else:
                subprocess.run([sys.executable, "bench/gen.py", "ssh-list", d + "/list", sim.inv,
                                d + "/cm.sh"], check=True, stdout=subprocess.DEVNULL)
                cmd = ["sh", d + "/cm.sh"]
        else:
            plan = plan_json(sim.inv, d + "/plan.json")
            if tool == "ansible":
                subprocess.run([sys.executable, "bench/gen.py", "ansible", plan, sim.inv, d + "/ans"],
                               check=True, stdout=subprocess.DEVNULL)
                env["ANSIBLE_CONFIG"] = d + "/ans/ansible.cfg"
                cmd = ["ansible-playbook", d + "/ans/site.yml"]
            else:
                subprocess.run([sys.executable, "bench/gen.py", "ssh", plan, sim.inv, d + "/cm.sh"],
                               check=True, stdout=subprocess.DEVNULL)
                cmd = ["sh", d + "/cm.sh"]
        r = timed(cmd, d + "/out.log", env=env)
        w = sim.dump()
        r["commands"] = commands_sent(w)
        r["commands_run"] = commands_run(w)
        r["upgraded"] = world_done(w) == 1
        r["outage_ms"] = w["clusters"][0]["outage_total_ms"]
        r["sessions"] = w["server"]["sessions_total"]
        r["load"] = loadavg()[0]
        return r
    finally:
        sim.stop()


def section_a(res):
    log("\n== (a) the ccr-sp1 sequence on two-node.yml, time scale 0, %d runs per tool" % RUNS)
    runs_dir = os.path.join(TMP, "a")
    os.makedirs(runs_dir)
    tools = ["ccrup", "floor", "ansible-list", "openssh-list"]
    raw = {t: [] for t in tools}
    for i in range(RUNS):
        for t in tools:  # interleaved, so load changes hit every tool alike
            r = run_tool(t, runs_dir, i)
            raw[t].append(r)
            log("  run %d %-8s %6.2f s  cpu %5.2f s  rss %6d KiB  %3d commands  %s  (load %.1f)"
                % (i + 1, t, r["wall"], r["cpu"], r["rss_kb"], r["commands"],
                   "upgraded" if r["upgraded"] and r["rc"] == 0 else "NOT UPGRADED rc=%s" % r["rc"],
                   r["load"]))
    summ = {}
    for t in tools:
        rs = raw[t]
        summ[t] = {"wall": med([r["wall"] for r in rs]), "cpu": med([r["cpu"] for r in rs]),
                   "user": med([r["user"] for r in rs]), "sys": med([r["sys"] for r in rs]),
                   "rss_kb": med([r["rss_kb"] for r in rs]),
                   "commands": med([r["commands"] for r in rs]),
                   "wall_min": min(r["wall"] for r in rs), "wall_max": max(r["wall"] for r in rs),
                   "ok": all(r["upgraded"] and r["rc"] == 0 for r in rs)}
        summ[t]["ms_per_command"] = 1000 * summ[t]["wall"] / summ[t]["commands"]
    res["a"] = {"runs": raw, "summary": summ}


# ---------------------------------------------------------------- (b) fleets


def steps_per_cluster(inv):
    p = json.loads(subprocess.run(["bin/ccrup", "plan", inv, "-o", "json", "--clusters",
                                   "CLUS1-001"], capture_output=True, text=True, check=True).stdout)
    return len(p["clusters"][0]["steps"])


def section_b(res):
    fleets = [int(x) for x in envlist("BENCH_FLEETS", "10,100,334")]
    pars = envlist("BENCH_PARALLEL", "10,50,100,all")
    log("\n== (b) fleets %s at time scale 0, --parallel %s" % (fleets, pars))
    rows = []
    for n in fleets:
        ps = sorted({int(p) for p in pars if p != "all" and int(p) < n}) + [n]
        for p in ps:
            sim = Sim(0, fleet=n).start()
            try:
                d = os.path.join(TMP, "b", "%d.%d" % (n, p))
                os.makedirs(d)
                steps = steps_per_cluster(sim.inv)
                r = timed(["bin/ccrup", "apply", sim.inv, "--yes", "-q", "--parallel", str(p),
                           "--max-failed", str(n), "--state-dir", d + "/state"], d + "/out.log")
                w = sim.dump()
                r.update({"fleet": n, "hosts": 3 * n, "parallel": p, "all": p == n,
                          "steps": steps * n, "done": world_done(w), "commands": commands_sent(w),
                          "sim_rss_kb": sim.status("VmHWM"), "sim_cpu": sim.cpu_s(),
                          "load": loadavg()[0]})
                r["ms_per_step"] = 1000 * r["wall"] / r["steps"]
                rows.append(r)
                log("  fleet %4d (%4d hosts) --parallel %-4s %7.2f s  rss %6d KiB  cpu %6.2f s  "
                    "%5.2f ms/step  %d/%d upgraded  ccrsim %d KiB %.1f s cpu  (load %.1f)"
                    % (n, 3 * n, "all" if p == n else p, r["wall"], r["rss_kb"], r["cpu"],
                       r["ms_per_step"], r["done"], n, r["sim_rss_kb"], r["sim_cpu"], r["load"]))
            finally:
                sim.stop()
    res["b"] = {"rows": rows}
    # Ansible on one fleet, for comparison.
    n = int(ENV.get("BENCH_ANSIBLE_FLEET", "0"))
    forks = int(ENV.get("BENCH_ANSIBLE_FORKS", "50"))
    cap = int(ENV.get("BENCH_ANSIBLE_CAP", "900"))
    if n <= 0:
        return
    sim = Sim(0, fleet=n).start()
    try:
        d = os.path.join(TMP, "b", "ansible.%d" % n)
        os.makedirs(d)
        plan = plan_json(sim.inv, d + "/plan.json")
        subprocess.run([sys.executable, "bench/gen.py", "ansible", plan, sim.inv, d + "/ans",
                        "--forks", str(forks)], check=True, stdout=subprocess.DEVNULL)
        env = dict(ENV, ANSIBLE_CONFIG=d + "/ans/ansible.cfg")
        log("  ansible-playbook, fleet %d, forks %d (capped at %d s) ..." % (n, forks, cap))
        r = timed(["ansible-playbook", d + "/ans/site.yml"], d + "/out.log", env=env, timeout=cap)
        w = sim.dump()
        r.update({"fleet": n, "forks": forks, "cap": cap, "done": world_done(w),
                  "commands": commands_sent(w), "load": loadavg()[0]})
        log("  ansible fleet %d forks %d: %7.2f s%s  rss %d KiB  cpu %.1f s  %d/%d upgraded  "
            "%d commands" % (n, forks, r["wall"], " (CAPPED)" if r["capped"] else "",
                             r["rss_kb"], r["cpu"], r["done"], n, r["commands"]))
        res["b"]["ansible"] = r
    finally:
        sim.stop()


# ---------------------------------------------------------------- (c) journal, validate, plan


def section_c(res):
    log("\n== (c) journal appends (fsync'd) and planning a 1,000-cluster inventory")
    jr = []
    for threads, n in ((1, 1000), (4, 500), (16, 250), (64, 100)):
        d = tempfile.mkdtemp(prefix="journal.", dir=TMP)
        out = subprocess.run([os.path.join(BB, "journal_bench"), d, str(n), str(threads)],
                             capture_output=True, text=True, check=True).stdout.split()
        row = dict(zip(out[0::2], [float(v) for v in out[1::2]]))
        jr.append(row)
        log("  journal: %2d writers x %4d records: %7.0f records/s  p50 %5.0f us  p99 %6.0f us"
            % (threads, n, row["records_per_s"], row["p50_us"], row["p99_us"]))
        shutil.rmtree(d)
    inv = os.path.join(TMP, "inv1000.yml")
    subprocess.run([sys.executable, "bench/gen.py", "inventory", "1000", inv], check=True)
    pr = {}
    for name, cmd in (("validate", ["bin/ccrup", "validate", inv]),
                      ("plan", ["bin/ccrup", "plan", inv]),
                      ("plan -o json", ["bin/ccrup", "plan", inv, "-o", "json"])):
        rs = [timed(cmd, os.path.join(TMP, "c.out")) for _ in range(3)]
        pr[name] = {"wall": med([r["wall"] for r in rs]), "cpu": med([r["cpu"] for r in rs]),
                    "rss_kb": med([r["rss_kb"] for r in rs]), "rc": max(r["rc"] for r in rs),
                    "bytes": os.path.getsize(os.path.join(TMP, "c.out"))}
        log("  %-13s 1,000 clusters / 3,000 hosts: %5.2f s  cpu %5.2f s  rss %6d KiB  (exit %d)"
            % (name, pr[name]["wall"], pr[name]["cpu"], pr[name]["rss_kb"], pr[name]["rc"]))
    # Linear planning: 1,000 hosts (334 clusters) against 10,000 hosts (3,334 clusters),
    # interleaved, median of 3 each; linear is a ratio of 10.
    sc = {}
    invs = {}
    for n in (334, 3334):
        invs[n] = os.path.join(TMP, "inv%d.yml" % n)
        subprocess.run([sys.executable, "bench/gen.py", "inventory", str(n), invs[n]], check=True)
    for name, extra in (("validate", []), ("plan", []), ("plan -o json", ["-o", "json"])):
        rs = {334: [], 3334: []}
        for _ in range(3):
            for n in (334, 3334):
                cmd = ["bin/ccrup", name.split()[0], invs[n]] + extra
                rs[n].append(timed(cmd, os.path.join(TMP, "c.out")))
        row = {str(n): {"wall": med([r["wall"] for r in rs[n]]),
                        "rss_kb": med([r["rss_kb"] for r in rs[n]]),
                        "rc": max(r["rc"] for r in rs[n])} for n in rs}
        row["ratio"] = row["3334"]["wall"] / row["334"]["wall"]
        sc[name] = row
        log("  %-13s 1,002 hosts %5.2f s, 10,002 hosts %5.2f s: ratio %.1f (linear: 10)"
            % (name, row["334"]["wall"], row["3334"]["wall"], row["ratio"]))
    res["c"] = {"journal": jr, "plan": pr, "scaling": sc}


# ---------------------------------------------------------------- (e) shared state on etcd


class Etcd:
    """A throwaway etcd cluster of n members on 127.0.0.1, ports base+2i (client), +1 (peer)."""

    def __init__(self, n, base):
        self.dir = tempfile.mkdtemp(prefix="etcd.", dir=TMP)
        self.procs = []
        cluster = ",".join("m%d=http://127.0.0.1:%d" % (i, base + 2 * i + 1) for i in range(1, n + 1))
        self.urls = ",".join("127.0.0.1:%d" % (base + 2 * i) for i in range(1, n + 1))
        for i in range(1, n + 1):
            c, p = base + 2 * i, base + 2 * i + 1
            self.procs.append(subprocess.Popen(
                ["etcd", "--name", "m%d" % i, "--data-dir", os.path.join(self.dir, "m%d" % i),
                 "--listen-client-urls", "http://127.0.0.1:%d" % c,
                 "--advertise-client-urls", "http://127.0.0.1:%d" % c,
                 "--listen-peer-urls", "http://127.0.0.1:%d" % p,
                 "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % p,
                 "--initial-cluster", cluster, "--initial-cluster-token", "bench%d" % base,
                 "--log-level", "error", "--logger", "zap"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for _ in range(200):
            r = subprocess.run(["curl", "-s", "-m", "1", "-X", "POST",
                                "http://127.0.0.1:%d/v3/kv/range" % (base + 2), "-d", '{"key":"AA=="}'],
                               capture_output=True, text=True)
            if '"revision"' in r.stdout:
                return
            time.sleep(0.05)
        raise RuntimeError("etcd did not start")

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait()


def state_bench(*args):
    out = subprocess.run([os.path.join(BB, "state_bench")] + [str(a) for a in args],
                         capture_output=True, text=True, check=True).stdout.split()
    return dict(zip(out[0::2], [float(v) for v in out[1::2]]))


def section_e(res):
    n = int(ENV.get("BENCH_ETCD_RECORDS", "500"))
    ttl = int(ENV.get("BENCH_ETCD_TTL", "2"))
    rounds = int(ENV.get("BENCH_ETCD_ROUNDS", "5"))
    log("\n== (e) shared state on etcd: journal appends and takeover after the holder dies")
    rows = []
    d = tempfile.mkdtemp(prefix="state.", dir=TMP)
    row = state_bench("append", d, n)
    row["backend"] = "local directory (write + fsync)"
    rows.append(row)
    for members, base in ((1, 12520), (3, 12530)):
        e = Etcd(members, base)
        try:
            row = state_bench("append", "etcd://%s/bench?ttl=%d" % (e.urls, ttl), n)
            row["backend"] = "etcd, %d member%s (txn per record)" % (members, "s" if members > 1 else "")
            rows.append(row)
            if members == 3:
                tk = state_bench("takeover", "etcd://%s/bench?ttl=%d" % (e.urls, ttl), rounds)
        finally:
            e.stop()
    for r in rows:
        log("  %-36s %5d records: %6.0f records/s  p50 %6.2f ms  p99 %6.2f ms"
            % (r["backend"], r["records"], r["records_per_s"], r["p50_us"] / 1000, r["p99_us"] / 1000))
    log("  takeover after SIGKILL of the holder (lease TTL %d s, 3 members): p50 %.2f s, max %.2f s"
        % (tk["ttl_s"], tk["p50_ms"] / 1000, tk["max_ms"] / 1000))
    res["e"] = {"append": rows, "takeover": tk}


# ---------------------------------------------------------------- (d) realistic time scale


def parse_dur(v):
    if isinstance(v, (int, float)):
        return float(v) * 1000
    ms = 0.0
    for num, unit in re.findall(r"([0-9.]+)(ms|h|m|s)", str(v)):
        ms += float(num) * {"ms": 1, "s": 1000, "m": 60000, "h": 3600000}[unit]
    return ms


def iso_ms(s):
    import datetime
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp() * 1000


def section_d(res):
    import yaml

    scale = float(ENV.get("BENCH_SCALE", "0.01"))
    n = int(ENV.get("BENCH_D_RUNS", "3"))
    log("\n== (d) two-node.yml at time scale %g, %d runs: overhead and outage" % (scale, n))
    with open(SCN) as f:
        durs = {k: parse_dur(v) for k, v in yaml.safe_load(f)["durations"].items()}
    runs = [one_d(scale, durs, i) for i in range(n)]
    # The run with the median outage excess stands for the detailed tables; all are listed.
    order = sorted(range(n), key=lambda i: runs[i]["outage_excess_ms"])
    res["d"] = dict(runs[order[n // 2]])
    res["d"]["runs"] = [{k: r[k] for k in ("wall_s", "bookkeeping_ms", "poll_latency_ms",
                                           "overhead_ms", "wall_ms", "outage_ms",
                                           "outage_excess_ms", "load", "upgraded", "rc")}
                        for r in runs]
    res["d"]["median_run"] = order[n // 2] + 1


def one_d(scale, durs, i):
    sim = Sim(scale).start()
    try:
        d = os.path.join(TMP, "d%d" % i)
        os.makedirs(d)
        plan = json.load(open(plan_json(sim.inv, d + "/plan.json")))
        r = timed(["bin/ccrup", "apply", sim.inv, "--yes", "-q", "--state-dir", d + "/state"],
                  d + "/out.log")
        w = sim.dump()
    finally:
        sim.stop()
    kinds = {(s["id"], s["node"]): s["kind"] for s in plan["clusters"][0]["steps"]}
    cl = plan["clusters"][0]["name"]
    audit = [json.loads(l) for l in open(os.path.join(d, "state", cl, "audit.jsonl"))]
    journal = [json.loads(l) for l in open(os.path.join(d, "state", cl, "journal.jsonl"))]
    # What was sent: a compound probe is its batch event (its parts, duration 0, ran inside it).
    cmds = sorted((iso_ms(e["time"]) - e["duration_ms"], iso_ms(e["time"]), e["command"])
                  for e in audit if e["event"] == "batch"
                  or (e["event"] == "command" and "batch" not in e))
    # Intervals of the steps that wait on the simulated world (reboot, wait).
    begins, waits = {}, []
    for e in journal:
        key = (e.get("step"), e.get("node"))
        if e["event"] == "begin":
            begins[key] = iso_ms(e["time"])
        elif e["event"] == "done" and key in begins and kinds.get(key) in ("reboot", "wait"):
            waits.append((begins[key], iso_ms(e["time"]), kinds[key], key[0]))
    t_start, t_end = r["t0"] * 1000, r["t1"] * 1000
    sum_cmd = sum(b - a for a, b, _ in cmds)
    gaps = [(cmds[0][0] - t_start, "start-up")]
    for (a0, a1, _), (b0, b1, c) in zip(cmds, cmds[1:]):
        gaps.append((b0 - a1, c, a1, b0))
    gaps.append((t_end - cmds[-1][1], "exit"))
    book, waiting = 0.0, 0.0
    for g in gaps:
        if len(g) == 4 and any(w0 - 1 <= (g[2] + g[3]) / 2 <= w1 + 1 for w0, w1, _, _ in waits):
            waiting += max(g[0], 0)
        else:
            book += max(g[0], 0)
    # What the simulated world imposes on those waits: each restart is down for
    # reboot_down + reboot; the copy catches up over replication_catchup from boot.
    reboots = [x for x in waits if x[2] == "reboot"]
    sim_wait = len(reboots) * (durs["reboot_down"] + durs["reboot"]) * scale
    for w0, w1, k, sid in waits:
        if k == "wait" and w1 - w0 > 50:
            prev = max((x for x in reboots if x[1] <= w0 + 1), key=lambda x: x[1], default=None)
            since = w0 - prev[1] if prev else 0
            sim_wait += max(0.0, durs["replication_catchup"] * scale - since)
    wall_ms = (t_end - t_start)
    c = w["clusters"][0]
    floor = (durs["cms_stop"] + durs["cms_move"] + durs["upgrade_cms"] * 94 / 100)
    out = {"scale": scale, "wall_s": r["wall"], "cpu_s": r["cpu"], "rss_kb": r["rss_kb"],
           "rc": r["rc"], "upgraded": world_done(w) == 1, "commands": len(cmds),
           "sum_cmd_ms": sum_cmd, "bookkeeping_ms": book, "waiting_ms": waiting,
           "sim_wait_ms": sim_wait, "poll_latency_ms": waiting - sim_wait,
           "wall_ms": wall_ms, "overhead_ms": wall_ms - sum_cmd - sim_wait,
           "outage_ms": c["outage_total_ms"], "outages": c["outages"],
           "outage_real_s": c["outage_total_ms"] / scale / 1000 if scale else None,
           "floor_s": floor / 1000, "floor_scaled_ms": floor * scale,
           "durations_ms": durs,
           "top_gaps": sorted([(round(g[0], 1), g[1][:60]) for g in gaps if g[0] > 0],
                              reverse=True)[:8]}
    out["outage_excess_ms"] = out["outage_ms"] - out["floor_scaled_ms"]
    # Inside the outage window: the three commands, and ccrup's time between them.
    win = {}
    for a, b, c in cmds:
        for key in ("Stop-ClusteredMailboxServer", "Move-ClusteredMailboxServer", "/UpgradeCMS"):
            if key in c and key not in win:
                win[key] = (a, b)
    if len(win) == 3:
        st, mv, up = (win[k] for k in ("Stop-ClusteredMailboxServer", "Move-ClusteredMailboxServer",
                                       "/UpgradeCMS"))
        out["window"] = {
            "stop_ms": st[1] - st[0], "move_ms": mv[1] - mv[0], "upgrade_ms": up[1] - up[0],
            "stop_to_move_ms": mv[0] - st[1], "move_to_upgrade_ms": up[0] - mv[1],
            "probes": sum(1 for a, b, c in cmds if st[1] <= a and b <= up[0]
                          and "Move-ClusteredMailboxServer" not in c)}
    log("  run %d: wall %.2f s, %d commands (%.2f s in flight); between commands: %.0f ms bookkeeping "
        "(%.2f%% of the run), %.0f ms waiting on reboots/replication (the world needed %.0f ms: "
        "poll latency %.0f ms)" % (i + 1, r["wall"], len(cmds), sum_cmd / 1000, book,
                                   100 * book / wall_ms, waiting, sim_wait, waiting - sim_wait))
    log("  outage %d ms at scale %g = %.1f s real; floor %.1f s (cms_stop + cms_move + 94%% of "
        "upgrade_cms); excess %.1f ms scaled = %.2f s after dividing by the scale"
        % (out["outage_ms"], scale, out["outage_real_s"], out["floor_s"], out["outage_excess_ms"],
           out["outage_excess_ms"] / scale / 1000))
    out["load"] = loadavg()[0]
    if "window" in out:
        x = out["window"]
        log("  in the outage window: stop %.0f ms, move %.0f ms, /UpgradeCMS %.0f ms as ccrup saw "
            "them (the world: %.0f, %.0f, %.0f); between them %.0f + %.0f ms of ccrup (%d probe commands, "
            "journal records)" % (x["stop_ms"], x["move_ms"], x["upgrade_ms"], durs["cms_stop"] * scale,
                                  durs["cms_move"] * scale, durs["upgrade_cms"] * scale * 0.94,
                                  x["stop_to_move_ms"], x["move_to_upgrade_ms"], x["probes"]))
    return out


# ---------------------------------------------------------------- machine


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def machine():
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    return {"nproc": sh("nproc"), "cpu": sh("lscpu | sed -n 's/^Model name: *//p' | head -1"),
            "memory": mem, "kernel": sh("uname -sr"), "os": sh(". /etc/os-release && echo $PRETTY_NAME"),
            "ccrup": sh("bin/ccrup --version"), "libssh": sh("pkg-config --modversion libssh"),
            "openssh": sh("ssh -V 2>&1"), "ansible": sh("ansible --version | head -1"),
            "disk": sh("df -hT . | awk 'NR==2 {print $2\" on \"$1}'"),
            "date": time.strftime("%Y-%m-%d %H:%M %Z")}


def main():
    res = {"machine": machine(), "load_start": loadavg(), "started": time.time()}
    log("ccrup bench: %s, %s cores, %s, %s; load %s" % (res["machine"]["cpu"], res["machine"]["nproc"],
                                                      res["machine"]["memory"], res["machine"]["kernel"],
                                                      res["load_start"]))
    try:
        for name, fn in (("a", section_a), ("b", section_b), ("c", section_c), ("d", section_d),
                         ("e", section_e)):
            if name in ONLY:
                res["load_" + name] = loadavg()
                fn(res)
    finally:
        res["load_end"] = loadavg()
        res["seconds"] = time.time() - res["started"]
        os.makedirs(BB, exist_ok=True)
        with open(os.path.join(BB, "results.json"), "w") as f:
            json.dump(res, f, indent=1)
        if ENV.get("BENCH_KEEP"):
            log("kept " + TMP)
        else:
            shutil.rmtree(TMP, ignore_errors=True)
    log("\nbench: %.0f s; results in build/bench/results.json" % res["seconds"])


if __name__ == "__main__":
    main()
