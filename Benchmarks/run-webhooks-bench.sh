#!/usr/bin/env bash
# Side-by-side benchmark of `POST /webhooks/test`, the durable webhook inbox: our server against a Flask peer
# that does the same durable work (Benchmarks/peers/flask_webhooks: stripe-python verification, JSON parse,
# INSERT OR IGNORE into SQLite in WAL mode with synchronous=FULL, answered only after the commit), both
# measured with wrk in the same run, on 127.0.0.1 only. Every delivery is a distinct, newly signed event.
#
# Usage: Benchmarks/run-webhooks-bench.sh [--duration 20s] [--warmup 5s] [--connections 64] [--threads 2]
#            [--rate 1000] [--paced-connections 32] [--ours-cmd "<command that starts our server>"]
#            [--peer-only | --ours-only] [--ours-database-url postgres://…] [--ours-instances N] [--balancer]
#            [--paced-only] [--store-to-start]
#
# For each server: a check that one signed delivery gets 200 {"received":true,…} and a tampered one gets
# 4xx; an unpaced warm-up; (a) a throughput run (wrk -c CONNECTIONS, as fast as it answers); (b) a paced
# run at about RATE events/s over PACED-CONNECTIONS connections. After each run it counts the rows of the
# server's SQLite inbox and checks that every acknowledged (2xx) event is stored.
#
# --ours-database-url runs ours on that database (an empty PostgreSQL database; rows are counted with psql)
# instead of a new SQLite file. --ours-instances N (N > 1 needs a PostgreSQL database) starts N of our servers on
# that one database behind nginx (round-robin, keep-alive to each instance), which wrk then loads; --balancer puts
# nginx in front of a single instance too, so that one and two instances are compared through the same hop.
#
# --paced-only skips the throughput run (the warm-up is paced too), so that no backlog is left for the paced
# run. --store-to-start runs ours as stripe-apps-test-server (unless --ours-cmd says otherwise: it must write
# RECORD_FILE the same way), which records each handler start, and reports p50/p99 from each event's store to
# its handler's start over the paced run (Benchmarks/wrk/store_to_start.py).
#
# For ours, "unprocessed" counts the inbox rows not yet succeeded one second after each run: the backlog the
# worker had left while the deliveries went on.
#
# The ours command gets STRIPE_WEBHOOK_SECRETS_TEST, DATABASE_URL=sqlite:<temp file>, HOST=127.0.0.1,
# LOG_LEVEL=warning and PORT (a free port, unless the command itself says --port N). It must exec the
# server itself (not `swift run`).
#
# Prints a markdown table and exits non-zero when either server answered anything but 2xx, or stored fewer
# events than it acknowledged. Everything it starts is stopped on exit, Ctrl-C included.
set -euo pipefail

cd "$(dirname "$0")/.."
command_line="$0"
for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./=:,@%+-]+$ ]]; then
        command_line+=" $arg"
    else
        command_line+=" '${arg//\'/\'\\\'\'}'"
    fi
done

duration=20s
warmup=5s
connections=64
paced_connections=32
threads=2
rate=1000
ours_cmd=".build/release/stripe-apps-backend serve"
run_ours=true
run_peer=true
ours_database_url=""
ours_instances=1
balancer=false
paced_only=false
store_to_start=false
ours_cmd_given=false

