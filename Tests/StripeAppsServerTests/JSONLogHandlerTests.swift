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
}
