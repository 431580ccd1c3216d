#!/usr/bin/env bash
# What traces cost: the whoami benchmark (Benchmarks/run-whoami-bench.sh, ours only) alternating the same binary
# without traces and with traces exported at a sampling ratio (and, with --compare, another build traced, e.g. an
# older one). Each round runs every configuration in an order that changes from round to round (below), and a
# traced configuration is compared with the untraced runs of its round, so that the machine's drift cancels out;
# the two untraced runs against each other (A/A) show this machine's own noise. Spans go over OTLP/HTTP (protobuf)
# to nginx answering every POST with an empty 200, a receiver that takes little of the cores wrk and the server
# share. Prints each round's figures and cost, in requests/s and in the server's CPU time per request, and the
# median and mean of each (the mean weighs every position of the rotation alike).
#
# Usage: Benchmarks/run-tracing-ab.sh [--rounds 4] [--ratio 0.1] [--duration 15s] [--warmup 5s]
#            [--binary .build/release/stripe-apps-backend] [--compare <another build of the backend>]
#
# Needs nginx and wrk (apt-get install -y nginx-light wrk) and a release build of the backend.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=4
ratio=0.1
duration=15s
warmup=5s
binary=.build/release/stripe-apps-backend
compare=
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="${2:?--rounds needs a value}"; shift 2 ;;
        --ratio) ratio="${2:?--ratio needs a value}"; shift 2 ;;
        --duration) duration="${2:?--duration needs a value}"; shift 2 ;;
        --warmup) warmup="${2:?--warmup needs a value}"; shift 2 ;;
        --binary) binary="${2:?--binary needs a value}"; shift 2 ;;
        --compare) compare="${2:?--compare needs a value}"; shift 2 ;;
        -h | --help) sed -n '/^# Usage:/,/^#$/{/^#$/d;s/^# //;p;}' "$0" >&2; exit 0 ;;
        *) echo "run-tracing-ab: unknown argument: $1" >&2; exit 2 ;;
    esac
done
say() { echo "run-tracing-ab: $*" >&2; }
[[ "$rounds" =~ ^[1-9][0-9]?$ ]] || { say "--rounds takes 1 to 99"; exit 2; }
[ -x "$binary" ] || { say "$binary is missing (swift build -c release --product stripe-apps-backend)"; exit 2; }
[ -z "$compare" ] || [ -x "$compare" ] || { say "--compare $compare is not an executable"; exit 2; }
command -v nginx > /dev/null || { say "nginx is not installed (apt-get install -y nginx-light)"; exit 2; }

sink="$(mktemp -d)"
trap 'nginx -p "$sink" -c nginx.conf -s stop 2>/dev/null || true; rm -rf "$sink"' EXIT
port="$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat > "$sink/nginx.conf" <<EOF
worker_processes 1;
pid $sink/nginx.pid;
error_log $sink/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $sink;
    proxy_temp_path $sink;
    fastcgi_temp_path $sink;
    uwsgi_temp_path $sink;
    scgi_temp_path $sink;
    client_max_body_size 16m;
    client_body_buffer_size 1m;
    server {
        listen 127.0.0.1:$port;
        location / {
            default_type application/x-protobuf;
            return 200 "";
        }
    }
}
EOF
nginx -p "$sink" -c nginx.conf
tracing="OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$port OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"
tracing+=" OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=$ratio"

# The whoami script's row for ours: requests/s, p50, p99, peak RSS and server CPU per request.
measure() {
    Benchmarks/run-whoami-bench.sh --ours-only --duration "$duration" --warmup "$warmup" \
        --ours-cmd "env $1 $2 serve --port 8081" 2>"$sink/whoami.log" | grep '^| ours' |
        awk -F'|' '{ gsub(/ /, ""); printf "%s %s %s %s %s\n", $3, $4, $5, $8, $9 }'
}

echo "Traces at ratio $ratio against none, $binary, $rounds rounds of $duration after $warmup warm-up:"
echo
# A round runs each configuration twice, in an order that changes from round to round, and compares the mean of a
# traced configuration's runs with the mean of the untraced runs of the same round. Without --compare a round is
# untraced, traced, traced, untraced, or the other way round (ABBA, BAAB): a drift of the VM over the round cancels
# out, and over two rounds each configuration has run first, in the middle and last alike (an earlier version, always
# untraced, traced, untraced, put every traced run in the middle, and on this VM the second run of a round was often
# the slowest, whatever it ran). With --compare, four rounds rotate both traced builds through every position:
# untraced, ours, theirs, untraced; ours, untraced, untraced, theirs; untraced, theirs, ours, untraced; theirs,
# untraced, untraced, ours (each traced build runs once a round). A/A is the second untraced run against the first.
header="| round | order | no traces requests/s | traces at $ratio requests/s (p99 ms) | cost | CPU µs/request without / with | CPU cost |"
rule="|---|---|---:|---:|---:|---:|---:|"
if [ -n "$compare" ]; then
    header+=" $compare traced requests/s | its cost | its CPU cost |"
    rule+="---:|---:|---:|"
