#!/usr/bin/env bash
# Runs the whole test suite: the README's test command, and what .ci/run calls.
#
# It creates .venv with the Python packages the cross-checks use (the official `stripe` package) when it
# is missing, then builds strictly (warnings are errors in our code) and runs `swift test`. Tests that need
# an outside component skip with a message when it is missing, unless CI=true, where they fail.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! .venv/bin/python -c 'import stripe' 2>/dev/null; then
    echo "scripts/test.sh: creating .venv with Tests/CrossCheck/requirements.txt"
    if ! { python3 -m venv .venv && .venv/bin/pip install --quiet -r Tests/CrossCheck/requirements.txt; }; then
        if [ "${CI:-}" = "true" ]; then
            echo "scripts/test.sh: could not install the Python cross-check packages" >&2
            exit 1
        fi
        echo "scripts/test.sh: warning: no Python cross-check packages; those tests will be skipped" >&2
    fi
fi

exec swift test --explicit-target-dependency-import-check error -Xswiftc -warnings-as-errors "$@"
