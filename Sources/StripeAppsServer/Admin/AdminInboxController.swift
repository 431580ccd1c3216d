import Foundation
import Hummingbird
import Logging
import StripeApps

/// The inbox pages: `GET /admin/inbox` (filter by status, type, account and mode; newest first, 50 a page),
/// `GET /admin/events/{id}` (payload pretty-printed, last error), `POST /admin/events/{id}/replay|discard`, and
/// the bulk replay of every event matching a filter (`GET` asks to confirm, `POST` does it, at most 1,000).
struct AdminInboxController<Admin: AdminStore>: Sendable {
    let pages: AdminPages
    let admin: Admin
    /// Woken after a replay, so the event runs at once rather than at the next poll.
    let worker: InboxWorker?
    let now: @Sendable () -> Date

    static var pageSize: Int { 50 }

    func register(on group: RouterGroup<AdminRequestContext>) {
        group.get("inbox") { request, context in try await list(request, context) }
        group.get("inbox/bulk-replay") { request, context in try confirmBulk(request, context) }
        group.post("inbox/bulk-replay") { _, context in try await bulkReplay(context) }
        group.get("events/:id") { request, context in try await show(request, context) }
        group.post("events/:id/replay") { _, context in try await replay(context) }
        group.post("events/:id/discard") { _, context in try await discard(context) }
    }

    private func list(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let filter = try Self.filter { query.get($0) }
        let events = try await admin.events(matching: filter, after: query.get("after"), limit: Self.pageSize)
        let items = AdminPages.queryItems(request).filter { $0.name != "after" && $0.name != "notice" }
        var data = Self.filterData(filter)
        data["events"] = events.map(Self.row)
        data["hasEvents"] = !events.isEmpty
        if events.count == Self.pageSize, let last = events.last {
            data["next"] = AdminPages.path("/admin/inbox", items + [URLQueryItem(name: "after", value: last.id)])
        }
        data["bulkHref"] = AdminPages.path(
            "/admin/inbox/bulk-replay", items.filter { $0.name != "refresh" })
        return pages.page(
            "inbox", data,
            AdminPages.Frame(
                title: "Inbox", code: "inbox", session: context.session,
                notice: Self.notice(query.get("notice"), count: query.get("count")), refreshable: request))
    }

    private func show(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let id = try context.parameter("id")
        guard let event = try await admin.event(id: id) else { throw AdminPageError.notFound("event") }
        let base = "/admin/events/\(AdminPages.segment(event.id))"
        var data = Self.row(event)
        data["created"] = AdminPages.time(Date(timeIntervalSince1970: TimeInterval(event.created)))
        data["error"] = event.lastError ?? ""
        data["nextAttempt"] = AdminPages.time(event.nextAttemptAt)
        if let owner = event.leaseOwner {
            data["lease"] = "\(owner) until \(AdminPages.time(event.leaseExpiresAt))"
        }
        data["discarded"] = event.isDiscarded
        data["replayable"] = event.isReplayable
        data["discardable"] = event.isDiscardable
        data["replayAction"] = base + "/replay"
        data["discardAction"] = base + "/discard"
        data["payload"] = event.isPruned ? "" : AdminPages.prettyJSON(event.payload)
        if let account = event.accountID {
            data["tenantHref"] = AdminPages.tenantHref(
                Tenant(accountID: account, mode: event.isLiveMode ? .live : .test))
        }
        return pages.page(
            "event", data,
            AdminPages.Frame(
                title: "Event \(event.id)", code: "event", session: context.session,
                notice: Self.notice(request.uri.queryParameters.get("notice"), count: nil), refreshable: request))
    }

    private func replay(_ context: AdminRequestContext) async throws -> Response {
        let id = try context.parameter("id")
        let action = AdminAction(actor: context.session.actor, date: now())
        guard let event = try await admin.replay(id: id, by: action) else { throw AdminPageError.notFound("event") }
        guard event.status == .pending else {
            throw AdminPageError(
                .conflict, code: "not_replayable", title: "Not replayed",
                message: event.status == .running
                    ? "A worker is running this event right now; wait for its outcome."
                    : "The payload of this event was deleted, so it cannot run again.")
        }
        worker?.notify()
        context.logAdminAction("replay", ["event.id": "\(event.id)", "event.type": "\(event.type)"])
        return AdminPages.redirect("/admin/events/\(AdminPages.segment(event.id))?notice=replayed")
    }

