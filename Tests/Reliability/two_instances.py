"""Two backend instances on one PostgreSQL database, one of them SIGKILLed mid-run.

Sends N distinct signed app events (10 % of them delivered twice), round-robin over both instances, from
senders that retry each delivery until it gets a 2xx, as Stripe does. A delivery refused by the killed
instance (connection refused or reset, or a 5xx) is re-sent to the other one. Halfway through, slow events
are sent to instance A until its handlers are running some of them, and A is SIGKILLed. Then it checks,
reading PostgreSQL with psql and the handlers' own records (RECORD_FILE, written by stripe-apps-test-server):
- every event is stored exactly once and processed (status succeeded);
- no event ran on two instances at the same time, and every event finished exactly once;
- each event A was running when it died was run again by B, no sooner than its lease allowed;
- every installation is in the state of its newest event.

Only the Python standard library and psql: signatures are computed here with hmac, independently of the server.
Exit status 0 and a last line "N passed, 0 failed" when every check holds.

Usage: two_instances.py --binary PATH --database-url postgres://… [--events 20000] [--lease 3]
"""

import argparse
import collections
import ctypes
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

from reliability import free_port, installations_not_in_their_newest_state, sign

LIVE_SECRET = "whsec_multi_live"
TEST_SECRET = "whsec_multi_test"




