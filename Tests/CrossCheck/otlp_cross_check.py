"""Reads OTLP trace export bodies with the official `opentelemetry-proto` package (Google's protobuf runtime).

Input (stdin, JSON): {"protobuf": <base64 of a protobuf body>, "json": <an OTLP/JSON body, as text>}, both the
same spans. Output (stdout, JSON):
- "reserialized": whether the protobuf runtime writes the decoded message back to exactly the same bytes (nothing
  unknown, misplaced or non-canonical in ours);
- "jsonMatches": whether the OTLP/JSON body, read strictly (unknown fields refused), is the same message;
- "request": the decoded message as protobuf's JSON mapping writes it, with ids in hex.
"""

import base64
import json
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def ids_to(encode, request):
    """Rewrites every id of an OTLP/JSON request (spans and links) with `encode`."""
    for resource in request.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            for span in scope.get("spans", []):
                for item in [span] + span.get("links", []):
                    for field in ID_FIELDS:
                        if field in item:
                            item[field] = encode(item[field])
    return request


def main():
    given = json.load(sys.stdin)
    body = base64.b64decode(given["protobuf"])
    message = ExportTraceServiceRequest.FromString(body)
    # OTLP/JSON writes ids in hex, protobuf's JSON mapping in base64 (the OTLP specification's one exception).
    from_json = ExportTraceServiceRequest()
    json_format.Parse(
        json.dumps(ids_to(lambda text: base64.b64encode(bytes.fromhex(text)).decode(), json.loads(given["json"]))),
        from_json,
    )
    request = json_format.MessageToDict(message)
    json.dump(
        {
            "reserialized": message.SerializeToString() == body,
            "jsonMatches": from_json == message,
            "request": ids_to(lambda text: base64.b64decode(text).hex(), request),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
