#!/usr/bin/env python3
"""Writes Tests/StripeAppsTests/Fixtures/cron-cases.json: the next instants of cron expressions in time zones with
daylight saving, computed by cronsim (https://github.com/cuu508/cronsim, BSD-3-Clause), which follows Debian
cron's rules. The Swift tests read the file; CI needs no Python for them. Run it again after changing the lists:

    .venv/bin/pip install cronsim==2.8 && .venv/bin/python scripts/generate-cron-fixtures.py

For expressions whose minute or hour starts with `*` (they follow the wall clock), a plain walk along the UTC
timeline checks cronsim, and is used where the two differ (cronsim steps whole hours, which skips wall-clock times
in zones that shift by 30 or 45 minutes); the script prints each such difference.

Cases start near every daylight-saving transition of 2025-2027 in each zone, at month ends and around
February 29th 2028. Each case is an expression in a zone with its runs: [start, the next six instants after it],
all as Unix seconds.
"""

import json
import os
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import cronsim

EXPRESSIONS = [
    # fixed times, inside and around the hours clocks skip or repeat
    "30 2 * * *", "0 2 * * *", "59 1 * * *", "30 1 * * *", "0 3 * * *", "15 0 * * *", "0 0 * * *",
    "0,30 2 * * *", "0 2,3 * * *", "45 1-3 * * *", "0 1,2 * * *", "30 23 * * *",
    # wildcard minute or hour: they follow the wall clock
    "0 * * * *", "*/30 * * * *", "*/30 1 * * *", "* 2 * * *", "15 */2 * * *", "*/20 0-3 * * *",
    # enumerated hours are fixed-time in Debian's rule
    "0 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23 * * *",
    # days, months, weekdays and the OR rule
    "0 12 1,15 * MON", "0 12 */2 * MON", "0 12 1 * *", "0 12 * * SUN", "0 9 * * 1-5", "30 4 1 JAN,JUL *",
    "0 0 29 2 *", "0 0 31 * *",
    "0 0 * * 7", "0 0 1-7 * SAT", "5/15 3 * * *", "0 12 13 * FRI", "@hourly", "@daily", "@weekly", "@monthly",
    "@yearly", "0 0 29 2 1", "0 0 30 1-3 *", "0 0 * FEB *", "0 0 1 */3 *", "0 0 * * MON-FRI",
]

ZONES = [
    "UTC", "America/New_York", "Europe/Berlin", "Europe/London", "Australia/Adelaide", "Australia/Lord_Howe",
    "America/Santiago", "America/Sao_Paulo", "Pacific/Chatham", "Asia/Kolkata",
]

NICKNAMES = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
             "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}

# Each is refused with the field named (cronsim rejects them too; the extensions cronsim accepts are listed with
# their own note below).
INVALID = [
    ("60 * * * *", "minute"), ("* 24 * * *", "hour"), ("* * 0 * *", "day-of-month"), ("* * 32 * *", "day-of-month"),
    ("* * * 13 *", "month"), ("* * * 0 *", "month"), ("* * * * 8", "day-of-week"), ("*/0 * * * *", "minute"),
    ("5-1 * * * *", "minute"), ("a * * * *", "minute"), ("* * * FOO *", "month"), ("* * * * FUNDAY", "day-of-week"),
    ("1,,2 * * * *", "minute"), ("-1 * * * *", "minute"), ("* * * * *,", "day-of-week"), ("0 0 30 2 *", "day-of-month"),
    ("0 0 31 4,6 *", "day-of-month"), ("* */x * * *", "hour"), ("* * * JAN-DEC-FEB *", "month"),
    ("* * *", None), ("", None),
]
# Extensions cronsim knows but Debian's cron (and we) refuse.
REFUSED_EXTENSIONS = [
    ("0 0 L * *", "day-of-month"), ("0 0 LW * *", "day-of-month"), ("0 0 * * 5L", "day-of-week"),
    ("0 0 * * 1#2", "day-of-week"), ("* * * * * *", None), ("@reboot", None), ("@every_minute", None), ("0 0 ? * *", "day-of-month"),
]


def starts(zone):
    """Start instants: two days before, the day before and on every transition of 2025-2027, month ends, Feb 29."""
    tz = ZoneInfo(zone)
    result = set()
    t = datetime(2025, 1, 1, tzinfo=timezone.utc)
    end = datetime(2028, 1, 1, tzinfo=timezone.utc)
    previous = t.astimezone(tz).utcoffset()
    while t < end:
        nxt = t + timedelta(hours=1)
        offset = nxt.astimezone(tz).utcoffset()
        if offset != previous:
            for delta in (timedelta(days=-2), timedelta(hours=-5), timedelta(hours=-1, minutes=-7),
                          timedelta(minutes=13), timedelta(hours=2, minutes=1)):
                result.add(nxt + delta)
            previous = offset
        t = nxt
    for month_end in ("2025-01-30T22:00:00", "2025-04-30T05:00:00", "2026-12-31T23:30:00", "2028-02-27T12:00:00",
                      "2028-02-29T23:59:00", "2100-02-27T00:00:00"):
        result.add(datetime.fromisoformat(month_end).replace(tzinfo=timezone.utc))
    return sorted(result)


