"""Scenarios for `verify --explain`, signed by the official `stripe` Python package.

Reads a JSON request on stdin and writes a JSON answer on stdout.

  {"scenarios": true}
      Every scenario is a payload signed here with stripe.WebhookSignature.generate_signature_header, then
      given to the backend the way a developer typically gets it wrong (keys reordered by a dict, json.dumps
      spacing or ASCII escapes, a whsec_ or sk_ key instead of the absec_ secret, a header changed in transit, a
      stale timestamp…). Each one says which explanation (finding code) and which verify code it must get, the
      payload and header the package signed, and what the package itself says of the input as given.

  {"verify": [{"payload": str, "header": str, "secret": str}]}
      The package's verdict (tolerance=None) for each item: the Swift test asks whether the payload the
      explanation says Stripe signed really verifies.
"""

import json
import sys
import time
from urllib.parse import quote

import stripe

APP = "absec_test_explain_0123456789abcdef"
OTHER_APP = "absec_test_explain_someone_else"
WEBHOOK = "whsec_test_explain_secret"
USER = "usr_K6yd2CbXLO9A5G"
ACCOUNT = "acct_1JSkf6FRwUQjTSJE"


def compact(value, ascii=False):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=ascii)


def sign(payload, secret, timestamp):
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


def accepts(payload, header, secret, tolerance=300):
    try:
        return stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=tolerance)
    except stripe.SignatureVerificationError:
        return False


