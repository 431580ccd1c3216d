import Foundation
import Hummingbird
import StripeApps

/// `GET /admin`: installations by mode and status, the inbox by status with its oldest pending event, the
/// failing handlers, and the jobs by status.
struct AdminOverviewController<Admin: AdminStore, Statistics: StorageStatistics>: Sendable {
    let pages: AdminPages
    let admin: Admin
    let statistics: Statistics

    /// How many failed and dead events the failing-handlers table is drawn from.
    static var failingSample: Int { 200 }

    func register(on group: RouterGroup<AdminRequestContext>) {
        group.get { request, context in try await overview(request, context) }
    }

    private func overview(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let counts = try await admin.installationCounts()
        let installations: [[String: Any]] = [Tenant.Mode.live, .test].map { mode in
            func count(_ status: Installation.Status) -> Int {
                counts.first { $0.mode == mode && $0.status == status }?.count ?? 0
            }
            return [
                "mode": mode.description, "active": count(.active), "inactive": count(.inactive),
                "activeHref": "/admin/installations?mode=\(mode)&status=active",
                "inactiveHref": "/admin/installations?mode=\(mode)&status=inactive",
            ]
        }
        let inboxCounts = try await statistics.inboxCounts()
        let inbox: [[String: Any]] = InboxEvent.Status.all.map { status in
            ["status": status.description, "count": inboxCounts[status], "href": "/admin/inbox?status=\(status)"]
        }
        let jobCounts = try await statistics.jobCounts()
        let jobRows: [[String: Any]] = JobRecord.Status.all.map { status in
            ["status": status.description, "count": jobCounts[status], "href": "/admin/jobs?status=\(status)"]
        }
        let failing = try await failingHandlers()
        var data: [String: Any] = [
            "installations": installations, "inbox": inbox, "jobs": jobRows, "failing": failing,
            "hasFailing": !failing.isEmpty, "failingSample": Self.failingSample,
        ]
        // Optional values are left out when nil: Mustache would print an `Optional` as "nil".
        if let date = inboxCounts.oldestPendingReceivedAt { data["oldestPending"] = AdminPages.time(date) }
        if let date = jobCounts.oldestWaitingRunAt { data["oldestWaitingJob"] = AdminPages.time(date) }
        return pages.page(
            "overview", data,
            AdminPages.Frame(title: "Overview", code: "overview", session: context.session, refreshable: request))
    }

    /// Event types among the newest failed and dead events, most failing first, with their newest error.
    private func failingHandlers() async throws -> [[String: Any]] {
        var byType: [String: (failed: Int, dead: Int, error: String?, newest: Date)] = [:]
        for status in [InboxEvent.Status.failed, .dead] {
            for event in try await admin.events(
                matching: InboxFilter(status: status), after: nil, limit: Self.failingSample / 2)
            where !event.isDiscarded {
                var entry = byType[event.type] ?? (0, 0, nil, event.receivedAt)
                if status == .failed { entry.failed += 1 } else { entry.dead += 1 }
                if entry.error == nil || event.receivedAt > entry.newest {
                    entry.error = event.lastError ?? entry.error
                    entry.newest = event.receivedAt
                }
                byType[event.type] = entry
            }
        }
        return byType.sorted { ($0.value.failed + $0.value.dead, $1.key) > ($1.value.failed + $1.value.dead, $0.key) }
            .prefix(20)
            .map { type, entry in
                [
                    "type": type, "failed": entry.failed, "dead": entry.dead,
                    "lastError": String((entry.error ?? "").prefix(300)),
                    "href": AdminPages.path("/admin/inbox", [URLQueryItem(name: "type", value: type)]),
                ]
            }
    }
}
