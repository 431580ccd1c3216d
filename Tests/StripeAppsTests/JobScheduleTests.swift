import Foundation
import StripeApps
import Testing

/// Slots, missed slots after downtime and per-tenant jitter, with an injected clock.
@Suite struct JobScheduleTests {
    static func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func intervalSlotsAreWholeMultiplesSinceTheEpoch() throws {
        let every5 = try JobSchedule.every(.seconds(300))
        #expect(every5.slot(after: Self.utc("2026-05-01T10:02:13Z")) == Self.utc("2026-05-01T10:05:00Z"))
        #expect(every5.slot(after: Self.utc("2026-05-01T10:05:00Z")) == Self.utc("2026-05-01T10:10:00Z"))
        #expect(throws: CronExpressionError.self) { try JobSchedule.every(.milliseconds(1500)) }
        #expect(throws: CronExpressionError.self) { try JobSchedule.every(.zero) }
        let daily = try JobSchedule.daily(hour: 2, minute: 30, timeZone: "Europe/Berlin")
        #expect(daily.slot(after: Self.utc("2026-05-01T00:00:00Z")) == Self.utc("2026-05-01T00:30:00Z"))  // CEST
        #expect(throws: CronExpressionError.self) { try JobSchedule.daily(hour: 25) }
    }

    @Test func slotsWithinTheGraceWindowRunLate() throws {
        let hourly = try JobSchedule.hourly(minute: 0)
        // Last handled 09:00; at 10:00:40 with a 60 s grace, 10:00 is due.
        let due = hourly.dueSlots(
            after: Self.utc("2026-05-01T09:00:00Z"), now: Self.utc("2026-05-01T10:00:40Z"), grace: .seconds(60))
        #expect(due.slots == [Self.utc("2026-05-01T10:00:00Z")])
        #expect(due.resumeAfter == Self.utc("2026-05-01T10:00:00Z"))
        // Nothing due yet: resume from where we were.
        let early = hourly.dueSlots(after: due.resumeAfter, now: Self.utc("2026-05-01T10:59:59Z"), grace: .seconds(60))
        #expect(early.slots.isEmpty && early.resumeAfter == due.resumeAfter)
    }

    @Test(arguments: JobSchedule.ScheduleAccuracy.allCases)
    func missedSlotsFollowThePolicy(_ accuracy: JobSchedule.ScheduleAccuracy) throws {
        let daily = try JobSchedule.daily(hour: 3)
        // Down from before the 1st's run until the 4th at 12:00: the 1st, 2nd, 3rd and 4th 03:00 slots were missed.
        let due = daily.dueSlots(
            after: Self.utc("2026-04-30T03:00:00Z"), now: Self.utc("2026-05-04T12:00:00Z"), grace: .seconds(300),
            accuracy: accuracy)
        let missed = (1...4).map { Self.utc("2026-05-0\($0)T03:00:00Z") }
        switch accuracy {
        case .latest: #expect(due.slots == [missed[3]])
        case .all: #expect(due.slots == missed)
        case .skip: #expect(due.slots.isEmpty)
        }
        #expect(due.resumeAfter == missed[3], "the backlog is handled whatever the policy")
    }

    /// When a slot is on time, `latest` runs it and drops the older backlog; `all` runs the backlog too.
    @Test func anOnTimeSlotMakesTheBacklogUnderLatestUnnecessary() throws {
        let hourly = try JobSchedule.hourly()
        let after = Self.utc("2026-05-01T05:00:00Z")
        let now = Self.utc("2026-05-01T09:00:10Z")
        #expect(
            hourly.dueSlots(after: after, now: now, grace: .seconds(60)).slots == [Self.utc("2026-05-01T09:00:00Z")])
        #expect(
            hourly.dueSlots(after: after, now: now, grace: .seconds(60), accuracy: .all).slots
                == (6...9).map { Self.utc("2026-05-01T0\($0):00:00Z") })
    }

    /// An interval of 60 s and `* * * * *` have the same slots: the interval's arithmetic and the cron walk must
    /// agree on every due-slot question.
    @Test func intervalArithmeticAgreesWithTheCronWalk() throws {
        let interval = try JobSchedule.every(.seconds(60))
        let cron = try JobSchedule.crontab("* * * * *")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let after = Self.utc("2026-05-01T00:00:00Z").addingTimeInterval(
                Double.random(in: 0..<86_400, using: &generator).rounded())
            let now = after.addingTimeInterval(Double.random(in: -100..<20_000, using: &generator).rounded())
            let grace = Duration.seconds(Int64.random(in: 0..<3_000, using: &generator))
            let accuracy = JobSchedule.ScheduleAccuracy.allCases.randomElement(using: &generator)!
            let limit = Int.random(in: 1..<400, using: &generator)
            let a = interval.dueSlots(after: after, now: now, grace: grace, accuracy: accuracy, limit: limit)
            let b = cron.dueSlots(after: after, now: now, grace: grace, accuracy: accuracy, limit: limit)
            #expect(a.slots == b.slots, "after \(after) now \(now) grace \(grace) \(accuracy) limit \(limit)")
            #expect(
                a.resumeAfter == b.resumeAfter, "after \(after) now \(now) grace \(grace) \(accuracy) limit \(limit)")
        }
    }

    @Test func jitterIsStablePerTenantAndSpreadsAFanOut() {
        let tenants = (0..<10_000).map { Tenant(accountID: "acct_\($0)", mode: $0 % 2 == 0 ? .live : .test) }
        let window = Duration.seconds(10)
        let delays = tenants.map { JobSchedule.jitter(for: $0, schedule: "nightly-sync", within: window) }
        #expect(delays.allSatisfy { $0 >= .zero && $0 < window })
        #expect(
            delays[42] == JobSchedule.jitter(for: tenants[42], schedule: "nightly-sync", within: window),
            "the same tenant gets the same delay")
        // Spread: every second of the window gets between 5 % and 15 % of the tenants.
        let buckets = Dictionary(grouping: delays) { Int($0.components.seconds) }.mapValues(\.count)
        #expect(buckets.count == 10 && buckets.values.allSatisfy { (500...1500).contains($0) }, "\(buckets)")
        #expect(JobSchedule.jitter(for: tenants[0], schedule: "x", within: .zero) == .zero)
    }
}
