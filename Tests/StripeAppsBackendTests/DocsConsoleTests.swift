import Foundation
import Testing

/// Issue 17, item 4: every ```` ```console ```` block of README.md and `Docs/` runs as written, or says why not.
///
/// A block is a terminal session: `$ ` starts a command (a line ending in `\` continues it), every other line is
/// what that command prints, standard output and standard error together. The rules the docs follow:
/// - `…` in an output line stands for any text (an id, a time, a path); a line that is only `…` for any number of
///   lines.
/// - A command ending in `# exits N` must exit with N; every other command with 0.
/// - `serve` (with or without `&`) runs in the background until the block ends; the commands after it start once
///   it answers `/healthz`. The lines shown under it must appear in its output in that order; it may print more
///   (its log lines).
/// - `stripe-apps-backend`, `swift run stripe-apps-backend` and `…/stripe-apps-backend` are the executable built
///   with the tests; `/home/you/app` is the folder the block runs in (a new one per block); port 8080 is a free
///   port of the test's choosing.
/// - A block that cannot run here (a deployed backend, your PostgreSQL server, the whole suite) has
///   `<!-- console: not run: REASON -->` on the line before it, and the reason names where it is tested instead.
///
/// Each block runs in one `bash` with an empty environment but for `PATH`, `HOME` and `PORT`, so exports and shell
/// variables carry from one command to the next as they would in a terminal, and nothing of the test process's
/// environment leaks in.
@Suite struct DocsConsoleTests {
    struct Command: Sendable {
        var text: String
        var output: [String]
        var line: Int

        var expectedStatus: Int32 {
            guard let match = text.firstMatch(of: /#\s*exits\s+(\d+)\s*$/) else { return 0 }
            return Int32(match.1) ?? 0
        }

        var isBackground: Bool {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            return trimmed.hasSuffix("&") || trimmed.hasSuffix("stripe-apps-backend serve")
        }
    }

    struct Block: Sendable, CustomTestStringConvertible {
        let file: String
        let line: Int
        let commands: [Command]
        /// The reason of a `not run` note, when there is one.
        let notRun: String?

        var testDescription: String { "\(file):\(line)" }
    }

    static let documents: [String] = {
        let docs =
            (try? FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("Docs").path))
            ?? []
        return ["README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "Docs/\($0)" }
    }()

    static let blocks: [Block] = documents.flatMap { file in
        parse(
            file: file, text: (try? String(contentsOf: packageRoot.appendingPathComponent(file), encoding: .utf8)) ?? ""
        )
    }

    static func parse(file: String, text: String) -> [Block] {
        let lines = text.components(separatedBy: "\n")
        var blocks: [Block] = []
        var index = 0
        while index < lines.count {
            let fence = lines[index]
            let indent = fence.prefix { $0 == " " }.count
            guard fence.dropFirst(indent).hasPrefix("```console") else {
                index += 1
                continue
            }
            let fenceLine = index + 1
            let previous = index > 0 ? lines[index - 1].trimmingCharacters(in: .whitespaces) : ""
            let notRun = previous.firstMatch(of: /^<!-- console: not run: (.+) -->$/).map { String($0.1) }
            var commands: [Command] = []
            var continuing = false
            index += 1
            while index < lines.count, !lines[index].dropFirst(indent).hasPrefix("```") {
                let line = String(lines[index].dropFirst(min(indent, lines[index].prefix { $0 == " " }.count)))
                if continuing, var last = commands.popLast() {
                    last.text += "\n" + line
                    commands.append(last)
                } else if line.hasPrefix("$ ") {
                    commands.append(Command(text: String(line.dropFirst(2)), output: [], line: index + 1))
                } else if var last = commands.popLast() {
                    last.output.append(line)
                    commands.append(last)
                }
                continuing = line.hasSuffix("\\") && !(commands.last?.output.isEmpty == false)
                index += 1
            }
            blocks.append(Block(file: file, line: fenceLine, commands: commands, notRun: notRun))
            index += 1
        }
        return blocks
    }

