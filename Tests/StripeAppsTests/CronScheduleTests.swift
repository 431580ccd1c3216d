import Foundation
import StripeApps
import Testing

/// Cron expressions and their instants, checked against `cronsim` (Debian cron's rules), an implementation we did
/// not write: `scripts/generate-cron-fixtures.py` wrote `Fixtures/cron-cases.json` with it.
@Suite struct CronScheduleTests {
    struct Fixtures: Decodable {
        struct Case: Decodable {
            let expression: String
            let zone: String
            /// Each run: the start instant, then the next instants after it (Unix seconds).
            let runs: [[Int64]]
        }
        struct Invalid: Decodable {
            let expression: String
            let field: String?
        }
        let generator: String
        let cases: [Case]
        let invalid: [Invalid]
    }

    static let fixtures: Fixtures = {
        let url = Bundle.module.url(forResource: "Fixtures/cron-cases", withExtension: "json")!
        return try! JSONDecoder().decode(Fixtures.self, from: Data(contentsOf: url))
    }()

    static func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }
    static func text(_ date: Date?) -> String { date.map { ISO8601DateFormatter().string(from: $0) } ?? "none" }

    /// Thousands of runs in ten zones (daylight saving in both hemispheres, a 30-minute shift, midnight changes,
    /// +12:45, none at all), from starts around every transition of 2025-2027, month ends and February 29th.
    @Test(arguments: fixtures.cases)
    func theInstantsAreCronsims(_ fixture: Fixtures.Case) throws {
        let schedule = try CronSchedule(fixture.expression, timeZone: fixture.zone)
        for run in fixture.runs {
            let expected = run.dropFirst().map { Date(timeIntervalSince1970: TimeInterval($0)) }
            let actual = schedule.instants(
                after: Date(timeIntervalSince1970: TimeInterval(run[0])), count: expected.count)
            #expect(
                actual == expected,
                "\(fixture.expression) in \(fixture.zone) after \(Self.text(Date(timeIntervalSince1970: TimeInterval(run[0])))): \(actual.map(Self.text)) != \(expected.map(Self.text))"
            )
        }
    }

    @Test func theFixturesCoverEnough() {
        #expect(Self.fixtures.cases.reduce(0) { $0 + $1.runs.count } >= 5000)
        #expect(Set(Self.fixtures.cases.map(\.zone)).count >= 8)
        #expect(Self.fixtures.generator.hasPrefix("cronsim"))
    }

    @Test(arguments: fixtures.invalid)
    func invalidExpressionsNameTheirField(_ fixture: Fixtures.Invalid) {
        let error = #expect(throws: CronExpressionError.self, "\(fixture.expression)") {
            try CronExpression(fixture.expression)
        }
        #expect(error?.field?.description == fixture.field, "\(fixture.expression): \(String(describing: error))")
        if let field = fixture.field { #expect(error?.description.contains(field) == true) }
    }

    /// Debian's daylight-saving rules, spelled out (New York: 2025-03-09 02:00 → 03:00, 2025-11-02 02:00 → 01:00).
    @Test func daylightSavingRules() throws {
        let beforeSpring = Self.utc("2025-03-09T04:00:00Z")  // 23:00 EST on the 8th
        // A fixed time in the skipped hour runs once, when the clock jumps (03:00 EDT = 07:00Z).
        let fixed = try CronSchedule("30 2 * * *", timeZone: "America/New_York")
        #expect(
            fixed.instants(after: beforeSpring, count: 2).map(Self.text) == [
                "2025-03-09T07:00:00Z", "2025-03-10T06:30:00Z",
            ])
        // A wildcard hour follows the wall clock: 01:00 EST, then 03:00 EDT.
        let hourly = try CronSchedule("0 * * * *", timeZone: "America/New_York")
        #expect(
            hourly.instants(after: Self.utc("2025-03-09T05:30:00Z"), count: 2).map(Self.text) == [
                "2025-03-09T06:00:00Z", "2025-03-09T07:00:00Z",
            ])
        // Fall back: a fixed time in the repeated hour runs once (the first, EDT); a wildcard one in both.
        let beforeFall = Self.utc("2025-11-02T04:00:00Z")
        let once = try CronSchedule("30 1 * * *", timeZone: "America/New_York")
        #expect(
            once.instants(after: beforeFall, count: 2).map(Self.text) == [
                "2025-11-02T05:30:00Z", "2025-11-03T06:30:00Z",
            ])
        // From inside the second pass of the repeated hour, the fixed time already ran (cronsim, reading a naive
        // wall clock, answers the first pass, before the start; the fixtures leave those runs out).
        #expect(once.next(after: Self.utc("2025-11-02T06:13:00Z")) == Self.utc("2025-11-03T06:30:00Z"))
        let twice = try CronSchedule("30 * * * *", timeZone: "America/New_York")
        #expect(
            twice.instants(after: beforeFall, count: 3).map(Self.text) == [
                "2025-11-02T04:30:00Z", "2025-11-02T05:30:00Z", "2025-11-02T06:30:00Z",
            ])
        // Enumerated hours are fixed-time (Debian's rule: "starts with *"), so 01:00 runs once on fall-back day.
        let enumerated = try CronSchedule(
            "0 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23 * * *", timeZone: "America/New_York")
        #expect(
            enumerated.instants(after: beforeFall, count: 3).map(Self.text) == [
                "2025-11-02T05:00:00Z", "2025-11-02T07:00:00Z", "2025-11-02T08:00:00Z",
            ])
    }

    @Test func theDayRuleIsOrOnlyWhenBothDayFieldsAreRestricted() throws {
        let after = Self.utc("2025-06-01T00:00:00Z")  // a Sunday
        // The 13th, or any Friday.
        let either = try CronSchedule("0 12 13 * FRI")
        #expect(
            either.instants(after: after, count: 3).map(Self.text) == [
                "2025-06-06T12:00:00Z", "2025-06-13T12:00:00Z", "2025-06-20T12:00:00Z",
            ])
        // `*/2` starts with `*`: odd days that are also Fridays.
        let both = try CronSchedule("0 12 */2 * FRI")
        #expect(
            both.instants(after: after, count: 2).map(Self.text) == ["2025-06-13T12:00:00Z", "2025-06-27T12:00:00Z"])
        // 0 and 7 are Sunday; names in any case.
        #expect(
            try CronSchedule("0 0 * * 7").next(after: after) == CronSchedule("0 0 * * sun").next(after: after))
    }

    @Test func nicknamesAndUnsupportedForms() throws {
        #expect(try CronExpression("@daily").isFixedTime)
        #expect(try !CronExpression("@hourly").isFixedTime)
        #expect(
            try CronSchedule("@yearly").next(after: Self.utc("2025-06-01T00:00:00Z"))
                == Self.utc("2026-01-01T00:00:00Z"))
        let reboot = #expect(throws: CronExpressionError.self) { try CronExpression("@reboot") }
        #expect(reboot?.description.contains("@reboot") == true)
        let zone = #expect(throws: CronExpressionError.self) { try CronSchedule("0 0 * * *", timeZone: "Mars/Olympus") }
        #expect(zone?.description.contains("Mars/Olympus") == true)
        #expect(throws: CronExpressionError.self) { try CronSchedule("0 0 * * *", timeZone: "EST") }
    }

    /// Properties over a year in a zone with daylight saving: strictly increasing, every instant's wall-clock time
    /// matches, and the count is the matching wall-clock times minus those that do not exist plus the repeats.
    @Test(arguments: ["0 * * * *", "30 2 * * *", "*/15 1-3 * * *", "0 0 * * *"])
    func aYearOfInstantsIsOrderedAndMatches(_ expression: String) throws {
        let zone = try #require(TimeZone(identifier: "Europe/Berlin"))
        let schedule = try CronSchedule(CronExpression(expression), timeZone: zone)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        // The local year 2026: from 23:59:59 on 31 December 2025 to midnight on 1 January 2027 (CET, UTC+1).
        let start = Self.utc("2025-12-31T22:59:59Z")
        let end = Self.utc("2026-12-31T23:00:00Z")
        var instants: [Date] = []
        var cursor = start
        while let next = schedule.next(after: cursor), next < end {
            instants.append(next)
            cursor = next
        }
        #expect(zip(instants, instants.dropFirst()).allSatisfy { $0 < $1 })
        let atTheGap = Self.utc("2026-03-29T01:00:00Z")  // 02:00 CET became 03:00 CEST
        for instant in instants where instant != atTheGap {
            let parts = calendar.dateComponents([.hour, .minute], from: instant)
            let fields = expression.split(separator: " ")
            if fields[0] != "*/15" {
                #expect(fields[0] == "*" || Int(fields[0]) == parts.minute, "\(Self.text(instant))")
            } else {
                #expect((parts.minute ?? -1) % 15 == 0)
            }
        }
        switch expression {
        case "0 * * * *": #expect(instants.count == 365 * 24 - 1 + 1)  // one hour skipped, one repeated
        case "30 2 * * *": #expect(instants.count == 365)  // the skipped 02:30 runs at 03:00
        case "*/15 1-3 * * *": #expect(instants.count == 365 * 12 - 4 + 4)  // 02:xx skipped once, repeated once
        default: #expect(instants.count == 365)
        }
    }
}

extension CronScheduleTests.Fixtures.Case: CustomTestStringConvertible {
    var testDescription: String { "\(expression) in \(zone)" }
}

extension CronScheduleTests.Fixtures.Invalid: CustomTestStringConvertible {
    var testDescription: String { "\"\(expression)\"" }
}
