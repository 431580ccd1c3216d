import Foundation

/// Where and how ``OTLPExporter`` sends spans, from the standard OpenTelemetry environment variables.
///
/// | Variable | Default | Meaning |
/// |---|---|---|
/// | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | none | the full URL spans are posted to |
/// | `OTEL_EXPORTER_OTLP_ENDPOINT` | none | the collector's base URL; spans go to `/v1/traces` under it |
/// | `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL` | `http/protobuf` | or `http/json`; `grpc` is refused |
/// | `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS` | none | `key=value` pairs, comma-separated, values percent-encoded |
/// | `OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT` | 10000 | milliseconds one request may take |
/// | `OTEL_EXPORTER_OTLP_(TRACES_)COMPRESSION` | `none` | `gzip` is refused |
/// | `OTEL_EXPORTER_OTLP_(TRACES_)CERTIFICATE`, `…CLIENT_CERTIFICATE`, `…CLIENT_KEY` | none | refused: an https endpoint is checked against the system's trusted certificates |
/// | `OTEL_SERVICE_NAME` | `stripe-apps-backend` | the `service.name` resource attribute |
/// | `OTEL_RESOURCE_ATTRIBUTES` | none | more resource attributes, as `key=value` pairs |
/// | `OTEL_BSP_SCHEDULE_DELAY` | 200 | milliseconds between exports (the specification says 5000) |
/// | `OTEL_BSP_EXPORT_TIMEOUT` | 30000 | milliseconds one export may take, retries included |
/// | `OTEL_BSP_MAX_QUEUE_SIZE` | 2048 | ended spans kept waiting; more are dropped and counted |
/// | `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` | 512 | spans per request, at most the queue size |
///
/// The `TRACES_` variable wins over the general one.
public struct OTLPExportConfiguration: Sendable, Equatable {
    /// The body's encoding.
    public enum BodyProtocol: String, Sendable, Equatable {
        /// `application/x-protobuf`, OTLP's default.
        case protobuf = "http/protobuf"
        /// `application/json`, OTLP/JSON.
        case json = "http/json"
    }

    /// The URL spans are posted to.
    public var endpoint: String
    /// The body's encoding.
    public var bodyProtocol: BodyProtocol = .protobuf
    /// Headers sent with every export (an API key, say); never logged.
    public var headers: [Header] = []
    /// How long one request may take.
    public var requestTimeout: Duration = .seconds(10)
    /// The resource's attributes, `service.name` first.
    public var resourceAttributes: [Header] = [Header(name: "service.name", value: "stripe-apps-backend")]
    /// How long an ended span waits at most before it is sent.
    public var scheduleDelay: Duration = .milliseconds(200)
    /// How long one export may take, retries included.
    public var exportTimeout: Duration = .seconds(30)
    /// How many ended spans wait at most; the ones beyond are dropped.
    public var maxQueueSize = 2048
    /// How many spans one request carries at most.
    public var maxExportBatchSize = 512

    /// A header or a resource attribute: a name and its value.
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Spans to `endpoint` (a full URL), with the defaults.
    public init(endpoint: String) {
        self.endpoint = endpoint
    }

