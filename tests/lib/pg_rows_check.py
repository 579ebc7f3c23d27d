#!/usr/bin/python3
"""Compare what the writer (pg_writer.py) saw acknowledged with what the primary holds.

Usage: pg_rows_check.py --log WRITER_LOG --dsn DSN
Prints one JSON object: acknowledged (rows the writer saw committed), found (of those,
rows present on the primary now), lost (acknowledged but missing: must be 0), extra
(rows present that the writer never saw acknowledged: commits whose outcome it could
not know when a connection broke during COMMIT), missing_sample (up to 10 lost numbers).
Exit 0 when nothing acknowledged is lost, 1 otherwise.
"""
import argparse
import json
import sys

import psycopg2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--dsn", required=True)
    a = ap.parse_args()
    acked = set()
    with open(a.log) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[0].isdigit():
                acked.add(int(parts[0]))
    conn = psycopg2.connect(a.dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT n FROM ticks")
        present = {r[0] for r in cur.fetchall()}
    conn.close()
    lost = sorted(acked - present)
    out = {"acknowledged": len(acked), "found": len(acked & present), "lost": len(lost),
           "extra": len(present - acked), "missing_sample": lost[:10]}
    print(json.dumps(out))
    return 0 if not lost else 1


if __name__ == "__main__":
    sys.exit(main())
