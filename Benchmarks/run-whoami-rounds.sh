#!/usr/bin/env bash
# Runs Benchmarks/run-whoami-bench.sh several times (each run: ours, the peer and the bare route, one after the
# other) and prints every run's two ratios and their medians. On a shared VM one run's ratios move by a fifth;
# the median of a few runs is the figure to hold against a goal.
#
# Usage: Benchmarks/run-whoami-rounds.sh [--rounds 3] [run-whoami-bench.sh options…]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3
if [ "${1:-}" = --rounds ]; then
    rounds="${2:?--rounds needs a value}"
    shift 2
fi
[[ "$rounds" =~ ^[1-9][0-9]?$ ]] || { echo "run-whoami-rounds: --rounds takes 1 to 99" >&2; exit 2; }
peer_ratios=()
bare_ratios=()
reports=()
echo "| run | ours requests/s | peer requests/s | bare route requests/s | ours ÷ peer | ours ÷ bare |"
echo "|---|---:|---:|---:|---:|---:|"
for ((run = 1; run <= rounds; run++)); do
    report="$(Benchmarks/run-whoami-bench.sh "$@")"
    reports+=("$report")
    rps() { grep "^| $1" <<<"$report" | awk -F'|' '{ gsub(/ /, "", $3); print $3 }'; }
    ours="$(rps ours:)" peer="$(rps peer:)" bare="$(rps limit:)"
    [ -n "$ours" ] && [ -n "$peer" ] && [ -n "$bare" ] || { echo "run-whoami-rounds: run $run gave no figures" >&2; exit 1; }
    to_peer="$(awk -v a="$ours" -v b="$peer" 'BEGIN { printf "%.2f", a / b }')"
    to_bare="$(awk -v a="$ours" -v b="$bare" 'BEGIN { printf "%.2f", a / b }')"
    peer_ratios+=("$to_peer")
    bare_ratios+=("$to_bare")
    echo "| $run | $ours | $peer | $bare | ${to_peer}× | ${to_bare}× |"
done
. Benchmarks/median.sh
echo
echo "Median of $rounds runs: ours ÷ peer $(median "${peer_ratios[@]}")×, ours ÷ bare route $(median "${bare_ratios[@]}")×."
# Each run's whole table (latencies, errors, peak memory), as run-whoami-bench.sh printed it.
for ((run = 1; run <= rounds; run++)); do
    echo
    echo "Run $run:"
    echo
    grep '^|' <<<"${reports[run - 1]}"
done
