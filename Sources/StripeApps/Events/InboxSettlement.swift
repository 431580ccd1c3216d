#if canImport(FoundationEssentials)
    package import FoundationEssentials
#else
    package import Foundation
#endif

/// What a worker reports for a claim, as the database backends batch it: the status, the retry time and the
/// error text every backend stores the same way.
package struct InboxSettlement: Sendable {
    package let claim: ClaimedEvent
    package let status: InboxEvent.Status
    package let retryAt: Date?
    package let error: String?

    /// The handlers succeeded.
    package static func completed(_ claim: ClaimedEvent) -> InboxSettlement {
        InboxSettlement(claim: claim, status: .succeeded, retryAt: nil, error: nil)
    }

    /// The event's tenant is blocked: it did not run and will not, unless replayed.
    package static func blocked(_ claim: ClaimedEvent) -> InboxSettlement {
        InboxSettlement(claim: claim, status: .blocked, retryAt: nil, error: InboxEvent.blockedNote)
    }

    /// A handler failed: retried at `retryAt`, dead when it is `nil`; the error is cut to the stored length.
    package static func failed(_ claim: ClaimedEvent, error: String, retryAt: Date?) -> InboxSettlement {
        InboxSettlement(
            claim: claim, status: retryAt == nil ? .dead : .failed, retryAt: retryAt,
            error: InboxEvent.storedError(error))
    }
}

extension Array where Element == ClaimedEvent {
    /// The claims in the order every backend hands them out: oldest event first.
    package func oldestFirst() -> [ClaimedEvent] {
        sorted { ($0.event.created, $0.event.receivedAt, $0.id) < ($1.event.created, $1.event.receivedAt, $1.id) }
    }
}

extension StoredCredential {
    /// The version a compare-and-swap write gives, or the conflict every store reports.
    ///
    /// - Throws: ``StoreError/Code/versionConflict`` when `expected` is given and is not `current`.
    package static func nextVersion(current: Int, expected: Int?) throws -> Int {
        if let expected, expected != current { throw StoreError.credentialConflict(current: current) }
        return current + 1
    }
}