def is_wildcard(expression):
    fields = expression.split()
    return fields[0].startswith("*") or fields[1].startswith("*")


def wall_clock_walk(simulator, start, tz, count):
    """The instants after `start` whose wall-clock time in `tz` matches, found by walking the UTC timeline: what
    "wildcard jobs follow the wall clock" means, with no calendar arithmetic to get wrong. It uses cronsim's parsed
    fields only. Local hours and days change at instants that are whole quarter hours in UTC (every offset is a
    multiple of 15 minutes), so a non-matching hour or day is skipped a quarter hour at a time."""
    result = []
    t = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    limit = start + timedelta(days=800)
    while len(result) < count and t < limit:
        local = t.astimezone(tz)
        if (local.month not in simulator.months or not simulator.match_day(local.date())
                or local.hour not in simulator.hours):
            t += timedelta(minutes=15 - t.minute % 15)
            continue
        if local.minute in simulator.minutes:
            result.append(int(t.timestamp()))
        t += timedelta(minutes=1)
    return result


def main():
    cases = []
    skipped = [0]
    disagreements = []
    for zone in ZONES:
        tz = ZoneInfo(zone) if zone != "UTC" else timezone.utc
        for expression in EXPRESSIONS:
            if "PLACEHOLDER" in expression:
                continue
            text = NICKNAMES.get(expression, expression)
            runs = []
            for start in starts(zone):
                iterator = cronsim.CronSim(text, start.astimezone(tz))
                instants = []
                for _ in range(6):
                    try:
                        instants.append(int(next(iterator).timestamp()))
                    except StopIteration:
                        break
                # cronsim reads a fixed-time expression on a naive wall clock, so from a start inside the second
                # pass of a repeated hour it returns the first pass, an instant before the start. Debian runs such
                # a time once, and it already passed: those runs are left out (counted below).
                if is_wildcard(text):
                    walked = wall_clock_walk(cronsim.CronSim(text, start.astimezone(tz)), start, tz, len(instants))
                    if walked != instants:
                        # cronsim steps whole hours from minute 0, and skips wall-clock times in zones whose shift
                        # is 30 or 45 minutes (Lord Howe, Chatham): the walk is the truth for these expressions.
                        disagreements.append(f"{expression} in {zone} after {start.isoformat()}")
                        instants = walked
                stamps = [int(start.timestamp())] + instants
                if any(later <= earlier for earlier, later in zip(stamps, stamps[1:])):
                    skipped[0] += 1
                    continue
                runs.append(stamps)
            cases.append({"expression": expression, "zone": zone, "runs": runs})
    invalid = []
    for expression, field in INVALID:
        try:
            cronsim.CronSim(expression, datetime(2025, 1, 1, tzinfo=timezone.utc))
            sys.exit(f"cronsim accepts {expression!r}, listed as invalid")
        except cronsim.CronSimError:
            pass
        invalid.append({"expression": expression, "field": field})
    for expression, field in REFUSED_EXTENSIONS:
        invalid.append({"expression": expression, "field": field, "cronsimAccepts": True})
    out = os.path.join(os.path.dirname(__file__), "..", "Tests", "StripeAppsTests", "Fixtures", "cron-cases.json")
    compact = {"separators": (",", ":")}
    with open(out, "w") as f:
        # One case per line: reviewable in a diff, and a third of the size of indented JSON.
        f.write('{"generator":%s,\n"invalid":[\n' % json.dumps(f"cronsim {getattr(cronsim, '__version__', '2.8')}"))
        f.write(",\n".join(json.dumps(item, **compact) for item in invalid))
        f.write('\n],\n"cases":[\n')
        f.write(",\n".join(json.dumps(case, **compact) for case in cases))
        f.write("\n]}\n")
    runs = sum(len(case["runs"]) for case in cases)
    for disagreement in disagreements:
        print(f"cronsim differs from the wall-clock walk: {disagreement}")
    print(f"{len(cases)} cases, {runs} runs ({skipped[0]} left out: cronsim went back in time), "
          f"{len(invalid)} invalid expressions -> {os.path.normpath(out)}")


if __name__ == "__main__":
    main()
