#!/usr/bin/env python3
"""Writes pre-signed `POST /api/whoami` requests for Benchmarks/wrk/whoami.lua.

One request a line: `<Stripe-Signature header>\t<body>\n`. Bodies are compact JSON,
`{"mode":"test","user_id":"usr_…","account_id":"acct_…"}` in that key order, with the account drawn from a
pool of 1000, so they contain no tab or newline. Every line is signed with the official `stripe` package
at one timestamp, "now": the file is valid for 300 s.

Secrets come from `--secret` (repeatable) or, when none is given, from env STRIPE_APP_SECRETS
(comma-separated), which keeps them out of the process list. They are never printed.
"""

import argparse
import json
import os
import random
import string
import sys
import time

import stripe

ALPHABET = string.ascii_letters + string.digits
ACCOUNT_POOL_SIZE = 1000


def random_id(prefix, rng):
    return prefix + "".join(rng.choices(ALPHABET, k=16))


def signature_header(payload, secrets, timestamp):
    """`t=…,v1=…[,v1=…]`: one v1 per secret, as Stripe sends during a secret rotation."""
    v1_parts = []
    for secret in secrets:
        header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
        v1_parts += [part for part in header.split(",") if part.startswith("v1=")]
    return ",".join([f"t={timestamp}"] + v1_parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secret", action="append", default=[], help="app secret (repeatable)")
    parser.add_argument("--count", type=int, default=10000, help="number of requests (default 10000)")
    parser.add_argument("--out", required=True, help="output file")
    parser.add_argument("--seed", type=int, default=None, help="random seed for the ids (default: random)")
    args = parser.parse_args(argv)

    secrets = args.secret or [s.strip() for s in os.environ.get("STRIPE_APP_SECRETS", "").split(",") if s.strip()]
    if not secrets:
        parser.error("no secret: pass --secret or set STRIPE_APP_SECRETS")
    if args.count < 1:
        parser.error("--count must be at least 1")

    rng = random.Random(args.seed)
    accounts = [random_id("acct_", rng) for _ in range(ACCOUNT_POOL_SIZE)]
    timestamp = int(time.time())

    with open(args.out, "w", encoding="utf-8", newline="\n") as out:
        for _ in range(args.count):
            body = json.dumps(
                {"mode": "test", "user_id": random_id("usr_", rng), "account_id": rng.choice(accounts)},
                separators=(",", ":"),
            )
            out.write(f"{signature_header(body, secrets, timestamp)}\t{body}\n")
    print(f"presign: wrote {args.count} requests signed at t={timestamp} to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
