#!/usr/bin/env python3
"""Check a ccrup journal the way docs/journal.md §1.3/§1.6 describes it, independently of ccrup.

usage: journal_check.py JOURNAL [--done] [--torn-ok] [--count EVENT STEP NODE N]...
  every complete line: JSON object, ends in ,"crc":"xxxxxxxx"} with the right CRC-32,
  seq 1, 2, 3 ... without gaps; no bytes after the last newline unless --torn-ok.
  --done                  the last record is run-end with result done
  --count EVENT STEP NODE N   exactly N records with that event, step and node
Prints "JOURNAL: N records, last EVENT" and exits 0, or a message naming the line and 1.
"""
import json
import sys
import zlib


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    path, args = args[0], args[1:]
    data = open(path, "rb").read()
    lines = data.split(b"\n")
    tail = lines.pop()  # bytes after the last newline
    if tail and "--torn-ok" not in args:
        print("%s:%d: torn last record (%d bytes without newline)" % (path, len(lines) + 1, len(tail)))
        return 1
    recs = []
    for n, body in enumerate(lines, 1):
        if body[-18:-10] != b',"crc":"' or body[-2:] != b'"}':
            print("%s:%d: no crc member at the end" % (path, n))
            return 1
        if "%08x" % zlib.crc32(body[:-18] + b"}") != body[-10:-2].decode("ascii", "replace"):
            print("%s:%d: CRC mismatch" % (path, n))
            return 1
        r = json.loads(body)
        if r.get("seq") != n:
            print("%s:%d: seq %r, want %d" % (path, n, r.get("seq"), n))
            return 1
        recs.append(r)
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--done":
            if not recs or recs[-1].get("event") != "run-end" or recs[-1].get("result") != "done":
                print("%s: last record is %s, want run-end done" % (path, recs[-1] if recs else None))
                return 1
        elif a == "--count":
            ev, step, node, want = args[i + 1:i + 5]
            i += 4
            got = sum(1 for r in recs if r.get("event") == ev and r.get("step") == step
                      and r.get("node") == node)
            if got != int(want):
                print("%s: %d %s records for %s on %s, want %s" % (path, got, ev, step, node, want))
                return 1
        elif a != "--torn-ok":
            print("unknown argument " + a)
            return 2
        i += 1
    print("%s: %d records, last %s" % (path, len(recs), recs[-1]["event"] if recs else "-"))
    return 0


sys.exit(main())
