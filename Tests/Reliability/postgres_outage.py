"""PostgreSQL stopped under load: webhooks answer 503 (never 2xx), /readyz 503, both recover by themselves.

Starts its own throwaway PostgreSQL (scripts/postgres.sh) so that stopping it disturbs no other test, and
`stripe-apps-backend serve` on it. Senders deliver signed events continuously and retry each one until it gets
a 2xx, as Stripe does. After a while PostgreSQL is stopped (pause), kept down, and started again (resume).
Checks: while it is down no delivery gets a 2xx and /readyz answers 503; within 5 s of it coming back both a
delivery and /readyz succeed again; in the end every event that got a 2xx is stored once and processed.

Only the Python standard library and psql. Exit status 0 and a last line "N passed, 0 failed".

Usage: postgres_outage.py --binary PATH [--down-seconds 4]
"""

import argparse
import ctypes
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

from reliability import free_port, sign

SECRET = "whsec_outage_test"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POSTGRES = os.path.join(ROOT, "scripts", "postgres.sh")




def die_with_parent():
    """Run in the child before exec: the kernel kills it when this script dies, even by SIGKILL (a test's
    deadline), so no server outlives the test and keeps a core busy. The signal follows the *thread* that started
    the child: start servers from the main thread only (crash_burst.py restarts its server from sender threads,
    so it cannot use this)."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def request(port, method, path, body=None, headers=None, timeout=15):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request(method, path, body=body, headers=headers or {})
    status = connection.getresponse().status
    connection.close()
    return status


def psql(url, sql):
    return subprocess.run(["psql", "-X", "-At", url, "-c", sql], check=True, capture_output=True, text=True).stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--down-seconds", type=float, default=4)
    parser.add_argument("--senders", type=int, default=8)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="postgres-outage-")
    started = subprocess.run([POSTGRES, "start"], check=True, capture_output=True, text=True).stdout
    env = {}
    for line in started.splitlines():
        key, value = line.removeprefix("export ").split("=", 1)
        env[key] = value.strip("'")
    url, pg_dir = env["POSTGRES_URL"], env["POSTGRES_DIR"]
    port = free_port()
    server_env = dict(os.environ, STRIPE_WEBHOOK_SECRETS_TEST=SECRET, STRIPE_APP_SECRETS="absec_outage",
                      DATABASE_URL=url, LOG_LEVEL="warning", DATABASE_TIMEOUT_SECONDS="2",
                      DATABASE_CONNECT_TIMEOUT_SECONDS="1", EVENT_LEASE_SECONDS="3")
    log = open(os.path.join(workdir, "server.log"), "ab")
    server = subprocess.Popen([args.binary, "serve", "--port", str(port)], preexec_fn=die_with_parent, cwd=workdir, env=server_env,
                              stdout=subprocess.DEVNULL, stderr=log)
    checks = []

    def check(name, ok, detail=""):
        ok = bool(ok)
        checks.append(ok)
        print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail and not ok else ""))

    try:
        for _ in range(600):
            try:
                if request(port, "GET", "/readyz", timeout=1) == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        lock = threading.Lock()
        answers = []  # (time, event id, status)
        acknowledged = set()
        counter = [0]
        stop = threading.Event()

        def sender():
            while not stop.is_set():
                with lock:
                    counter[0] += 1
                    event_id = f"evt_outage_{counter[0]}"
                event = {"id": event_id, "object": "event", "created": 1_700_000_000, "livemode": False,
                         "type": "invoice.paid", "account": "acct_outage", "data": {"object": {}}}
                body = json.dumps(event, separators=(",", ":")).encode()
                while True:
                    try:
                        status = request(port, "POST", "/webhooks/test", body,
                                         {"Content-Type": "application/json", "Stripe-Signature": sign(body, SECRET)})
                    except (OSError, http.client.HTTPException):
                        status = 0
                    with lock:
                        answers.append((time.time(), event_id, status))
                    if 200 <= status < 300:
                        with lock:
                            acknowledged.add(event_id)
                        break
                    if stop.is_set():
                        break
                    time.sleep(0.05)

        threads = [threading.Thread(target=sender) for _ in range(args.senders)]
        for thread in threads:
            thread.start()
        time.sleep(2)
        subprocess.run([POSTGRES, "pause", pg_dir], check=True, capture_output=True)
        down_at = time.time()
        ready_down = []
        while time.time() - down_at < args.down_seconds:
            try:
                ready_down.append(request(port, "GET", "/readyz", timeout=10))
            except OSError:
                ready_down.append(0)
            time.sleep(0.25)
        up_call = time.time()
        subprocess.run([POSTGRES, "resume", pg_dir], check=True, capture_output=True)
        up_at = time.time()
        ready_at = None
        while time.time() - up_at < 30:
            try:
                if request(port, "GET", "/readyz", timeout=5) == 200:
                    ready_at = time.time()
                    break
            except OSError:
                pass
            time.sleep(0.05)
        time.sleep(2)
        stop.set()
        for thread in threads:
            thread.join()

        # Answers given while the database was certainly down: after the pause returned, before resume began.
        during = [a for a in answers if down_at + 0.05 < a[0] < up_call]
        statuses = {s for _, _, s in during}
        check("deliveries were answered while PostgreSQL was down", during, "none")
        check("no delivery got a 2xx while PostgreSQL was down", not any(200 <= s < 300 for s in statuses),
              str(sorted(statuses)))
        check("deliveries got 503 while PostgreSQL was down", 503 in statuses, str(sorted(statuses)))
        check("/readyz answered 503 while PostgreSQL was down", ready_down and all(s == 503 for s in ready_down[1:]),
              str(ready_down))
        check("/readyz recovered within 5 s", ready_at is not None and ready_at - up_at <= 5,
              f"{None if ready_at is None else round(ready_at - up_at, 2)} s")
        first_ok = min((a[0] for a in answers if a[0] > up_at and 200 <= a[2] < 300), default=None)
        check("deliveries recovered within 5 s", first_ok is not None and first_ok - up_at <= 5,
              f"{None if first_ok is None else round(first_ok - up_at, 2)} s")
        for _ in range(600):
            if psql(url, "SELECT count(*) FROM inbox_events WHERE status <> 'succeeded'").strip() == "0":
                break
            time.sleep(0.1)
        stored = psql(url, "SELECT id, status FROM inbox_events").split()
        rows = [line.split("|") for line in stored]
        ids = [r[0] for r in rows]
        check("every acknowledged event is stored once", acknowledged <= set(ids) and len(ids) == len(set(ids)),
              f"{len(acknowledged - set(ids))} missing")
        # Events whose outcome could not be written during the outage run again once their lease (3 s) expired.
        check("every stored event processed", all(r[1] == "succeeded" for r in rows),
              str(sorted({r[1] for r in rows if r[1] != "succeeded"})))
        if not checks[-1]:
            print(psql(url, "SELECT status, count(*), min(received_at) - " + str(up_at) + ", max(received_at) - "
                       + str(up_at) + ", max(lease_expires_at) - " + str(time.time()) + " FROM inbox_events GROUP BY status"))
        recovery = "-" if ready_at is None else f"{ready_at - up_at:.2f}"
        print(f"{len(acknowledged)} events acknowledged, {len(during)} answers while down, "
              f"/readyz back {recovery} s after PostgreSQL; workdir {workdir}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run([POSTGRES, "stop", pg_dir], capture_output=True)
    failed = checks.count(False)
    print(f"{len(checks) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
