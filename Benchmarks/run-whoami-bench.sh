#!/usr/bin/env bash
# Side-by-side HTTP benchmark of the signed `POST /api/whoami` route: our server against a Flask peer that
# does the same work (Benchmarks/peers/flask_whoami: stripe-python verification, one SQLite SELECT, JSON),
# both measured with wrk in the same run, on 127.0.0.1 only.
#
# Usage: Benchmarks/run-whoami-bench.sh [--duration 20s] [--connections 32] [--threads 2] [--warmup 5s]
#            [--ours-cmd "<command that starts our server>"] [--peer-only | --ours-only] [--no-bare]
#            [--bare-cmd "<command>"]
#
# Unless --no-bare, a third server runs last: the limit row, a bare Hummingbird route answering the same JSON
# with no verification and no storage (Benchmarks/stripe-apps-bare-route; build it with
# swift build -c release --product stripe-apps-bare-route). It gets PORT like ours.
#
# The ours command gets STRIPE_APP_SECRETS, DATABASE_URL=sqlite:<temp file>, HOST=127.0.0.1 and PORT (a
# free port, unless the command itself says --port N). It must exec the server itself (not `swift run`),
# because its process is the one whose peak memory is read.
#
# Prints a markdown table and exits non-zero when either server answered anything but 2xx: a benchmark of
# 401s would be meaningless. Everything it starts is stopped on exit, Ctrl-C included.
set -euo pipefail

cd "$(dirname "$0")/.."
# The command line as typed, each argument quoted only when it needs it.
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
connections=32
threads=2
count=10000
ours_cmd=".build/release/stripe-apps-backend serve --port 8081"
bare_cmd=".build/release/stripe-apps-bare-route"
run_ours=true
run_peer=true
run_bare=true

usage() { sed -n '/^# Usage:/,/^#$/{/^#$/d;s/^# //;p;}' "$0" >&2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration="${2:?--duration needs a value}"; shift 2 ;;
        --warmup) warmup="${2:?--warmup needs a value}"; shift 2 ;;
        --connections) connections="${2:?--connections needs a value}"; shift 2 ;;
        --threads) threads="${2:?--threads needs a value}"; shift 2 ;;
        --ours-cmd) ours_cmd="${2:?--ours-cmd needs a value}"; shift 2 ;;
        --bare-cmd) bare_cmd="${2:?--bare-cmd needs a value}"; shift 2 ;;
        --peer-only) run_ours=false; run_bare=false; shift ;;
        --ours-only) run_peer=false; run_bare=false; shift ;;
        --no-bare) run_bare=false; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "run-whoami-bench: unknown argument: $1" >&2; usage; exit 2 ;;
    esac
done

say() { echo "run-whoami-bench: $*" >&2; }
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

# wrk takes 20s or 1m; the request file is signed once, "now", and is valid for 300 s, so a run must end well
# within that window (wrk also needs time to load the file).
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
[[ "$connections" =~ ^[1-9][0-9]*$ && "$threads" =~ ^[1-9][0-9]*$ ]] ||
    fail "--connections and --threads take positive integers"
[ "$threads" -le "$connections" ] || fail "--threads must not exceed --connections"
$run_ours || $run_peer || fail "--peer-only and --ours-only exclude each other"

command -v wrk >/dev/null || fail "wrk is not installed; install it with: apt-get install -y wrk"
command -v curl >/dev/null || fail "curl is not installed; install it with: apt-get install -y curl"

# Our server must listen on 127.0.0.1 only; its port comes from the command when it names one.
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

if $run_bare; then
    read -r bare_exe _ <<<"$bare_cmd"
    command -v "$bare_exe" >/dev/null ||
        fail "the bare route '$bare_exe' is missing: run swift build -c release --product stripe-apps-bare-route, or pass --no-bare"
fi

# The peer's own venv (and the stripe package presign.py uses), created once.
venv=Benchmarks/.venv-peer
if ! "$venv/bin/python" -c 'import flask, gunicorn, stripe' 2>/dev/null; then
    say "creating $venv from Benchmarks/peers/flask_whoami/requirements.txt"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r Benchmarks/peers/flask_whoami/requirements.txt
fi
python="$venv/bin/python"

# One shared secret for both servers, passed through the environment only, never printed.
secret="absec_bench_$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
work="$(mktemp -d -t whoami-bench.XXXXXX)"
mkdir "$work/ours" "$work/peer" "$work/bare"

# A free port on 127.0.0.1 (SO_REUSEADDR, as servers set it, so ports in TIME_WAIT count as free).
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

# Starts "$@" in a new session with output to $1's log; sets server_pid. setsid does not fork here (a
# background job of a script is no process group leader), so the pid is the server's own.
start_server() {
    local log="$1"
    shift
    setsid "$@" >"$log" 2>&1 </dev/null &
    server_pid=$!
    started+=("$server_pid")
}

# Polls GET /healthz a bounded number of times instead of sleeping blindly.
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
    STRIPE_APP_SECRETS="$secret" "$python" Benchmarks/wrk/presign.py --count "$2" --out "$1" 2>/dev/null
}

