import Foundation
import StripeApps
import Testing

/// Installation records change only through ``InstallationChange`` commands, with one ordering rule.
@Suite struct InstallationContractTests {
    static let tenant = Tenant(accountID: "acct_1", mode: .test)
    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    static func change(
        _ action: InstallationChange.Action,
        at seconds: TimeInterval,
        source: InstallationChange.Source? = nil,
        tenant: Tenant = tenant
    ) -> InstallationChange {
        let type = action == .activate ? "account.application.authorized" : "account.application.deauthorized"
        return InstallationChange(
            tenant: tenant,
            action: action,
            source: source ?? .event(type: type, id: "evt_\(Int(seconds))"),
            occurredAt: t0.addingTimeInterval(seconds),
            recordedAt: t0.addingTimeInterval(seconds + 1)
        )
    }

    @Test(arguments: Backend.enabled)
    func anAppliedChangeIsReadBackForItsTenantOnly(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let installations = storage.installations
            #expect(try await installations.installation(for: Self.tenant) == nil)
            #expect(try await installations.apply(Self.change(.activate, at: 10, source: .installCallback)) == .applied)
            let record = try #require(try await installations.installation(for: Self.tenant))
            #expect(
                record
                    == Installation(
                        tenant: Self.tenant, status: .active, createdAt: Self.t0.addingTimeInterval(11),
                        updatedAt: Self.t0.addingTimeInterval(11), lastChangedAt: Self.t0.addingTimeInterval(10),
                        lastChangedBy: "install_callback"))
            #expect(try await installations.installation(for: Tenant(accountID: "acct_1", mode: .live)) == nil)
            #expect(try await installations.installation(for: Tenant(accountID: "acct_2", mode: .test)) == nil)

            #expect(try await installations.apply(Self.change(.deactivate, at: 20)) == .applied)
            let after = try #require(try await installations.installation(for: Self.tenant))
            #expect(after.status == .inactive)
            #expect(after.createdAt == Self.t0.addingTimeInterval(11), "the first record's creation time stays")
            #expect(after.updatedAt == Self.t0.addingTimeInterval(21))
            #expect(after.lastChangedBy == "account.application.deauthorized evt_20")
        }
    }

    @Test(arguments: Backend.enabled)
    func olderChangesNeverUndoNewerOnes(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let installations = storage.installations
            let newer = try await installations.apply(Self.change(.deactivate, at: 200))
            #expect(newer == .applied)
            #expect(try await installations.apply(Self.change(.activate, at: 100)) == .superseded)
            #expect(try await installations.installation(for: Self.tenant)?.status == .inactive)
            #expect(try await installations.apply(Self.change(.deactivate, at: 150)) == .alreadyApplied)
            #expect(try await installations.apply(Self.change(.activate, at: 300)) == .applied)
            #expect(try await installations.apply(Self.change(.activate, at: 300)) == .applied, "a retry applies again")
            #expect(try await installations.installation(for: Self.tenant)?.status == .active)
            #expect(try await installations.installations().map(\.tenant) == [Self.tenant])
        }
    }

    /// The race the install callback used to lose: uninstall, reinstall through the install link, and the
    /// uninstall's event processed only afterwards. The new install and its tokens must survive.
    @Test(arguments: Backend.enabled)
    func aLateUninstallEventDoesNotPurgeAReinstall(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let installations = storage.installations
            #expect(
                try await installations.apply(Self.change(.activate, at: 100, source: .installCallback)) == .applied)
            // Reinstalled via the install link at 300, after the uninstall at 200 whose event is still queued.
            #expect(try await installations.apply(Self.change(.activate, at: 300, source: .oauthCallback)) == .applied)
            _ = try await storage.credentials.saveCredential(
                [1, 2, 3], named: "stripe.oauth", for: Self.tenant, expectedVersion: nil, at: Self.t0)
            _ = try await storage.settings.updateSettings(for: Self.tenant, expectedVersion: 0) { $0["a"] = .number(1) }

            #expect(try await installations.apply(Self.change(.deactivate, at: 200)) == .superseded)
            #expect(try await installations.installation(for: Self.tenant)?.status == .active)
            #expect(
                try await storage.credentials.credential(named: "stripe.oauth", for: Self.tenant)?.sealed == [1, 2, 3])
            #expect(try await storage.settings.settings(for: Self.tenant).version == 1)
            #expect(try await storage.credentials.auditRecords(for: Self.tenant).isEmpty)
            // The install's own authorized event, created before its redirect, confirms it without a write.
            #expect(try await installations.apply(Self.change(.activate, at: 299)) == .alreadyApplied)
        }
    }

    @Test(arguments: Backend.enabled)
    func aDeactivationPurgesTheTenantsDataOnceWithAnAuditRecord(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let other = Tenant(accountID: "acct_1", mode: .live)
            for tenant in [Self.tenant, other] {
                _ = try await storage.settings.updateSettings(for: tenant, expectedVersion: 0) { $0["a"] = .number(1) }
                _ = try await storage.credentials.saveCredential(
                    [9], named: "mailer", for: tenant, expectedVersion: nil, at: Self.t0)
            }
            let uninstall = Self.change(.deactivate, at: 50)
            #expect(try await storage.installations.apply(uninstall) == .applied)
            // A retried handler sends the same change: applied again, still one audit record.
            #expect(try await storage.installations.apply(uninstall) == .applied)
            #expect(try await storage.settings.settings(for: Self.tenant) == .empty)
            #expect(try await storage.credentials.credential(named: "mailer", for: Self.tenant) == nil)
            #expect(try await storage.settings.settings(for: other).values["a"] == .number(1))
            #expect(try await storage.credentials.credential(named: "mailer", for: other)?.sealed == [9])
            #expect(
                try await storage.credentials.auditRecords(for: Self.tenant) == [
                    AuditRecord(
                        tenant: Self.tenant, action: "purged", reason: "account.application.deauthorized evt_50",
                        date: Self.t0.addingTimeInterval(51))
                ])
            #expect(try await storage.credentials.auditRecords(for: other).isEmpty)
            #expect(try await storage.installations.installation(for: Self.tenant)?.status == .inactive)
        }
    }

    @Test(arguments: Backend.enabled)
    func concurrentChangesLeaveTheNewestOne(_ backend: Backend) async throws {
        try await backend.withStorage { storage in
            let installations = storage.installations
            let changes = (0..<40).map { Self.change($0 % 2 == 0 ? .activate : .deactivate, at: TimeInterval($0)) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for change in changes.shuffled() { group.addTask { _ = try await installations.apply(change) } }
                try await group.waitForAll()
            }
            let record = try #require(try await installations.installation(for: Self.tenant))
            #expect(record.status == .inactive, "the change at 39 deactivates")
            #expect(record.lastChangedAt == Self.t0.addingTimeInterval(39))
        }
    }
}