usage() { sed -n '/^# Usage:/,/^#$/{/^#$/d;s/^# //;p;}' "$0" >&2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration="${2:?--duration needs a value}"; shift 2 ;;
        --warmup) warmup="${2:?--warmup needs a value}"; shift 2 ;;
        --connections) connections="${2:?--connections needs a value}"; shift 2 ;;
        --paced-connections) paced_connections="${2:?--paced-connections needs a value}"; shift 2 ;;
        --threads) threads="${2:?--threads needs a value}"; shift 2 ;;
        --rate) rate="${2:?--rate needs a value}"; shift 2 ;;
        --ours-cmd) ours_cmd="${2:?--ours-cmd needs a value}"; ours_cmd_given=true; shift 2 ;;
        --paced-only) paced_only=true; shift ;;
        --store-to-start) store_to_start=true; shift ;;
        --ours-database-url) ours_database_url="${2:?--ours-database-url needs a value}"; shift 2 ;;
        --ours-instances) ours_instances="${2:?--ours-instances needs a value}"; shift 2 ;;
        --balancer) balancer=true; shift ;;
        --peer-only) run_ours=false; shift ;;
        --ours-only) run_peer=false; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "run-webhooks-bench: unknown argument: $1" >&2; usage; exit 2 ;;
    esac
done

say() { echo "run-webhooks-bench: $*" >&2; }
fail() { say "$*"; exit 2; }

# Installed before any child process runs, so that Ctrl-C at any point stops what was started.
work=""
started=() # session ids (= pids) of the servers still running
stop_server() {
    local pid="$1" i
    # Each server runs in its own session: signal the whole of it (gunicorn's workers too).
    kill -TERM -- "-$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        # shellcheck disable=SC2009 # zombies (state Z) have exited; pgrep would count them
        ps -o stat= --sid "$pid" 2>/dev/null | grep -qv '^Z' || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    local kept=() p
    for p in "${started[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
    started=("${kept[@]}")
}
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    local pid
    for pid in "${started[@]}"; do stop_server "$pid"; done
    [ -z "$work" ] || rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wrk takes 20s or 1m; each request file is signed "now", just before its run, and is valid for 300 s.
