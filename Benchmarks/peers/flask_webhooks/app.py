"""A minimal Flask peer of our server's `POST /webhooks/test`, for side-by-side HTTP benchmarks.

It does the same durable work per delivery as our route: a size check before any hashing, signature
verification with the official `stripe` package (300 s tolerance), one JSON parse that requires `id` and
`type`, and an `INSERT OR IGNORE` into SQLite (WAL, synchronous=FULL) committed before the answer, so a 200
means the event is on disk. One connection per gunicorn worker, one commit per request: there is no batching
across concurrent deliveries, which is what a plain sync-worker app does.

Run: STRIPE_WEBHOOK_SECRETS_TEST=whsec_… DATABASE_PATH=peer.sqlite gunicorn -k sync -w 2 -b 127.0.0.1:PORT app:app
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
SECRETS = [s.strip() for s in os.environ.get("STRIPE_WEBHOOK_SECRETS_TEST", "").split(",") if s.strip()]
if not SECRETS:
    # A peer that rejects everything would only benchmark 400s.
    raise RuntimeError("STRIPE_WEBHOOK_SECRETS_TEST is empty: set at least one webhook signing secret")
DATABASE_PATH = os.environ.get("DATABASE_PATH", "peer.sqlite")

app = Flask(__name__)
# Werkzeug raises 413 for a larger Content-Length, but silently truncates a chunked body at this limit:
# one byte more lets the handler see that such a body is over MAX_BODY_BYTES.
app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES + 1

_connection = None
_connection_pid = None


def database():
    """One connection per worker process, opened on first use and reused."""
    global _connection, _connection_pid
    # A connection must not cross a fork; re-open if this process is not the one that opened it.
    if _connection is None or _connection_pid != os.getpid():
        # isolation_level=None: no implicit transactions; each insert gets an explicit BEGIN/COMMIT below.
        connection = sqlite3.connect(DATABASE_PATH, timeout=10.0, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA busy_timeout=10000")
        connection.execute(
            "CREATE TABLE IF NOT EXISTS inbox_events ("
            "id TEXT PRIMARY KEY, type TEXT, payload TEXT, received_at REAL)"
        )
        _connection, _connection_pid = connection, os.getpid()
    return _connection


def json_response(status, value):
    return Response(json.dumps(value, separators=(",", ":")), status=status, mimetype="application/json")


def error(status, code, message):
    return json_response(status, {"error": {"code": code, "message": message}})


@app.errorhandler(413)
def too_large(_error):
    return error(413, "payload_too_large", "The payload exceeds the size limit.")


@app.get("/healthz")
def healthz():
    return json_response(200, {"status": "ok"})


@app.post("/webhooks/test")
def webhook_test():
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return too_large(None)
    body = request.get_data(cache=False)
    if len(body) > MAX_BODY_BYTES:
        return too_large(None)

    try:
        payload = body.decode("utf-8")
    except UnicodeDecodeError:
        return error(400, "invalid_signature", "No signature matches the endpoint secret.")
    header = request.headers.get("Stripe-Signature", "")
    for secret in SECRETS:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=TOLERANCE_SECONDS)
            break
        except stripe.SignatureVerificationError:
            continue
    else:
        return error(400, "invalid_signature", "No signature matches the endpoint secret.")

    try:
        event = json.loads(payload)
        event_id, event_type = event["id"], event["type"]
        if not (isinstance(event_id, str) and isinstance(event_type, str) and event_id and event_type):
            raise ValueError
    except (ValueError, TypeError, KeyError):
        return error(400, "invalid_event", "The signed payload is not an event with an id and a type.")

    connection = database()
    connection.execute("BEGIN IMMEDIATE")
    try:
        cursor = connection.execute(
            "INSERT OR IGNORE INTO inbox_events (id, type, payload, received_at) VALUES (?, ?, ?, ?)",
            (event_id, event_type, payload, time.time()),
        )
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    # Only now, with the WAL fsynced (synchronous=FULL), is the event acknowledged.
    return json_response(200, {"received": True, "duplicate": cursor.rowcount == 0})
