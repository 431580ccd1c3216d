public import Logging
import StripeApps
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A log handler that writes one JSON object per line to standard error:
/// `{"ts":"2026-11-23T14:47:15.123Z","level":"info","label":"…","source":"…","message":"…","metadata":{…}}`.
///
/// Written here rather than using swift-log's `StreamLogHandler` because logs must be machine-readable
/// (every metadata value a JSON string, nothing interpolated into free text) and cheap: `StreamLogHandler`
/// formats a local time with `strftime` for every line, which cost a tenth of the throughput of the signed
/// routes. This handler formats the UTC second once per second and hands each whole line to a ``LogWriter``,
/// which writes many lines per `write(2)` off the request's thread (lines stay whole and in order), or, without
/// one, writes each line with one `write(2)`.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    /// Adds metadata to every line, such as the current trace's `trace_id` and `span_id`.
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let fileDescriptor: Int32
    private let writer: LogWriter?

    /// Creates a handler for `label`.
    ///
    /// - Parameters:
    ///   - label: The logger's label.
    ///   - level: The lowest level written.
    ///   - fileDescriptor: Where lines go without a writer; standard error by default.
    ///   - writer: The buffered writer lines go through (``LogWriter/standardError`` under `serve`); each line is
    ///     written at once with its own `write(2)` when `nil`.
    ///   - metadataProvider: Adds metadata to every line (the trace's ids when traces are on).
    public init(
        label: String, level: Logger.Level = .info, fileDescriptor: Int32 = 2, writer: LogWriter? = nil,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.logLevel = level
        self.fileDescriptor = fileDescriptor
        self.writer = writer
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // Written straight into bytes: building a JSON value and then its text cost more than a tenth of a signed
        // request. The text is `PayloadValue`'s (the same escapes; `JSONLogHandlerTests` compare the two).
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        bytes.append(contentsOf: #"{"ts":"#.utf8)
        JSONText.appendString(Timestamp.now(), to: &bytes)
        bytes.append(contentsOf: #","level":"#.utf8)
        JSONText.appendString(event.level.rawValue, to: &bytes)
        bytes.append(contentsOf: #","label":"#.utf8)
        JSONText.appendString(label, to: &bytes)
        bytes.append(contentsOf: #","source":"#.utf8)
        JSONText.appendString(event.source, to: &bytes)
        bytes.append(contentsOf: #","message":"#.utf8)
        JSONText.appendString(event.message.description, to: &bytes)
        bytes.append(contentsOf: #","metadata":{"#.utf8)
        var first = true
        for (key, value) in lineMetadata(metadata, provider: metadataProvider, event: event) {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            JSONText.appendString(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            JSONText.appendValue(value, to: &bytes)
        }
        bytes.append(contentsOf: "}}\n".utf8)
        if let writer {
            writer.write(bytes, level: event.level)
            return
        }
        bytes.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = write(fileDescriptor, base + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

extension JSONText {
    /// Appends a metadata value: text as a string, an array as an array, a dictionary as an object with sorted keys.
    static func appendValue(_ value: Logger.MetadataValue, to bytes: inout [UInt8]) {
        switch value {
        case .string(let text): appendString(text, to: &bytes)
        case .stringConvertible(let convertible): appendString(convertible.description, to: &bytes)
        case .array(let values):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                appendValue(element, to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .dictionary(let dictionary):
            bytes.append(UInt8(ascii: "{"))
            for (index, (key, element)) in dictionary.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                appendString(key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                appendValue(element, to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }
}

/// The metadata of one line, sorted by key: the handler's, then the provider's, then the event's; a later one wins
/// on the same key, as in swift-log's own handlers.
func lineMetadata(
    _ metadata: Logger.Metadata, provider: Logger.MetadataProvider?, event: LogEvent
) -> [(key: String, value: Logger.MetadataValue)] {
    var merged = metadata
    if let provided = provider?.get(), !provided.isEmpty { merged.merge(provided) { $1 } }
    if let extra = event.metadata { merged.merge(extra) { $1 } }
    return merged.sorted { $0.key < $1.key }
}

/// UTC timestamps with milliseconds; the `YYYY-MM-DDTHH:MM:SS` part is formatted once per second.
enum Timestamp {
    private static let cache = Mutex<(second: Int, text: String)>((-1, ""))

    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let second = Int(spec.tv_sec)
        let milliseconds = Int(spec.tv_nsec) / 1_000_000
        let prefix = cache.withLock { cached -> String in
            if cached.second == second { return cached.text }
            var time = time_t(second)
            var parts = tm()
            gmtime_r(&time, &parts)
            func pad(_ value: Int32, _ width: Int) -> String {
                let digits = String(value)
                return String(repeating: "0", count: max(0, width - digits.count)) + digits
            }
            let text =
                "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
                + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
            cached = (second, text)
            return text
        }
        let fraction = String(milliseconds)
        return prefix + "." + String(repeating: "0", count: 3 - fraction.count) + fraction + "Z"
    }
}
