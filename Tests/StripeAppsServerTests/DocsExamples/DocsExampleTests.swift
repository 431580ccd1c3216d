import Testing

/// The guides' complete examples are the code the tests compile and run, line for line.
@Suite struct DocsExampleTests {
    @Test(arguments: [
        ("nightly-customer-sync", "Docs/jobs.md", "Tests/StripeAppsServerTests/DocsExamples/NightlyCustomerSync.swift"),
        ("library-main", "Docs/library.md", "Examples/LibraryBackend/main.swift"),
        ("signed-routes", "Docs/server.md", "Examples/LibraryBackend/main.swift"),
        ("testing-kit", "Docs/testing.md", "Examples/CustomerSync/Tests/CustomerSyncTests/CustomerSyncTests.swift"),
        (
            "testing-kit-outage", "Docs/testing.md",
            "Examples/CustomerSync/Tests/CustomerSyncTests/CustomerSyncTests.swift"
        ),
    ])
    func theGuideShowsTheCompiledExample(name: String, guidePath: String, codePath: String) throws {
        let example = DocsExample(name: name)
        let guide = try #require(
            try example.guideLines(in: guidePath),
            "\(guidePath) has no ```swift block after <!-- example: \(name) -->")
        let code = try #require(
            try example.codeLines(in: codePath), "\(codePath) has no // docs:begin \(name) … // docs:end \(name)")
        let differences = DocsExample.differences(guide: guide, guidePath: guidePath, code: code, codePath: codePath)
        if !differences.isEmpty {
            let lines = differences.joined(separator: "\n")
            Issue.record("\(guidePath) shows \(name) differently from the compiled code:\n\(lines)")
        }
    }
}
