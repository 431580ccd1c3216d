public import Logging

/// Plain-text log lines in swift-log's `StreamLogHandler` layout, through a ``LogWriter``:
/// `2026-11-23T14:47:15.123Z info stripe-apps-backend: key=value [Source] message`.
///
/// Our own rather than `StreamLogHandler` because its stream cannot know a line's level: the writer must never
/// drop an `error` line and must write it at once. The layout is the same, but the time is UTC with milliseconds
/// (as in the JSON lines) instead of local time, so both formats agree.
public struct TextLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    /// Adds metadata to every line, such as the current trace's `trace_id` and `span_id`.
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let writer: LogWriter

    /// Creates a handler for `label` writing through `writer`.
    public init(
        label: String, level: Logger.Level = .info, writer: LogWriter = .standardError,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.logLevel = level
        self.writer = writer
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let pairs = lineMetadata(metadata, provider: metadataProvider, event: event).map { "\($0.key)=\($0.value)" }
            .joined(separator: " ")
        let line =
            "\(Timestamp.now()) \(event.level)\(label.isEmpty ? "" : " ")\(label):\(pairs.isEmpty ? "" : " " + pairs)"
            + " [\(event.source)] \(event.message)\n"
        writer.write(Array(line.utf8), level: event.level)
    }
}
