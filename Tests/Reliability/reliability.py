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
