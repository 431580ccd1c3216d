import Foundation
import StripeAppsAPI
import Testing

@Suite("Form encoding")
struct FormEncodingTests {
    @Test("nested objects, arrays of scalars and arrays of objects use Stripe's bracket keys")
    func nestedKeys() {
        let parameters: FormParameters = [
            "email": "jenny@example.com",
            "metadata": ["plan": "pro", "seats": 3],
            "expand": ["payload", "tax"],
            "items": [["price": "price_1", "quantity": 2], ["price": "price_2"]],
            "scope": ["type": "user", "user": "usr_1"],
            "flag": true,
            "unset": "",
        ]
        #expect(
            parameters.pairs.map { "\($0.key)=\($0.value)" } == [
                "email=jenny@example.com",
                "metadata[plan]=pro",
                "metadata[seats]=3",
                "expand[]=payload",
                "expand[]=tax",
                "items[0][price]=price_1",
                "items[0][quantity]=2",
                "items[1][price]=price_2",
                "scope[type]=user",
                "scope[user]=usr_1",
                "flag=true",
                "unset=",
            ])
        #expect(
            parameters.encoded.hasPrefix(
                "email=jenny%40example.com&metadata%5Bplan%5D=pro&metadata%5Bseats%5D=3&expand%5B%5D=payload")
        )
    }

    @Test("values are percent-encoded so &, =, + and non-ASCII cannot split or change a parameter")
    func percentEncoding() {
        let parameters: FormParameters = ["q": "a&b=c+d e/é☃"]
        #expect(parameters.encoded == "q=a%26b%3Dc%2Bd%20e%2F%C3%A9%E2%98%83")
    }

    @Test("subscript replaces, appends and removes in order")
    func subscriptEditing() {
        var parameters: FormParameters = ["a": "1", "b": "2"]
        parameters["a"] = "3"
        parameters["c"] = 4
        parameters["b"] = nil
        #expect(parameters.encoded == "a=3&c=4")
    }

    /// The official `stripe` Python package encodes the same parameters to the same pairs. stripe-python
    /// indexes arrays of scalars (`expand[0]`) where we follow Stripe's API reference (`expand[]`); Stripe reads
    /// both, so scalar-array indices are compared as `[]`.
    @Test("the same pairs as stripe-python's encoder")
    func crossCheckWithStripePython() throws {
        guard let python = pythonWithStripe() else {
            if isCI { Issue.record("the stripe Python package is missing (.venv/bin/python)") }
            return
        }
        let cases: [(json: String, parameters: FormParameters)] = [
            (
                #"{"email":"a@b.c","metadata":{"k":"v w","n":"1"}}"#,
                ["email": "a@b.c", "metadata": ["k": "v w", "n": "1"]]
            ),
            (
                #"{"expand":["payload","x"],"scope":{"type":"account"}}"#,
                ["expand": ["payload", "x"], "scope": ["type": "account"]]
            ),
            (
                #"{"items":[{"price":"p_1","quantity":2},{"price":"p_2","tax_rates":["t1","t2"]}],"flag":true}"#,
                [
                    "items": [["price": "p_1", "quantity": 2], ["price": "p_2", "tax_rates": ["t1", "t2"]]],
                    "flag": true,
                ]
            ),
            (#"{"a":{"b":{"c":"é&="}}}"#, ["a": ["b": ["c": "é&="]]]),
        ]
        for (json, parameters) in cases {
            let script = """
                import json, sys
                from urllib.parse import urlencode
                from stripe import _encode
                print(urlencode(list(_encode._api_encode(json.loads(sys.argv[1])))))
                """
            let output = try run(python, ["-c", script, json]).trimmingCharacters(in: .whitespacesAndNewlines)
            let theirs = normalizeScalarIndices(parseForm(output))
            let ours = parameters.pairs.map { "\($0.key)=\($0.value)" }
            #expect(ours == theirs, "\(json)")
        }
    }

    /// `key[0]=v` → `key[]=v` where the index is the last bracket (an array of scalars).
    private func normalizeScalarIndices(_ pairs: [String]) -> [String] {
        pairs.map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let normalized = key.replacingOccurrences(of: #"\[\d+\]$"#, with: "[]", options: .regularExpression)
            return normalized + "=" + (parts.count > 1 ? String(parts[1]) : "")
        }
    }

    private func parseForm(_ text: String) -> [String] {
        text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            return parts[0] + "=" + (parts.count > 1 ? parts[1] : "")
        }
    }
}

func pythonWithStripe() -> URL? {
    let candidate = packageRoot.appendingPathComponent(".venv/bin/python")
    guard FileManager.default.isExecutableFile(atPath: candidate.path),
        (try? run(candidate, ["-c", "import stripe"])) != nil
    else { return nil }
    return candidate
}

/// Runs a short program and returns its standard output; throws when it fails.
@discardableResult
func run(_ executable: URL, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw LocalStripeError(message: "\(executable.lastPathComponent) failed")
    }
    return String(decoding: data, as: UTF8.self)
}
