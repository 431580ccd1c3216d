#!/usr/bin/env bash
# Runs the whole test suite: the README's test command, and what .ci/run calls.
#
# It creates .venv with the Python packages the cross-checks use (the official `stripe` and `opentelemetry-proto`
# packages) when it is missing, then builds once, failing on any warning in our code, and runs `swift test`. Tests that need
# an outside component skip with a message when it is missing, unless CI=true, where they fail. Unless
# POSTGRES_URL is set, it runs the tests against a throwaway PostgreSQL server (scripts/postgres.sh). On a whole run
# (no arguments) it then builds and tests the example app, Examples/CustomerSync, type-checks its UI code with tsc
# and compiles its DocC tutorial.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! .venv/bin/python -c 'import stripe, localstripe, selenium, opentelemetry.proto' 2>/dev/null; then
    echo "scripts/test.sh: creating .venv with Tests/CrossCheck/requirements.txt"
    if ! { python3 -m venv .venv && .venv/bin/pip install --quiet -r Tests/CrossCheck/requirements.txt; }; then
        if [ "${CI:-}" = "true" ]; then
            echo "scripts/test.sh: could not install the Python cross-check packages" >&2
            exit 1
        fi
        echo "scripts/test.sh: warning: no Python cross-check packages; those tests will be skipped" >&2
    fi
fi

# One strict build, reused by `swift test`. A warning in our own code fails the run. (`-warnings-as-errors`
# cannot be used: with Swift 6.3.1 it turns diagnostics inside the Swift Testing macros' expansions into
# errors, and SwiftPM already hides warnings of dependencies, so every warning printed here is ours.)
log="$(mktemp)"
pg_dir=""
trap 'rm -f "$log"; if [ -n "$pg_dir" ]; then scripts/postgres.sh stop "$pg_dir"; fi' EXIT
swift build --build-tests --explicit-target-dependency-import-check error 2>&1 | tee "$log"
if grep -E "^$PWD/(Package.swift|Sources|Tests|Benchmarks|Examples)[^:]*:[0-9]+:[0-9]+: warning:" "$log"; then
    echo "scripts/test.sh: the warnings above are in our code; fix them" >&2
    exit 1
fi

# The PostgreSQL tests read POSTGRES_URL. When it is unset, start a throwaway server for this run (stopped by
# the trap above); without the server binaries those tests skip, or fail with CI=true.
if [ -z "${POSTGRES_URL:-}" ]; then
    if scripts/postgres.sh bin > /dev/null 2>&1; then
        pg_env="$(scripts/postgres.sh start)"
        eval "$pg_env"
        pg_dir="$POSTGRES_DIR"
    elif [ "${CI:-}" = "true" ]; then
        scripts/postgres.sh bin > /dev/null || true
        echo "scripts/test.sh: CI=true needs PostgreSQL: set POSTGRES_URL or install the server binaries" >&2
        exit 1
    else
        echo "scripts/test.sh: warning: no PostgreSQL server binaries and no POSTGRES_URL; the PostgreSQL" \
            "tests will be skipped" >&2
    fi
fi
# The tests run under a deadline (TEST_TIMEOUT_SECONDS, 20 minutes by default; the suite takes about 2 on two
# cores). A test that hangs would otherwise hold CI until its own limit, printing nothing useful: past the
# deadline this prints every thread's stack of the test process and, last, the tests that started and never
# ended, then fails. Output is line-buffered so that the log holds everything printed before a hang.
deadline="${TEST_TIMEOUT_SECONDS:-1200}"
test_log="$(mktemp)"
trap 'rm -f "$log" "$test_log"; if [ -n "$pg_dir" ]; then scripts/postgres.sh stop "$pg_dir"; fi' EXIT
set +e
stdbuf -oL -eL swift test --skip-build "$@" > >(tee "$test_log") 2>&1 &
tests_pid=$!
(
    sleep "$deadline"
    echo "scripts/test.sh: the tests did not finish within $deadline s (TEST_TIMEOUT_SECONDS)" >&2
    for pid in $(pgrep -f 'PackageTests\.xctest'); do
        if command -v gdb > /dev/null; then
            echo "scripts/test.sh: threads of the test process $pid:" >&2
            gdb -p "$pid" -batch -ex 'thread apply all bt 25' 2>/dev/null | grep -E '^(Thread|#)' >&2
        fi
        kill -KILL "$pid"
    done
    echo "scripts/test.sh: tests that started and did not end:" >&2
    scripts/unfinished-tests.py < "$test_log" >&2
) &
watchdog_pid=$!
wait "$tests_pid"
status=$?
kill "$watchdog_pid" 2> /dev/null
wait "$watchdog_pid" 2> /dev/null
if [ "$status" -ne 0 ] || [ "$#" -gt 0 ]; then
    exit "$status"
fi

# After the main suite (and only on a whole run): the example app, a package of its own that depends on this one
# by path. Its UI extension's TypeScript is type-checked with Debian's `tsc` (node-typescript); its Swift is built
# (no warnings, as above) and tested, in a scratch directory of its own beside ours.
echo "== the example app: Examples/CustomerSync"
if command -v tsc > /dev/null; then
    tsc -p Examples/CustomerSync/ui
    echo "Examples/CustomerSync/ui: TypeScript type-checks ($(tsc --version))"
elif [ "${CI:-}" = "true" ]; then
    echo "scripts/test.sh: CI=true needs tsc (apt-get install node-typescript) for Examples/CustomerSync/ui" >&2
    exit 1
else
    echo "scripts/test.sh: warning: no tsc (apt-get install node-typescript); Examples/CustomerSync/ui not checked" >&2
fi
example=(--package-path Examples/CustomerSync --scratch-path .build/examples)
swift build --build-tests "${example[@]}" 2>&1 | tee "$log"
if grep -E "^$PWD/Examples/CustomerSync/(Package.swift|Sources|Tests)[^:]*:[0-9]+:[0-9]+: warning:" "$log"; then
    echo "scripts/test.sh: the warnings above are in the example; fix them" >&2
    exit 1
fi
swift test --skip-build "${example[@]}"
# The tutorial (DocC, with the toolchain's docc): it compiles with no warning, and each code listing is a link to
# a file of the example, so it shows only code that was built and tested above.
for listing in Examples/CustomerSync/Tutorial.docc/Resources/*.swift Examples/CustomerSync/Tutorial.docc/Resources/*.ts; do
    if [ ! -L "$listing" ] || [ ! -f "$listing" ]; then
        echo "scripts/test.sh: $listing must be a link to a file of Examples/CustomerSync" >&2
        exit 1
    fi
done
tutorial="$(mktemp -d)"
docc convert Examples/CustomerSync/Tutorial.docc --output-path "$tutorial" --warnings-as-errors > /dev/null
rm -rf "$tutorial"
echo "Examples/CustomerSync/Tutorial.docc: the tutorial compiles"
