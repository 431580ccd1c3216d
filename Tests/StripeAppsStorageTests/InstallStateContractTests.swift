import Foundation
import StripeApps
import Testing

/// One-time install-link states, on every backend.
@Suite struct InstallStateContractTests {
    static let now = Date(timeIntervalSince1970: 1_700_000_000)

    func state(
        _ value: String, expiresIn seconds: TimeInterval = 600, appValue: String? = nil, mode: Tenant.Mode? = nil
    ) -> InstallState {
        InstallState(
            stateHash: InstallState.hash(of: value),
            appValue: appValue,
            mode: mode,
            createdAt: Self.now,
            expiresAt: Self.now.addingTimeInterval(seconds)
        )
    }

    @Test(arguments: Backend.enabled)
    func aStateIsConsumedOnceWithItsAppValue(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            try await storage.installStates.save(state("abc", appValue: "user-42"))
            let hash = InstallState.hash(of: "abc")
            let first = try await storage.installStates.consume(hash: hash, now: Self.now)
            #expect(first?.appValue == "user-42")
            #expect(try await storage.installStates.consume(hash: hash, now: Self.now) == nil)
            #expect(
                try await storage.installStates.consume(hash: InstallState.hash(of: "unknown"), now: Self.now) == nil)
        }
    }

    @Test(arguments: Backend.enabled)
    func aStateKeepsTheModeItWasStartedFor(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            try await storage.installStates.save(state("t", mode: .test))
            try await storage.installStates.save(state("l", mode: .live))
            try await storage.installStates.save(state("n"))
            let test = try await storage.installStates.consume(hash: InstallState.hash(of: "t"), now: Self.now)
            let live = try await storage.installStates.consume(hash: InstallState.hash(of: "l"), now: Self.now)
            let none = try await storage.installStates.consume(hash: InstallState.hash(of: "n"), now: Self.now)
            #expect(test?.mode == .test)
            #expect(live?.mode == .live)
            #expect(none != nil && none?.mode == nil)
        }
    }

    @Test(arguments: Backend.enabled)
    func anExpiredStateIsRefusedAndRemoved(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            try await storage.installStates.save(state("old", expiresIn: 600))
            let later = Self.now.addingTimeInterval(601)
            #expect(try await storage.installStates.consume(hash: InstallState.hash(of: "old"), now: later) == nil)
            #expect(try await storage.installStates.consume(hash: InstallState.hash(of: "old"), now: Self.now) == nil)
        }
    }

    /// The timer's pruning deletes expired states only, and says how many.
    @Test(arguments: Backend.enabled)
    func deleteExpiredRemovesOnlyExpiredStates(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            for (name, lifetime) in [("a", 60.0), ("b", 120), ("c", 600)] {
                try await storage.installStates.save(state(name, expiresIn: lifetime))
            }
            let later = Self.now.addingTimeInterval(120)
            #expect(try await storage.installStates.deleteExpired(now: later) == 2)
            #expect(try await storage.installStates.deleteExpired(now: later) == 0)
            #expect(try await storage.installStates.consume(hash: InstallState.hash(of: "c"), now: later) != nil)
        }
    }

    @Test(arguments: Backend.enabled)
    func concurrentCallbacksWithOneStateHaveOneWinner(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            try await storage.installStates.save(state("race"))
            let hash = InstallState.hash(of: "race")
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await storage.installStates.consume(hash: hash, now: Self.now) != nil }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
        }
    }

    @Test func stateValuesAre32RandomBytesInHex() {
        let values = (0..<100).map { _ in InstallState.newStateValue() }
        #expect(Set(values).count == 100)
        #expect(values.allSatisfy { $0.count == 64 && $0.allSatisfy { "0123456789abcdef".contains($0) } })
    }
}
