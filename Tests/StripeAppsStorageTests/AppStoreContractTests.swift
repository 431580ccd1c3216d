import Foundation
import StripeApps
import Testing

/// The behaviour every ``AppStore`` must have. A new backend is added to ``Backend`` and must pass all of it.
@Suite struct AppStoreContractTests {
    static let live = Tenant(accountID: "acct_1", mode: .live)
    static let test = Tenant(accountID: "acct_1", mode: .test)
    static let other = Tenant(accountID: "acct_2", mode: .live)

    @Test(arguments: Backend.enabled)
    func isHealthy(_ backend: Backend) async throws {
        try await backend.withStore { try await $0.checkHealth() }
    }

    @Test(arguments: Backend.enabled)
    func savedInstallationIsReadBackForItsTenantOnly(_ backend: Backend) async throws {
        try await backend.withStore { store in
            #expect(try await store.installation(for: Self.live) == nil)
            let date = Date(timeIntervalSince1970: 1_700_000_000)
            let installation = Installation(tenant: Self.live, status: .active, createdAt: date, updatedAt: date)
            try await store.saveInstallation(installation)
            #expect(try await store.installation(for: Self.live) == installation)
            #expect(try await store.installation(for: Self.test) == nil)
            #expect(try await store.installation(for: Self.other) == nil)

            var changed = installation
            changed.status = .inactive
            changed.updatedAt = date.addingTimeInterval(60)
            try await store.saveInstallation(changed)
            #expect(try await store.installation(for: Self.live) == changed)
        }
    }

    @Test(arguments: Backend.enabled)
    func settingsStartEmptyAndEveryWriteBumpsTheVersion(_ backend: Backend) async throws {
        try await backend.withStore { store in
            #expect(try await store.settings(for: Self.live) == .empty)
            let first = try await store.updateSettings(for: Self.live, expectedVersion: 0) {
                $0["theme"] = .string("dark")
                $0["limit"] = .number(10)
                $0["enabled"] = .bool(true)
            }
            #expect(first.version == 1)
            let second = try await store.updateSettings(for: Self.live, expectedVersion: 1) { $0["theme"] = nil }
            #expect(second.version == 2)
            let read = try await store.settings(for: Self.live)
            #expect(read.version == 2)
            #expect(read.values == ["limit": .number(10), "enabled": .bool(true)])
            #expect(read.updatedAt != nil)
        }
    }

    @Test(arguments: Backend.enabled)
    func settingsOfOneModeOrAccountAreInvisibleToAnother(_ backend: Backend) async throws {
        try await backend.withStore { store in
            _ = try await store.updateSettings(for: Self.live, expectedVersion: 0) { $0["secret"] = .string("live") }
            #expect(try await store.settings(for: Self.test) == .empty)
            #expect(try await store.settings(for: Self.other) == .empty)
            _ = try await store.updateSettings(for: Self.test, expectedVersion: 0) { $0["secret"] = .string("test") }
            #expect(try await store.settings(for: Self.live).values["secret"] == .string("live"))
            #expect(try await store.settings(for: Self.test).values["secret"] == .string("test"))
        }
    }

