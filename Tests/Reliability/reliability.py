"""What the reliability harnesses share: free ports and Stripe's signature scheme, computed with hmac here,
independently of the server."""

import hashlib
import hmac
import socket
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign(body, secret):
    """A `Stripe-Signature` header for `body` (bytes), signed now with `secret`."""
    t = int(time.time())
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def newest_lifecycle_events(events):
    """The newest `account.application.*` event of each tenant (account, livemode)."""
    newest = {}
    for event in events:
        if not event["type"].startswith("account.application."):
            continue
        key = (event["account"], event["livemode"])
        if key not in newest or event["created"] > newest[key]["created"]:
            newest[key] = event
    return newest


def installations_not_in_their_newest_state(events, installations):
    """Tenants whose status in `installations` ((account, livemode) -> status) is not the one their newest
    lifecycle event sets: "active" after `authorized`, "inactive" after `deauthorized`."""
    return [key for key, event in newest_lifecycle_events(events).items()
            if installations.get(key) != ("active" if event["type"].endswith(".authorized") else "inactive")]
