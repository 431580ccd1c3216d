import Foundation
import StripeApps
import Testing

/// ``PayloadValue`` must write the bytes JavaScript's `JSON.stringify` writes, because that is what the UI
/// extension SDK signs. Node's own `JSON.stringify` is the reference here.
@Suite(.enabled(if: ExternalTool.node != nil || isCI, "skipped: node is not on PATH"))
struct JSONStringifyCrossCheckTests {
    @Test func numbersAndStringsMatchNode() async throws {
        let node = try #require(ExternalTool.node, "node is not on PATH")
        var rng = SplitMix64(seed: 42)
        var doubles: [Double] = [
            0, 1, -1, 100, 1e21, 1e-7, 123e-20, 0.1, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
        ]
        while doubles.count < 3000 {
            let candidate: Double
            switch doubles.count % 3 {
            case 0: candidate = Double(bitPattern: rng.next())
            case 1: candidate = Double(Int64(bitPattern: rng.next()) >> Int(rng.next() % 64))
            default: candidate = Double(rng.next() % 100_000) / pow(10, Double(rng.next() % 30))
            }
            if candidate.isFinite { doubles.append(candidate) }
        }
        let scalars = Array("\"\\/\u{00}\u{08}\u{0C}\n\r\t\u{1F}\u{7F}é€😀\u{2028}\u{FEFF}a")
        let strings = (0..<500).map { _ in
            String((0..<rng.next() % 12).map { _ in scalars[Int(rng.next() % UInt64(scalars.count))] })
        }

        // Node receives bit patterns (exact) and strings, and prints JSON.stringify of each, one per line.
        let script = """
            const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
            const view = new DataView(new ArrayBuffer(8));
            const out = input.bits.map(b => { view.setBigUint64(0, BigInt(b)); return JSON.stringify(view.getFloat64(0)); });
            for (const s of input.strings) out.push(JSON.stringify(s));
            process.stdout.write(JSON.stringify(out));
            """
        let request: [String: Any] = ["bits": doubles.map { String($0.bitPattern) }, "strings": strings]
        let output = try await runProcessAsync(
            node, ["-e", script], input: try JSONSerialization.data(withJSONObject: request))
        try #require(output.status == 0, "\(output.standardError)")
        let expected = try JSONDecoder().decode([String].self, from: Data(output.standardOutput.utf8))
        let ours =
            doubles.map { PayloadValue.number($0).jsonString } + strings.map { PayloadValue.string($0).jsonString }
        try #require(expected.count == ours.count)
        for (index, (mine, theirs)) in zip(ours, expected).enumerated() where mine != theirs {
            Issue.record("case \(index): ours \(mine), JSON.stringify \(theirs)")
        }
    }
}
