#!/usr/bin/env python3
"""Store-to-start latency of the inbox worker: for each event received since a time, how long from the moment
the webhook route stored it (the row's `received_at`, set just before the commit) to the first start of its
handler (a `start EVENT INSTANCE UNIX_SECONDS` line that stripe-apps-test-server appends to RECORD_FILE).

Usage: store_to_start.py RECORD_FILE DATABASE --since UNIX_SECONDS [--wait 30]

DATABASE is a SQLite file or a postgres:// URL (read with psql). It waits up to --wait seconds for every
event to have started, then prints one line:
  STORE_TO_START events=… started=… p50_ms=… p99_ms=… max_ms=…
and exits non-zero when some event never started. Both clocks are this machine's, so they agree.
"""

import argparse
import sqlite3
import subprocess
import sys
import time


def received(database, since):
    query = "SELECT id, received_at FROM inbox_events WHERE received_at >= %r" % float(since)
    if database.startswith("postgres"):
        out = subprocess.run(["psql", "-X", "-At", "-F", "\t", database, "-c", query],
                             check=True, capture_output=True, text=True).stdout
        return {line.split("\t")[0]: float(line.split("\t")[1]) for line in out.splitlines() if line}
    connection = sqlite3.connect("file:%s?mode=ro" % database, uri=True, timeout=30)
    return {row[0]: float(row[1]) for row in connection.execute(query)}


def first_starts(path):
    starts = {}
    with open(path) as records:
        for line in records:
            fields = line.split()
            if len(fields) == 4 and fields[0] == "start":
                starts.setdefault(fields[1], float(fields[3]))
    return starts


def percentile(sorted_values, fraction):
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records")
    parser.add_argument("database")
    parser.add_argument("--since", type=float, required=True)
    parser.add_argument("--wait", type=float, default=30)
    args = parser.parse_args()
    events = received(args.database, args.since)
    if not events:
        sys.exit("store_to_start: no event was stored since %s" % args.since)
    deadline = time.time() + args.wait
    while True:
        starts = first_starts(args.records)
        missing = [event for event in events if event not in starts]
        if not missing or time.time() > deadline:
            break
        time.sleep(0.2)
    latencies = sorted(max(0.0, starts[event] - at) * 1000 for event, at in events.items() if event in starts)
    print("STORE_TO_START events=%d started=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f" % (
        len(events), len(latencies), percentile(latencies, 0.5), percentile(latencies, 0.99), latencies[-1]))
    if missing:
        sys.exit("store_to_start: %d events never started within %s s" % (len(missing), args.wait))


if __name__ == "__main__":
    main()
