#!/usr/bin/env bash
# The job queue and worker, on SQLite and on PostgreSQL (fsync on), at several JOB_CONCURRENCY values, in one run.
#
# Usage: Benchmarks/run-jobs-bench.sh [--concurrency "8 16 32"] [--jobs 20000] [--tenants 10000] [--runs 2]
#            [--binary .build/release/stripe-apps-test-server]
#
# Build first: swift build -c release --product stripe-apps-test-server
#
# Each run is `stripe-apps-test-server jobs-bench` (Tests/TestServer/JobsBenchmark.swift) on a new database: a new
# SQLite file in a temporary directory, or a new PostgreSQL database on a server this script starts with
# `POSTGRES_FSYNC=on scripts/postgres.sh start` (so every commit waits for the disk) and stops at the end. It
# prints, per run: pushes/s (16 tasks, each push durable when it returns), claims+completions/s of the backlog with
# a no-op handler, p50/p99/max from push to handler start at ~200 pushes/s, and the time to fan one slot of a
# per-installation schedule out to TENANTS installed tenants.
set -euo pipefail
cd "$(dirname "$0")/.."
concurrencies="8 16 32"
jobs=20000
tenants=10000
runs=2
binary=.build/release/stripe-apps-test-server
while [ $# -gt 0 ]; do
    case "$1" in
        --concurrency) concurrencies="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        --tenants) tenants="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --binary) binary="$2"; shift 2 ;;
        *) echo "run-jobs-bench: unknown argument: $1" >&2; exit 2 ;;
    esac
done
[ -x "$binary" ] || { echo "run-jobs-bench: $binary is missing; swift build -c release --product stripe-apps-test-server" >&2; exit 2; }
work="$(mktemp -d)"
postgres_dir=""
cleanup() {
    [ -z "$postgres_dir" ] || scripts/postgres.sh stop "$postgres_dir" > /dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
POSTGRES_FSYNC=on scripts/postgres.sh start > "$work/postgres.env"
# shellcheck disable=SC1091
. "$work/postgres.env"
postgres_dir="$POSTGRES_DIR"
admin_db="${POSTGRES_ADMIN_URL%/postgres*}"

bench() {
    DATABASE_URL="$1" RECORD_FILE=/dev/null STRIPE_APP_SECRETS=absec_bench LOG_LEVEL=warning JOBS="$jobs" \
        TENANTS="$tenants" JOB_CONCURRENCY="$2" "$binary" jobs-bench
}

echo "# jobs-bench, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "jobs=$jobs tenants=$tenants; PostgreSQL: fsync on"
for run in $(seq 1 "$runs"); do
    for concurrency in $concurrencies; do
        echo
        echo "## SQLite, JOB_CONCURRENCY=$concurrency, run $run"
        rm -f "$work/jobs.sqlite"*
        bench "sqlite:$work/jobs.sqlite" "$concurrency"
        echo
        echo "## PostgreSQL, JOB_CONCURRENCY=$concurrency, run $run"
        database="jobs_bench_${run}_${concurrency}"
        psql -q "$admin_db/postgres?sslmode=disable" -c "CREATE DATABASE $database OWNER stripe_apps" > /dev/null
        bench "${POSTGRES_URL%/stripe_apps*}/$database?sslmode=disable" "$concurrency"
    done
done
