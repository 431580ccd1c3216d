import Crypto
import Foundation
import Testing

/// Checks shipped migrations against their pins: editing, renaming or reordering one fails, and a new one must
/// be pinned. The hash is computed here, apart from the code under test.
func expectPinned(_ migrations: [(name: String, sql: String)], _ pinned: [(name: String, sha256: String)]) {
    let actual = migrations.map {
        ($0.name, SHA256.hash(data: Data($0.sql.utf8)).map { String(format: "%02x", $0) }.joined())
    }
    #expect(actual.count == pinned.count, "pin every new migration here")
    for (index, pin) in pinned.enumerated() where index < actual.count {
        #expect(actual[index].0 == pin.name, "migration \(index) was renamed or reordered")
        #expect(actual[index].1 == pin.sha256, "migration \(pin.name) was edited; add a new migration instead")
    }
}
