"""Crash test for the webhook inbox: a burst of signed events while the server is killed with SIGKILL.

Sends N distinct app events (10 % of them delivered twice), shuffled, over both endpoints, from senders that
retry each delivery until it gets a 2xx, as Stripe does (with a fresh signature each time). Meanwhile the
server is killed with SIGKILL K times and restarted. Then it checks, reading the SQLite file directly:
- every event is stored exactly once, and every stored event was processed (status succeeded);
- side effects happened exactly once: each tenant's installation ends in the state of its newest event,
  and each deauthorization that applied left exactly one audit record (none duplicated by a re-run).

Only the Python standard library: the signatures are computed here with hmac, independently of the server.
Exit status 0 and a last line "N passed, 0 failed" when every check holds.

Usage: crash_burst.py --binary PATH [--events 20000] [--kills 5] [--workdir DIR]
"""

import argparse
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from reliability import free_port, installations_not_in_their_newest_state, newest_lifecycle_events, sign

LIVE_SECRET = "whsec_crash_live"
TEST_SECRET = "whsec_crash_test"




class Server:
    def __init__(self, binary, workdir, port):
        self.binary, self.workdir, self.port = binary, workdir, port
        self.process = None
        self.env = dict(os.environ, STRIPE_WEBHOOK_SECRETS_LIVE=LIVE_SECRET, STRIPE_WEBHOOK_SECRETS_TEST=TEST_SECRET,
                        LOG_LEVEL="warning", DATABASE_URL=f"sqlite:{workdir}/inbox.sqlite")
        self.env.pop("STRIPE_APP_SECRETS", None)
        self.log = open(os.path.join(workdir, "server.log"), "ab")

    def start(self):
        self.process = subprocess.Popen([self.binary, "serve", "--port", str(self.port)], cwd=self.workdir,
                                        env=self.env, stdout=subprocess.DEVNULL, stderr=self.log)
        for _ in range(600):  # up to 60 s: a cold start applies migrations
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become healthy")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


def make_events(count, rng):
    """Install/uninstall events over a pool of tenants, each event newer than the last of its tenant."""
    events = []
    accounts = [f"acct_crash{i}" for i in range(max(10, count // 20))]
    clock = {}
    for n in range(count):
        account = rng.choice(accounts)
        live = rng.random() < 0.5
        key = (account, live)
        clock[key] = clock.get(key, 1_700_000_000) + rng.randint(1, 5)
        kind = rng.choice(["authorized", "deauthorized"])
        event = {"id": f"evt_crash_{n}", "object": "event", "created": clock[key], "livemode": live,
                 "type": f"account.application.{kind}", "account": account,
                 "data": {"object": {"id": "ca_crash", "object": "application"}}}
        events.append(event)
    return events


def deliveries_for(events, rng):
    deliveries = []
    for event in events:
        copies = 2 if rng.random() < 0.10 else 1
        for _ in range(copies):
            # Test events may arrive on either endpoint (apps installed in both modes); live ones on live only.
            endpoint = "live" if event["livemode"] else rng.choice(["live", "test"])
            deliveries.append((event, endpoint))
    rng.shuffle(deliveries)
    return deliveries


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir")
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="crash-burst-")
    rng = random.Random(args.seed)
    events = make_events(args.events, rng)
    deliveries = deliveries_for(events, rng)
    server = Server(args.binary, workdir, free_port())
    server.start()

    lock = threading.Lock()
    acknowledged = [0]
    next_index = [0]
    server_up = threading.Event()
    server_up.set()
    kill_every = max(1, len(deliveries) // (args.kills + 1))

    def send(event, endpoint):
        body = json.dumps(event, separators=(",", ":")).encode()
        secret = LIVE_SECRET if endpoint == "live" else TEST_SECRET
        for attempt in range(10_000):
            server_up.wait()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                connection.request("POST", f"/webhooks/{endpoint}", body=body,
                                   headers={"Content-Type": "application/json", "Stripe-Signature": sign(body, secret)})
                status = connection.getresponse().status
                connection.close()
                if 200 <= status < 300:
                    return
                if status < 500:
                    raise RuntimeError(f"{event['id']} refused with {status}")
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(min(0.5, 0.01 * (attempt + 1)))
        raise RuntimeError(f"{event['id']} never acknowledged")

    kills = [0]
    errors = []

    def sender():
        while True:
            with lock:
                if next_index[0] >= len(deliveries):
                    return
                event, endpoint = deliveries[next_index[0]]
                next_index[0] += 1
            try:
                send(event, endpoint)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(str(error))
                return
            with lock:
                acknowledged[0] += 1
                should_kill = kills[0] < args.kills and acknowledged[0] >= kill_every * (kills[0] + 1)
                if should_kill:
                    kills[0] += 1
                    server_up.clear()
            if should_kill:
                server.kill()
                server.start()
                server_up.set()

    threads = [threading.Thread(target=sender) for _ in range(args.senders)]
    started = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent_seconds = time.time() - started

    # Let the worker finish: wait until nothing is pending (bounded).
    database = os.path.join(workdir, "inbox.sqlite")
    for _ in range(1200):
        with sqlite3.connect(database) as db:
            open_count = db.execute("SELECT count(*) FROM inbox_events WHERE status != 'succeeded'").fetchone()[0]
        if open_count == 0:
            break
        time.sleep(0.1)
    server.stop()

    checks = []

    def check(name, ok, detail=""):
        checks.append(ok)
        print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail and not ok else ""))

    check("no delivery failed for good", not errors, "; ".join(errors[:3]))
    check(f"the server was killed {args.kills} times", kills[0] == args.kills, str(kills[0]))
    with sqlite3.connect(database) as db:
        stored = db.execute("SELECT id, status FROM inbox_events").fetchall()
        installations = {(a, bool(l)): s for a, l, s in db.execute("SELECT account_id, livemode, status FROM installations")}
        audit = [r for (r,) in db.execute("SELECT reason FROM audit_log")]
    ids = [i for i, _ in stored]
    check("every event stored exactly once", len(ids) == len(set(ids)) == len(events), f"{len(ids)} rows, {len(set(ids))} ids, {len(events)} events")
    check("every stored event processed", all(s == "succeeded" for _, s in stored), str(sum(s != "succeeded" for _, s in stored)))
    newest = newest_lifecycle_events(events)
    wrong = installations_not_in_their_newest_state(events, installations)
    check("each installation is in the state of its newest event", not wrong, str(wrong[:3]))
    check("no audit record written twice", len(audit) == len(set(audit)), f"{len(audit) - len(set(audit))} duplicates")
    check("the newest deauthorization of each uninstalled tenant was audited",
          all(f"{e['type']} {e['id']}" in set(audit) for e in newest.values() if e["type"].endswith("deauthorized")))
    failed = checks.count(False)
    print(f"{len(deliveries)} deliveries of {len(events)} events in {sent_seconds:.1f} s with {kills[0]} SIGKILLs; workdir {workdir}")
    print(f"{len(checks) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
