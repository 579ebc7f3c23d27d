#!/usr/bin/env python3
"""Regenerate the journal fixtures of tests/bad-input/journal/ and their table
tests/bad-input/journal.tsv.  Run from the repository root:

    python3 tests/bad-input/journal/generate.py

Each fixture is a state/CLUS1/journal.jsonl as `ccrup` would find it after an
accident or a hand edit.  journal.tsv says what replaying it must give:

    NAME <TAB> corrupt|torn|ok <TAB> LINE <TAB> message substring

corrupt: journal_load() returns JOURNAL_CORRUPT with "PATH:LINE: ..." and
`ccrup status` exits 5 naming the line; torn: the last line is ignored with a
warning naming it, status exits 0; ok: replays cleanly (LINE is the number of
records).  Lines are built the way journal.c writes them (compact JSON, crc
last, CRC-32 of the line without it, docs/journal.md §1.3), so a fixture is
broken in exactly one way.  A line over 1 MiB is not committed: the tests
generate it (check_badjournal.c, tests/integration/bad_input_cli.sh).
"""
import json
import os
import zlib

DIR = os.path.join("tests", "bad-input", "journal")
TABLE = os.path.join("tests", "bad-input", "journal.tsv")
READERS = os.path.join("tests", "bad-input", "journal-readers.tsv")
RUN = "2026-11-21T10-20-03-4242"
SHA = "0" * 64


def body(rec):
    return json.dumps(rec, separators=(",", ":"), ensure_ascii=False)


def line(rec, crc=None):
    b = body(rec)
    c = "%08x" % zlib.crc32(b.encode()) if crc is None else crc
    return b[:-1] + ',"crc":"%s"}\n' % c


def records(pb_sha=None, inv_sha=None):
    """A realistic run of ccr-sp1 on CLUS1 (inventory.example.yml) that failed at cms.move."""
    pb_sha = pb_sha or sha_of("playbooks/ccr-sp1.yml")
    inv_sha = inv_sha or sha_of("playbooks/inventory.example.yml")
    evs = [
        {"event": "run-start", "cluster": "CLUS1", "playbook": "ccr-sp1",
         "playbook_path": "playbooks/ccr-sp1.yml", "playbook_sha256": pb_sha,
         "inventory_path": "playbooks/inventory.example.yml", "inventory_sha256": inv_sha,
         "mode": "unattended"},
        {"event": "bind", "role": "active", "host": "NODE1"},
        {"event": "bind", "role": "passive", "host": "NODE2"},
        {"event": "gate", "step": "preflight.lab-tested", "node": "NODE1", "answer": "yes",
         "by": "inventory acknowledge"},
        {"event": "begin", "step": "passive-prep.dotnet", "node": "NODE2",
         "wall_ms": 1763720000000, "command": "\"D:\\Prereqs\\NetFx20SP1_x86.exe\" /q /norestart"},
        {"event": "done", "step": "passive-prep.dotnet", "node": "NODE2", "duration_ms": 2140,
         "exit": 0},
        {"event": "run-end", "result": "failed", "detail": "step failed"},
    ]
    out = []
    for i, ev in enumerate(evs, 1):
        rec = {"seq": i, "time": "2026-11-21T10:31:%02d.412Z" % i, "run_id": RUN}
        rec.update(ev)
        out.append(rec)
    return out