seconds_of() {
    [[ "$1" =~ ^([0-9]{1,4})([sm]?)$ ]] || return 1
    local n=$((10#${BASH_REMATCH[1]}))
    if [ "${BASH_REMATCH[2]}" = m ]; then echo $((n * 60)); else echo "$n"; fi
}
for value in "$duration" "$warmup"; do
    s="$(seconds_of "$value")" || fail "bad duration '$value' (use e.g. 20s or 1m)"
    if [ "$s" -lt 1 ] || [ "$s" -gt 240 ]; then
        fail "duration '$value' must be 1 s to 240 s: the signatures expire after 300 s"
    fi
done
duration_seconds="$(seconds_of "$duration")"
warmup_seconds="$(seconds_of "$warmup")"
for value in "$connections" "$paced_connections" "$threads" "$rate"; do
    [[ "$value" =~ ^[1-9][0-9]*$ ]] || fail "--connections, --paced-connections, --threads and --rate take positive integers"
done
[ "$threads" -le "$connections" ] || fail "--threads must not exceed --connections"
[ "$threads" -le "$paced_connections" ] ||
    fail "--threads must not exceed --paced-connections"
$run_ours || $run_peer || fail "--peer-only and --ours-only exclude each other"
[[ "$ours_instances" =~ ^[1-9]$ ]] || fail "--ours-instances takes 1 to 9"
if [ "$ours_instances" -gt 1 ]; then
    [[ "$ours_database_url" == postgres* ]] || fail "--ours-instances $ours_instances needs --ours-database-url postgres://…"
    balancer=true
fi
if $store_to_start && ! $ours_cmd_given; then ours_cmd=".build/release/stripe-apps-test-server"; fi
if $balancer; then
    command -v nginx >/dev/null || fail "nginx is not installed; install it with: apt-get install -y nginx-light"
    [[ " $ours_cmd " =~ [[:space:]]--port[=[:space:]] ]] && fail "--balancer picks each instance's port: drop --port from --ours-cmd"
fi

command -v wrk >/dev/null || fail "wrk is not installed; install it with: apt-get install -y wrk"
command -v curl >/dev/null || fail "curl is not installed; install it with: apt-get install -y curl"

ours_port=""
if $run_ours; then
    if [[ " $ours_cmd " =~ [[:space:]]--host[=[:space:]]+([^[:space:]]+) ]] &&
        [ "${BASH_REMATCH[1]}" != 127.0.0.1 ]; then
        fail "--ours-cmd binds to ${BASH_REMATCH[1]}; this benchmark only uses 127.0.0.1"
    fi
    if [[ " $ours_cmd " =~ [[:space:]]--port[=[:space:]]+([0-9]+) ]]; then
        ours_port="${BASH_REMATCH[1]}"
    fi
    read -r ours_exe _ <<<"$ours_cmd"
    command -v "$ours_exe" >/dev/null ||
        fail "our server '$ours_exe' is missing: run swift build -c release, or pass --ours-cmd or --peer-only"
fi

# The peer's own venv, shared with the whoami benchmark, created once.
venv=Benchmarks/.venv-peer
if ! "$venv/bin/python" -c 'import flask, gunicorn, stripe' 2>/dev/null; then
    say "creating $venv from Benchmarks/peers/flask_webhooks/requirements.txt"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r Benchmarks/peers/flask_webhooks/requirements.txt
fi
python="$venv/bin/python"

# One shared webhook secret for both servers, passed through the environment only, never printed.
secret="whsec_bench$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
work="$(mktemp -d -t webhooks-bench.XXXXXX)"
mkdir "$work/ours" "$work/peer"

port_is_free() {
    "$python" -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}
free_port() {
    "$python" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

is_running() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }

start_server() {
    local log="$1"
    shift
    setsid "$@" >"$log" 2>&1 </dev/null &
    server_pid=$!
    started+=("$server_pid")
}

wait_healthy() {
    local name="$1" pid="$2" port="$3" log="$4" attempt
    for ((attempt = 1; attempt <= 150; attempt++)); do
        if ! is_running "$pid"; then
            say "$name exited during start-up; the end of its log:"
            tail -n 20 "$log" >&2
            return 1
        fi
        if curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz"; then
            return 0
        fi
        sleep 0.2
    done
    say "$name did not answer GET /healthz on 127.0.0.1:$port within 30 s; the end of its log:"
    tail -n 20 "$log" >&2
    return 1
}

presign() { # out count
    STRIPE_WEBHOOK_SECRETS_TEST="$secret" "$python" Benchmarks/wrk/presign_events.py --count "$2" --out "$1" 2>/dev/null
}

# Rows in a server's inbox, read through a read-only connection while the server runs (WAL: committed rows).
stored_rows() { # database file, or a postgres:// URL
    if [[ "$1" == postgres* ]]; then
        psql -X -At "$1" -c "SELECT count(*) FROM inbox_events"
        return
    fi
    "$python" - "$1" <<'EOF'
import sqlite3, sys
connection = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=30)
print(connection.execute("SELECT count(*) FROM inbox_events").fetchone()[0])
EOF
}

# Before loading a server: one signed delivery must get 200 {"received":true,"duplicate":false} and be
# stored; the same delivery with a changed body must get a 4xx.
preflight() {
    local name="$1" port="$2" db="$3" sig body code after
    presign "$work/preflight.tsv" 1
    IFS=$'\t' read -r sig body <"$work/preflight.tsv"
    code="$(curl -sS -o "$work/preflight.json" -w '%{http_code}' --max-time 10 -X POST \
        -H 'Content-Type: application/json' -H "Stripe-Signature: $sig" --data-binary "$body" \
        "http://127.0.0.1:$port/webhooks/test")"
    if [ "$code" != 200 ]; then
        say "$name answered $code to a correctly signed POST /webhooks/test: $(head -c 300 "$work/preflight.json")"
        return 1
    fi
    if ! "$python" -c 'import json, sys
got = json.load(open(sys.argv[1]))
assert got["received"] is True and got["duplicate"] is False' "$work/preflight.json" 2>/dev/null; then
        say "$name answered 200 with an unexpected body: $(head -c 300 "$work/preflight.json")"
        return 1
    fi
    [[ "$db" == postgres* ]] || [ -f "$db" ] ||
        { say "$name: no database at $db after an acknowledged delivery"; return 1; }
    after="$(stored_rows "$db")"
    [ "$after" -ge 1 ] || { say "$name acknowledged a delivery but its inbox is empty"; return 1; }
    code="$(curl -sS -o "$work/preflight.json" -w '%{http_code}' --max-time 10 -X POST \
        -H 'Content-Type: application/json' -H "Stripe-Signature: $sig" \
        --data-binary "${body/invoice.paid/invoice.voided}" "http://127.0.0.1:$port/webhooks/test")"
    if [[ ! "$code" =~ ^4[0-9][0-9]$ ]]; then
        say "$name answered $code, not 4xx, to a delivery whose body does not match its signature"
        return 1
    fi
    [ "$(stored_rows "$db")" = "$after" ] || { say "$name stored a delivery it rejected"; return 1; }
    say "$name: preflight ok (signed: 200, tampered: $code)"
}

# Inbox rows of ours not yet succeeded (the worker's backlog).
unprocessed_rows() { # database file, or a postgres:// URL
    local query="SELECT count(*) FROM inbox_events WHERE status <> 'succeeded'"
    if [[ "$1" == postgres* ]]; then
        psql -X -At "$1" -c "$query"
        return
    fi
    "$python" - "$1" "$query" <<'EOF'
import sqlite3, sys
connection = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=30)
print(connection.execute(sys.argv[2]).fetchone()[0])
EOF
}

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

