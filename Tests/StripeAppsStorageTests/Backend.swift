import Foundation
import StripeApps
import StripeAppsSQLite
import Testing

/// The store implementations the contract suite runs against; each hands out a fresh, isolated store.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory
    case sqlite

    static var enabled: [Backend] { allCases }

    var testDescription: String { rawValue }

    func withStore(_ body: (any AppStore) async throws -> Void) async throws {
        switch self {
        case .memory:
            try await body(InMemoryAppStore())
        case .sqlite:
            try await withTemporaryDirectory { directory in
                let location = try #require(SQLiteAppStore.Location(databaseURL: "sqlite:\(directory)/test.sqlite"))
                let store = try SQLiteAppStore(location: location)
                try await store.migrate()
                try await body(store)
            }
        }
    }
}

/// Runs `body` with a new empty directory, removed afterwards.
func withTemporaryDirectory<R>(_ body: (String) async throws -> R) async throws -> R {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("stripe-apps-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory.path)
}
