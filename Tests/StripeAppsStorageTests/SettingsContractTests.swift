import Foundation
import StripeApps
import Testing

/// Settings and metadata: the behaviour every backend must have. A new backend is added to ``Backend`` and must
/// pass every contract suite.
@Suite struct SettingsContractTests {
    static let live = Tenant(accountID: "acct_1", mode: .live)
    static let test = Tenant(accountID: "acct_1", mode: .test)
    static let other = Tenant(accountID: "acct_2", mode: .live)

    @Test(arguments: Backend.enabled)
    func isHealthy(_ backend: Backend) async throws {
        try await backend.withStorage { try await $0.checkHealth() }
    }

    @Test(arguments: Backend.enabled)
    func settingsStartEmptyAndEveryWriteBumpsTheVersion(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            #expect(try await storage.settings.settings(for: Self.live) == .empty)
            let first = try await storage.settings.updateSettings(for: Self.live, expectedVersion: 0) {
                $0["theme"] = .string("dark")
                $0["limit"] = .number(10)
                $0["enabled"] = .bool(true)
            }
            #expect(first.version == 1)
            let second = try await storage.settings.updateSettings(for: Self.live, expectedVersion: 1) {
                $0["theme"] = nil
            }
            #expect(second.version == 2)
            let read = try await storage.settings.settings(for: Self.live)
            #expect(read.version == 2)
            #expect(read.values == ["limit": .number(10), "enabled": .bool(true)])
            #expect(read.updatedAt != nil)
        }
    }

    @Test(arguments: Backend.enabled)
    func settingsOfOneModeOrAccountAreInvisibleToAnother(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            _ = try await storage.settings.updateSettings(for: Self.live, expectedVersion: 0) {
                $0["secret"] = .string("live")
            }
            #expect(try await storage.settings.settings(for: Self.test) == .empty)
            #expect(try await storage.settings.settings(for: Self.other) == .empty)
            _ = try await storage.settings.updateSettings(for: Self.test, expectedVersion: 0) {
                $0["secret"] = .string("test")
            }
            #expect(try await storage.settings.settings(for: Self.live).values["secret"] == .string("live"))
            #expect(try await storage.settings.settings(for: Self.test).values["secret"] == .string("test"))
        }
    }

    @Test(arguments: Backend.enabled)
    func staleVersionIsAConflictAndChangesNothing(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            _ = try await storage.settings.updateSettings(for: Self.live, expectedVersion: 0) { $0["a"] = .number(1) }
            let error = await #expect(throws: StoreError.self) {
                try await storage.settings.updateSettings(for: Self.live, expectedVersion: 0) { $0["a"] = .number(2) }
            }
            #expect(error?.code == .versionConflict)
            #expect(error?.currentVersion == 1)
            #expect(try await storage.settings.settings(for: Self.live).values["a"] == .number(1))
        }
    }

    @Test(arguments: Backend.enabled)
    func failingUpdateLeavesNothingHalfWritten(_ backend: Backend) async throws {
        struct Refused: Error {}
        try await backend.withStorage { storage in
            await #expect(throws: Refused.self) {
                try await storage.settings.updateSettings(for: Self.live, expectedVersion: 0) { values in
                    values["a"] = .number(1)
                    throw Refused()
                }
            }
            let after = try await storage.settings.settings(for: Self.live)
            #expect(after == .empty)
        }
    }

    @Test(arguments: Backend.enabled)
    func concurrentWritersOfOneVersionHaveExactlyOneWinner(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for writer in 0..<20 {
                    group.addTask {
                        do {
                            _ = try await storage.settings.updateSettings(for: Self.live, expectedVersion: 0) {
                                $0["writer"] = .number(Double(writer))
                            }
                            return true
                        } catch let error as StoreError where error.code == .versionConflict {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try await storage.settings.settings(for: Self.live).version == 1)
        }
    }

    @Test(arguments: Backend.enabled)
    func valuesRoundTripExactly(_ backend: Backend) async throws {
        let values: [String: PayloadValue] = [
            "text": .string("café \"quoted\" \\ 😀\n"), "integer": .number(42), "fraction": .number(0.1),
            "negative": .number(-1e-7), "large": .number(9_007_199_254_740_991), "yes": .bool(true), "no": .bool(false),
        ]
        try await backend.withStorage { storage in
            _ = try await storage.settings.updateSettings(for: Self.live, expectedVersion: 0) { $0 = values }
            #expect(try await storage.settings.settings(for: Self.live).values == values)
        }
    }

    @Test(arguments: Backend.enabled)
    func firstMetadataWriterWins(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            #expect(try await storage.metadata.value(forKey: "k") == nil, "reading stores nothing")
            #expect(try await storage.metadata.value(forKey: "k") == nil)
            let values = try await withThrowingTaskGroup(of: String.self) { group in
                for writer in 0..<10 {
                    group.addTask { try await storage.metadata.value(forKey: "k", insertingIfMissing: "v\(writer)") }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(values.count == 1)
            #expect(try await storage.metadata.value(forKey: "k", insertingIfMissing: "later") == values.first)
            #expect(try await storage.metadata.value(forKey: "k") == values.first)
        }
    }
}
