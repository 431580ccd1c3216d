import Foundation
import Testing

/// `Docs/troubleshooting.md` lists every stable code the sources can answer with, and is linked from where
/// developers meet those codes (issue 16, item 6).
@Suite struct TroubleshootingGuideTests {
    static let guide = packageRoot.appendingPathComponent("Docs/troubleshooting.md")

    /// Where stable codes are written, and how: each pattern's first group is a code.
    static let patterns: [(directories: [String], pattern: String)] = [
        // APIError(…, code: "…"), AdminPageError(…, code: "…"), pages.message(…, code: "…"), log sampler codes.
        (["StripeAppsServer", "stripe-apps-backend"], #"code: "([a-z0-9_]+)""#),
        // APIError.badRequest("…", …), AdminPageError.badRequest("…", …).
        (["StripeAppsServer"], #"\.badRequest\(\s*"([a-z0-9_]+)""#),
        // The install flow's pages: page(.status, "…", …).
        (["StripeAppsServer"], #"page\(\s*\.\w+,\s*"([a-z0-9_]+)""#),
        // Error and finding code types: Code("…").
        (["StripeApps", "StripeAppsAPI", "StripeAppsServer"], #"Code\("([a-z0-9_]+)"\)"#),
        // SignatureError.Code's raw values.
        (["StripeApps/Signatures"], #"case \w+ = "([a-z0-9_]+)""#),
        // Command failures: "<code>: <message>" on standard error.
        (["stripe-apps-backend"], #"\(\s*"([a-z]+(?:_[a-z]+)+): "#),
        (["stripe-apps-backend"], #"fail\(code: "([a-z0-9_]+)""#),
        (["stripe-apps-backend"], #"InputFailure\(code: "([a-z0-9_]+)""#),
        // A command's failure with a stable code: CommandError("database_not_found", …).
        (["stripe-apps-backend"], #"CommandError\(\s*"([a-z0-9_]+)""#),
    ]

    /// Strings those patterns find that are not error codes: admin page names (`data-code` of ordinary pages) and
    /// the log code of an install that started.
    static let notErrorCodes: Set<String> = [
        "overview", "login", "installations", "tenant", "inbox", "event", "bulk", "jobs", "job", "none",
    ]

    static func stableCodes() throws -> [String: Set<String>] {
        var codes: [String: Set<String>] = [:]
        let sources = packageRoot.appendingPathComponent("Sources")
        for (directories, pattern) in patterns {
            let regex = try NSRegularExpression(pattern: pattern)
            for directory in directories {
                let root = sources.appendingPathComponent(directory)
                let files =
                    FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?
                    .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" } ?? []
                for file in files {
                    let text = try String(contentsOf: file, encoding: .utf8)
                    let range = NSRange(text.startIndex..., in: text)
                    for match in regex.matches(in: text, range: range) {
                        guard let group = Range(match.range(at: 1), in: text) else { continue }
                        codes[String(text[group]), default: []].insert(file.lastPathComponent)
                    }
                }
            }
        }
        return codes.filter { !notErrorCodes.contains($0.key) }
    }

    @Test func everyStableCodeOfTheSourcesIsInTheGuide() throws {
        let guide = try String(contentsOf: Self.guide, encoding: .utf8)
        let codes = try Self.stableCodes()
        // The extraction itself works: codes of every kind are found.
        for known in [
            "no_matching_signature", "install_cancelled", "not_installed", "webhook_not_configured", "no_such_job",
            "unreadable_file", "payload_key_order", "tenant_mismatch", "credential_tampered", "csrf_token_invalid",
            "invalid_roles", "version_conflict", "missing_encryption_keys",
        ] {
            #expect(codes[known] != nil, "\(known) was not extracted")
        }
        #expect(codes.count > 120)
        let missing = codes.keys.filter { !guide.contains("`\($0)`") }.sorted()
        #expect(
            missing.isEmpty,
            "Docs/troubleshooting.md lacks \(missing.map { "\($0) (\(codes[$0]!.sorted().joined(separator: ", ")))" })")
    }

    @Test func theGuideIsLinkedFromTheReadmeTheDocsAndTheErrorTypes() throws {
        let root = packageRoot
        func text(_ path: String) throws -> String {
            try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
        }
        #expect(try text("README.md").contains("(Docs/troubleshooting.md)"))
        for doc in [
            "Docs/ui-extension.md", "Docs/webhooks.md", "Docs/install.md", "Docs/signatures.md", "Docs/server.md",
        ] {
            #expect(try text(doc).contains("(troubleshooting.md"), "\(doc)")
        }
        for source in [
            "Sources/StripeApps/Signatures/SignatureError.swift", "Sources/StripeApps/Payloads/PayloadShape.swift",
            "Sources/StripeApps/Storage/StoreError.swift", "Sources/StripeApps/Credentials/CredentialError.swift",
            "Sources/StripeAppsAPI/Client/StripeAPIError.swift", "Sources/StripeAppsServer/Errors/APIError.swift",
            "Sources/StripeAppsServer/Errors/AdminPageError.swift",
            "Sources/StripeAppsServer/Controllers/HTMLPage.swift",
            "Sources/StripeApps/Signatures/SignatureDiagnosis+Finding.swift",
        ] {
            #expect(try text(source).contains("Docs/troubleshooting.md"), "\(source)")
        }
        // Every section the other issue-16 work fills in has its header already.
        let guide = try text("Docs/troubleshooting.md")
        for header in [
            "## My UI call gets 401", "## My webhook never arrives", "## The install redirect shows an error",
            "## Stripe's Dashboard cannot reach my local backend", "`tenant_blocked`",
        ] {
            #expect(guide.contains(header), "\(header)")
        }
    }
}
