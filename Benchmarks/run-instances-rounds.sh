#!/usr/bin/env bash
# PostgreSQL with one instance and with two instances on one database, both behind the same nginx, alternated
# for several rounds: every round's max events/s, its two-to-one ratio, and the median ratio. On this shared
# 2-core VM one run of the two-instance case moves by a quarter (see BENCHMARKS.md); the median of alternated
# rounds is the figure to hold against the goal (two instances ≥ 0.9× one).
#
# Usage: Benchmarks/run-instances-rounds.sh [--rounds 5] [--duration 15s]
#
# It starts its own PostgreSQL 15 with fsync on (scripts/postgres.sh, as run-storage-bench.sh does); each run
# is Benchmarks/run-webhooks-bench.sh --ours-only on a new empty database (`--balancer` for one instance,
# `--ours-instances 2` for two). Needs .build/release/stripe-apps-backend, wrk, nginx and psql.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=5
duration=15s
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="${2:?--rounds needs a value}"; shift 2 ;;
        --duration) duration="${2:?--duration needs a value}"; shift 2 ;;
        *) echo "run-instances-rounds: unknown argument: $1" >&2; exit 2 ;;
    esac
done
[[ "$rounds" =~ ^[1-9][0-9]?$ ]] || { echo "run-instances-rounds: --rounds takes 1 to 99" >&2; exit 2; }
[ -x .build/release/stripe-apps-backend ] || {
    echo "run-instances-rounds: swift build -c release --product stripe-apps-backend first" >&2
    exit 2
}
for tool in wrk nginx psql; do
    command -v "$tool" > /dev/null || { echo "run-instances-rounds: $tool is not installed" >&2; exit 2; }
done

pg_dir=""
trap '[ -z "$pg_dir" ] || scripts/postgres.sh stop "$pg_dir" 2> /dev/null || true' EXIT
eval "$(POSTGRES_FSYNC=on scripts/postgres.sh start)"
pg_dir="$POSTGRES_DIR"
. Benchmarks/postgres-database.sh
# The max run's events/s of one run-webhooks-bench.sh run.
max_rate() {
    local url report
    url="$(new_database)"
    report="$(Benchmarks/run-webhooks-bench.sh --ours-only --duration "$duration" "$@" --ours-database-url "$url")"
    grep '^| ours | max |' <<<"$report" | awk -F'|' '{ gsub(/ /, "", $4); print $4 }'
}

ratios=()
echo "| round | one instance behind nginx, events/s | two instances behind nginx, events/s | two ÷ one |"
echo "|---|---:|---:|---:|"
for ((round = 1; round <= rounds; round++)); do
    one="$(max_rate --balancer)"
    two="$(max_rate --ours-instances 2)"
    [ -n "$one" ] && [ -n "$two" ] || { echo "run-instances-rounds: round $round gave no figures" >&2; exit 1; }
    ratio="$(awk -v a="$two" -v b="$one" 'BEGIN { printf "%.2f", a / b }')"
    ratios+=("$ratio")
    echo "| $round | $one | $two | ${ratio}× |"
done
. Benchmarks/median.sh
echo
echo "Median of $rounds rounds: two instances ÷ one $(median "${ratios[@]}")× ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs)."