    static var runnable: [Block] { blocks.filter { $0.notRun == nil } }

    /// The blocks are found, each has commands, and every block not run says why.
    @Test func everyBlockRunsOrSaysWhyNot() {
        #expect(Self.blocks.count >= 20, "\(Self.blocks.count) console blocks found")
        #expect(Self.runnable.count >= 10, "\(Self.runnable.count) runnable console blocks found")
        for block in Self.blocks {
            if let reason = block.notRun {
                // A block not run may be lines to copy (the README's two commands), without `$ `.
                #expect(reason.count >= 15, "\(block.file):\(block.line): say why it is not run, and what tests it")
            } else {
                #expect(!block.commands.isEmpty, "\(block.file):\(block.line) has no `$ ` command")
            }
        }
    }

    /// The matcher the runs rely on: `…` within a line, and a line of only `…`.
    @Test func outputPatterns() {
        #expect(Self.matches(["a", "b…d", "…", "z"], ["a", "bcd", "x", "y", "z"]))
        #expect(Self.matches(["a", "…", "z"], ["a", "z"]))
        #expect(!Self.matches(["a", "b…d"], ["a", "bce"]))
        #expect(!Self.matches(["a"], ["a", "b"]))
        #expect(Self.matches(["x", "z"], ["w", "x", "y", "z"], subsequence: true))
        #expect(!Self.matches(["z", "x"], ["x", "z"], subsequence: true))
        #expect(
            Self.parse(file: "t", text: "```console\n$ a \\\n  b\nout\n$ c # exits 2\n```\n").map(\.commands.count) == [
                2
            ])
        #expect(
            Self.parse(file: "t", text: "```console\n$ c # exits 2\n```\n").first?.commands.first?.expectedStatus == 2)
    }

    @Test(arguments: runnable) func blockRunsAsWritten(_ block: Block) async throws {
        let port = try freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "docs-console-\(UUID().uuidString)")
        let work = directory.appendingPathComponent("app")
        let outputs = directory.appendingPathComponent("outputs")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let script = Self.script(for: block, port: port, folder: work.path, outputs: outputs.path)
        let scriptFile = directory.appendingPathComponent("block.sh")
        try script.write(to: scriptFile, atomically: true, encoding: .utf8)
        let bash = try #require(ExternalTool.onPath("bash"))
        // The blocks' `serve` is awaited with curl on /healthz; without it every block would fail after 2 minutes.
        try #require(ExternalTool.onPath("curl") != nil, "curl is not installed (apt-get install curl)")
        let environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": ProcessInfo.processInfo.environment["HOME"] ?? directory.path, "PORT": "\(port)",
        ]
        let result = try await runProcessAsync(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["-i"] + environment.map { "\($0)=\($1)" } + [bash.path, scriptFile.path], currentDirectory: work,
            timeout: .seconds(300))
        #expect(result.status == 0, "the block's script failed: \(result.standardError)")

        for (number, command) in block.commands.enumerated() {
            let output =
                (try? String(contentsOf: outputs.appendingPathComponent("out_\(number)"), encoding: .utf8))
                ?? ""
            var lines = output.components(separatedBy: "\n")
            if lines.last == "" { lines.removeLast() }
            let expected = command.output.map { Self.localized($0, port: port, folder: work.path) }
            let context = "\(block.file):\(command.line) `\(command.text)`\n--- printed:\n\(output)"
            if command.isBackground {
                #expect(Self.matches(expected, lines, subsequence: true), "\(context)")
                continue
            }
            let status = (try? String(contentsOf: outputs.appendingPathComponent("status_\(number)"), encoding: .utf8))
                .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            #expect(status == command.expectedStatus, "\(context)")
            #expect(Self.matches(expected, lines), "\(context)")
        }
    }

    // MARK: - Running a block

    /// The bash script that plays `block`: each command's output and status go to files in `outputs`.
    static func script(for block: Block, port: Int, folder: String, outputs: String) -> String {
        var script = """
            # Generated by DocsConsoleTests from \(block.file):\(block.line).
            cd \(shellQuote(folder))
            servers=""
            trap 'kill $servers 2>/dev/null; wait' EXIT

            """
        for (number, command) in block.commands.enumerated() {
            let output = shellQuote("\(outputs)/out_\(number)")
            var text = localized(command.text, port: port, folder: folder, isCommand: true)
            if command.isBackground {
                text = text.trimmingCharacters(in: .whitespaces)
                if text.hasSuffix("&") { text = String(text.dropLast()) }
                // A simple command, so that `$!` is the server itself (no subshell to outlive), which the trap stops.
                script += """
                    \(text) > \(output) 2>&1 &
                    server=$!
                    servers="$servers $server"
                    for _ in $(seq 1200); do
                      curl -sf -o /dev/null http://127.0.0.1:\(port)/healthz && break
                      kill -0 "$server" 2>/dev/null || { echo "[serve exited before it answered]" >> \(output); break; }
                      sleep 0.1
                    done

                    """
            } else {
                script += """
                    { \(text)
                    } > \(output) 2>&1
                    echo $? > \(shellQuote("\(outputs)/status_\(number)"))

                    """
            }
        }
        return script
    }

    /// The docs' placeholders made real: the executable, the folder the block runs in, the port.
    static func localized(_ text: String, port: Int, folder: String, isCommand: Bool = false) -> String {
        var text = text.replacingOccurrences(of: "/home/you/app", with: folder)
            .replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:\(port)")
            .replacingOccurrences(of: "127.0.0.1%3A8080", with: "127.0.0.1%3A\(port)")
        guard isCommand else { return text }
        let executable = shellQuote(ExternalTool.backend.path)
        for spelling in ["swift run stripe-apps-backend", "/…/stripe-apps-backend", "…/stripe-apps-backend"] {
            text = text.replacingOccurrences(of: spelling, with: executable)
        }
        // The bare name, where a shell would take it as the command (not inside a path or a longer word).
        let bare = try? NSRegularExpression(pattern: #"(?<![\w/.'-])stripe-apps-backend(?![\w-])"#)
        return bare?.stringByReplacingMatches(
            in: text, range: NSRange(text.startIndex..., in: text),
            withTemplate: NSRegularExpression.escapedTemplate(for: executable)) ?? text
    }

    static func shellQuote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    // MARK: - Matching output

    /// Whether `actual` matches `expected` line by line (`…` within a line is any text, a line of only `…` any
    /// lines); with `subsequence`, `actual` may have more lines around and between the expected ones.
    static func matches(_ expected: [String], _ actual: [String], subsequence: Bool = false) -> Bool {
        let patterns = expected.map(pattern)
        var memo: [Int: Bool] = [:]
        func match(_ e: Int, _ a: Int) -> Bool {
            let key = e * (actual.count + 1) + a
            if let known = memo[key] { return known }
            let result: Bool
            if e == patterns.count {
                result = subsequence || a == actual.count
            } else if let pattern = patterns[e] {
                let here = a < actual.count && actual[a].wholeMatch(of: pattern) != nil && match(e + 1, a + 1)
                result = here || (subsequence && a < actual.count && match(e, a + 1))
            } else {
                // A line of only `…`: any number of lines.
                result = match(e + 1, a) || (a < actual.count && match(e, a + 1))
            }
            memo[key] = result
            return result
        }
        return match(0, 0)
    }

    /// `nil` for a line that is only `…`.
    private static func pattern(_ line: String) -> Regex<AnyRegexOutput>? {
        guard line.trimmingCharacters(in: .whitespaces) != "…" else { return nil }
        let source = line.components(separatedBy: "…").map(NSRegularExpression.escapedPattern(for:))
            .joined(separator: ".*")
        // Escaped text and `.*` only: it always compiles.
        return (try? Regex(source)) ?? (try? Regex("(?!)"))
    }
}