# One wrk run with a freshly signed request file of COUNT distinct events; prints the RESULT line.
run_wrk() { # port duration seconds log count connections rate(0 = unpaced)
    local port="$1" dur="$2" secs="$3" log="$4" count="$5" conns="$6" pace="$7" result
    local env=()
    [ "$pace" -gt 0 ] || env=(WEBHOOK_NO_DELAY=1)
    presign "$work/requests.tsv" "$count"
    env "${env[@]}" wrk -t"$threads" -c"$conns" -d"$dur" --timeout 10s --latency -s Benchmarks/wrk/webhooks.lua \
        "http://127.0.0.1:$port" -- "$work/requests.tsv" "$pace" "$threads" >"$log" 2>&1 || true
    rm -f "$work/requests.tsv"
    if ! result="$(grep -m1 '^RESULT ' "$log")"; then
        say "wrk printed no RESULT line:"
        cat "$log" >&2
        return 1
    fi
    # wrk catches Ctrl-C, prints its summary and exits 0: a run that stopped early is how an interruption shows.
    if ! awk -v got="$(field "$result" duration_s)" -v want="$secs" 'BEGIN { exit !(got >= 0.9 * want) }'; then
        say "wrk stopped after $(field "$result" duration_s) s of $secs s (interrupted?); no figures"
        exit 130
    fi
    echo "$result"
}

# Events per file: twice what the run can take at RPS, plus 20000, so no thread wraps around.
events_for() { # rps seconds
    awk -v r="$1" -v s="$2" 'BEGIN { n = int(r * s * 2) + 20000; if (n > 3000000) n = 3000000; print n }'
}