def die_with_parent():
    """Run in the child before exec: the kernel kills it when this script dies, even by SIGKILL (a test's
    deadline), so no server outlives the test and keeps a core busy. The signal follows the *thread* that started
    the child: start servers from the main thread only (crash_burst.py restarts its server from sender threads,
    so it cannot use this)."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Instance:
    def __init__(self, name, binary, workdir, database_url, lease, record_file, extra_env=None):
        self.name, self.port = name, free_port()
        self.env = dict(os.environ, STRIPE_WEBHOOK_SECRETS_LIVE=LIVE_SECRET, STRIPE_WEBHOOK_SECRETS_TEST=TEST_SECRET,
                        STRIPE_APP_SECRETS="absec_multi_instance", LOG_LEVEL="warning", DATABASE_URL=database_url,
                        INSTANCE_ID=name, EVENT_LEASE_SECONDS=str(lease), RECORD_FILE=record_file, PORT=str(self.port),
                        DATABASE_POOL_SIZE="8", SLOW_SECONDS="1")
        self.env.update(extra_env or {})
        self.log = open(os.path.join(workdir, f"{name}.log"), "ab")
        self.process = subprocess.Popen([binary], preexec_fn=die_with_parent, cwd=workdir, env=self.env, stdout=self.log, stderr=self.log)
        self.alive = True
        for _ in range(600):  # up to 60 s
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited with {self.process.returncode}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                connection.request("GET", "/readyz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not become ready")

    def post(self, path, body, secret):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        connection.request("POST", path, body=body,
                           headers={"Content-Type": "application/json", "Stripe-Signature": sign(body, secret)})
        status = connection.getresponse().status
        connection.close()
        return status

    def kill(self):
        self.alive = False
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


def make_events(count, rng):
    """Install/uninstall events over a pool of tenants (each newer than the last of its tenant), and invoices."""
    events = []
    accounts = [f"acct_multi{i}" for i in range(max(10, count // 20))]
    clock = {}
    for n in range(count):
        account = rng.choice(accounts)
        live = rng.random() < 0.5
        key = (account, live)
        clock[key] = clock.get(key, 1_700_000_000) + rng.randint(1, 5)
        kind = rng.choice(["account.application.authorized", "account.application.deauthorized", "invoice.paid"])
        events.append({"id": f"evt_multi_{n}", "object": "event", "created": clock[key], "livemode": live,
                       "type": kind, "account": account, "data": {"object": {"id": "obj_1", "object": "x"}}})
    return events


def psql(url, sql):
    output = subprocess.run(["psql", "-X", "-At", "-F", "\t", url, "-c", sql], check=True, capture_output=True,
                            text=True).stdout
    return [line.split("\t") for line in output.splitlines() if line]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--lease", type=int, default=3)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir")
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="two-instances-")
    record_file = os.path.join(workdir, "records.txt")
    rng = random.Random(args.seed)
    events = make_events(args.events, rng)
    deliveries = [e for e in events for _ in range(2 if rng.random() < 0.10 else 1)]
    rng.shuffle(deliveries)
    a = Instance("a", args.binary, workdir, args.database_url, args.lease, record_file)
    b = Instance("b", args.binary, workdir, args.database_url, args.lease, record_file)
    instances = [a, b]

    lock = threading.Lock()
    next_index = [0]
    acknowledged = [0]
    errors = []
    resent = [0]
    paused = threading.Event()
    paused.set()

    def deliver(event, first):
        body = json.dumps(event, separators=(",", ":")).encode()
        secret = LIVE_SECRET if event["livemode"] else TEST_SECRET
        path = "/webhooks/live" if event["livemode"] else "/webhooks/test"
        target = first
        for attempt in range(2000):
            paused.wait()
            if not target.alive:
                target = b
            try:
                status = target.post(path, body, secret)
                if 200 <= status < 300:
                    return
                if status < 500:
                    raise RuntimeError(f"{event['id']} refused with {status}")
            except (OSError, http.client.HTTPException):
                pass
            # Refused: Stripe retries; the load balancer sends the retry to an instance that answers.
            with lock:
                resent[0] += 1
            target = b if target is a else a
            if not target.alive:
                target = b
            time.sleep(min(0.2, 0.005 * (attempt + 1)))
        raise RuntimeError(f"{event['id']} never acknowledged")

    killed = threading.Event()
    killed_at = [None]
    slow_ids = []

    def kill_a_mid_handler():
        # Slow events straight to A, more than one instance claims at once (4 per handler slot), until A's
        # handlers are running some of them; then SIGKILL. Both instances claim from one database, so B may take
        # every one of a batch (A's slots still busy with the backlog): then another batch goes, up to five.
        # Reads only what was appended since the last look: the record file holds a line per run of every event,
        # and rereading it whole every 20 ms on a loaded machine took longer than a slow handler runs.
        position = 0
        started_on_a = False
        for batch in range(5):
            for n in range(64 * batch, 64 * (batch + 1)):
                slow = {"id": f"evt_slow_{n}", "object": "event", "created": 1_700_000_000, "livemode": False,
                        "type": "invoice.paid", "account": "acct_slow", "data": {"object": {"slow": True}}}
                slow_ids.append(slow["id"])
                body = json.dumps(slow, separators=(",", ":")).encode()
                if a.post("/webhooks/test", body, TEST_SECRET) != 200:
                    raise RuntimeError("A refused a slow event")
            for _ in range(1000):
                with open(record_file) as f:
                    f.seek(position)
                    appended = f.read()
                complete = appended[:appended.rfind("\n") + 1]
                position += len(complete.encode())
                if any(line.startswith("start evt_slow_") and " a " in line for line in complete.splitlines()):
                    started_on_a = True
                    break
                time.sleep(0.02)
            if started_on_a:
                break
            print(f"A started none of slow batch {batch + 1} in 20 s (B claimed them): sending another", flush=True)
        killed_at[0] = time.time()
        a.kill()
        killed.set()

    def sender(index):
        while True:
            with lock:
                if next_index[0] >= len(deliveries):
                    return
                position = next_index[0]
                next_index[0] += 1
            event = deliveries[position]
            try:
                deliver(event, instances[position % 2])
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(str(error))
                return
            with lock:
                acknowledged[0] += 1
                kill_now = acknowledged[0] == len(deliveries) // 2
            if kill_now:
                kill_a_mid_handler()

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(args.senders)]
    started = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent_seconds = time.time() - started

    url = args.database_url
    for _ in range(1200):  # up to 120 s for the worker to finish, leases of the killed instance included
        if psql(url, "SELECT count(*) FROM inbox_events WHERE status <> 'succeeded'")[0][0] == "0":
            break
        time.sleep(0.1)
    b.stop()

    checks = []

    def check(name, ok, detail=""):
        ok = bool(ok)
        checks.append(ok)
        print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail and not ok else ""))

    check("no delivery failed for good", not errors, "; ".join(errors[:3]))
    check("instance a was killed mid-run", killed.is_set())
    stored = psql(url, "SELECT id, status FROM inbox_events")
    ids = [row[0] for row in stored]
    expected = {e["id"] for e in events} | set(slow_ids)
    check("every event stored exactly once", len(ids) == len(set(ids)) and set(ids) == expected,
          f"{len(ids)} rows, {len(set(ids))} ids, {len(expected)} events")
    check("every stored event processed", all(row[1] == "succeeded" for row in stored),
          str(sum(row[1] != "succeeded" for row in stored)))

    runs = collections.defaultdict(list)  # event -> [(instance, start, end or None)]
    open_runs = {}
    with open(record_file) as f:
        for line in f:
            what, event, instance, at = line.split()
            if what == "start":
                open_runs[(event, instance)] = float(at)
            else:
                runs[event].append((instance, open_runs.pop((event, instance)), float(at)))
    for (event, instance), start in open_runs.items():
        runs[event].append((instance, start, None))
    overlaps = []
    for event, event_runs in runs.items():
        ordered = sorted(event_runs, key=lambda run: run[1])
        for earlier, later in zip(ordered, ordered[1:]):
            if earlier[2] is None and earlier[0] == "a" and later[0] == "b":
                if later[1] < killed_at[0]:
                    overlaps.append(event)  # B started it while A, still alive, was running it
                continue  # A died in this run: it ended at the kill
            if earlier[2] is None or later[1] < earlier[2]:
                overlaps.append(event)
    check("no event ran on two instances at once", not overlaps, str(overlaps[:3]))
    finished = {event: sum(run[2] is not None for run in event_runs) for event, event_runs in runs.items()}

    # At least once, not exactly once: a handler that ended on A in the last moment before the kill may not have
    # had its outcome committed yet (completions share a group commit), so B runs it again after the lease. Only
    # that is allowed: a second finished run must be B's, after one of A's that ended within 1 s of the kill.
    def finished_again_after_the_kill(event):
        done = sorted((run for run in runs[event] if run[2] is not None), key=lambda run: run[1])
        return (len(done) == 2 and done[0][0] == "a" and done[1][0] == "b" and killed_at[0] is not None
                and killed_at[0] - 1.0 <= done[0][2] <= killed_at[0] + 0.1)

    twice = [event for event, n in finished.items() if n == 2 and finished_again_after_the_kill(event)]
    check("every event finished exactly once (but for outcomes the kill cut off)",
          set(finished) == expected and all(n == 1 or event in twice for event, n in finished.items()),
          str([e for e, n in finished.items() if n != 1 and e not in twice][:3]))
    interrupted = {event: run for event, event_runs in runs.items() for run in event_runs
                   if run[0] == "a" and run[2] is None}
    # B may claim such an event a lease after A's last claim or heartbeat of it, which can come before the run's
    # start (a claimed event waits for a free handler slot, longer on a loaded machine): so the bound is the kill
    # plus what is left of a lease renewed at most a heartbeat (lease / 3) before it.
    earliest = (killed_at[0] or 0) + args.lease * 2 / 3 - 0.5
    rerun_late = [event for event, run in interrupted.items()
                  if any(r[0] == "b" and r[2] is not None and r[1] >= earliest for r in runs[event])]
    check("events A was running when it died were run again by B after the lease",
          interrupted and len(rerun_late) == len(interrupted), f"{len(interrupted)} interrupted, {len(rerun_late)} re-run")

    installations = {(row[0], row[1] == "t"): row[2]
                     for row in psql(url, "SELECT account_id, livemode, status FROM installations")}
    wrong = installations_not_in_their_newest_state(events, installations)
    check("each installation is in the state of its newest event", not wrong, str(wrong[:3]))
    failed = checks.count(False)
    print(f"{len(deliveries)} deliveries of {len(events)} events over 2 instances in {sent_seconds:.1f} s, "
          f"{resent[0]} re-sent, {len(interrupted)} interrupted by the kill, {len(twice)} run again "
          f"because the kill cut off their recorded outcome; workdir {workdir}")
    print(f"{len(checks) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
