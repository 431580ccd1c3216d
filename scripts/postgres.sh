#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL server for the tests: what scripts/test.sh and .ci/run use.
#
#   scripts/postgres.sh start [DIR]   initdb in DIR (a new temporary directory when omitted), start on a free
#                                     port of 127.0.0.1, create the role and database `stripe_apps`, and print
#                                     `export ...` lines, so that `eval "$(scripts/postgres.sh start)"` works
#   scripts/postgres.sh stop DIR      fast stop and remove DIR
#   scripts/postgres.sh pause DIR     fast stop, keeping the data (the tests simulate a database outage)
#   scripts/postgres.sh resume DIR    start again on the same port (saved in DIR/port)
#   scripts/postgres.sh bin           print the directory of the server binaries; fail when there are none
#
# POSTGRES_FSYNC=on (start only) keeps fsync on, for benchmarks; the tests' default is off.
#
# Only the `export` lines go to stdout; progress and errors go to stderr. The server binaries refuse to run
# as root, so as root (CI) they run as the `postgres` system user; otherwise as the current user.
# Authentication is `trust`: any password is accepted, which is fine for a server that only listens on
# 127.0.0.1 and a socket inside DIR, and lives as long as one test run.
#
# With `eval`, capture first so that a failed start stops a `set -e` script (`eval "$(false)"` succeeds):
#   pg_env="$(scripts/postgres.sh start)"; eval "$pg_env"
set -euo pipefail

me="scripts/postgres.sh"
role="stripe_apps"
database="stripe_apps"

die() {
    echo "$me: $*" >&2
    exit 1
}

usage() {
    echo "usage: $me start [DIR] | stop DIR | pause DIR | resume DIR | bin" >&2
    exit 2
}

# The directory holding initdb, pg_ctl and postgres: `pg_config --bindir`, else the Debian 15 path, else the
# newest Debian /usr/lib/postgresql/*/bin.
find_bin() {
    local candidates=() dir
    if command -v pg_config > /dev/null 2>&1 && dir="$(pg_config --bindir 2>/dev/null)"; then
        candidates+=("$dir")
    fi
    candidates+=(/usr/lib/postgresql/15/bin)
    while IFS= read -r dir; do
        candidates+=("$dir")
    done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r)
    for dir in "${candidates[@]}"; do
        if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then
            echo "$dir"
            return 0
        fi
    done
    echo "$me: no PostgreSQL server binaries (initdb, pg_ctl, postgres): looked in \`pg_config --bindir\`," \
        "/usr/lib/postgresql/15/bin and /usr/lib/postgresql/*/bin." \
        "Install them (Debian: apt-get install postgresql-15; macOS: brew install postgresql@15)" >&2
    return 1
}

# Runs a server binary: as the `postgres` user when we are root (they refuse to run as root), from / so that
# it does not warn about a working directory it cannot read. Without fd 3 (start's real stdout): a server
# holding it open would keep `$(scripts/postgres.sh start)` waiting for ever.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@") 3>&-
    else
        "$@" 3>&-
    fi
}

# A free TCP port on 127.0.0.1 (the kernel picks it; another process could take it before the server binds
# it, so start retries with another port when that happens).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# DIR, absolute, and checked to be one that `start` made (so that `stop` never removes anything else).
server_dir() {
    [ -n "${1:-}" ] || usage
    [ -d "$1" ] || die "no directory $1"
    local dir
    dir="$(cd "$1" && pwd -P)"
    [ -f "$dir/port" ] && [ -f "$dir/data/PG_VERSION" ] || die "$dir is not a directory made by \`$me start\`"
    echo "$dir"
}

running() {
    as_pg "$bin/pg_ctl" -D "$1/data" status > /dev/null 2>&1
}

# Starts the server in DIR on the port saved in DIR/port and waits until it accepts connections.
# fsync=off only because this is a throwaway test server: a crash of the machine could corrupt the data,
# which nobody keeps anyway. It makes the tests' many small transactions much faster. Benchmarks start it with
# POSTGRES_FSYNC=on, so that a commit waits for the disk as on a real server (the choice is kept in DIR/fsync).
pg_start() {
    local dir="$1" port fsync
    port="$(cat "$dir/port")"
    fsync="$(cat "$dir/fsync" 2>/dev/null || echo off)"
    if ! as_pg "$bin/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/log" \
        -o "-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=$fsync -c synchronous_commit=on -c max_connections=400" \
        start >&2; then
        echo "$me: PostgreSQL did not start; the end of $dir/log:" >&2
        tail -n 20 "$dir/log" >&2 || true
        return 1
    fi
}

pg_stop() {
    as_pg "$bin/pg_ctl" -D "$1/data" -m fast -w -t 60 stop >&2
}

