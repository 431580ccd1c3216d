#!/usr/bin/env bash
# The inbox worker alone: claims + completions per second, and the time from a durable store to a handler start.
#
# Usage: Benchmarks/run-worker-bench.sh --database-url URL [--events 50000] [--concurrency 4] [--tenants 1]
#            [--binary .build/release/stripe-apps-test-server] [--backend .build/release/stripe-apps-backend]
#
# --tenants N spreads the events over N accounts (acct_bench_0 …): the worker runs the events of one tenant one
# after the other and tenants side by side, so one tenant measures the sequential path and many the concurrent one.
#
# URL is an empty PostgreSQL database (postgres://…) or a new SQLite file (sqlite:PATH). The script migrates it
# with `stripe-apps-backend migrate`, inserts EVENTS pending events directly (psql generate_series, or Python's
# sqlite3 in one transaction), then starts stripe-apps-test-server (the backend as `serve` builds it, with a
# handler that records when each run starts and ends) and waits until every event has ended. It prints the
# events, the seconds from the first start to the last end, and claims+completions/s. Nothing is measured
# while events are inserted.
set -euo pipefail
cd "$(dirname "$0")/.."
events=50000
concurrency=4
tenants=1
binary=.build/release/stripe-apps-test-server
backend=.build/release/stripe-apps-backend
url=""
while [ $# -gt 0 ]; do
    case "$1" in
        --database-url) url="$2"; shift 2 ;;
        --events) events="$2"; shift 2 ;;
        --concurrency) concurrency="$2"; shift 2 ;;
        --tenants) tenants="$2"; shift 2 ;;
        --binary) binary="$2"; shift 2 ;;
        --backend) backend="$2"; shift 2 ;;
        *) echo "run-worker-bench: unknown argument: $1" >&2; exit 2 ;;
    esac
done
[ -n "$url" ] || { echo "run-worker-bench: --database-url is required" >&2; exit 2; }
work="$(mktemp -d)"
pid=""
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
DATABASE_URL="$url" "$backend" migrate > /dev/null
payload='{"id":"evt","object":"event","created":1,"livemode":false,"type":"invoice.paid","account":"acct","data":{"object":{}}}'
if [[ "$url" == postgres* ]]; then
    psql -X -q "$url" -c "INSERT INTO inbox_events (id, type, livemode, account_id, created, received_at, status, attempts, payload)
        SELECT 'evt_bench_' || n, 'invoice.paid', false, 'acct_bench_' || (n % $tenants), n, extract(epoch from now()),
            'pending', 0,
            replace(replace('$payload', '\"evt\"', '\"evt_bench_' || n || '\"'), '\"acct\"', '\"acct_bench_' || (n % $tenants) || '\"')
        FROM generate_series(1, $events) AS n"
else
    python3 - "${url#sqlite:}" "$events" "$payload" "$tenants" <<'PY'
import sqlite3, sys, time
path, count, payload, tenants = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
db = sqlite3.connect(path)
now = time.time()
db.executemany("INSERT INTO inbox_events (id, type, livemode, account_id, created, received_at, status, attempts, payload) "
               "VALUES (?, 'invoice.paid', 0, ?, ?, ?, 'pending', 0, ?)",
               ((f"evt_bench_{n}", f"acct_bench_{n % tenants}", n, now,
                 payload.replace('"evt"', f'"evt_bench_{n}"').replace('"acct"', f'"acct_bench_{n % tenants}"'))
                for n in range(1, count + 1)))
db.commit()
PY
fi
records="$work/records.txt"
DATABASE_URL="$url" RECORD_FILE="$records" PORT=0 LOG_LEVEL=warning STRIPE_APP_SECRETS=absec_bench \
    EVENT_CONCURRENCY="$concurrency" INSTANCE_ID=bench "$binary" > "$work/server.log" 2>&1 &
pid=$!
python3 - "$records" "$events" <<'PY'
import os, sys, time
path, count = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 600
while time.time() < deadline:
    if os.path.exists(path):
        with open(path) as f:
            lines = f.read().splitlines()
        ends = [l for l in lines if l.startswith("end ")]
        if len(ends) >= count:
            starts = [float(l.split()[3]) for l in lines if l.startswith("start ")]
            last = max(float(l.split()[3]) for l in ends)
            seconds = last - min(starts)
            print(f"{count} events, {seconds:.2f} s from the first start to the last end, {count / seconds:.0f} claims+completions/s")
            sys.exit(0)
    time.sleep(0.2)
sys.exit("the worker did not finish within 600 s")
PY
