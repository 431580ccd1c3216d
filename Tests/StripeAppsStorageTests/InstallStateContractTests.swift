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

    /// A ticket, a state and a link code are different kinds: a value of one kind is never accepted as another.
    @Test(arguments: Backend.enabled)
    func kindsAreKeptApart(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let tenant = Tenant(accountID: "acct_1", mode: .test)
            try await storage.installStates.save(
                InstallState(
                    stateHash: InstallState.hash(of: "ticket"), kind: .ticket, appValue: "user-1", mode: .live,
                    createdAt: Self.now, expiresAt: Self.now.addingTimeInterval(60)))
            try await storage.installStates.save(
                InstallState(
                    stateHash: InstallState.hash(of: "link"), kind: .linkCode, appValue: "user-1", tenant: tenant,
                    userID: "usr_1", createdAt: Self.now, expiresAt: Self.now.addingTimeInterval(60)))
            let states = storage.installStates
            #expect(try await states.consume(.state, hash: InstallState.hash(of: "ticket"), now: Self.now) == nil)
            #expect(try await states.state(hash: InstallState.hash(of: "ticket"), now: Self.now) == nil)
            #expect(try await states.consume(.linkCode, hash: InstallState.hash(of: "ticket"), now: Self.now) == nil)
            let ticket = try await states.consume(.ticket, hash: InstallState.hash(of: "ticket"), now: Self.now)
            #expect(ticket?.kind == .ticket && ticket?.appValue == "user-1" && ticket?.mode == .live)
            let link = try await states.consume(.linkCode, hash: InstallState.hash(of: "link"), now: Self.now)
            #expect(link?.tenant == tenant && link?.userID == "usr_1" && link?.appValue == "user-1")
            #expect(try await states.consume(.linkCode, hash: InstallState.hash(of: "link"), now: Self.now) == nil)
        }
    }

    /// The OAuth callback looks at a state before it spends the code: looking does not consume it.
    @Test(arguments: Backend.enabled)
    func lookingAtAStateDoesNotConsumeIt(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            try await storage.installStates.save(state("s", expiresIn: 60, mode: .test))
            let hash = InstallState.hash(of: "s")
            #expect(try await storage.installStates.state(hash: hash, now: Self.now)?.mode == .test)
            #expect(try await storage.installStates.state(hash: hash, now: Self.now) != nil)
            #expect(try await storage.installStates.state(hash: hash, now: Self.now.addingTimeInterval(60)) == nil)
            #expect(try await storage.installStates.consume(hash: hash, now: Self.now) != nil)
            #expect(try await storage.installStates.state(hash: hash, now: Self.now) == nil)
        }
    }

    func followUp(_ id: String, linkCode: String?) -> @Sendable (InstallState) -> InstallFollowUp {
        { consumed in
            InstallFollowUp(
                event: InboxEvent(
                    id: id, type: "stripe_apps_backend.install_completed", isLiveMode: false, accountID: "acct_1",
                    created: 1_700_000_000, receivedAt: Self.now, payload: #"{"id":"\#(id)"}"#),
                linkCode: linkCode.map {
                    InstallState(
                        stateHash: InstallState.hash(of: $0), kind: .linkCode, appValue: consumed.appValue,
                        tenant: Tenant(accountID: "acct_1", mode: .test), userID: "usr_1", createdAt: Self.now,
                        expiresAt: Self.now.addingTimeInterval(600))
                })
        }
    }

    /// Item 5 of issue 12: consuming the state, queueing the follow-up and storing the link code happen together.
    @Test(arguments: Backend.enabled)
    func completingAnInstallStoresItsFollowUpWithTheConsumedState(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            try await storage.installStates.save(state("s", appValue: "user-7"))
            let hash = InstallState.hash(of: "s")
            let consumed = try await storage.installStates.complete(
                hash: hash, now: Self.now, followUp("evt_install_1", linkCode: "code"))
            #expect(consumed?.appValue == "user-7")
            let queued = try await storage.inbox.events(status: .pending, limit: 10)
            #expect(queued.map(\.id) == ["evt_install_1"])
            let link = try await storage.installStates.consume(
                .linkCode, hash: InstallState.hash(of: "code"), now: Self.now)
            #expect(link?.appValue == "user-7")
            // Used: nothing more is stored.
            #expect(
                try await storage.installStates.complete(
                    hash: hash, now: Self.now, followUp("evt_install_2", linkCode: "code2")) == nil)
            #expect(try await storage.inbox.events(status: nil, limit: 10).count == 1)
            #expect(
                try await storage.installStates.consume(.linkCode, hash: InstallState.hash(of: "code2"), now: Self.now)
                    == nil)
        }
    }

    /// When any part fails (here the link code collides with a stored value), nothing is kept: the state can be
    /// completed again once the cause is gone, and no follow-up was queued.
    @Test(arguments: Backend.enabled)
    func aFailedCompletionKeepsTheStateAndQueuesNothing(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            try await storage.installStates.save(state("s", appValue: "user-7"))
            try await storage.installStates.save(state("taken"))
            let hash = InstallState.hash(of: "s")
            await #expect(throws: (any Error).self) {
                try await storage.installStates.complete(
                    hash: hash, now: Self.now, followUp("evt_install_1", linkCode: "taken"))
            }
            #expect(try await storage.inbox.events(status: nil, limit: 10).isEmpty)
            #expect(try await storage.installStates.state(hash: hash, now: Self.now) != nil)
            #expect(
                try await storage.installStates.complete(
                    hash: hash, now: Self.now, followUp("evt_install_1", linkCode: "fresh")) != nil)
            #expect(try await storage.inbox.events(status: nil, limit: 10).count == 1)
        }
    }

    @Test func stateValuesAre32RandomBytesInHex() {
        let values = (0..<100).map { _ in InstallState.newStateValue() }
        #expect(Set(values).count == 100)
        #expect(values.allSatisfy { $0.count == 64 && $0.allSatisfy { "0123456789abcdef".contains($0) } })
    }
}
