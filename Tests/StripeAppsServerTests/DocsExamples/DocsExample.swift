import Foundation

/// A code example of a guide in `Docs/`, and the region of a compiled file it must show.
///
/// The guide marks the example with `<!-- example: NAME -->` on the line before its ```` ```swift ```` fence; the
/// compiled file marks the region with `// docs:begin NAME` and `// docs:end NAME`. Both are compared after
/// trimming trailing whitespace, blank lines at either end and the indentation all lines share.
struct DocsExample {
    /// One line of an example, with its line number in its file (from 1).
    struct Line: Equatable {
        let number: Int
        let text: String

        /// Lines are equal by their text; the numbers only say where they are.
        static func == (lhs: Line, rhs: Line) -> Bool { lhs.text == rhs.text }
    }

    /// Where the sources live: the package's root, found from this file.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // DocsExamples
        .deletingLastPathComponent()  // StripeAppsServerTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    let name: String

    /// The example's lines in the guide at `path`, or `nil` when the guide has no example of this name.
    func guideLines(in path: String) throws -> [Line]? {
        let lines = try Self.lines(of: path)
        guard let marker = lines.firstIndex(where: { $0.text.trimmed == "<!-- example: \(name) -->" }),
            marker + 1 < lines.count, lines[marker + 1].text.trimmed == "```swift",
            let end = lines[(marker + 2)...].firstIndex(where: { $0.text.trimmed == "```" })
        else { return nil }
        return Self.normalized(lines[(marker + 2)..<end])
    }

    /// The marked region's lines in the compiled file at `path`, or `nil` when the file has no such region.
    func codeLines(in path: String) throws -> [Line]? {
        let lines = try Self.lines(of: path)
        guard let begin = lines.firstIndex(where: { $0.text.trimmed == "// docs:begin \(name)" }),
            let end = lines[begin...].firstIndex(where: { $0.text.trimmed == "// docs:end \(name)" })
        else { return nil }
        // The markers of other examples inside this one are not part of it.
        let markers = ["// docs:begin ", "// docs:end "]
        return Self.normalized(
            ArraySlice(
                lines[(begin + 1)..<end].filter { line in !markers.contains { line.text.trimmed.hasPrefix($0) } }))
    }

    /// How `guide` and `code` differ, one entry per line only one of them has, in file order; empty when they
    /// match.
    static func differences(guide: [Line], guidePath: String, code: [Line], codePath: String) -> [String] {
        var onlyInGuide: [Int] = []
        var onlyInCode: [Int] = []
        for change in code.difference(from: guide) {
            switch change {
            case .remove(let offset, _, _): onlyInGuide.append(offset)
            case .insert(let offset, _, _): onlyInCode.append(offset)
            }
        }
        return onlyInGuide.sorted().map { "only in \(guidePath):\(guide[$0].number): \(guide[$0].text)" }
            + onlyInCode.sorted().map { "only in \(codePath):\(code[$0].number): \(code[$0].text)" }
    }

    private static func lines(of path: String) throws -> [Line] {
        let text = try String(contentsOf: packageRoot.appendingPathComponent(path), encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map {
            Line(number: $0.offset + 1, text: String($0.element))
        }
    }

    /// Without trailing whitespace, blank lines at either end, or the indentation every line shares.
    private static func normalized(_ lines: ArraySlice<Line>) -> [Line] {
        var lines = lines.map { line in
            Line(number: line.number, text: String(line.text.reversed().drop(while: \.isWhitespace).reversed()))
        }
        while lines.first?.text.isEmpty == true { lines.removeFirst() }
        while lines.last?.text.isEmpty == true { lines.removeLast() }
        let indent = lines.filter { !$0.text.isEmpty }.map { $0.text.prefix(while: { $0 == " " }).count }.min() ?? 0
        return lines.map { Line(number: $0.number, text: String($0.text.dropFirst(min(indent, $0.text.count)))) }
    }
}

extension String {
    fileprivate var trimmed: String { trimmingCharacters(in: .whitespaces) }
}
