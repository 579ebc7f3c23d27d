#!/usr/bin/python3
"""The users of the test bed: one client committing numbered rows, all the time.

It connects with a multi-host connection string and target_session_attrs=read-write
(libpq finds whichever member is the primary), commits one row (n, at) into `ticks`
every --interval seconds, and reconnects at once after any failure.  Every commit
the server acknowledged is appended to --log as "n wall_time" and flushed before
the next one, so a reader of the log knows exactly which rows must exist.  A commit
that failed or whose outcome is unknown (the connection broke during COMMIT) is
not acknowledged; its number is never reused.

On SIGTERM it writes --summary (JSON): acknowledged rows, the longest gap between
two acknowledged commits (the write outage seen by users) with its start and end,
failed attempts and reconnects.
"""
import argparse
import json
import signal
import sys
import time

import psycopg2

stop = False


def on_term(signo, frame):
    global stop
    stop = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--summary", required=True)
    ap.add_argument("--interval", type=float, default=0.01)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    log = open(a.log, "a", buffering=1)
    n = 0
    acked = 0
    failed = 0
    reconnects = 0
    last_ack = None
    gap = (0.0, None, None)  # longest gap, from, to
    conn = None
    while not stop:
        if conn is None:
            try:
                conn = psycopg2.connect(a.dsn)
                conn.autocommit = False
                reconnects += 1
                if reconnects == 1:  # numbers continue after an earlier writer's rows
                    with conn.cursor() as cur:
                        cur.execute("SELECT coalesce(max(n), 0) FROM ticks")
                        n = max(n, cur.fetchone()[0])
                    conn.commit()
            except psycopg2.Error:
                conn = None
                failed += 1
                time.sleep(0.01)
                continue
        n += 1
        try:
            with conn.cursor() as cur:
                cur.execute("INSERT INTO ticks (n) VALUES (%s)", (n,))
            conn.commit()
        except psycopg2.Error:
            failed += 1
            try:
                conn.close()
            except psycopg2.Error:
                pass
            conn = None
            continue
        t = time.time()
        log.write("%d %.6f\n" % (n, t))
        acked += 1
        if last_ack is not None and t - last_ack > gap[0]:
            gap = (t - last_ack, last_ack, t)
        last_ack = t
        time.sleep(a.interval)
    if conn is not None:
        conn.close()
    log.close()
    with open(a.summary, "w") as f:
        json.dump({"acknowledged": acked, "last_n": n, "failed_attempts": failed,
                   "connections": reconnects, "longest_gap_s": round(gap[0], 3),
                   "gap_from": gap[1], "gap_to": gap[2]}, f)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
