import Foundation
import StripeApps
import Testing
import Tracing
import W3CTraceContext

@testable import StripeAppsServer

/// Our OTLP trace export bodies, read by the official `opentelemetry-proto` package: the protobuf body decodes and
/// is written back byte for byte, the OTLP/JSON body is the same message, and every field says what we gave.
@Suite(.enabled(if: ExternalTool.otlpPython != nil || isCI, "skipped: \(ExternalTool.otlpMissing)"))
struct OTLPEncodingCrossCheckTests {
    static let script = packageRoot.appendingPathComponent("Tests/CrossCheck/otlp_cross_check.py")

    static let encoding = OTLPEncoding(
        resource: [("service.name", .string("cross-check")), ("deployment.environment", .string("test"))],
        scopeName: "stripe-apps-backend", scopeVersion: "1")

    static func context(_ traceparent: String, state: String? = nil, remote: Bool = false) throws -> SpanContext {
        SpanContext(
            try TraceContext(traceParentHeaderValue: traceparent, traceStateHeaderValue: state), isRemote: remote)
    }

    /// Spans with every kind of attribute, events, links, statuses, local and remote parents, and a span large enough
    /// for multi-byte lengths.
    static func batch() throws -> [FinishedSpan] {
        let root = try context("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        let child = try context("00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01")
        let caller = try context(
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", state: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
            remote: true)
        let continued = try context(
            "00-0af7651916cd43dd8448eb211c80319c-2222222222222222-01", state: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
        var attributes: SpanAttributes = [:]
        attributes["text"] = "quote \" backslash \\ newline \n tab \t é 日本 😀 \u{2028}"
        attributes["empty"] = ""
        attributes.set("int32", value: .int32(-7))
        attributes.set("int64", value: .int64(Int64.min))
        attributes.set("zero", value: .int64(0))
        attributes.set("double", value: .double(-0.25))
        attributes.set("infinite", value: .double(.infinity))
        attributes["yes"] = true
        attributes["no"] = false
        attributes.set("strings", value: .stringArray(["a", "", "ü"]))
        attributes.set("ints", value: .int64Array([1, -1, Int64.max]))
        attributes.set("doubles", value: .doubleArray([1.5, 1e-300]))
        attributes.set("bools", value: .boolArray([true, false]))
        attributes.set("described", value: .stringConvertible(42))
        var large: SpanAttributes = [:]
        for index in 0..<300 { large.set("key.\(index)", value: .string(String(repeating: "x", count: index))) }
        return [
            FinishedSpan(
                spanContext: root, parent: nil, kind: .server, start: 1_700_000_000_123_456_789,
                end: 1_700_000_000_223_456_789, name: "POST /api/whoami", attributes: attributes, events: [],
                links: [], status: SpanStatus(code: .ok)),
            FinishedSpan(
                spanContext: child, parent: root, kind: .client, start: 1_700_000_000_130_000_000,
                end: 1_700_000_000_140_000_000, name: "EventInbox.enqueue", attributes: ["db.system.name": "sqlite"],
                events: [
                    SpanEvent(
                        name: "exception",
                        at: DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: 1_700_000_000_135_000_000),
                        attributes: ["exception.type": "StoreError"])
                ],
                links: [OTLPSpan.Link(context: caller, attributes: ["link.reason": "delivery"])],
                status: SpanStatus(code: .error, message: "the store refused")),
            FinishedSpan(
                spanContext: continued, parent: caller, kind: .consumer, start: 1, end: 2,
                name: String(repeating: "long name ", count: 20), attributes: large, events: [], links: [],
                status: nil),
        ]
    }

    struct Answer: Decodable {
        let reserialized: Bool
        let jsonMatches: Bool
        let request: Request
    }

    struct Request: Decodable {
        let resourceSpans: [ResourceSpans]
    }

    struct ResourceSpans: Decodable {
        let resource: Resource
        let scopeSpans: [ScopeSpans]
    }

    struct Resource: Decodable {
        let attributes: [KeyValue]
    }

    struct ScopeSpans: Decodable {
        let scope: Scope
        let spans: [Span]
    }

    struct Scope: Decodable {
        let name: String
        let version: String
    }

    struct Span: Decodable {
        let traceId: String
        let spanId: String
        let parentSpanId: String?
        let traceState: String?
        let name: String
        let kind: String
        let startTimeUnixNano: String
        let endTimeUnixNano: String
        let attributes: [KeyValue]?
        let events: [Event]?
        let links: [Link]?
        let status: Status?
        let flags: Int?
    }

    struct Event: Decodable {
        let timeUnixNano: String
        let name: String
        let attributes: [KeyValue]
    }

    struct Link: Decodable {
        let traceId: String
        let spanId: String
        let traceState: String?
        let attributes: [KeyValue]
        let flags: Int
    }

    struct Status: Decodable {
        let code: String?
        let message: String?
    }

    struct KeyValue: Decodable {
        let key: String
        let value: AnyValue
    }

    /// protobuf's JSON mapping of an `AnyValue`, with its values as text.
    struct AnyValue: Decodable, Equatable {
        let text: String

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            if let value = try container.decodeIfPresent(String.self, forKey: .stringValue) {
                text = "string:\(value)"
            } else if let value = try container.decodeIfPresent(Bool.self, forKey: .boolValue) {
                text = "bool:\(value)"
            } else if let value = try container.decodeIfPresent(String.self, forKey: .intValue) {
                text = "int:\(value)"
            } else if let value = try? container.decodeIfPresent(Double.self, forKey: .doubleValue) {
                text = "double:\(value)"
            } else if let value = try container.decodeIfPresent(String.self, forKey: .doubleValue) {
                text = "double:\(value)"
            } else if let array = try container.decodeIfPresent(Array.self, forKey: .arrayValue) {
                text = "[" + (array.values ?? []).map(\.text).joined(separator: ",") + "]"
            } else {
                text = "unset"
            }
        }

        struct Array: Decodable {
            let values: [AnyValue]?
        }

        enum Key: String, CodingKey { case stringValue, boolValue, intValue, doubleValue, arrayValue }
    }