    @Test(arguments: Backend.enabled)
    func staleVersionIsAConflictAndChangesNothing(_ backend: Backend) async throws {
        try await backend.withStore { store in
            _ = try await store.updateSettings(for: Self.live, expectedVersion: 0) { $0["a"] = .number(1) }
            let error = await #expect(throws: StoreError.self) {
                try await store.updateSettings(for: Self.live, expectedVersion: 0) { $0["a"] = .number(2) }
            }
            #expect(error?.code == .versionConflict)
            #expect(error?.currentVersion == 1)
            #expect(try await store.settings(for: Self.live).values["a"] == .number(1))
        }
    }

    @Test(arguments: Backend.enabled)
    func failingUpdateLeavesNothingHalfWritten(_ backend: Backend) async throws {
        struct Refused: Error {}
        try await backend.withStore { store in
            await #expect(throws: Refused.self) {
                try await store.updateSettings(for: Self.live, expectedVersion: 0) { values in
                    values["a"] = .number(1)
                    throw Refused()
                }
            }
            let after = try await store.settings(for: Self.live)
            #expect(after == .empty)
        }
    }

    @Test(arguments: Backend.enabled)
    func concurrentWritersOfOneVersionHaveExactlyOneWinner(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for writer in 0..<20 {
                    group.addTask {
                        do {
                            _ = try await store.updateSettings(for: Self.live, expectedVersion: 0) {
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
            #expect(try await store.settings(for: Self.live).version == 1)
        }
    }

    @Test(arguments: Backend.enabled)
    func valuesRoundTripExactly(_ backend: Backend) async throws {
        let values: [String: PayloadValue] = [
            "text": .string("café \"quoted\" \\ 😀\n"), "integer": .number(42), "fraction": .number(0.1),
            "negative": .number(-1e-7), "large": .number(9_007_199_254_740_991), "yes": .bool(true), "no": .bool(false),
        ]
        try await backend.withStore { store in
            _ = try await store.updateSettings(for: Self.live, expectedVersion: 0) { $0 = values }
            #expect(try await store.settings(for: Self.live).values == values)
        }
    }

    @Test(arguments: Backend.enabled)
    func firstMetadataWriterWins(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let values = try await withThrowingTaskGroup(of: String.self) { group in
                for writer in 0..<10 {
                    group.addTask { try await store.metadataValue(forKey: "k", insertingIfMissing: "v\(writer)") }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(values.count == 1)
            #expect(try await store.metadataValue(forKey: "k", insertingIfMissing: "later") == values.first)
        }
    }
}

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
        try await backend.withStore { store in
            try await store.saveInstallState(state("abc", appValue: "user-42"))
            let hash = InstallState.hash(of: "abc")
            let first = try await store.consumeInstallState(hash: hash, now: Self.now)
            #expect(first?.appValue == "user-42")
            #expect(try await store.consumeInstallState(hash: hash, now: Self.now) == nil)
            #expect(try await store.consumeInstallState(hash: InstallState.hash(of: "unknown"), now: Self.now) == nil)
        }
    }

    @Test(arguments: Backend.enabled)
    func aStateKeepsTheModeItWasStartedFor(_ backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.saveInstallState(state("t", mode: .test))
            try await store.saveInstallState(state("l", mode: .live))
            try await store.saveInstallState(state("n"))
            let test = try await store.consumeInstallState(hash: InstallState.hash(of: "t"), now: Self.now)
            let live = try await store.consumeInstallState(hash: InstallState.hash(of: "l"), now: Self.now)
            let none = try await store.consumeInstallState(hash: InstallState.hash(of: "n"), now: Self.now)
            #expect(test?.mode == .test)
            #expect(live?.mode == .live)
            #expect(none != nil && none?.mode == nil)
        }
    }

    @Test(arguments: Backend.enabled)
    func anExpiredStateIsRefusedAndRemoved(_ backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.saveInstallState(state("old", expiresIn: 600))
            let later = Self.now.addingTimeInterval(601)
            #expect(try await store.consumeInstallState(hash: InstallState.hash(of: "old"), now: later) == nil)
            #expect(try await store.consumeInstallState(hash: InstallState.hash(of: "old"), now: Self.now) == nil)
        }
    }

    @Test(arguments: Backend.enabled)
    func concurrentCallbacksWithOneStateHaveOneWinner(_ backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.saveInstallState(state("race"))
            let hash = InstallState.hash(of: "race")
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await store.consumeInstallState(hash: hash, now: Self.now) != nil }
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

@Suite struct InboxContractTests {
    static func event(_ id: String, type: String = "account.application.authorized", live: Bool = false) -> InboxEvent {
        InboxEvent(
            id: id,
            type: type,
            isLiveMode: live,
            accountID: "acct_1",
            created: 1_700_000_000,
            receivedAt: Date(timeIntervalSince1970: 1_700_000_000),
            payload: #"{"id":"\#(id)"}"#
        )
    }

    @Test(arguments: Backend.enabled)
    func eachEventIsStoredOnceWithItsBytes(_ backend: Backend) async throws {
        try await backend.withStore { store in
            #expect(try await store.enqueueEvent(Self.event("evt_1")) == true)
            #expect(try await store.enqueueEvent(Self.event("evt_1", type: "changed")) == false)
            let stored = try await store.inboxEvents(status: nil, limit: 10)
            #expect(stored == [Self.event("evt_1")])
            #expect(try await store.inboxEvents(status: .pending, limit: 10).count == 1)
            #expect(try await store.inboxEvents(status: .dead, limit: 10).isEmpty)
        }
    }