rows=()
failed=false
# measure NAME MODE PORT DB DUR SECS CONNS RATE COUNT: one run, the durability check, one table row.
measure() {
    local name="$1" mode="$2" port="$3" db="$4" dur="$5" secs="$6" conns="$7" pace="$8" count="$9"
    local before after result acked stored non2xx errors note="" unprocessed="–" since
    sleep 1 # let the previous run's last requests commit first
    before="$(stored_rows "$db")"
    since="$(date +%s.%N)"
    result="$(run_wrk "$port" "$dur" "$secs" "$work/$name/wrk-${pace}.txt" "$count" "$conns" "$pace")"
    sleep 1 # requests still in flight when wrk stopped may commit after it
    after="$(stored_rows "$db")"
    [ "$name" != ours ] || unprocessed="$(unprocessed_rows "$db")"
    stored=$((after - before))
    acked="$(field "$result" ok2xx)"
    non2xx="$(field "$result" non2xx)"
    errors="$(field "$result" errors)"
    say "$name ($mode): $result stored=$stored unprocessed=$unprocessed"
    [ "$non2xx" = 0 ] || failed=true
    [ "$(field "$result" wrapped)" = 0 ] ||
        { say "$name ($mode): a wrk thread ran out of events and re-sent some (duplicates)"; failed=true; }
    [ "$(field "$result" duplicates)" = 0 ] || note=" ($(field "$result" duplicates) duplicate)"
    [ "$errors" = 0 ] || say "$name ($mode): warning: $errors socket errors (connect/read/write/timeout)"
    [ "$acked" != 0 ] || { say "$name ($mode): no request completed"; failed=true; }
    # Every acknowledged event must be stored. A few more may be stored: requests in flight when wrk
    # stopped were committed, but their answers were never counted (at most one per connection).
    if [ "$stored" -lt "$acked" ]; then
        say "$name ($mode): LOST EVENTS: $acked acknowledged, only $stored stored"
        failed=true
    elif [ "$stored" -gt $((acked + conns)) ]; then
        say "$name ($mode): $stored stored but only $acked acknowledged (more than one in flight per connection?)"
    fi
    rows+=("| $name | $mode | $(field "$result" rps) | $(field "$result" p50_ms) | $(field "$result" p99_ms) \
| $(field "$result" max_ms) | $non2xx | $errors | $stored / $acked$note | $unprocessed |")
    if [ "$name" = ours ] && [ "$pace" -gt 0 ] && $store_to_start; then
        local latency
        if latency="$("$python" Benchmarks/wrk/store_to_start.py "$work/ours/records.txt" "$db" --since "$since")"; then
            say "$name ($mode): $latency"
            latency_rows+=("| $mode | $(field "$latency" events) | $(field "$latency" started) \
| $(field "$latency" p50_ms) | $(field "$latency" p99_ms) | $(field "$latency" max_ms) |")
        else
            say "$name ($mode): some stored events never started"
            failed=true
        fi
    fi
}
latency_rows=()

# bench NAME PID PORT LOG DB: preflight, warm-up, max run, paced run.
bench() {
    local name="$1" pid="$2" port="$3" log="$4" db="$5" warm
    wait_healthy "$name" "$pid" "$port" "$log"
    preflight "$name" "$port" "$db"
    if $paced_only; then
        say "$name: paced warm-up $warmup at ~$rate events/s, $paced_connections connections"
        warm="$(run_wrk "$port" "$warmup" "$warmup_seconds" "$work/$name/wrk-warmup.txt" \
            "$(events_for "$rate" "$warmup_seconds")" "$paced_connections" "$rate")"
    else
        say "$name: warm-up $warmup, $connections connections"
        warm="$(run_wrk "$port" "$warmup" "$warmup_seconds" "$work/$name/wrk-warmup.txt" \
            "$(events_for 20000 "$warmup_seconds")" "$connections" 0)"
    fi
    say "$name: warm-up: $warm"
    [ "$(field "$warm" non2xx)" = 0 ] || { say "$name: non-2xx answers during the warm-up"; failed=true; }
    [ "$(field "$warm" wrapped)" = 0 ] || say "$name: warm-up wrapped around its event file (not measured)"
    if ! $paced_only; then
        say "$name: max run $duration, $connections connections, $threads threads"
        measure "$name" max "$port" "$db" "$duration" "$duration_seconds" "$connections" 0 \
            "$(events_for "$(field "$warm" rps)" "$duration_seconds")"
        is_running "$pid" || { say "$name died during the run; the end of its log:"; tail -n 20 "$log" >&2; return 1; }
    fi
    say "$name: paced run $duration at ~$rate events/s, $paced_connections connections"
    measure "$name" "~$rate ev/s" "$port" "$db" "$duration" "$duration_seconds" "$paced_connections" \
        "$rate" "$(events_for "$rate" "$duration_seconds")"
    is_running "$pid" || { say "$name died during the run; the end of its log:"; tail -n 20 "$log" >&2; return 1; }
}

