import Foundation
import Testing

/// The program of Docs/library.md, built with the package, run as a user runs it: it serves the backend in
/// development mode with the guide's own signed routes, and the CLI's signed calls reach them.
@Suite struct LibraryGuideTests {
    static var example: URL {
        ExternalTool.backend.deletingLastPathComponent().appendingPathComponent("library-backend-example")
    }

    @Test func theGuidesProgramServesItsSignedRoutes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("library-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try freePort()
        let server = try ServeProcess(
            executable: Self.example, command: [], arguments: [], directory: directory, environment: ["PORT": "\(port)"]
        )
        defer { server.stop() }
        let listening = await server.logLines.first { $0.contains("Server started and listening on 127.0.0.1:\(port)") }
        try #require(listening != nil, "the example exited before listening")

        let database = "sqlite:" + directory.appendingPathComponent("stripe-apps.sqlite").path
        func call(_ route: String) async throws -> ProcessOutput {
            try await runProcessAsync(
                ExternalTool.backend,
                [
                    "simulate", "ui", "--database-url", database, "--to", "http://127.0.0.1:\(port)/api/\(route)",
                    "--account", "acct_library", "--user", "usr_library", "--mode", "test",
                ])
        }
        let reminded = try await call("invoices/remind")
        #expect(reminded.status == 0, "\(reminded.standardOutput) \(reminded.standardError)")
        #expect(reminded.standardOutput == "HTTP 200\n{\"queued_for\":\"acct_library\"}\n")
        let reset = try await call("admin/reset")
        #expect(reset.status == 1, "no Administrator role was signed")
        #expect(reset.standardOutput.hasPrefix("HTTP 403\n{\"error\":{\"code\":\"insufficient_role\""))
        server.process.terminate()
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0, "a graceful exit on SIGTERM")
    }
}
