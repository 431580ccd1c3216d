import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// A new user's first minutes: `serve` with no configuration at all prints one command per surface, and every one
/// of them, pasted into a shell from another folder, works against that server; so does the install URL it prints,
/// followed as a browser would (the local marketplace's form, the signed redirect, the state cookie, the deep link).
@Suite struct DevelopmentModeCommandsTests {
    @Test func everyCommandTheBannerPrintsWorksAgainstAFreshUnconfiguredServe() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dev-\(UUID().uuidString)")
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("paste-\(UUID().uuidString)")
        for folder in [directory, elsewhere] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        defer { for folder in [directory, elsewhere] { try? FileManager.default.removeItem(at: folder) } }
        let server = try ServeProcess(arguments: ["--port", "0"], directory: directory, environment: [:])
        defer { server.stop() }

        // The banner ends where the Dashboard advice starts.
        var banner: [String] = []
        for await line in server.lines {
            if line.hasPrefix("From the Stripe Dashboard:") { break }
            banner.append(line)
        }
        #expect(banner.first == "Try each surface of this server:", "\(banner)")
        let pasted = banner.map { $0.trimmingCharacters(in: .whitespaces) }
        let commands = pasted.filter { $0.hasPrefix("/") }
        try #require(commands.count == 3, "one command per surface: \(banner)")
        let installURL = try #require(pasted.first { $0.hasPrefix("http://127.0.0.1:") }, "\(banner)")
        let base = try #require(installURL.components(separatedBy: "/install").first)

        func paste(_ command: String) async throws -> ProcessOutput {
            try await runProcessAsync(URL(fileURLWithPath: "/bin/sh"), ["-c", command], currentDirectory: elsewhere)
        }
        let ui = try await paste(commands[0])
        #expect(ui.status == 0, "\(ui.standardOutput) \(ui.standardError)")
        #expect(ui.standardOutput.hasPrefix("HTTP 200"), "\(ui.standardOutput)")
        #expect(ui.standardOutput.contains(#""installation":{"status":"not_installed"}"#))

        let event = try await paste(commands[1])
        #expect(event.status == 0, "\(event.standardOutput) \(event.standardError)")
        #expect(event.standardOutput.contains("account.application.authorized -> 200"), "\(event.standardOutput)")
        #expect(event.standardError.contains("signing with the development webhook secret in sqlite:"))
        #expect(!event.standardError.contains("whsec_dev_"), "never the secret itself")

        let install = try await paste(commands[2])
        #expect(install.status == 0, "\(install.standardOutput) \(install.standardError)")
        #expect(
            install.standardOutput.contains(
                "GET /install/callback -> 302 \(base)/dev/dashboard/acct_dev/test/dashboard?"
                    + "apps[com.example.development][drawer]=onboarding"), "\(install.standardOutput)")
        // The install is recorded at once: the UI call now sees it.
        let again = try await paste(commands[0])
        #expect(again.standardOutput.contains(#""status":"active""#), "\(again.standardOutput)")

        // The printed URL, as a browser follows it.
        let browser = Browser()
        defer { browser.shutdown() }
        let marketplace = try await browser.get(installURL, expecting: 302)
        let page = try await browser.get(try #require(marketplace.location), expecting: 200)
        #expect(page.body.contains(#"data-code="local_marketplace""#))
        let fields = Self.formFields(page.body)
        var form = URLComponents(string: base + "/dev/marketplace/install")
        form?.queryItems = fields.map { URLQueryItem(name: $0.name, value: $0.value) }
        #expect(fields.map(\.name) == ["redirect_uri", "state", "account_id", "user_id", "mode"], "\(fields)")
        let redirect = try await browser.get(try #require(form?.url?.absoluteString), expecting: 302)
        let callback = try await browser.get(try #require(redirect.location), expecting: 302)
        let dashboard = try await browser.get(try #require(callback.location), expecting: 200)
        #expect(dashboard.body.contains("<dd data-account>acct_dev</dd>"), "\(dashboard.body)")

        server.process.terminate()
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
    }

    /// What a browser submits for the page's form, in order: each named input with its value, then each select
    /// with its selected option.
    static func formFields(_ html: String) -> [(name: String, value: String)] {
        func attribute(_ name: String, in tag: Substring) -> String? {
            guard let start = tag.range(of: "\(name)=\"") else { return nil }
            return String(tag[start.upperBound...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
        }
        let inputs = html.components(separatedBy: "<input ").dropFirst().compactMap { text in
            let tag = text.prefix { $0 != ">" }
            return attribute("name", in: tag).flatMap { name in attribute("value", in: tag).map { (name, $0) } }
        }
        let selects = html.components(separatedBy: "<select ").dropFirst().compactMap { text in
            let selected = text.components(separatedBy: "<option ").dropFirst().map { $0.prefix { $0 != ">" } }
                .first { $0.hasSuffix(" selected") }
            return attribute("name", in: text.prefix { $0 != ">" }).flatMap { name in
                selected.flatMap { attribute("value", in: $0) }.map { (name, $0) }
            }
        }
        return inputs + selects
    }

    /// A client that follows nothing by itself and keeps cookies, as a browser does between the steps.
    final class Browser: Sendable {
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        let cookies = CookieJar()

        struct Page {
            let location: String?
            let body: String
        }

        func get(_ url: String, expecting status: UInt) async throws -> Page {
            var request = HTTPClientRequest(url: url)
            if let cookie = cookies.header { request.headers.add(name: "Cookie", value: cookie) }
            let response = try await client.execute(request, timeout: .seconds(30))
            for line in response.headers["Set-Cookie"] { cookies.set(line) }
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(response.status.code == status, "GET \(url): \(response.status.code) \(body.prefix(400))")
            return Page(location: response.headers.first(name: "Location"), body: body)
        }

        func shutdown() {
            try? client.syncShutdown()
        }
    }

    /// The cookies set so far, name → value (`Max-Age=0` deletes).
    final class CookieJar: Sendable {
        private let cookies = Mutex<[String: String]>([:])

        func set(_ line: String) {
            let pair = line.prefix { $0 != ";" }.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { return }
            cookies.withLock { $0[pair[0]] = line.contains("Max-Age=0") ? nil : pair[1] }
        }

        var header: String? {
            cookies.withLock { $0.isEmpty ? nil : $0.map { "\($0)=\($1)" }.sorted().joined(separator: "; ") }
        }
    }
}