    static func askPython(protobuf: [UInt8], json: [UInt8]) async throws -> Answer {
        let python = try #require(ExternalTool.otlpPython, "\(ExternalTool.otlpMissing)")
        let input: [String: Any] = [
            "protobuf": Data(protobuf).base64EncodedString(), "json": String(decoding: json, as: UTF8.self),
        ]
        let output = try await runProcessAsync(
            python, [script.path], input: try JSONSerialization.data(withJSONObject: input),
            environment: ["PYTHONIOENCODING": "utf-8"])
        try #require(output.status == 0, "python failed: \(output.standardError)")
        return try JSONDecoder().decode(Answer.self, from: Data(output.standardOutput.utf8))
    }

    @Test func theOfficialPackageReadsOurBodiesAsWeMeantThem() async throws {
        let batch = try Self.batch()
        let answer = try await Self.askPython(
            protobuf: Self.encoding.protobuf(batch), json: Self.encoding.json(batch))
        #expect(answer.reserialized, "protobuf writes the message back to other bytes than ours")
        #expect(answer.jsonMatches, "the OTLP/JSON body is not the same message as the protobuf one")

        let resourceSpans = try #require(answer.request.resourceSpans.first)
        #expect(
            resourceSpans.resource.attributes.map { "\($0.key)=\($0.value.text)" } == [
                "service.name=string:cross-check", "deployment.environment=string:test",
            ])
        let scope = try #require(resourceSpans.scopeSpans.first)
        #expect(scope.scope.name == "stripe-apps-backend" && scope.scope.version == "1")
        #expect(scope.spans.count == 3)
        let root = scope.spans[0]
        #expect(root.traceId == "4bf92f3577b34da6a3ce929d0e0e4736" && root.spanId == "00f067aa0ba902b7")
        #expect(root.parentSpanId == nil)
        #expect(root.name == "POST /api/whoami" && root.kind == "SPAN_KIND_SERVER")
        #expect(root.startTimeUnixNano == "1700000000123456789" && root.endTimeUnixNano == "1700000000223456789")
        #expect(root.status?.code == "STATUS_CODE_OK" && root.status?.message == nil)
        #expect(root.flags == 0x01, "sampled, no parent")
        let attributes = Dictionary(uniqueKeysWithValues: (root.attributes ?? []).map { ($0.key, $0.value.text) })
        #expect(
            attributes == [
                "text": "string:quote \" backslash \\ newline \n tab \t é 日本 😀 \u{2028}", "empty": "string:",
                "int32": "int:-7", "int64": "int:-9223372036854775808", "zero": "int:0", "double": "double:-0.25",
                "infinite": "double:Infinity", "yes": "bool:true", "no": "bool:false",
                "strings": "[string:a,string:,string:ü]", "ints": "[int:1,int:-1,int:9223372036854775807]",
                "doubles": "[double:1.5,double:1e-300]", "bools": "[bool:true,bool:false]",
                "described": "string:42",
            ])

        let child = scope.spans[1]
        #expect(child.traceId == root.traceId && child.parentSpanId == root.spanId)
        #expect(child.kind == "SPAN_KIND_CLIENT" && child.flags == 0x101, "sampled, a local parent")
        #expect(child.status?.code == "STATUS_CODE_ERROR" && child.status?.message == "the store refused")
        let event = try #require(child.events?.first)
        #expect(event.name == "exception" && event.timeUnixNano == "1700000000135000000")
        #expect(event.attributes.map { "\($0.key)=\($0.value.text)" } == ["exception.type=string:StoreError"])
        let link = try #require(child.links?.first)
        #expect(link.traceId == "0af7651916cd43dd8448eb211c80319c" && link.spanId == "b7ad6b7169203331")
        #expect(link.traceState == "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7" && link.flags == 0x301)
        #expect(link.attributes.map { "\($0.key)=\($0.value.text)" } == ["link.reason=string:delivery"])

        let continued = scope.spans[2]
        #expect(continued.parentSpanId == "b7ad6b7169203331" && continued.flags == 0x301, "a remote parent")
        #expect(continued.traceState == "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7")
        #expect(continued.kind == "SPAN_KIND_CONSUMER" && continued.status == nil)
        #expect(continued.name == String(repeating: "long name ", count: 20))
        #expect(continued.attributes?.count == 300)
        #expect(
            continued.attributes?.first { $0.key == "key.299" }?.value.text
                == "string:" + String(repeating: "x", count: 299))
    }

    /// A body that is not OTLP makes the official package fail, so the test above can fail.
    @Test func theOfficialPackageRefusesWhatIsNotOTLP() async throws {
        let batch = try Self.batch()
        var json = Self.encoding.json(batch)
        json.insert(contentsOf: Array(#""unknownField":1,"#.utf8), at: 1)
        let python = try #require(ExternalTool.otlpPython, "\(ExternalTool.otlpMissing)")
        let input: [String: Any] = [
            "protobuf": Data(Self.encoding.protobuf(batch)).base64EncodedString(),
            "json": String(decoding: json, as: UTF8.self),
        ]
        let output = try await runProcessAsync(
            python, [Self.script.path], input: try JSONSerialization.data(withJSONObject: input),
            environment: ["PYTHONIOENCODING": "utf-8"])
        #expect(output.status != 0)
        #expect(output.standardError.contains("unknownField"))
    }
}