# Before loading a server: one signed request must get 200 with the identity it sent, and the same request
# with a changed body must get 401, so we know the server really verifies.
preflight() {
    local name="$1" port="$2" sig body code
    presign "$work/preflight.tsv" 1
    IFS=$'\t' read -r sig body <"$work/preflight.tsv"
    code="$(curl -sS -o "$work/preflight.json" -w '%{http_code}' --max-time 10 -X POST \
        -H 'Content-Type: application/json' -H "Stripe-Signature: $sig" --data-binary "$body" \
        "http://127.0.0.1:$port/api/whoami")"
    if [ "$code" != 200 ]; then
        say "$name answered $code to a correctly signed POST /api/whoami: $(head -c 300 "$work/preflight.json")"
        return 1
    fi
    if ! "$python" - "$body" "$work/preflight.json" <<'EOF'; then
import json, sys
sent, got = json.loads(sys.argv[1]), json.load(open(sys.argv[2]))
assert [got["account_id"], got["user_id"], got["mode"]] == [sent["account_id"], sent["user_id"], sent["mode"]]
assert got["installation"]["status"] in ("active", "inactive", "not_installed")
EOF
        say "$name answered 200 with an unexpected body: $(head -c 300 "$work/preflight.json")"
        return 1
    fi
    # The bare route verifies nothing, by design: it is the limit, not a contender.
    [ "$name" != bare ] || return 0
    code="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
        -H 'Content-Type: application/json' -H "Stripe-Signature: $sig" --data-binary "${body/usr_/usr_x}" \
        "http://127.0.0.1:$port/api/whoami")"
    if [ "$code" != 401 ]; then
        say "$name answered $code, not 401, to a request whose body does not match its signature"
        return 1
    fi
}

# One wrk run with a freshly signed request file; prints the RESULT line.
run_wrk() { # port duration seconds log
    local result
    presign "$work/requests.tsv" "$count"
    wrk -t"$threads" -c"$connections" -d"$2" --latency -s Benchmarks/wrk/whoami.lua \
        "http://127.0.0.1:$1" -- "$work/requests.tsv" >"$4" 2>&1 || true
    if ! result="$(grep -m1 '^RESULT ' "$4")"; then
        say "wrk printed no RESULT line:"
        cat "$4" >&2
        return 1
    fi
    # wrk catches Ctrl-C, prints its summary and exits 0, so bash never runs our INT trap: a run that
    # stopped early is how an interruption shows.
    if ! awk -v got="$(field "$result" duration_s)" -v want="$3" 'BEGIN { exit !(got >= 0.9 * want) }'; then
        say "wrk stopped after $(field "$result" duration_s) s of $3 s (interrupted?); no figures"
        exit 130
    fi
    echo "$result"
}

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
vmhwm_kib() { # peak resident set of a process, in KiB
    awk '/^VmHWM:/ { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# tree_sum FUNCTION PID: FUNCTION's figure summed over a process and its children still running.
tree_sum() {
    local total=0 pid
    for pid in "$2" $(ps -o pid= --ppid "$2"); do total=$((total + $("$1" "$pid"))); done
    echo "$total"
}
clock_ticks="$(getconf CLK_TCK)"
# CPU time (user + system) a process has used, in clock ticks; of it and its children with cpu_ticks.
own_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_ticks() { tree_sum own_cpu_ticks "$1"; }

rows=()
declare -A rps_of=()
failed=false
# bench NAME LABEL PID PORT LOG RSS_FUNCTION: warm-up, measured run, peak memory, one table row.
bench() {
    local name="$1" label="$2" pid="$3" port="$4" log="$5" rss_of="$6" result warm non2xx errors rss cpu_before cpu
    wait_healthy "$name" "$pid" "$port" "$log"
    preflight "$name" "$port"
    say "$name: warm-up $warmup"
    warm="$(run_wrk "$port" "$warmup" "$warmup_seconds" "$work/$name/wrk-warmup.txt")"
    [ "$(field "$warm" non2xx)" = 0 ] || { say "$name: non-2xx answers during the warm-up: $warm"; failed=true; }
    say "$name: measured run $duration, $connections connections, $threads threads"
    cpu_before="$(cpu_ticks "$pid")"
    result="$(run_wrk "$port" "$duration" "$duration_seconds" "$work/$name/wrk.txt")"
    # The server's CPU time per answered request over the measured run (the signing before it runs in Python, not
    # in the server): steadier than requests/s on a shared VM, since it does not count the time wrk takes.
    cpu="$(awk -v t=$(($(cpu_ticks "$pid") - cpu_before)) -v hz="$clock_ticks" -v n="$(field "$result" requests)" \
        'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print "–" }')"
    is_running "$pid" || { say "$name died during the run; the end of its log:"; tail -n 20 "$log" >&2; return 1; }
    rss="$($rss_of "$pid")"
    non2xx="$(field "$result" non2xx)"
    errors="$(field "$result" errors)"
    say "$name: $result"
    [ "$non2xx" = 0 ] || failed=true
    [ "$errors" = 0 ] || say "$name: warning: $errors socket errors (connect/read/write/timeout) during the run"
    [ "$(field "$result" requests)" != 0 ] || { say "$name: no request completed"; failed=true; }
    rps_of["$name"]="$(field "$result" rps)"
    rows+=("| $label | $(field "$result" rps) | $(field "$result" p50_ms) | $(field "$result" p99_ms) | $non2xx \
| $errors | $(mib "$rss") | $cpu |")
}

ours_rss() { vmhwm_kib "$1"; }
# gunicorn: master plus its workers. Forked workers share some pages, so the sum overstates a little.
peer_rss() { tree_sum vmhwm_kib "$1"; }

if $run_ours; then
    if [ -n "$ours_port" ]; then
        port_is_free "$ours_port" ||
            fail "port $ours_port (from --ours-cmd) is in use on 127.0.0.1; stop what holds it"
    else
        ours_port="$(free_port)"
    fi
    say "starting our server on 127.0.0.1:$ours_port: $ours_cmd"
    STRIPE_APP_SECRETS="$secret" DATABASE_URL="sqlite:$work/ours/ours.sqlite" HOST=127.0.0.1 PORT="$ours_port" \
        start_server "$work/ours/server.log" bash -c "exec $ours_cmd"
    bench ours "ours: \`${ours_cmd}\`" "$server_pid" "$ours_port" "$work/ours/server.log" ours_rss
    stop_server "$server_pid" # the peer then runs alone on the machine, as ours did
fi

if $run_peer; then
    peer_port="$(free_port)"
    while [ "$peer_port" = "$ours_port" ]; do peer_port="$(free_port)"; done
    gunicorn_flags=(-k sync -w 2 -b "127.0.0.1:$peer_port" --chdir Benchmarks/peers/flask_whoami)
    # gunicorn 24+ opens a control socket under ~/.gunicorn by default; the benchmark needs none.
    if "$venv/bin/gunicorn" --help 2>/dev/null | grep -q -- --no-control-socket; then
        gunicorn_flags+=(--no-control-socket)
    fi
    say "starting the Flask peer on 127.0.0.1:$peer_port (gunicorn, 2 sync workers)"
    STRIPE_APP_SECRETS="$secret" DATABASE_PATH="$work/peer/peer.sqlite" \
        start_server "$work/peer/server.log" "$venv/bin/gunicorn" "${gunicorn_flags[@]}" app:app
    peer_versions="$("$python" -c 'from importlib.metadata import version as v
print("Flask %s + gunicorn %s (2 sync workers), stripe %s" % (v("flask"), v("gunicorn"), v("stripe")))')"
    bench peer "peer: $peer_versions" "$server_pid" "$peer_port" "$work/peer/server.log" peer_rss
    stop_server "$server_pid"
fi

if $run_bare; then
    bare_port="$(free_port)"
    while [ "$bare_port" = "$ours_port" ]; do bare_port="$(free_port)"; done
    say "starting the bare Hummingbird route on 127.0.0.1:$bare_port: $bare_cmd"
    PORT="$bare_port" start_server "$work/bare/server.log" bash -c "exec $bare_cmd"
    bench bare "limit: bare Hummingbird route, same JSON, no verification or storage" "$server_pid" "$bare_port" \
        "$work/bare/server.log" ours_rss
    stop_server "$server_pid"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "n/a" }'; }