fi
echo "$header A/A |"
echo "$rule---:|"
costs=()
cpu_costs=()
compare_costs=()
compare_cpu_costs=()
# mean VALUE…
mean() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.1f", s / NR }'; }
for ((round = 1; round <= rounds; round++)); do
    if [ -z "$compare" ]; then
        if ((round % 2)); then order=(off on on off); else order=(on off off on); fi
    else
        case $((round % 4)) in
            1) order=(off on cmp off) ;;
            2) order=(on off off cmp) ;;
            3) order=(off cmp on off) ;;
            0) order=(cmp off off on) ;;
        esac
    fi
    off_rps=() off_cpu=() on_rps=() on_cpu=() on_p99=() cmp_rps=() cmp_cpu=()
    for run in "${order[@]}"; do
        case "$run" in
            off) read -r rps _ p99 _ cpu <<<"$(measure "" "$binary")" ;;
            on) read -r rps _ p99 on_rss cpu <<<"$(measure "$tracing" "$binary")" ;;
            cmp) read -r rps _ p99 _ cpu <<<"$(measure "$tracing" "$compare")" ;;
        esac
        [ -n "${cpu:-}" ] || { cat "$sink/whoami.log" >&2; say "round $round gave no figures"; exit 1; }
        case "$run" in
            off) off_rps+=("$rps") off_cpu+=("$cpu") ;;
            on) on_rps+=("$rps") on_cpu+=("$cpu") on_p99+=("$p99") ;;
            cmp) cmp_rps+=("$rps") cmp_cpu+=("$cpu") ;;
        esac
        cpu=
    done
    base_rps="$(mean "${off_rps[@]}")"
    base_cpu="$(mean "${off_cpu[@]}")"
    # cost RPS…, cpu_cost CPU…: the throughput lost and the CPU per request added against the untraced runs' mean.
    cost() { awk -v a="$base_rps" -v b="$(mean "$@")" 'BEGIN { printf "%.1f", (1 - b / a) * 100 }'; }
    cpu_cost() { awk -v a="$base_cpu" -v b="$(mean "$@")" 'BEGIN { printf "%.1f", (b / a - 1) * 100 }'; }
    costs+=("$(cost "${on_rps[@]}")")
    cpu_costs+=("$(cpu_cost "${on_cpu[@]}")")
    aa="$(awk -v a="${off_rps[0]}" -v c="${off_rps[1]}" 'BEGIN { printf "%.1f", (c / a - 1) * 100 }')"
    row="| $round | ${order[*]} | ${off_rps[*]} | ${on_rps[*]} (${on_p99[*]}) | ${costs[-1]}% |"
    row+=" ${off_cpu[*]} / ${on_cpu[*]} | ${cpu_costs[-1]}% |"
    if [ -n "$compare" ]; then
        compare_costs+=("$(cost "${cmp_rps[@]}")")
        compare_cpu_costs+=("$(cpu_cost "${cmp_cpu[@]}")")
        row+=" ${cmp_rps[*]} | ${compare_costs[-1]}% | ${compare_cpu_costs[-1]}% |"
    fi
    echo "$row $aa% |"
done
. Benchmarks/median.sh
echo
echo "Cost of traces at $ratio: median $(median "${costs[@]}")%, mean $(mean "${costs[@]}")% of the requests/s;" \
    "median $(median "${cpu_costs[@]}")%, mean $(mean "${cpu_costs[@]}")% more server CPU per request" \
    "(peak RSS with traces, last round: $on_rss MiB)."
if [ -n "$compare" ]; then
    echo "Cost with $compare: median $(median "${compare_costs[@]}")%, mean $(mean "${compare_costs[@]}")% of the" \
        "requests/s; median $(median "${compare_cpu_costs[@]}")%, mean $(mean "${compare_cpu_costs[@]}")% more" \
        "server CPU per request."
fi
