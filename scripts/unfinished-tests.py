#!/usr/bin/env python3
"""Reads `swift test` output (Swift Testing's console lines) on stdin and prints the tests that started
and did not end: what scripts/test.sh shows when the suite passes its deadline."""
import re
import sys

started = {}
ended = set()
for line in sys.stdin:
    match = re.search(r"Test (.+?) started\.$", line.rstrip())
    if match:
        started.setdefault(match.group(1), line.strip())
        continue
    match = re.search(r"Test (.+?)(?: with \d+ test cases?)? (?:passed|failed|skipped)", line)
    if match:
        ended.add(match.group(1))
unfinished = [name for name in started if name not in ended]
for name in unfinished:
    print(f"  {name}")
if not unfinished:
    print("  (none: every test that started has ended; the hang is after the tests, or in a test's set-up)")