ratios=""
if [ -n "${rps_of[ours]:-}" ] && [ -n "${rps_of[peer]:-}" ]; then
    ratios+="- ours ÷ peer: $(ratio "${rps_of[ours]}" "${rps_of[peer]}") the requests/s."$'\n'
fi
if [ -n "${rps_of[ours]:-}" ] && [ -n "${rps_of[bare]:-}" ]; then
    ratios+="- ours ÷ bare route: $(ratio "${rps_of[ours]}" "${rps_of[bare]}") the requests/s."$'\n'
fi

cpu_model="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
[ -n "$cpu_model" ] || cpu_model="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n1)"
wrk_version="$(wrk -v 2>&1 | head -n1 | sed 's/ Copyright.*//')" || true

cat <<EOF

### POST /api/whoami: wrk -t$threads -c$connections -d$duration after a $warmup warm-up ($(date -u +%Y-%m-%dT%H:%MZ))

| server | requests/s | p50 ms | p99 ms | non-2xx | socket errors | peak RSS MiB | server CPU µs/request |
|---|---:|---:|---:|---:|---:|---:|---:|
$(printf '%s\n' "${rows[@]}")

- Machine: $(nproc) CPUs (nproc), ${cpu_model:-unknown CPU}; wrk and the servers share it.
- wrk: ${wrk_version:-unknown}; non-2xx is wrk's count of answers with status 400 or more.
- Peak RSS: VmHWM of our server process; for the peer, the sum over the gunicorn master and its workers.
- Server CPU: user + system time of the server's processes over the measured run, per answered request.
- Command: \`$command_line\`
EOF
printf '%s' "$ratios"

if $failed; then
    say "FAILED: non-2xx answers (or no completed request) above; these figures do not measure the route"
    exit 1
fi
