import Foundation
import Testing

/// The project's signature test vectors (`shared/test-vectors/signatures.json`), decoded.
struct SignatureVectors: Decodable {
    struct Vector: Decodable, CustomTestStringConvertible, Sendable {
        let id: String
        let kind: String
        let secretNames: [String]
        let timestamp: Int64?
        let payload: String
        let header: String
        let valid: Bool
        let why: String
        var testDescription: String { id }
    }

    struct ToleranceCase: Decodable, CustomTestStringConvertible, Sendable {
        let now: Int64
        let timestamp: Int64
        let tolerance: Int64
        let valid: Bool
        let why: String
        var testDescription: String { "now=\(now) t=\(timestamp) tolerance=\(tolerance)" }
    }

    struct BlogCase: Decodable, CustomTestStringConvertible, Sendable {
        let secretName: String
        let accountId: String
        let installSignature: String
        let valid: Bool
        let why: String
        var testDescription: String { why }
    }

    let secrets: [String: String]
    let vectors: [Vector]
    let toleranceCases: [ToleranceCase]
    let installBlogCompatCases: [BlogCase]

    /// The copy committed under `Fixtures/`.
    static let fixtureURL = Bundle.module.url(forResource: "Fixtures/signatures", withExtension: "json")!

    /// The shared original beside the project root, when the checkout has it.
    static let sharedURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/test-vectors/signatures.json")

    static let all: SignatureVectors = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try! decoder.decode(SignatureVectors.self, from: Data(contentsOf: fixtureURL))
    }()
}
