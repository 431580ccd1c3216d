import Foundation
import Logging
import StripeApps
import StripeAppsServer
import Testing

@Suite struct JSONLogHandlerTests {
    @Test func everyLineIsOneJSONObjectWithEscapedFields() throws {
        let pipe = Pipe()
        var logger = Logger(label: "test.label") {
            JSONLogHandler(label: $0, level: .debug, fileDescriptor: pipe.fileHandleForWriting.fileDescriptor)
        }
        logger[metadataKey: "hb.request.id"] = "abc"
        logger.info(
            "hello \"world\"\nline",
            metadata: ["stripe.account": "acct_1", "n": .stringConvertible(42), "list": ["a", "b"]])
        logger.trace("not written: below the level")
        logger.warning("second")
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2)
        let first = try PayloadValue.parse(String(lines[0]))
        #expect(first["level"] == .string("info"))
        #expect(first["label"] == .string("test.label"))
        #expect(first["message"] == .string("hello \"world\"\nline"))
        #expect(first["metadata"]?["stripe.account"] == .string("acct_1"))
        #expect(first["metadata"]?["hb.request.id"] == .string("abc"))
        #expect(first["metadata"]?["n"] == .string("42"))
        #expect(first["metadata"]?["list"] == .array([.string("a"), .string("b")]))
        let timestamp = try #require(first["ts"]?.stringValue)
        #expect(
            timestamp.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil)
        #expect(try PayloadValue.parse(String(lines[1]))["level"] == .string("warning"))
    }

    /// The handler writes its bytes itself; they are exactly the text `PayloadValue` gives the same line (the
    /// timestamp aside), for every control character, quotes, backslashes, non-ASCII text and nested metadata.
    @Test func linesAreTheTextPayloadValueWouldWrite() throws {
        var samples =
            (0..<32).map { String(UnicodeScalar(UInt8($0))) } + [
                "", "plain", "quote \" and backslash \\", "é 漢字 🧾", "\u{7F}\u{2028}", "mixed\u{01}é\"\\\n",
            ]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let scalars = (0..<Int.random(in: 0...12, using: &random)).compactMap { _ in
                UnicodeScalar([0x00, 0x1F, 0x22, 0x5C, 0x41, 0xE9, 0x1F9FE][Int.random(in: 0..<7, using: &random)])
            }
            samples.append(String(String.UnicodeScalarView(scalars)))
        }
        let pipe = Pipe()
        let logger = Logger(label: "escape") {
            JSONLogHandler(label: $0, level: .debug, fileDescriptor: pipe.fileHandleForWriting.fileDescriptor)
        }
        for sample in samples {
            logger.info(
                "\(sample)",
                metadata: [
                    "value": .string(sample), "list": [.string(sample), "x"],
                    "nested": ["b": .string(sample), "a": ["c": "d"]],
                ])
        }
        try pipe.fileHandleForWriting.close()
        let lines = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == samples.count)
        for (line, sample) in zip(lines, samples) {
            let expected = PayloadValue.object([
                PayloadField("level", .string("info")), PayloadField("label", .string("escape")),
                PayloadField("source", .string("StripeAppsServerTests")), PayloadField("message", .string(sample)),
                PayloadField(
                    "metadata",
                    .object([
                        PayloadField("list", .array([.string(sample), .string("x")])),
                        PayloadField(
                            "nested",
                            .object([
                                PayloadField("a", .object([PayloadField("c", .string("d"))])),
                                PayloadField("b", .string(sample)),
                            ])),
                        PayloadField("value", .string(sample)),
                    ])),
            ]).jsonString
            // `{"ts":"…",` then the rest, which must be exactly PayloadValue's text of the same fields.
            let rest = line.drop { $0 != "," }.dropFirst()
            #expect("{" + rest == expected, "\(sample.unicodeScalars.map(\.value))")
        }
    }
}