if $run_ours; then
    if [ -n "$ours_port" ]; then
        port_is_free "$ours_port" ||
            fail "port $ours_port (from --ours-cmd) is in use on 127.0.0.1; stop what holds it"
    else
        ours_port="$(free_port)"
    fi
    ours_db="${ours_database_url:-$work/ours/ours.sqlite}"
    ours_url="$ours_database_url"
    [ -n "$ours_url" ] || ours_url="sqlite:$ours_db"
    if $balancer; then
        # N instances on free ports, each checked healthy, then nginx on ours_port in front of them.
        upstreams=""
        instance_pids=()
        for ((i = 1; i <= ours_instances; i++)); do
            port="$(free_port)"
            while [ "$port" = "$ours_port" ]; do port="$(free_port)"; done
            say "starting our instance $i on 127.0.0.1:$port: $ours_cmd"
            STRIPE_WEBHOOK_SECRETS_TEST="$secret" DATABASE_URL="$ours_url" HOST=127.0.0.1 INSTANCE_ID="bench-$i" \
                RECORD_FILE="$work/ours/records.txt" PORT="$port" LOG_LEVEL=warning start_server "$work/ours/server-$i.log" bash -c "exec $ours_cmd"
            instance_pids+=("$server_pid")
            wait_healthy "ours instance $i" "$server_pid" "$port" "$work/ours/server-$i.log"
            upstreams+="        server 127.0.0.1:$port;"$'\n'
        done
        mkdir -p "$work/nginx"
        cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
master_process off;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    upstream ours {
$upstreams        keepalive 128;
    }
    server {
        listen 127.0.0.1:$ours_port;
        location / {
            proxy_pass http://ours;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
    }
}
NGINX
        say "starting nginx on 127.0.0.1:$ours_port, round-robin over $ours_instances instance(s)"
        start_server "$work/nginx/server.log" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf"
        balancer_pid="$server_pid"
        bench ours "$balancer_pid" "$ours_port" "$work/nginx/error.log" "$ours_db"
        for pid in "${instance_pids[@]}"; do
            is_running "$pid" || { say "an instance of ours died during the run"; failed=true; }
        done
        stop_server "$balancer_pid"
        for pid in "${instance_pids[@]}"; do stop_server "$pid"; done
    else
        say "starting our server on 127.0.0.1:$ours_port: $ours_cmd"
        STRIPE_WEBHOOK_SECRETS_TEST="$secret" DATABASE_URL="$ours_url" HOST=127.0.0.1 \
            RECORD_FILE="$work/ours/records.txt" PORT="$ours_port" LOG_LEVEL=warning start_server "$work/ours/server.log" bash -c "exec $ours_cmd"
        bench ours "$server_pid" "$ours_port" "$work/ours/server.log" "$ours_db"
        stop_server "$server_pid" # the peer then runs alone on the machine, as ours did
    fi
fi

peer_versions=""
if $run_peer; then
    peer_port="$(free_port)"
    while [ "$peer_port" = "$ours_port" ]; do peer_port="$(free_port)"; done
    gunicorn_flags=(-k sync -w 2 -b "127.0.0.1:$peer_port" --chdir Benchmarks/peers/flask_webhooks)
    # gunicorn 24+ opens a control socket under ~/.gunicorn by default; the benchmark needs none.
    if "$venv/bin/gunicorn" --help 2>/dev/null | grep -q -- --no-control-socket; then
        gunicorn_flags+=(--no-control-socket)
    fi
    say "starting the Flask peer on 127.0.0.1:$peer_port (gunicorn, 2 sync workers)"
    STRIPE_WEBHOOK_SECRETS_TEST="$secret" DATABASE_PATH="$work/peer/peer.sqlite" \
        start_server "$work/peer/server.log" "$venv/bin/gunicorn" "${gunicorn_flags[@]}" app:app
    bench peer "$server_pid" "$peer_port" "$work/peer/server.log" "$work/peer/peer.sqlite"
    stop_server "$server_pid"
    peer_versions="$("$python" -c 'from importlib.metadata import version as v