    @Test(arguments: Backend.enabled)
    func concurrentDeliveriesWithDuplicatesStoreEveryIdOnce(_ backend: Backend) async throws {
        try await backend.withStore { store in
            // 300 deliveries of 200 distinct events, shuffled, all at once.
            let ids = ((0..<200).map { "evt_\($0)" } + (0..<100).map { "evt_\($0 * 2)" }).shuffled()
            let newCount = try await withThrowingTaskGroup(of: Bool.self) { group in
                for id in ids { group.addTask { try await store.enqueueEvent(Self.event(id)) } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(newCount == 200)
            #expect(Set(try await store.inboxEvents(status: nil, limit: 1000).map(\.id)).count == 200)
        }
    }
}

@Suite struct EventProcessingContractTests {
    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    static let tenant = Tenant(accountID: "acct_1", mode: .test)

    static func event(_ id: String, created: Int64) -> InboxEvent {
        InboxEvent(
            id: id, type: "t", isLiveMode: false, accountID: "acct_1", created: created, receivedAt: now, payload: "{}")
    }

    @Test(arguments: Backend.enabled)
    func dueEventsRetriesDeadLettersAndReplay(_ backend: Backend) async throws {
        try await backend.withStore { store in
            _ = try await store.enqueueEvent(Self.event("evt_b", created: 2))
            _ = try await store.enqueueEvent(Self.event("evt_a", created: 1))
            #expect(try await store.dueEvents(now: Self.now, limit: 10).map(\.id) == ["evt_a", "evt_b"])
            try await store.markEventSucceeded(id: "evt_a")
            try await store.markEventFailed(id: "evt_b", error: "boom", nextAttemptAt: Self.now.addingTimeInterval(60))
            #expect(try await store.dueEvents(now: Self.now, limit: 10).isEmpty)
            let later = try await store.dueEvents(now: Self.now.addingTimeInterval(60), limit: 10)
            #expect(later.map(\.id) == ["evt_b"])
            #expect(later.first?.attempts == 1 && later.first?.lastError == "boom" && later.first?.status == .failed)
            try await store.markEventFailed(id: "evt_b", error: "again", nextAttemptAt: nil)
            #expect(try await store.inboxEvents(status: .dead, limit: 10).map(\.id) == ["evt_b"])
            #expect(try await store.dueEvents(now: Self.now.addingTimeInterval(86_400), limit: 10).isEmpty)
            #expect(try await store.replayEvent(id: "evt_b"))
            #expect(try await store.replayEvent(id: "evt_missing") == false)
            #expect(try await store.dueEvents(now: Self.now, limit: 10).map(\.id) == ["evt_b"])
            #expect(try await store.inboxEvents(status: .succeeded, limit: 10).first?.attempts == 1)
        }
    }

    @Test(arguments: Backend.enabled)
    func anOlderEventNeverOverwritesANewerInstallationState(_ backend: Backend) async throws {
        try await backend.withStore { store in
            func record(_ status: Installation.Status) -> Installation {
                Installation(tenant: Self.tenant, status: status, createdAt: Self.now, updatedAt: Self.now)
            }
            let newer = try await store.applyInstallationEvent(record(.inactive), eventCreated: 200)
            let older = try await store.applyInstallationEvent(record(.active), eventCreated: 100)
            #expect(newer && !older)
            let afterOlder = try await store.installation(for: Self.tenant)
            #expect(afterOlder?.status == .inactive)
            let reinstall = try await store.applyInstallationEvent(record(.active), eventCreated: 300)
            let repeated = try await store.applyInstallationEvent(record(.active), eventCreated: 300)
            #expect(reinstall && repeated, "a repeated event updates")
            let final = try await store.installation(for: Self.tenant)
            #expect(final?.status == .active)
            let all = try await store.installations()
            #expect(all.map(\.tenant) == [Self.tenant])
        }
    }

    @Test(arguments: Backend.enabled)
    func purgeDeletesTenantDataAndKeepsAnAuditRecord(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let other = Tenant(accountID: "acct_1", mode: .live)
            _ = try await store.updateSettings(for: Self.tenant, expectedVersion: 0) { $0["a"] = .number(1) }
            _ = try await store.updateSettings(for: other, expectedVersion: 0) { $0["a"] = .number(2) }
            try await store.purgeTenantData(Self.tenant, reason: "account.application.deauthorized evt_1", at: Self.now)
            // A retried handler purges again: still one audit record.
            try await store.purgeTenantData(Self.tenant, reason: "account.application.deauthorized evt_1", at: Self.now)
            #expect(try await store.settings(for: Self.tenant) == .empty)
            #expect(try await store.settings(for: other).values["a"] == .number(2))
            let audit = try await store.auditRecords(for: Self.tenant)
            #expect(
                audit == [
                    AuditRecord(
                        tenant: Self.tenant, action: "purged", reason: "account.application.deauthorized evt_1",
                        date: Self.now)
                ])
            #expect(try await store.auditRecords(for: other).isEmpty)
        }
    }
}
