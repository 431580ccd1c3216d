#!/usr/bin/env python3
"""Writes pre-signed `POST /webhooks/test` deliveries for Benchmarks/wrk/webhooks.lua.

One delivery a line: `<Stripe-Signature header>\t<body>\n`. Bodies are compact JSON Stripe events,
`{"id":"evt_bench_<nonce>_<n>","object":"event","created":…,"livemode":false,"type":…,"account":"acct_…",
"data":{"object":{…}}}`, so they contain no tab or newline. Every id is distinct, and the run nonce (random
unless --nonce is given) keeps ids distinct across runs too: every delivery is a real insert, even against a
database that earlier runs filled. Every line is signed at one timestamp, "now": the file is valid for 300 s.

The signature is the stdlib HMAC-SHA256 of `<t>.<body>` (what stripe.WebhookSignature computes; the servers
verify it, with the `stripe` package on the peer's side). Secrets come from `--secret` (repeatable) or, when
none is given, from env STRIPE_WEBHOOK_SECRETS_TEST (comma-separated), which keeps them out of the process
list. They are never printed.
"""

import argparse
import hashlib
import hmac
import json
import os
import random
import secrets as secrets_module
import sys
import time

EVENT_TYPES = [
    ("invoice.paid", "invoice", "in_"),
    ("customer.updated", "customer", "cus_"),
    ("payment_intent.succeeded", "payment_intent", "pi_"),
    ("charge.refunded", "charge", "ch_"),
]
ACCOUNT_POOL_SIZE = 1000


def signature_header(payload, keys, timestamp):
    """`t=…,v1=…[,v1=…]`: one v1 per secret, as Stripe sends during a secret rotation."""
    signed = f"{timestamp}.{payload}".encode("utf-8")
    return ",".join([f"t={timestamp}"] + [f"v1={hmac.new(k, signed, hashlib.sha256).hexdigest()}" for k in keys])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secret", action="append", default=[], help="webhook secret (repeatable)")
    parser.add_argument("--count", type=int, default=10000, help="number of deliveries (default 10000)")
    parser.add_argument("--out", required=True, help="output file")
    parser.add_argument("--nonce", default=None, help="run nonce in every event id (default: random)")
    parser.add_argument("--seed", type=int, default=None, help="random seed for accounts/types (default: random)")
    args = parser.parse_args(argv)

    keys = args.secret or [
        s.strip() for s in os.environ.get("STRIPE_WEBHOOK_SECRETS_TEST", "").split(",") if s.strip()
    ]
    if not keys:
        parser.error("no secret: pass --secret or set STRIPE_WEBHOOK_SECRETS_TEST")
    keys = [k.encode("utf-8") for k in keys]
    if args.count < 1:
        parser.error("--count must be at least 1")
    nonce = args.nonce or secrets_module.token_hex(6)
    if not nonce.isalnum():
        parser.error("--nonce must be alphanumeric")

    rng = random.Random(args.seed)
    accounts = ["acct_bench%06d" % rng.randrange(10**6) for _ in range(ACCOUNT_POOL_SIZE)]
    timestamp = int(time.time())

    with open(args.out, "w", encoding="utf-8", newline="\n") as out:
        for n in range(args.count):
            event_type, object_name, prefix = EVENT_TYPES[n % len(EVENT_TYPES)]
            body = json.dumps(
                {
                    "id": f"evt_bench_{nonce}_{n}",
                    "object": "event",
                    "created": timestamp - rng.randrange(60),
                    "livemode": False,
                    "type": event_type,
                    "account": rng.choice(accounts),
                    "data": {"object": {"id": f"{prefix}bench{n}", "object": object_name}},
                },
                separators=(",", ":"),
            )
            out.write(f"{signature_header(body, keys, timestamp)}\t{body}\n")
    print(
        f"presign_events: wrote {args.count} deliveries (nonce {nonce}) signed at t={timestamp} to {args.out}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
