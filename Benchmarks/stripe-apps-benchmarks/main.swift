// Micro-benchmarks of signature verification, next to bare swift-crypto HMAC of the same bytes.
//
// Run in release mode: `swift run -c release stripe-apps-benchmarks [--rounds N] [--iterations N]`.
// A plain executable with ContinuousClock: package-benchmark does not resolve offline here (see BENCHMARKS.md).
import Crypto
import Foundation
import StripeApps

var rounds = 15
var iterations = 100_000
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--rounds": rounds = Int(arguments.next() ?? "") ?? rounds
    case "--iterations": iterations = Int(arguments.next() ?? "") ?? iterations
    default:
        print("usage: stripe-apps-benchmarks [--rounds N] [--iterations N]")
        exit(2)
    }
}

let secret = "absec_test_0123456789abcdef"
let rotated = "absec_test_rotated_fedcba9876543210"
let payload = Array(#"{"user_id":"usr_K6yd2CbXLO9A5G","account_id":"acct_1JSkf6FRwUQjTSJE"}"#.utf8)
let timestamp: Int64 = 1_700_000_000
let message = Array("\(timestamp).".utf8) + payload
let key = SymmetricKey(data: Array(secret.utf8))
let keyedState = HMAC<SHA256>(key: key)
let keyedMAC = KeyedMAC(key: Array(secret.utf8))
let fixedNow: @Sendable () -> Date = { Date(timeIntervalSince1970: 1_700_000_000) }

let oneSecret = try SignatureVerifier(keyring: SigningKeyring(secrets: [secret]), now: fixedNow)
let twoSecrets = try SignatureVerifier(keyring: SigningKeyring(secrets: [rotated, secret]), now: fixedNow)
let header = SignatureSigner(keyring: try SigningKeyring(secrets: [secret])).signatureHeader(
    for: payload,
    timestamp: timestamp
).headerValue
let rotationHeader = SignatureSigner(keyring: try SigningKeyring(secrets: [rotated, secret])).signatureHeader(
    for: payload,
    timestamp: timestamp
).headerValue

/// One measured operation; returns a byte so the optimizer cannot drop the work.
struct Benchmark {
    let name: String
    let body: () -> UInt8
}

let benchmarks: [Benchmark] = [
    Benchmark(name: "swift-crypto HMAC, key set up per call") {
        HMAC<SHA256>.authenticationCode(for: message, using: key).withUnsafeBytes { $0[0] }
    },
    Benchmark(name: "swift-crypto HMAC, keyed state copied") {
        var hmac = keyedState
        hmac.update(data: message)
        return hmac.finalize().withUnsafeBytes { $0[0] }
    },
    Benchmark(name: "KeyedMAC (SHA-256 pads absorbed once)") {
        message.withUnsafeBytes { keyedMAC.authenticationCode(UnsafeRawBufferPointer(start: nil, count: 0), $0) }
            .withUnsafeBytes { $0[0] }
    },
    Benchmark(name: "verify, 1 secret") {
        (try? oneSecret.verify(payload: payload, header: header)) == nil ? 0 : 1
    },
    Benchmark(name: "verify, 2 secrets (match on the 2nd)") {
        (try? twoSecrets.verify(payload: payload, header: header)) == nil ? 0 : 1
    },
    Benchmark(name: "verify, 2 secrets, rotation header (2 v1)") {
        (try? twoSecrets.verify(payload: payload, header: rotationHeader)) == nil ? 0 : 1
    },
    Benchmark(name: "parse header only") {
        (try? SignatureHeader.parse(header))?.v1ElementCount == 1 ? 1 : 0
    },
]

// Every benchmark must do real work: a verification that fails would be measuring the error path.
for benchmark in benchmarks where benchmark.name.hasPrefix("verify") {
    precondition(benchmark.body() == 1, "\(benchmark.name) did not verify")
}

var samples = Array(repeating: [Double](), count: benchmarks.count)
var sink: UInt8 = 0
let clock = ContinuousClock()
for _ in 0..<rounds {
    // Interleave the benchmarks in every round so that drift in the machine's speed hits all of them alike.
    for (index, benchmark) in benchmarks.enumerated() {
        let elapsed = clock.measure {
            for _ in 0..<iterations { sink &+= benchmark.body() }
        }
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        samples[index].append(nanoseconds / Double(iterations))
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

let fastestHMAC = min(median(samples[0]), median(samples[1]))
print("rounds: \(rounds), iterations per round: \(iterations), message: \(message.count) bytes, sink: \(sink % 2)")
print("| operation | min ns/op | median ns/op | median ÷ fastest HMAC |")
print("|---|---:|---:|---:|")
for (benchmark, values) in zip(benchmarks, samples) {
    let row = String(
        format: "| %@ | %.0f | %.0f | %.2f× |",
        benchmark.name,
        values.min() ?? 0,
        median(values),
        median(values) / fastestHMAC
    )
    print(row)
}
