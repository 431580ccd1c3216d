#!/usr/bin/env bash
# The storage benchmark of BENCHMARKS.md, in one run: the webhook inbox on SQLite beside the Flask peer, on
# PostgreSQL with one instance (direct, and behind nginx) and with two instances behind nginx; the worker's
# claims+completions per second on both backends; the time from an event's store to its handler's start at
# ~500 events/s on SQLite and on PostgreSQL with one and two instances.
#
# Usage: Benchmarks/run-storage-bench.sh [--duration 15s] [--out FILE]
#
# It starts its own PostgreSQL 15 (scripts/postgres.sh, with POSTGRES_FSYNC=on: every commit waits for the
# disk, as SQLite's synchronous=FULL does) and gives every run a new, empty database. Release builds of
# stripe-apps-backend and stripe-apps-test-server are needed (swift build -c release --product …), and wrk,
# nginx, psql. Each run's own report (Benchmarks/run-webhooks-bench.sh, Benchmarks/run-worker-bench.sh) goes
# to FILE (default: standard output) as it finishes; progress goes to stderr. Exits non-zero when a run fails.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=15s
out=/dev/stdout
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration="${2:?--duration needs a value}"; shift 2 ;;
        --out) out="${2:?--out needs a value}"; shift 2 ;;
        *) echo "run-storage-bench: unknown argument: $1" >&2; exit 2 ;;
    esac
done
say() { echo "run-storage-bench: $*" >&2; }
for binary in .build/release/stripe-apps-backend .build/release/stripe-apps-test-server; do
    [ -x "$binary" ] || { say "$binary is missing: swift build -c release --product $(basename "$binary")"; exit 2; }
done
for tool in wrk nginx psql; do
    command -v "$tool" > /dev/null || { say "$tool is not installed (apt-get install -y wrk nginx-light postgresql-client)"; exit 2; }
done

pg_dir=""
work="$(mktemp -d -t storage-bench.XXXXXX)"
cleanup() {
    local status=$?
    [ -z "$pg_dir" ] || scripts/postgres.sh stop "$pg_dir" 2> /dev/null || true
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
pg_env="$(POSTGRES_FSYNC=on scripts/postgres.sh start)"
eval "$pg_env"
pg_dir="$POSTGRES_DIR"
. Benchmarks/postgres-database.sh

{
    echo "## Storage benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "PostgreSQL: $("$POSTGRES_BIN/postgres" --version), fsync on, synchronous_commit on, on this machine."
} >> "$out"

status=0
run() { # title command...
    local title="$1"
    shift
    say "$title"
    echo -e "\n### $title\n" >> "$out"
    if ! "$@" >> "$out"; then
        say "FAILED: $title"
        status=1
    fi
}

run "Webhooks on SQLite, beside the Flask peer" Benchmarks/run-webhooks-bench.sh --duration "$duration"
run "Webhooks on PostgreSQL, one instance" \
    Benchmarks/run-webhooks-bench.sh --ours-only --duration "$duration" --ours-database-url "$(new_database)"
run "Webhooks on PostgreSQL, one instance behind nginx" Benchmarks/run-webhooks-bench.sh --ours-only \
    --duration "$duration" --balancer --ours-database-url "$(new_database)"
run "Webhooks on PostgreSQL, two instances behind nginx" Benchmarks/run-webhooks-bench.sh --ours-only \
    --duration "$duration" --ours-instances 2 --ours-database-url "$(new_database)"

for concurrency in 4 16; do
    run "Worker on SQLite, EVENT_CONCURRENCY=$concurrency" Benchmarks/run-worker-bench.sh \
        --database-url "sqlite:$work/worker-$concurrency.sqlite" --events 50000 --concurrency "$concurrency"
    run "Worker on PostgreSQL, EVENT_CONCURRENCY=$concurrency" Benchmarks/run-worker-bench.sh \
        --database-url "$(new_database)" --events 50000 --concurrency "$concurrency"
done

paced=(--ours-only --paced-only --store-to-start --rate 500 --warmup 3s --duration "$duration")
run "Store to handler start at ~500 events/s, SQLite" Benchmarks/run-webhooks-bench.sh "${paced[@]}"
run "Store to handler start at ~500 events/s, PostgreSQL, one instance" Benchmarks/run-webhooks-bench.sh \
    "${paced[@]}" --ours-database-url "$(new_database)"
run "Store to handler start at ~500 events/s, PostgreSQL, two instances behind nginx" \
    Benchmarks/run-webhooks-bench.sh "${paced[@]}" --ours-instances 2 --ours-database-url "$(new_database)"
exit "$status"