    /// The configuration the `OTEL_*` variables give, `variable` reading one by its name; nil without an endpoint.
    ///
    /// - Throws: ``ConfigurationError`` naming the variable whose value is not valid.
    public init?(variable: (String) -> String?) throws {
        func value(_ name: String) -> String? {
            guard let text = variable(name)?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        /// The `TRACES_` variable, else the general one: the value and the name it came from.
        func signal(_ suffix: String) -> (value: String, name: String)? {
            for name in ["OTEL_EXPORTER_OTLP_TRACES_\(suffix)", "OTEL_EXPORTER_OTLP_\(suffix)"] {
                if let text = value(name) { return (text, name) }
            }
            return nil
        }
        func url(_ text: String, _ name: String) throws -> String {
            guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
                scheme == "http" || scheme == "https", !(components.host ?? "").isEmpty
            else { throw ConfigurationError(variable: name, problem: "must be an http:// or https:// URL") }
            return text
        }
        if let traces = value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            self.init(endpoint: try url(traces, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
        } else if let base = value("OTEL_EXPORTER_OTLP_ENDPOINT") {
            let base = try url(base, "OTEL_EXPORTER_OTLP_ENDPOINT")
            self.init(endpoint: (base.hasSuffix("/") ? base : base + "/") + "v1/traces")
        } else {
            return nil
        }
        if let (text, name) = signal("PROTOCOL") {
            guard let parsed = BodyProtocol(rawValue: text.lowercased()) else {
                throw ConfigurationError(
                    variable: name,
                    problem: "must be http/protobuf or http/json (OTLP over gRPC is not supported: use port 4318)")
            }
            bodyProtocol = parsed
        }
        if let (text, name) = signal("HEADERS") {
            headers = try Self.pairs(text, name).map { Header(name: $0.name.lowercased(), value: $0.value) }
        }
        if let (text, name) = signal("TIMEOUT") {
            requestTimeout = try Self.milliseconds(text, name, in: 1...600_000)
        }
        if let (text, name) = signal("COMPRESSION"), text.lowercased() != "none" {
            throw ConfigurationError(variable: name, problem: "must be none (compressed exports are not supported)")
        }
        for suffix in ["CERTIFICATE", "CLIENT_CERTIFICATE", "CLIENT_KEY"] {
            if let (_, name) = signal(suffix) {
                throw ConfigurationError(
                    variable: name,
                    problem:
                        "is not supported: an https endpoint is checked against the system's trusted certificates")
            }
        }
        if let text = value("OTEL_RESOURCE_ATTRIBUTES") {
            let pairs = try Self.pairs(text, "OTEL_RESOURCE_ATTRIBUTES")
            resourceAttributes += pairs.filter { $0.name != "service.name" }
            if let name = pairs.last(where: { $0.name == "service.name" }) { resourceAttributes[0] = name }
        }
        if let name = value("OTEL_SERVICE_NAME") {
            resourceAttributes[0] = Header(name: "service.name", value: name)
        }
        if let text = value("OTEL_BSP_SCHEDULE_DELAY") {
            scheduleDelay = try Self.milliseconds(text, "OTEL_BSP_SCHEDULE_DELAY", in: 1...600_000)
        }
        if let text = value("OTEL_BSP_EXPORT_TIMEOUT") {
            exportTimeout = try Self.milliseconds(text, "OTEL_BSP_EXPORT_TIMEOUT", in: 1...600_000)
        }
        if let text = value("OTEL_BSP_MAX_QUEUE_SIZE") {
            maxQueueSize = try Self.integer(text, "OTEL_BSP_MAX_QUEUE_SIZE", in: 1...1_000_000)
        }
        if let text = value("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") {
            maxExportBatchSize = try Self.integer(text, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", in: 1...1_000_000)
        }
        guard maxExportBatchSize <= maxQueueSize else {
            throw ConfigurationError(
                variable: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", problem: "must not be more than OTEL_BSP_MAX_QUEUE_SIZE")
        }
    }

    private static func integer(_ text: String, _ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(
                variable: name, problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    private static func milliseconds(_ text: String, _ name: String, in range: ClosedRange<Int>) throws -> Duration {
        .milliseconds(try integer(text, name, in: range))
    }

    /// `key=value,key=value` as the OpenTelemetry specification writes headers and resource attributes (W3C
    /// Baggage's format): names and values are trimmed and percent-decoded.
    static func pairs(_ text: String, _ name: String) throws -> [Header] {
        try text.split(separator: ",", omittingEmptySubsequences: true).compactMap { item in
            let item = item.trimmingCharacters(in: .whitespaces)
            guard !item.isEmpty else { return nil }
            guard let equals = item.firstIndex(of: "="),
                let key = item[..<equals].trimmingCharacters(in: .whitespaces).removingPercentEncoding,
                let value = item[item.index(after: equals)...].trimmingCharacters(in: .whitespaces)
                    .removingPercentEncoding,
                !key.isEmpty
            else {
                throw ConfigurationError(
                    variable: name, problem: "must be comma-separated key=value pairs (values percent-encoded)")
            }
            // A header must not smuggle a line break into the request.
            guard !(key + value).unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                throw ConfigurationError(variable: name, problem: "must not contain line breaks")
            }
            return Header(name: key, value: value)
        }
    }
}

extension OTLPExportConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    /// The configuration with the headers' values left out: they often hold an API key.
    public var description: String {
        let headerNames = headers.map { "\($0.name): <redacted>" }.joined(separator: ", ")
        return "OTLPExportConfiguration(endpoint: \(endpoint), protocol: \(bodyProtocol.rawValue), "
            + "headers: [\(headerNames)], requestTimeout: \(requestTimeout), scheduleDelay: \(scheduleDelay), "
            + "exportTimeout: \(exportTimeout), maxQueueSize: \(maxQueueSize), "
            + "maxExportBatchSize: \(maxExportBatchSize))"
    }

    /// The same as ``description``: no header value is printed.
    public var debugDescription: String { description }
}
