"""Cross-checks stripe-apps-backend signatures with the official `stripe` Python package.

Reads a JSON request on stdin and writes a JSON answer on stdout:

  {"verify": [{"payload": str, "header": str, "secrets": [str]}],
   "sign":   [{"payload": str, "secrets": [str], "timestamp": int}],
   "random_sign": {"count": int, "seed": int}}

- every "verify" item is checked with stripe.WebhookSignature.verify_header once per secret (each must
  pass: a rotation header carries one v1 per secret) and reported as true/false;
- every "sign" item gets a header built with the package's own helper, generate_signature_header, one
  call per secret, merged into one header the way Stripe does during a rotation;
- "random_sign" adds payloads generated here (nested JSON dumped by Python, random Unicode text) with
  headers from the same helper, so the payloads do not all come from the Swift side.
"""

import json
import random
import sys
import time

import stripe

TOLERANCE = 300


def verify(item):
    for secret in item["secrets"]:
        try:
            stripe.WebhookSignature.verify_header(item["payload"], item["header"], secret, tolerance=TOLERANCE)
        except stripe.SignatureVerificationError:
            return False
    return True


def sign(payload, secrets, timestamp):
    parts = [stripe.WebhookSignature.generate_signature_header(payload, s, timestamp=timestamp) for s in secrets]
    v1 = [p.split(",", 1)[1] for p in parts]
    return ",".join([f"t={timestamp}"] + v1)


def random_text(rng, length):
    alphabet = "abcXYZ019 _-\"\\/\n\té€😀日本語ß\u2028"
    return "".join(rng.choice(alphabet) if rng.random() < 0.9 else chr(rng.randint(0x20, 0xD7FF)) for _ in range(length))


def random_json(rng, depth=0):
    kind = rng.randint(0, 5 if depth < 4 else 3)
    if kind == 0:
        return rng.randint(-(10**12), 10**12)
    if kind == 1:
        return random_text(rng, rng.randint(0, 20))
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return rng.random() * 1000
    if kind == 4:
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {random_text(rng, rng.randint(1, 8)): random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def main():
    request = json.load(sys.stdin)
    answer = {"stripe_version": stripe.VERSION, "verified": [verify(i) for i in request.get("verify", [])]}
    answer["signed"] = [
        {"payload": i["payload"], "secrets": i["secrets"], "header": sign(i["payload"], i["secrets"], i["timestamp"])}
        for i in request.get("sign", [])
    ]
    spec = request.get("random_sign")
    if spec:
        rng = random.Random(spec["seed"])
        now = int(time.time())
        for n in range(spec["count"]):
            if n % 2 == 0:
                payload = json.dumps(random_json(rng), ensure_ascii=False, separators=(",", ":"))
            else:
                payload = random_text(rng, rng.choice([1, 50, 5000]))
            secrets = ["whsec_" + random_text(rng, 24)] + (["absec_" + str(rng.getrandbits(128))] if n % 3 == 0 else [])
            answer["signed"].append({"payload": payload, "secrets": secrets, "header": sign(payload, secrets, now)})
    json.dump(answer, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
