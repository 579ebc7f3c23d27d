#!/usr/bin/python3
"""The longest write outage the writer (tests/lib/pg_writer.py) saw in a time window.

Usage: patroni_gap.py WRITER_LOG FROM TO   (times in epoch seconds)
Prints the longest gap between two consecutive acknowledged commits that overlaps
[FROM, TO] (the last commit before FROM and the first after TO included), in seconds.
"""
import sys

log, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
ts = []
with open(log) as f:
    for line in f:
        p = line.split()
        if len(p) == 2:
            ts.append(float(p[1]))
ts.sort()
before = [t for t in ts if t < t0]
inside = [t for t in ts if t0 <= t <= t1]
after = [t for t in ts if t > t1]
seq = before[-1:] + inside + after[:1]
gap = max((b - a for a, b in zip(seq, seq[1:])), default=0.0)
print("%.3f" % gap)