def request(method, path, headers, body=""):
    lines = [f"{method} {path} HTTP/1.1", "Host: backend.example.com"] + [f"{k}: {v}" for k, v in headers]
    if body:
        lines.append(f"Content-Length: {len(body.encode())}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


def scenarios(now):
    default = compact({"user_id": USER, "account_id": ACCOUNT})
    event = compact(
        {
            "id": "evt_explain",
            "object": "event",
            "type": "account.application.authorized",
            "livemode": False,
            "created": now,
            "account": ACCOUNT,
            "data": {"object": {"id": "ca_explain", "object": "application", "name": "Café"}},
        }
    )
    header = sign(default, APP, now)
    out = []

    def add(name, finding, code, signed, signed_header, secret, given=None, secrets=None, given_header=None, **extra):
        given = signed if given is None else given
        given_header = signed_header if given_header is None else given_header
        item = {
            "name": name,
            "finding": finding,
            "code": code,
            "secrets": secrets or [secret],
            "header": given_header,
            "payload": given,
            "signed_payload": signed,
            "signed_header": signed_header,
            "signing_secret": secret,
            # What the package says of the input as the backend reads it (for a saved request: the payload the
            # backend rebuilds from it).
            "python_accepts_given": all(accepts(given, given_header, s) for s in (secrets or [secret])),
        }
        item.update(extra)
        out.append(item)

    add("valid", "verifies", None, default, header, APP)
    add("keys reordered by a dict", "payload_key_order", "no_matching_signature", default, header, APP,
        given=compact({"account_id": ACCOUNT, "user_id": USER}))
    add("json.dumps spacing", "payload_reserialized", "no_matching_signature", default, header, APP,
        given=json.dumps({"user_id": USER, "account_id": ACCOUNT}))
    note = compact({"note": "café ☕", "user_id": USER, "account_id": ACCOUNT})
    add("json.dumps ASCII escapes", "payload_reserialized", "no_matching_signature", note, sign(note, APP, now), APP,
        given=compact(json.loads(note), ascii=True))
    amount = compact({"amount": 100, "user_id": USER, "account_id": ACCOUNT})
    amount_header = sign(amount, APP, now)
    add("a float where JavaScript writes an integer", "payload_reserialized", "no_matching_signature", amount,
        amount_header, APP, given=compact({"amount": 100.0, "user_id": USER, "account_id": ACCOUNT}))
    add("pretty-printed webhook", "payload_reserialized", "no_matching_signature", event, sign(event, WEBHOOK, now),
        WEBHOOK, given=json.dumps(json.loads(event), indent=2), purpose="webhook")
    add("user_id missing, known from elsewhere", "payload_missing_ids", "no_matching_signature", amount, amount_header,
        APP, given=compact({"amount": 100, "account_id": ACCOUNT}), user=USER)
    add("user_id missing", "payload_missing_ids", "no_matching_signature", amount, amount_header, APP,
        given=compact({"amount": 100, "account_id": ACCOUNT}), finds_signed_payload=False)
    add("an extra key not signed", "payload_extra_key", "no_matching_signature", default, header, APP,
        given=compact({"note": "x", "user_id": USER, "account_id": ACCOUNT}))
    add("a final newline", "payload_surrounding_whitespace", "no_matching_signature", default, header, APP,
        given=default + "\n")
    add("a GET with a Stripe-Mode the extension did not sign", "mode_not_signed", "no_matching_signature", default,
        header, APP, given=compact({"mode": "test", "user_id": USER, "account_id": ACCOUNT}),
        request=request("GET", "/api/settings", [
            ("Stripe-Signature", header), ("Stripe-User-Id", USER), ("Stripe-Account-Id", ACCOUNT),
            ("Stripe-Mode", "test")]))
    with_mode = compact({"mode": "test", "user_id": USER, "account_id": ACCOUNT})
    mode_header = sign(with_mode, APP, now)
    add("a GET without the Stripe-Mode the extension signed", "mode_missing", "no_matching_signature", with_mode,
        mode_header, APP, given=default, request=request("GET", "/api/settings", [
            ("Stripe-Signature", mode_header), ("Stripe-User-Id", USER), ("Stripe-Account-Id", ACCOUNT)]))
    add("a POST saved with its keys reordered", "payload_key_order", "no_matching_signature", default, header, APP,
        given=compact({"account_id": ACCOUNT, "user_id": USER}), request=request("POST", "/api/whoami", [
            ("Content-Type", "application/json"), ("Stripe-Signature", header)],
            compact({"account_id": ACCOUNT, "user_id": USER})))
    add("a webhook secret for a UI call", "secret_is_webhook_secret", "no_matching_signature", default, header, APP,
        secrets=[WEBHOOK], finds_signed_payload=False)
    add("the app secret for a webhook", "secret_is_app_secret", "no_matching_signature", event,
        sign(event, WEBHOOK, now), WEBHOOK, secrets=[APP], purpose="webhook", finds_signed_payload=False)
    add("a secret API key", "secret_is_api_key", "no_matching_signature", default, header, APP,
        secrets=["sk_test_51ExplainNotASigningSecret"], finds_signed_payload=False)
    add("a secret pasted with a newline", "secret_whitespace", "no_matching_signature", default, header, APP,
        secrets=[APP + "\n"])
    add("another app's secret", "no_explanation", "no_matching_signature", default, header, APP,
        secrets=[OTHER_APP], finds_signed_payload=False)
    add("a space after the comma", "header_whitespace", "no_v1_signature", default, header, APP,
        given_header=header.replace(",", ", "))
    add("uppercase hex", "signature_uppercase", "no_matching_signature", default, header, APP,
        given_header=header.split("v1=")[0] + "v1=" + header.split("v1=")[1].upper())
    add("the header's name pasted with it", "header_includes_name", "malformed_header", default, header, APP,
        given_header="Stripe-Signature: " + header)
    add("two header lines joined", "header_duplicate_timestamp", "malformed_header", default, header, APP,
        given_header=header + ",t=1")
    old = sign(default, APP, now - 3900)
    add("an hour old", "timestamp_too_old", "timestamp_outside_tolerance", default, old, APP, offset=3900)
    ahead = sign(default, APP, now + 600)
    add("ten minutes ahead", "timestamp_in_future", "timestamp_outside_tolerance", default, ahead, APP, offset=-600)
    millis = sign(default, APP, now * 1000)
    add("milliseconds", "timestamp_in_milliseconds", "timestamp_outside_tolerance", default, millis, APP)
    install = compact({"state": "csrf_8f14e45fceea167a", "user_id": USER, "account_id": ACCOUNT})
    install_header = sign(install, APP, now)
    add("install_signature not URL-decoded", "header_url_encoded", "malformed_header", install, install_header, APP,
        given_header=quote(install_header, safe=""), purpose="install", also=["header_shape"])
    # The blog's legacy scheme: the package's own HMAC helper over the account id alone, no t=.
    legacy = stripe.WebhookSignature._compute_signature(ACCOUNT, APP)
    add("the legacy install HMAC", "header_legacy_install_hmac", "malformed_header", ACCOUNT, legacy, APP,
        given=install, purpose="install")
    add("quoted", "header_quoted", "malformed_header", default, header, APP, given_header='"' + header + '"')
    add("no t", "header_no_timestamp", "malformed_header", default, header, APP,
        given_header=header.split(",", 1)[1], finds_signed_payload=False)
    add("t with a decimal point", "timestamp_not_integer", "malformed_header", default, header, APP,
        given_header=header.replace(f"t={now}", f"t={now}.0"))
    add("v0 instead of v1", "header_no_v1", "no_v1_signature", default, header, APP,
        given_header=header.replace("v1=", "v0="), finds_signed_payload=False)
    add("a v1 cut off", "signature_wrong_length", "no_matching_signature", default, header, APP,
        given_header=header[:-10], finds_signed_payload=False)
    add("no header", "header_missing", "missing_header", default, header, APP, given_header="",
        finds_signed_payload=False)
    add("the development secret", "no_explanation", "no_matching_signature", default, header, APP,
        secrets=["absec_dev_0123456789abcdef"], finds_signed_payload=False, also=["secret_is_development_secret"])
    add("a string with no Stripe prefix", "no_explanation", "no_matching_signature", default, header, APP,
        secrets=["my-app-secret"], finds_signed_payload=False, also=["secret_unknown_kind"])
    add("two secrets pasted as one", "secret_is_a_list", "no_matching_signature", default, header, APP,
        secrets=[OTHER_APP + "," + APP])
    add("an empty secret beside the right one", "secret_empty", "empty_secret", default, header, APP,
        secrets=["", APP])
    big = compact({"blob": "x" * (1 << 20), "user_id": USER, "account_id": ACCOUNT})
    add("over the size limit", "payload_too_large", "payload_too_large", big, sign(big, APP, now), APP,
        payload_file=True, finds_signed_payload=False)
    add("an empty body", "payload_empty", "no_matching_signature", default, header, APP, given="",
        finds_signed_payload=False)
    add("a form instead of JSON", "payload_not_json", "no_matching_signature", default, header, APP,
        given=f"user_id={USER}&account_id={ACCOUNT}", purpose="ui", finds_signed_payload=False)
    return out


def main():
    request_ = json.load(sys.stdin)
    answer = {"stripe_version": stripe.VERSION}
    if request_.get("scenarios"):
        now = int(time.time())
        answer["now"] = now
        answer["scenarios"] = scenarios(now)
    answer["verified"] = [
        accepts(i["payload"], i["header"], i["secret"], tolerance=None) for i in request_.get("verify", [])
    ]
    json.dump(answer, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
