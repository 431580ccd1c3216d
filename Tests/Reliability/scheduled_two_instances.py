#!/usr/bin/env python3
"""Two instances of the test server on one PostgreSQL database run a per-installation schedule every second for
50 installed tenants; one instance is SIGKILLed while its jobs run.

Checks, from the database and from the records each run writes (independently of the backend's own code):
every (schedule, tenant, slot) has exactly one job, every slot from a tenant's first to the last one is there
(none lost across the kill), at least 1,000 slots ran, every job ended succeeded, each slot's effect was recorded
(a run cut by the kill ran again on the other instance after the lease), and no slot ran on both instances at the
same time.

Usage: scheduled_two_instances.py --binary .build/debug/stripe-apps-test-server --database-url postgres://...
"""

import argparse
import collections
import json
import os
import sys
import tempfile
import time

from two_instances import LIVE_SECRET, Instance, psql

TENANTS = 50


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--slots", type=int, default=1000)
    parser.add_argument("--workdir")
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="scheduled-two-instances-")
    record_file = os.path.join(workdir, "records.txt")
    open(record_file, "a").close()
    url = args.database_url
    # Each run takes 0.2 s, so a kill finds runs in flight; the lease is short so the survivor takes them over.
    # Four connections each: the suite runs other PostgreSQL tests on the same server at the same time.
    extra = {"TICK_SECONDS": "0.2", "JOB_LEASE_SECONDS": "3", "JOB_CONCURRENCY": "16", "DATABASE_POOL_SIZE": "4"}
    a = Instance("a", args.binary, workdir, url, 3, record_file, extra)
    b = Instance("b", args.binary, workdir, url, 3, record_file, extra)

    # Install 50 tenants through signed webhooks, half to each instance.
    for n in range(TENANTS):
        event = {"id": f"evt_install_{n}", "object": "event", "created": 1_700_000_000, "livemode": True,
                 "type": "account.application.authorized", "account": f"acct_tick{n:02d}",
                 "data": {"object": {"id": "ca_1", "object": "application"}}}
        status = (a if n % 2 == 0 else b).post("/webhooks/live", json.dumps(event).encode(), LIVE_SECRET)
        if status != 200:
            sys.exit(f"install webhook refused with {status}")

    def open_runs_of(instance):
        """The slot keys `instance` started and has not ended, from the records the instances append."""
        started, ended = set(), set()
        with open(record_file) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 4 and parts[2] == instance:
                    (started if parts[0] == "jobstart" else ended if parts[0] == "jobend" else set()).add(parts[1])
        return started - ended

    def done_slots():
        return int(psql(url, "SELECT count(*) FROM jobs WHERE name = 'tick' AND status = 'succeeded'")[0][0])

    deadline = time.time() + 240
    killed = False
    killed_with_running = 0
    while time.time() < deadline:
        done = done_slots()
        if not killed and done >= args.slots // 2:
            # Kill A in the middle of runs: started (its record says so) and not ended. The database's `running`
            # rows are not enough: a run that ended stays `running` until its outcome commits, and the slots of
            # an every-second schedule all start together, so most of each second has no run in flight.
            for _ in range(500):
                killed_with_running = len(open_runs_of("a"))
                if killed_with_running > 0:
                    break
                time.sleep(0.01)
            a.kill()
            killed = True
        if killed and done >= args.slots + TENANTS * 5:
            break
        time.sleep(0.2)
    # Let B catch up with everything older than a few seconds (A's leases included), then stop it. Runs B still
    # holds when it stops are left to their leases, as after any shutdown: only slots of the last seconds may be
    # open then.
    for _ in range(600):
        behind = psql(url, "SELECT count(*) FROM jobs WHERE name = 'tick' AND status <> 'succeeded' "
                           "AND run_at < extract(epoch from now()) - 5")
        if behind[0][0] == "0":
            break
        time.sleep(0.1)
    stopped_at = time.time()
    b.stop()

    checks = []

    def check(name, ok, detail=""):
        ok = bool(ok)
        checks.append(ok)
        print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail and not ok else ""))

    rows = psql(url, "SELECT slot_key, status FROM jobs WHERE name = 'tick'")
    keys = [row[0] for row in rows]
    check("instance a was killed while running jobs", killed and killed_with_running > 0, str(killed_with_running))
    check("one job per (schedule, tenant, slot)", len(keys) == len(set(keys)), f"{len(keys)} jobs, {len(set(keys))} keys")
    succeeded = [row[0] for row in rows if row[1] == "succeeded"]
    unfinished = [row for row in rows if row[1] != "succeeded"]
    check(f"at least {args.slots} slots ran", len(succeeded) >= args.slots, str(len(succeeded)))
    late = [row for row in unfinished if int(row[0].rsplit(":", 1)[1]) < stopped_at - 10]
    check("every job ended succeeded (but those of the last seconds before the stop)", not late, str(late[:3]))
    by_tenant = collections.defaultdict(list)
    for key in keys:
        _, account, _, slot = key.split(":")
        by_tenant[account].append(int(slot))
    gaps = {account: sorted(set(range(min(s), max(s) + 1)) - set(s))
            for account, s in by_tenant.items() if set(range(min(s), max(s) + 1)) - set(s)}
    check(f"all {TENANTS} tenants scheduled", len(by_tenant) == TENANTS, str(len(by_tenant)))
    check("no slot lost between a tenant's first and last", not gaps, str(list(gaps.items())[:2]))

    runs = collections.defaultdict(list)  # slot key -> [(instance, start, end or None)]
    open_runs = {}
    with open(record_file) as f:
        for line in f:
            what, key, instance, at = line.split()
            if what == "jobstart":
                open_runs[(key, instance)] = float(at)
            elif what == "jobend":
                runs[key].append((instance, open_runs.pop((key, instance), None), float(at)))
    for (key, instance), start in open_runs.items():
        runs[key].append((instance, start, None))
    missing_effect = [key for key in succeeded if not any(run[2] is not None for run in runs.get(key, []))]
    check("every succeeded slot recorded its effect", not missing_effect, str(missing_effect[:3]))
    cut = [key for key, key_runs in runs.items() if any(run[0] == "a" and run[2] is None for run in key_runs)]
    rerun = [key for key in cut if any(run[0] == "b" and run[2] is not None for run in runs[key])]
    check("runs cut by the kill ran again on the other instance", cut and len(rerun) == len(cut),
          f"{len(rerun)} of {len(cut)}")
    overlaps = []
    for key, key_runs in runs.items():
        finished = sorted((run for run in key_runs if run[2] is not None and run[1] is not None), key=lambda r: r[1])
        for earlier, later in zip(finished, finished[1:]):
            if later[1] < earlier[2]:
                overlaps.append(key)
    check("no slot ran on both instances at once", not overlaps, str(overlaps[:3]))
    print(f"{sum(checks)} passed, {len(checks) - sum(checks)} failed "
          f"({len(succeeded)} slots, {len(cut)} cut by the kill)")
    sys.exit(0 if all(checks) else 1)


if __name__ == "__main__":
    main()