# Prints a value single-quoted for the shell.
quote() {
    printf "'%s'" "${1//\'/\'\\\'\'}"
}

cmd_start() {
    # Everything the tools print goes to stderr; only the export lines, at the end, go to the real stdout.
    exec 3>&1 1>&2
    # Globals, not locals: the EXIT trap below reads them.
    dir=""
    created=""
    if [ -n "${1:-}" ]; then
        [ -e "$1" ] || created="$1"
        mkdir -p "$1"
        dir="$(cd "$1" && pwd -P)"
        [ ! -e "$dir/data" ] || die "$dir/data exists already (\`$me resume $dir\` restarts a paused server)"
    else
        dir="$(mktemp -d "${TMPDIR:-/tmp}/stripe-apps-postgres.XXXXXX")"
        created="$dir"
    fi
    # From here on, on failure: stop the server if it started, and remove the directory if we made it.
    trap 'status=$?; if [ "$status" -ne 0 ]; then
              running "$dir" && pg_stop "$dir" || true
              [ -z "$created" ] || rm -rf "$created"
          fi' EXIT
    case "$dir" in
        *"'"* | *'"'* | *' '* | *'\'*) die "DIR must not contain spaces or quotes: $dir" ;;
    esac
    if [ "$(id -u)" -eq 0 ]; then
        id postgres > /dev/null 2>&1 || die "running as root, but there is no \`postgres\` user to run the server as"
        chown postgres "$dir"
        runuser -u postgres -- test -w "$dir" ||
            die "the postgres user cannot write $dir (is a parent directory private?); give a DIR under /tmp"
    fi

    echo "$me: initdb in $dir/data" >&2
    # UTF8 and the C locale whatever the environment (CI has no LANG, which would give SQL_ASCII);
    # --no-sync for the same reason as fsync=off.
    as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync > /dev/null
    case "${POSTGRES_FSYNC:-off}" in
        on | off) echo "${POSTGRES_FSYNC:-off}" > "$dir/fsync" ;;
        *) die "POSTGRES_FSYNC must be on or off, not ${POSTGRES_FSYNC}" ;;
    esac

    local attempt port
    for attempt in 1 2 3 4 5; do
        port="$(free_port)"
        echo "$port" > "$dir/port"
        rm -f "$dir/log"
        echo "$me: starting PostgreSQL on 127.0.0.1:$port" >&2
        if pg_start "$dir"; then
            break
        fi
        grep -q "Address already in use" "$dir/log" 2>/dev/null && [ "$attempt" -lt 5 ] || exit 1
        echo "$me: port $port was taken meanwhile; trying another" >&2
    done

    local admin_url="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
    local url="postgres://$role:$role@127.0.0.1:$port/$database?sslmode=disable"
    psql -X -q -v ON_ERROR_STOP=1 "$admin_url" \
        -c "CREATE ROLE $role LOGIN CREATEDB PASSWORD '$role'" \
        -c "CREATE DATABASE $database OWNER $role"
    psql -X -q -v ON_ERROR_STOP=1 "$url" -c 'SELECT 1' > /dev/null

    echo "export POSTGRES_URL=$(quote "$url")" >&3
    echo "export POSTGRES_ADMIN_URL=$(quote "$admin_url")" >&3
    echo "export POSTGRES_DIR=$(quote "$dir")" >&3
    echo "export POSTGRES_BIN=$(quote "$bin")" >&3
    echo "$me: PostgreSQL is ready at 127.0.0.1:$port (stop it with \`$me stop $dir\`)" >&2
}

cmd_stop() {
    if [ -n "${1:-}" ] && [ ! -e "$1" ]; then
        echo "$me: $1 is gone already" >&2
        return 0
    fi
    local dir
    dir="$(server_dir "${1:-}")"
    if running "$dir"; then
        pg_stop "$dir"
    fi
    rm -rf "$dir"
    echo "$me: stopped PostgreSQL and removed $dir" >&2
}

cmd_pause() {
    local dir
    dir="$(server_dir "${1:-}")"
    if running "$dir"; then
        pg_stop "$dir"
    else
        echo "$me: PostgreSQL in $dir is not running" >&2
    fi
}

cmd_resume() {
    local dir
    dir="$(server_dir "${1:-}")"
    if running "$dir"; then
        echo "$me: PostgreSQL in $dir is running already" >&2
    else
        pg_start "$dir"
    fi
}

[ "$#" -ge 1 ] || usage
command="$1"
shift
case "$command" in
    start | stop | pause | resume | bin) ;;
    *) usage ;;
esac
[ "$#" -le 1 ] || usage
bin="$(find_bin)"
case "$command" in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    pause) cmd_pause "$@" ;;
    resume) cmd_resume "$@" ;;
    bin) echo "$bin" ;;
esac
