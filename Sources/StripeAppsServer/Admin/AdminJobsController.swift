import Foundation
import Hummingbird
import Logging
import StripeApps

/// `GET /admin/jobs` (the schedules with their next slots, and the newest jobs, filtered by status, running ones
/// with their progress), `GET /admin/jobs/{id}`, and `POST /admin/jobs/{id}/cancel|replay`.
struct AdminJobsController<Jobs: JobQueue, Schedules: ScheduleStore>: Sendable {
    let pages: AdminPages
    let jobs: Jobs
    let schedules: Schedules
    let now: @Sendable () -> Date

    static var listed: Int { 100 }

    func register(on group: RouterGroup<AdminRequestContext>) {
        group.get("jobs") { request, context in try await list(request, context) }
        group.get("jobs/:id") { request, context in try await show(request, context) }
        group.post("jobs/:id/cancel") { _, context in try await cancel(context) }
        group.post("jobs/:id/replay") { _, context in try await replay(context) }
    }

    private func list(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        var status: JobRecord.Status?
        if let name = request.uri.queryParameters.get("status"), !name.isEmpty {
            guard let parsed = JobRecord.Status(name: name) else {
                throw AdminPageError.badRequest("invalid_status", "There is no such job status.")
            }
            status = parsed
        }
        let found = try await jobs.jobs(status: status, limit: Self.listed)
        let scheduled = try await schedules.schedules().sorted { $0.name < $1.name }
        let data: [String: Any] = [
            "statuses": AdminPages.options(JobRecord.Status.all.map(\.description), selected: status?.description),
            "limit": Self.listed,
            "schedules": scheduled.map { schedule in
                [
                    "name": schedule.name, "job": schedule.summary?.jobName ?? "",
                    "timing": schedule.summary?.timing ?? "",
                    "perInstallation": schedule.summary.map { $0.perInstallation ? "yes" : "no" } ?? "",
                    "next": AdminPages.time(schedule.nextSlot), "handled": AdminPages.time(schedule.handledThrough),
                ]
            },
            "jobs": found.map(Self.row),
        ]
        return pages.page(
            "jobs", data,
            AdminPages.Frame(
                title: "Jobs and schedules", code: "jobs", session: context.session,
                notice: Self.notice(request.uri.queryParameters.get("notice")), refreshable: request))
    }

    private func show(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        guard let job = try await jobs.job(id: try context.parameter("id")) else {
            throw AdminPageError.notFound("job")
        }
        var data = Self.row(job)
        let base = "/admin/jobs/\(AdminPages.segment(job.id))"
        data["maxAttempts"] = job.maxAttempts
        data["priority"] = job.priority
        data["cancelRequested"] = job.cancelRequested
        data["finished"] = AdminPages.time(job.finishedAt)
        data["slot"] = job.slotKey ?? ""
        if let owner = job.leaseOwner { data["lease"] = "\(owner) until \(AdminPages.time(job.leaseExpiresAt))" }
        data["parameters"] = AdminPages.prettyJSON(job.parameters)
        data["error"] = job.lastError ?? ""
        data["cancellable"] = !job.status.isFinished && !job.cancelRequested
        data["replayable"] = job.status == .dead || job.status == .cancelled
        data["cancelAction"] = base + "/cancel"
        data["replayAction"] = base + "/replay"
        return pages.page(
            "job", data,
            AdminPages.Frame(
                title: "Job \(job.id)", code: "job", session: context.session,
                notice: Self.notice(request.uri.queryParameters.get("notice")), refreshable: request))
    }

    private func cancel(_ context: AdminRequestContext) async throws -> Response {
        let id = try context.parameter("id")
        guard let job = try await jobs.cancel(id: id, now: now()) else { throw AdminPageError.notFound("job") }
        context.logAdminAction(
            "cancel_job", ["job.id": "\(job.id)", "job.name": "\(job.name)", "job.status": "\(job.status)"])
        return AdminPages.redirect("/admin/jobs/\(AdminPages.segment(job.id))?notice=cancelled")
    }

    private func replay(_ context: AdminRequestContext) async throws -> Response {
        let id = try context.parameter("id")
        guard try await jobs.replay(id: id, now: now()) else {
            guard try await jobs.job(id: id) != nil else { throw AdminPageError.notFound("job") }
            throw AdminPageError(
                .conflict, code: "not_replayable", title: "Not replayed",
                message: "Only dead and cancelled jobs can be replayed.")
        }
        context.logAdminAction("replay_job", ["job.id": "\(id)"])
        return AdminPages.redirect("/admin/jobs/\(AdminPages.segment(id))?notice=replayed")
    }

    static func row(_ job: JobRecord) -> [String: Any] {
        var progress = job.progress.map { "\(Int(($0 * 100).rounded())) %" } ?? ""
        if let message = job.progressMessage { progress += progress.isEmpty ? message : " · \(message)" }
        return [
            "id": job.id, "href": "/admin/jobs/\(AdminPages.segment(job.id))", "name": job.name,
            "tenant": job.tenant?.description ?? "global", "status": job.status.description, "attempts": job.attempts,
            "queued": AdminPages.time(job.queuedAt), "runAt": AdminPages.time(job.runAt), "progress": progress,
            "error": String((job.lastError ?? "").prefix(200)),
        ]
    }

    static func notice(_ code: String?) -> String? {
        switch code {
        case "cancelled": "Cancel asked: a waiting job is cancelled, a running one stops at its next heartbeat."
        case "replayed": "Replayed: the job is pending again."
        default: nil
        }
    }
}
