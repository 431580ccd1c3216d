"""A minimal Flask peer of our server's `POST /api/whoami`, for side-by-side HTTP benchmarks.

It does the same work per request as our route: a size check before any hashing, signature
verification with the official `stripe` package against every configured app secret, a two-sided
300 s time window, one JSON parse, one SQLite SELECT on a per-process connection, and a JSON answer.

Run: STRIPE_APP_SECRETS=absec_… DATABASE_PATH=peer.sqlite gunicorn -w 2 -b 127.0.0.1:PORT app:app
"""

import json
import os
import sqlite3
import time

import stripe
from flask import Flask, Response, request

MAX_BODY_BYTES = 1 << 20  # 1 MiB, as our server's default MAX_BODY_BYTES
TOLERANCE_SECONDS = 300

# Read once at import (each gunicorn worker imports the app): never logged or echoed.
SECRETS = [s.strip() for s in os.environ.get("STRIPE_APP_SECRETS", "").split(",") if s.strip()]
if not SECRETS:
    # A peer that rejects everything would only benchmark 401s.
    raise RuntimeError("STRIPE_APP_SECRETS is empty: set at least one app secret")
DATABASE_PATH = os.environ.get("DATABASE_PATH", "peer.sqlite")

app = Flask(__name__)
# Werkzeug raises 413 for a larger Content-Length, but silently truncates a chunked body at this limit:
# one byte more lets whoami() see that such a body is over MAX_BODY_BYTES.
app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES + 1

_connection = None
_connection_pid = None


def database():
    """One connection per worker process, opened on first use and reused."""
    global _connection, _connection_pid
    # A connection must not cross a fork; re-open if this process is not the one that opened it.
    if _connection is None or _connection_pid != os.getpid():
        connection = sqlite3.connect(DATABASE_PATH, timeout=5.0)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(
            "CREATE TABLE IF NOT EXISTS installations ("
            "account_id TEXT NOT NULL, mode TEXT NOT NULL, status TEXT NOT NULL, "
            "PRIMARY KEY (account_id, mode))"
        )
        connection.commit()
        _connection, _connection_pid = connection, os.getpid()
    return _connection


def json_response(status, value):
    # json.dumps keeps insertion order (Flask's jsonify would sort keys) and writes compact JSON.
    return Response(json.dumps(value, separators=(",", ":")), status=status, mimetype="application/json")


def error(status, code, message):
    return json_response(status, {"error": {"code": code, "message": message}})


def first_timestamp(header):
    """The first `t=` of the header, as stripe-python reads it, or None."""
    for item in header.split(","):
        key, _, value = item.partition("=")
        if key == "t":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def is_verified(body, header):
    """True when any secret verifies the header (past window checked by stripe) and t is not in the future."""
    try:
        payload = body.decode("utf-8")
    except UnicodeDecodeError:
        return False  # stripe-python signs text; invalid UTF-8 can never match
    for secret in SECRETS:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError:
            continue
        # stripe-python only rejects old timestamps; our window is two-sided.
        timestamp = first_timestamp(header)
        return timestamp is not None and timestamp <= time.time() + TOLERANCE_SECONDS
    return False


@app.errorhandler(413)
def too_large(_error):
    return error(413, "payload_too_large", "The payload exceeds the size limit.")


@app.get("/healthz")
def healthz():
    return json_response(200, {"status": "ok"})


@app.post("/api/whoami")
def whoami():
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return too_large(None)
    body = request.get_data(cache=False)
    if len(body) > MAX_BODY_BYTES:
        return too_large(None)

    if not is_verified(body, request.headers.get("Stripe-Signature", "")):
        return error(401, "no_matching_signature", "No signature matches any configured app secret.")

    try:
        payload = json.loads(body)
        user_id, account_id = payload["user_id"], payload["account_id"]
        roles = payload.get("stripe_roles", [])
        if not (isinstance(user_id, str) and isinstance(account_id, str) and isinstance(roles, list)):
            raise ValueError
    except (ValueError, TypeError, KeyError, AttributeError):
        return error(400, "invalid_payload", "The signed payload has no user_id or account_id string.")
    # As our server: roles without a string type and name are skipped; an unsigned mode means no tenant, so
    # no lookup and "installation": null.
    roles = [
        {"type": role["type"], "name": role["name"]}
        for role in roles
        if isinstance(role, dict) and isinstance(role.get("type"), str) and isinstance(role.get("name"), str)
    ]
    mode = payload.get("mode")
    if mode is not None and mode not in ("live", "test"):
        return error(400, "invalid_mode", 'The signed mode must be "live" or "test".')

    installation = None
    if mode is not None:
        row = database().execute(
            "SELECT status FROM installations WHERE account_id = ? AND mode = ?", (account_id, mode)
        ).fetchone()
        if row is None:
            installation = {"status": "not_installed"}
        else:
            installation = {"status": "active" if row[0] == "active" else "inactive"}

    return json_response(
        200,
        {"account_id": account_id, "user_id": user_id, "mode": mode, "roles": roles, "installation": installation},
    )