def sha_of(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def good():
    return [line(r) for r in records()]


FIXTURES = []
REFUSED = []  # (name, line, message): CRC-valid, refused by every reader (exit 5)


def refused(name, lineno, message):
    REFUSED.append((name, lineno, message))


def fixture(name, result, lineno, message, data):
    if not isinstance(data, list):
        data = [data]
    data = b"".join(x if isinstance(x, bytes) else x.encode() for x in data)
    with open(os.path.join(DIR, name + ".jsonl"), "wb") as f:
        f.write(data)
    FIXTURES.append((name, result, lineno, message))


def main():
    for f in os.listdir(DIR):
        if f.endswith(".jsonl"):
            os.unlink(os.path.join(DIR, f))
    g = good()
    recs = records()

    # Cut short: a crash mid-write (tolerated) versus a cut in the middle of the file.
    fixture("torn-tail", "torn", 7, "torn last record ignored (crash during write)",
            g[:6] + [g[6][:30]])
    fixture("torn-tail-one-byte", "torn", 1, "torn last record ignored", "{")
    fixture("truncated-mid-file", "corrupt", 3, "invalid JSON at column",
            g[:2] + [g[2][:40] + "\n"] + g[3:])
    fixture("crc-seven-digits", "corrupt", 7, "missing or malformed crc",
            g[:6] + [g[6][:-4] + '"}\n'])
    # Checksums.
    fixture("bad-crc", "corrupt", 4, "CRC mismatch: line says",
            g[:3] + [line(recs[3], crc="deadbeef")] + g[4:])
    edited = g[5].replace('"exit":0', '"exit":1')
    fixture("edited-after-crc", "corrupt", 6, "CRC mismatch", g[:5] + [edited] + g[6:])
    fixture("crc-uppercase", "corrupt", 2, "missing or malformed crc",
            g[:1] + [g[1][:-11] + g[1][-11:].upper()] + g[2:])
    fixture("crc-missing", "corrupt", 3, "missing or malformed crc",
            g[:2] + [body(recs[2]) + "\n"] + g[3:])
    moved = dict(recs[1])
    crc = "%08x" % zlib.crc32(body(moved).encode())
    first = {"crc": crc}
    first.update(moved)
    fixture("crc-not-last", "corrupt", 2, "missing or malformed crc",
            g[:1] + [body(first) + "\n"] + g[2:])
    fixture("crc-nine-digits", "corrupt", 1, "missing or malformed crc",
            [g[0][:-4] + '00"}\n'] + g[1:])
    fixture("crlf-line-endings", "corrupt", 1, "missing or malformed crc",
            [x[:-1] + "\r\n" for x in g])
    # Order and repetition.
    fixture("reordered-lines", "corrupt", 3, "seq 4 after seq 2 (gap",
            g[:2] + [g[3], g[2]] + g[4:])
    fixture("duplicated-line", "corrupt", 5, "seq 4 repeats the previous record (duplicated line)",
            g[:4] + [g[3]] + g[4:])
    fixture("duplicated-file", "corrupt", 8, "seq 1 after seq 7 (records out of order or repeated)",
            g + g)
    fixture("seq-gap", "corrupt", 4, "seq 5 after seq 3 (gap: records missing or out of order)",
            g[:3] + g[4:])
    fixture("seq-starts-at-2", "corrupt", 1, "seq 2 after seq 0 (gap", g[1:])
    fixture("seq-zero", "corrupt", 1, "seq 0 repeats the previous record",
            [line(dict(recs[0], seq=0))])
    fixture("seq-negative", "corrupt", 1, "seq -1 after seq 0",
            [line(dict(recs[0], seq=-1))])
    fixture("seq-huge", "corrupt", 2, "seq 9223372036854775807 after seq 1 (gap",
            g[:1] + [line(dict(recs[1], seq=9223372036854775807))])
    fixture("seq-missing", "corrupt", 2, "missing seq",
            g[:1] + [line({k: v for k, v in recs[1].items() if k != "seq"})] + g[2:])
    fixture("seq-string", "corrupt", 2, "seq is not an integer",
            g[:1] + [line(dict(recs[1], seq="2"))] + g[2:])
    fixture("seq-float", "corrupt", 2, "seq is not an integer",
            g[:1] + [line(dict(recs[1], seq=2.0))] + g[2:])
    # Not a record.
    fixture("binary-garbage", "corrupt", 3, "invalid JSON",
            g[:2] + [bytes(range(0, 256)).replace(b"\n", b"") + b"\n"] + g[2:])
    fixture("empty-line", "corrupt", 3, "empty line", g[:2] + ["\n"] + g[2:])
    fixture("empty-line-at-end", "corrupt", 8, "empty line", g + ["\n"])
    fixture("only-newline", "corrupt", 1, "empty line", "\n")
    fixture("blank-spaces-line", "corrupt", 2, "invalid JSON", g[:1] + ["   \n"] + g[1:])
    fixture("array-not-object", "corrupt", 2, "record is not a JSON object",
            g[:1] + ['[1,2,3,"crc","0000000"]\n'] + g[1:])
    fixture("string-not-object", "corrupt", 1, "'[' or '{' expected",
            '"{\\"seq\\":1,\\"crc\\":\\"00000000\\"}"\n')
    fixture("number-not-object", "corrupt", 1, "'[' or '{' expected", "42\n")
    fixture("null-record", "corrupt", 4, "'[' or '{' expected", g[:3] + ["null\n"])
    fixture("trailing-garbage", "corrupt", 2, "invalid JSON", g[:1] + [g[1][:-1] + "xyz\n"] + g[2:])
    fixture("two-records-one-line", "corrupt", 1, "invalid JSON", [g[0][:-1] + g[1]] + g[2:])
    fixture("duplicate-key", "corrupt", 2, "duplicate object key",
            g[:1] + [g[1].replace('"event":"bind"', '"event":"bind","event":"bind"')] + g[2:])
    fixture("nul-byte", "corrupt", 2, "invalid JSON",
            g[:1] + [g[1].replace("NODE1", "NO\0DE1")] + g[2:])
    fixture("utf8-bom", "corrupt", 1, "invalid JSON", ["\ufeff" + g[0]] + g[1:])
    fixture("invalid-utf8", "corrupt", 2, "invalid JSON",
            g[:1] + [g[1].encode().replace(b"NODE1", b"NODE\xff")] + g[2:])
    fixture("merge-conflict", "corrupt", 4, "invalid JSON",
            g[:3] + ["<<<<<<< HEAD\n"] + g[3:])
    # Valid journals that must be read without trouble.
    fixture("empty-file", "ok", 0, "", "")
    fixture("good-run", "ok", 7, "", g)
    fixture("wrong-digest", "ok", 7, "",
            [line(r) for r in records(pb_sha="f" * 64)])
    odd = [dict(r) for r in records()]
    odd.insert(4, {"event": "outage-start", "step": "cms.stop", "node": "NODE1",
                   "wall_ms": -9223372036854775808})
    odd.insert(5, {"event": "outage-end", "step": "cms.start", "node": "NODE1",
                   "wall_ms": 9223372036854775807, "duration_ms": 9223372036854775807})
    odd.insert(6, {"event": "outage-end", "step": "cms.start", "node": "NODE1",
                   "duration_ms": 9223372036854775807})
    odd.insert(7, {"event": "done", "step": "passive-prep.dotnet", "node": "NODE2",
                   "duration_ms": 9223372036854775807, "exit": 9223372036854775807})
    odd.insert(8, {"event": "outage-start", "step": "cms.stop", "node": "NODE1",
                   "wall_ms": -9223372036854775808})
    odd.insert(9, {"event": "mystery", "step": 42, "node": ["x"], "detail": {"a": None}})
    odd.insert(10, {"event": 7})
    for i, r in enumerate(odd, 1):
        r["seq"] = i
    fixture("extreme-values", "ok", len(odd), "", [line(r) for r in odd])

    # CRC-valid journals whose content is wrong: the journal layer replays them
    # (ok); every reader (resume, status, report) refuses them with exit 5
    # naming the line (tests/bad-input/cli.tsv, check_replay.c).
    def renum(rs):
        for i, r in enumerate(rs, 1):
            r["seq"] = i
        return [line(r) for r in rs]

    def with_inserted(at, ev):
        rs = [dict(r) for r in records()]
        rec = {"seq": 0, "time": "2026-11-21T10:31:59.000Z", "run_id": RUN}
        rec.update(ev)
        rs.insert(at, rec)
        return renum(rs)

    rec_base = {"event": "record", "step": "passive.firewall-start-type", "node": "NODE2",
                "name": "firewall_start", "value": "DISABLED", "item": None}
    for name, drop, val in (("record-no-value", "value", None), ("record-no-name", "name", None),
                            ("record-value-null", None, "null")):
        ev = dict(rec_base)
        if drop:
            del ev[drop]
        if val == "null":
            ev["value"] = None
        fixture(name, "ok", 8, "", with_inserted(4, ev))
    fixture("record-value-number", "ok", 8, "",
            with_inserted(4, dict(rec_base, value=42)))
    fixture("bind-no-host", "ok", 8, "", with_inserted(3, {"event": "bind", "role": "x"}))
    fixture("begin-step-number", "ok", 8, "",
            with_inserted(4, {"event": "begin", "step": 7, "node": "NODE2"}))
    fixture("other-run-id", "ok", 7, "",
            renum([dict(r, run_id="2026-11-20T09-00-00-1") if r["seq"] == 5 else dict(r)
                   for r in records()]))
    fixture("other-cluster", "ok", 7, "",
            renum([dict(r, cluster="CLUS9") if r["event"] == "run-start" else dict(r)
                   for r in records()]))
    fixture("no-run-start", "ok", 6, "", renum([dict(r) for r in records()[1:]]))
    fixture("outage-end-not-open", "ok", 8, "",
            with_inserted(4, {"event": "outage-end", "step": "cms.upgrade-cms",
                              "node": "NODE2", "wall_ms": 1763720000000}))
    fixture("forged-run-end-done", "ok", 7, "",
            renum([dict(r, result="done") if r["event"] == "run-end" else dict(r)
                   for r in records()]))
    fixture("forged-done-after-failed", "ok", 9, "",
            with_inserted(6, {"event": "failed", "step": "preflight.lab-tested",
                              "node": "NODE1", "reason": "no"})[:7] +
            [line(dict({"seq": 8, "time": "2026-11-21T10:32:00.000Z", "run_id": RUN},
                       event="done", step="cms.upgrade-cms", node="NODE2", duration_ms=1)),
             line(dict({"seq": 9, "time": "2026-11-21T10:32:01.000Z", "run_id": RUN},
                       event="run-end", result="failed"))])

    refused("extreme-values", 5, '`outage-start` record: member "time" must be an ISO-8601')
    refused("record-no-value", 5, '`record` record: member "value" is missing')
    refused("record-no-name", 5, '`record` record: member "name" is missing')
    refused("record-value-null", 5, '`record` record: member "value" must be a string')
    refused("record-value-number", 5, '`record` record: member "value" must be a string')
    refused("bind-no-host", 4, '`bind` record: member "host" is missing')
    refused("begin-step-number", 5, '`begin` record: member "step" must be a string')
    refused("other-run-id", 5, "(rule: one run id per run)")
    refused("other-cluster", 1, "this is the journal of cluster CLUS9, not of CLUS1")
    refused("no-run-start", 1, "(rule: a journal begins with run-start)")
    refused("outage-end-not-open", 5, "(rule: an outage-end closes an outage-start)")
    refused("forged-run-end-done", 7, "(rule: a run is done when every step is)")
    refused("forged-done-after-failed", 8, "(rule: steps in plan order)")
    with open(READERS, "w") as f:
        f.write("# CRC-valid journal fixtures that every reader (resume, status, report) refuses\n"
                "# with exit 5 naming the line: NAME, LINE, message.  Generated by\n"
                "# tests/bad-input/journal/generate.py; see docs/journal.md §1.7.\n")
        for name, lineno, msg in REFUSED:
            f.write("%s\t%d\t%s\n" % (name, lineno, msg))

    with open(TABLE, "w") as f:
        f.write("# Journal fixtures (tests/bad-input/journal/NAME.jsonl), generated by\n"
                "# tests/bad-input/journal/generate.py: NAME, corrupt|torn|ok, LINE, message.\n")
        for name, result, lineno, msg in FIXTURES:
            f.write("%s\t%s\t%d\t%s\n" % (name, result, lineno, msg))
    print("%d journal fixtures" % len(FIXTURES))


if __name__ == "__main__":
    main()
