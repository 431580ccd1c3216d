#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// When a scheduled job runs: a cron expression in a time zone, or a fixed interval.
///
/// The names follow swift-jobs (`.daily(hour:minute:)`, `.crontab(_:timeZone:)`), so code written for it reads the
/// same. Every schedule produces **slots**: instants in UTC that identify one run, the same on every instance, so
/// the storage can run each (schedule, tenant, slot) once whichever instance gets there first.
///
/// ```swift
/// let nightly = try JobSchedule.daily(hour: 2, minute: 30, timeZone: "Europe/Berlin")
/// let everyFiveMinutes = try JobSchedule.every(.seconds(300))
/// let weekdays = try JobSchedule.crontab("0 9 * * MON-FRI", timeZone: "America/New_York")
/// ```
public struct JobSchedule: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case cron(CronSchedule)
        /// Slots at whole multiples of the interval since 1970-01-01T00:00:00Z, in seconds.
        case interval(Int64)
    }

    let kind: Kind

    /// A cron expression on the wall clock of an IANA zone, with Debian cron's daylight-saving rules
    /// (see ``CronSchedule``).
    public static func crontab(_ expression: String, timeZone: String = "UTC") throws(CronExpressionError)
        -> JobSchedule
    {
        JobSchedule(kind: .cron(try CronSchedule(expression, timeZone: timeZone)))
    }

    /// Every hour at `minute`.
    public static func hourly(minute: Int = 0) throws(CronExpressionError) -> JobSchedule {
        try crontab("\(minute) * * * *")
    }

    /// Every day at `hour`:`minute` on the zone's wall clock.
    public static func daily(hour: Int = 0, minute: Int = 0, timeZone: String = "UTC") throws(CronExpressionError)
        -> JobSchedule
    {
        try crontab("\(minute) \(hour) * * *", timeZone: timeZone)
    }

    /// Every week on `day` (0 or 7 is Sunday) at `hour`:`minute`.
    public static func weekly(day: Int, hour: Int = 0, minute: Int = 0, timeZone: String = "UTC")
        throws(CronExpressionError) -> JobSchedule
    {
        try crontab("\(minute) \(hour) * * \(day)", timeZone: timeZone)
    }

    /// Every month on `day` at `hour`:`minute`.
    public static func monthly(day: Int = 1, hour: Int = 0, minute: Int = 0, timeZone: String = "UTC")
        throws(CronExpressionError) -> JobSchedule
    {
        try crontab("\(minute) \(hour) \(day) * *", timeZone: timeZone)
    }

    /// Every `interval` (whole seconds, at least one), at instants that are whole multiples of it since
    /// 1970-01-01T00:00:00Z, so that every instance agrees on the slots without talking to each other.
    public static func every(_ interval: Duration) throws(CronExpressionError) -> JobSchedule {
        let seconds = interval.components.seconds
        guard seconds >= 1, interval.components.attoseconds == 0 else {
            throw CronExpressionError(nil, "an interval is a whole number of seconds, at least one")
        }
        return JobSchedule(kind: .interval(seconds))
    }

    public var description: String {
        switch kind {
        case .cron(let schedule): schedule.description
        case .interval(let seconds): "every \(seconds) s"
        }
    }

    /// The first slot strictly after `date`, or `nil` when the schedule never fires again.
    public func slot(after date: Date) -> Date? {
        switch kind {
        case .cron(let schedule):
            return schedule.next(after: date)
        case .interval(let seconds):
            let now = Int64(date.timeIntervalSince1970.rounded(.down))
            let next = (CronSchedule.floorDivide(now, seconds) + 1) * seconds
            return Date(timeIntervalSince1970: TimeInterval(next))
        }
    }

    /// What to do with slots missed while no instance ran (a deploy, an outage), once they are older than the
    /// grace window (see ``dueSlots(after:now:grace:accuracy:limit:)``).
    public enum ScheduleAccuracy: String, Sendable, Hashable, CaseIterable {
        /// Run the newest missed slot once, for the whole backlog (swift-jobs' `.latest`, the default).
        case latest
        /// Run every missed slot (up to the limit).
        case all
        /// Run none of them; wait for the next slot.
        case skip
    }

    /// The slots due at `now`, after the last slot that was handled (`after`), and where to continue from.
    ///
    /// Slots within `grace` of `now` are always due: a run a little late is still that slot's run. Older slots
    /// are missed and follow `accuracy`. The result never contains a slot at or before `after`, nor one after
    /// `now`; `resumeAfter` is the instant to pass as `after` next time (the newest slot considered, run or not).
    ///
    /// - Parameters:
    ///   - after: The last slot handled, or the moment the schedule was registered.
    ///   - limit: The most slots returned (the oldest are dropped first under `.all`).
    public func dueSlots(
        after: Date,
        now: Date,
        grace: Duration,
        accuracy: ScheduleAccuracy = .latest,
        limit: Int = 1000
    ) -> (slots: [Date], resumeAfter: Date) {
        let limit = max(1, limit)
        let graceStart = now.addingTimeInterval(-grace.timeInterval)
        var missed: [Date] = []
        var onTime: [Date] = []
        var newest = after
        switch kind {
        case .interval(let seconds):
            // Slots are k × seconds: count them instead of walking a long outage of a short interval.
            let first = CronSchedule.floorDivide(Int64(after.timeIntervalSince1970.rounded(.down)), seconds) + 1
            let last = CronSchedule.floorDivide(Int64(now.timeIntervalSince1970.rounded(.down)), seconds)
            let firstOnTime = max(
                first, -CronSchedule.floorDivide(-Int64(graceStart.timeIntervalSince1970.rounded(.up)), seconds))
            func date(_ k: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(k * seconds)) }
            if last >= first {
                newest = date(last)
                let lastMissed = min(last, firstOnTime - 1)
                if lastMissed >= first {
                    missed = (max(first, lastMissed - Int64(limit) + 1)...lastMissed).map(date)
                }
                if last >= firstOnTime {
                    onTime = (firstOnTime...min(last, firstOnTime + Int64(limit) - 1)).map(date)
                    // Slots past the limit are left for the next call, which resumes after the last one returned.
                    if onTime.count == limit, let lastReturned = onTime.last { newest = lastReturned }
                }
            }
        case .cron:
            var cursor = after
            while let slot = slot(after: cursor), slot <= now {
                if slot < graceStart {
                    missed.append(slot)
                    if missed.count > limit { missed.removeFirst() }
                } else {
                    onTime.append(slot)
                }
                newest = slot
                cursor = slot
                if onTime.count >= limit { break }
            }
        }
        let keptMissed: [Date]
        switch accuracy {
        case .latest: keptMissed = onTime.isEmpty ? Array(missed.suffix(1)) : []
        case .all: keptMissed = missed
        case .skip: keptMissed = []
        }
        return (Array((keptMissed + onTime).suffix(limit)), newest)
    }

    /// A delay within `window` that spreads one slot's runs over many tenants, the same for a tenant every time
    /// (so the slot, not its start, identifies the run): FNV-1a of the schedule name and the tenant.
    public static func jitter(for tenant: Tenant?, schedule name: String, within window: Duration) -> Duration {
        let milliseconds = UInt64(max(0, window.timeInterval * 1000))
        guard milliseconds > 0 else { return .zero }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let key = "\(name)\u{0}\(tenant?.accountID ?? "")\u{0}\(tenant?.mode.description ?? "")"
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return .milliseconds(Int64(hash % milliseconds))
    }
}