    private func discard(_ context: AdminRequestContext) async throws -> Response {
        let id = try context.parameter("id")
        let action = AdminAction(actor: context.session.actor, date: now())
        guard let event = try await admin.discard(id: id, by: action) else { throw AdminPageError.notFound("event") }
        guard event.isDiscarded else {
            throw AdminPageError(
                .conflict, code: "not_discardable", title: "Not discarded",
                message: "Only events that are pending, failed or dead, and still have their payload, can be discarded."
            )
        }
        context.logAdminAction("discard", ["event.id": "\(event.id)", "event.type": "\(event.type)"])
        return AdminPages.redirect("/admin/events/\(AdminPages.segment(event.id))?notice=discarded")
    }

    private func confirmBulk(_ request: Request, _ context: AdminRequestContext) throws -> Response {
        let query = request.uri.queryParameters
        let filter = try Self.filter { query.get($0) }
        let fields = Self.fields(filter)
        let data: [String: Any] = [
            "cap": InboxFilter.maximumBulkReplay,
            "conditions": fields.map { ["name": $0.name, "value": $0.value ?? ""] },
            "fields": fields.map { ["name": $0.name, "value": $0.value ?? ""] },
            "cancelHref": AdminPages.path("/admin/inbox", fields),
        ]
        return pages.page(
            "bulk", data, AdminPages.Frame(title: "Replay matching events", code: "bulk", session: context.session))
    }

    private func bulkReplay(_ context: AdminRequestContext) async throws -> Response {
        let form = context.form
        let filter = try Self.filter { form[$0] }
        let action = AdminAction(actor: context.session.actor, date: now())
        let count = try await admin.replayAll(matching: filter, limit: InboxFilter.maximumBulkReplay, by: action)
        if count > 0 { worker?.notify() }
        var metadata: Logger.Metadata = ["admin.count": "\(count)"]
        for field in Self.fields(filter) { metadata["filter.\(field.name)"] = "\(field.value ?? "")" }
        context.logAdminAction("bulk_replay", metadata)
        return AdminPages.redirect(
            AdminPages.path(
                "/admin/inbox",
                Self.fields(filter) + [
                    URLQueryItem(name: "notice", value: "bulk"), URLQueryItem(name: "count", value: "\(count)"),
                ]))
    }

    /// The filter of a query or form; 400 for a status or mode that does not exist.
    static func filter(_ value: (String) -> String?) throws -> InboxFilter {
        func text(_ name: String) -> String? {
            value(name).map { String($0.trimmingCharacters(in: .whitespaces).prefix(200)) }.flatMap {
                $0.isEmpty ? nil : $0
            }
        }
        var filter = InboxFilter(type: text("type"), accountID: text("account"))
        if let status = text("status") {
            guard let parsed = InboxEvent.Status(name: status) else {
                throw AdminPageError.badRequest("invalid_status", "There is no such event status.")
            }
            filter.status = parsed
        }
        if let mode = text("mode") {
            guard let parsed = Tenant.Mode(mode) else {
                throw AdminPageError.badRequest("invalid_mode", "The mode must be live or test.")
            }
            filter.mode = parsed
        }
        return filter
    }

    /// The filter as query or form fields.
    static func fields(_ filter: InboxFilter) -> [URLQueryItem] {
        [
            ("status", filter.status?.description), ("type", filter.type), ("account", filter.accountID),
            ("mode", filter.mode?.description),
        ].compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
    }

    /// The filter form's values.
    static func filterData(_ filter: InboxFilter) -> [String: Any] {
        [
            "statuses": AdminPages.options(
                InboxEvent.Status.all.map(\.description), selected: filter.status?.description),
            "modes": AdminPages.options(["live", "test"], selected: filter.mode?.description),
            "type": filter.type ?? "", "account": filter.accountID ?? "",
        ]
    }

    /// One event as the tables show it.
    static func row(_ event: InboxEvent) -> [String: Any] {
        [
            "id": event.id, "href": "/admin/events/\(AdminPages.segment(event.id))", "type": event.type,
            "account": event.accountID ?? "", "mode": event.isLiveMode ? "live" : "test",
            "status": event.status.description, "attempts": event.attempts,
            "received": AdminPages.time(event.receivedAt), "error": String((event.lastError ?? "").prefix(200)),
        ]
    }

    /// The fixed text of a notice code; never the query's own text.
    static func notice(_ code: String?, count: String?) -> String? {
        switch code {
        case "replayed": "Replayed: the event is pending and runs again shortly."
        case "discarded": "Discarded: the event is dead, its payload deleted; it will not run."
        case "bulk": "Replayed \(count.flatMap(Int.init) ?? 0) events matching the filter."
        default: nil
        }
    }
}

extension AdminRequestContext {
    /// Logs an admin action at info: who, what, on what (the tenant audit log has replays and discards too).
    func logAdminAction(_ action: String, _ metadata: Logger.Metadata) {
        var metadata = metadata
        metadata["admin.session"] = "\(session.actor)"
        metadata["admin.action"] = "\(action)"
        logger.info("admin action", metadata: metadata)
    }
}
