#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// An operator's block of one tenant (account and mode), kept with its installation record.
///
/// While a tenant is blocked the backend serves it nothing and runs nothing for it: its webhooks are acknowledged
/// (200, so Stripe stops retrying) and stored ``InboxEvent/Status/blocked`` without running, its signed UI calls get
/// 403 `tenant_blocked`, and its jobs are cancelled instead of run. The block survives uninstalls and reinstalls
/// until an operator lifts it (``AdminStore/unblock(_:by:)``). Set it with ``AdminStore/block(_:reason:by:)``:
/// `stripe-apps-backend installations block`, or the tenant's admin page.
public struct TenantBlock: Hashable, Sendable {
    /// Why, as the operator gave it; `nil` when no reason was given.
    public let reason: String?
    /// Who blocked it (``AdminAction/actor``).
    public let blockedBy: String
    /// When.
    public let blockedAt: Date

    /// Creates a block.
    public init(reason: String?, blockedBy: String, blockedAt: Date) {
        self.reason = reason
        self.blockedBy = blockedBy
        self.blockedAt = blockedAt
    }

    /// The longest reason kept: 500 characters.
    public static let maximumReasonLength = 500

    /// Whether `reason` may be stored: at most ``maximumReasonLength`` characters, none of them a control character
    /// (a line break included), so that it shows as one line in listings, logs and the audit log.
    public static func isValidReason(_ reason: String) -> Bool {
        reason.count <= maximumReasonLength
            && !reason.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}

extension Installation {
    /// Whether an operator blocked the tenant (``block``).
    public var isBlocked: Bool { block != nil }
}

extension InboxEvent {
    /// The last error of an event stored or set aside because its tenant is blocked (``Status/blocked``).
    public static let blockedNote = "Not run: the tenant is blocked (installations unblock, then replay)."
}

extension AdminAction {
    /// The audit record of blocking `tenant` (`admin_blocked`) or lifting its block (`admin_unblocked`): the reason,
    /// who and when, so that every block and unblock keeps its own record.
    public func blockAuditRecord(of tenant: Tenant, isBlocking: Bool, reason: String?) -> AuditRecord {
        let text = (reason.map { $0.isEmpty ? nil : $0 } ?? nil) ?? "no reason given"
        return AuditRecord(
            tenant: tenant, action: isBlocking ? "admin_blocked" : "admin_unblocked",
            reason: "\(isBlocking ? text : "unblocked") by \(actor) at \(date.formatted(.iso8601))", date: date)
    }
}