print("Flask %s + gunicorn %s (2 sync workers), stripe %s" % (v("flask"), v("gunicorn"), v("stripe")))')"
fi

# The disk's own sync latency, alone, after the runs: every commit above waits for one such sync.
disk_probe="$("$python" - "$work/fsync.probe" <<'EOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
latencies, end = [], time.time() + 5
while time.time() < end:
    os.write(fd, b"x" * 4096)
    started = time.perf_counter()
    os.fdatasync(fd)
    latencies.append((time.perf_counter() - started) * 1000)
    time.sleep(0.001)
latencies.sort()
n = len(latencies)
print("a 4 KiB append + fdatasync, %d times over 5 s: p50 %.2f ms, p99 %.2f ms, max %.1f ms" % (
    n, latencies[n // 2], latencies[int(n * 0.99)], latencies[-1]))
EOF
)"
cpu_model="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
[ -n "$cpu_model" ] || cpu_model="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n1)"
wrk_version="$(wrk -v 2>&1 | head -n1 | sed 's/ Copyright.*//')" || true
fs_type="$(df -T "$work" 2>/dev/null | awk 'NR == 2 { print $2 }')" || true
if $run_ours; then
    ours_note="\`$ours_cmd\` (LOG_LEVEL=warning), on $([ -n "$ours_database_url" ] && echo PostgreSQL || echo SQLite)"
    if $balancer; then ours_note+=", $ours_instances instance(s) behind $(nginx -v 2>&1 | sed 's/.*: //') (1 worker, round-robin)"; fi
else ours_note="not run"; fi

cat <<EOF

### POST /webhooks/test: distinct signed events, each stored durably before its 200 ($(date -u +%Y-%m-%dT%H:%MZ))

| server | mode | events/s | p50 ms | p99 ms | max ms | non-2xx | socket errors | rows stored / acknowledged | unprocessed |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|
$(printf '%s\n' "${rows[@]}")
$(if [ ${#latency_rows[@]} -gt 0 ]; then
    printf '\nOurs, from each event store to its handler start:\n\n'
    printf '| run | events | started | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|\n'
    printf '%s\n' "${latency_rows[@]}"
fi)

- ours: $ours_note
- peer: ${peer_versions:-not run}; SQLite WAL, synchronous=FULL, one commit per delivery
- max: wrk -t$threads -c$connections -d$duration after a $warmup warm-up. ~$rate ev/s: wrk -t$threads -c$paced_connections -d$duration,
  each wrk thread sending on a fixed schedule of $rate/$threads requests/s through delay(); slots missed while every
  connection was busy are not made up, so the events/s column is the achieved rate (plain wrk: no
  coordinated-omission correction).
- rows stored / acknowledged: new inbox rows after the run / 2xx answers wrk counted. Stored may exceed
  acknowledged by requests in flight when wrk stopped; it must never fall short. unprocessed: ours' inbox rows
  not yet succeeded one second after the run (the worker's backlog).
- Disk: $disk_probe
- Machine: $(nproc) CPUs (nproc), ${cpu_model:-unknown CPU}; databases on ${fs_type:-unknown} under $(dirname "$work"); wrk and the servers share it.
- wrk: ${wrk_version:-unknown}; non-2xx is wrk's count of answers with status 400 or more.
- Command: \`$command_line\`
EOF

if $failed; then
    say "FAILED: non-2xx answers, lost or re-sent events (or no completed request) above"
    exit 1
fi
