#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// A cron expression in a time zone: the instants it fires at, with Debian cron's daylight-saving rules.
///
/// The expression is evaluated on the zone's wall clock. Where the wall clock jumps:
///
/// - **Spring forward** (a local time that does not exist): a fixed-time expression (``CronExpression/isFixedTime``)
///   whose time falls in the gap fires once, at the first instant after it (`30 2 * * *` fires at 03:00 on that
///   day in New York); an expression whose minute or hour starts with `*` follows the wall clock, which skips the
///   gap.
/// - **Fall back** (a local time that happens twice): a fixed-time expression fires once, at the first of the
///   two; the others fire in both (`0 * * * *` fires at 01:00 twice).
///
/// Each firing is an instant (a `Date` in UTC), which is what identifies a slot: two rules never produce the same
/// instant twice. The rules and the results are those of Debian's cron and of `cronsim`, against which the tests
/// check several thousand cases in zones with daylight saving in both hemispheres.
///
/// ```swift
/// let schedule = try CronSchedule("30 2 * * *", timeZone: "America/New_York")
/// schedule.next(after: Date(timeIntervalSince1970: 1_741_500_000))  // 2025-03-09 07:00 UTC, 03:00 EDT
/// ```
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    /// The expression.
    public let expression: CronExpression
    /// The zone whose wall clock the expression reads.
    public let timeZone: TimeZone

    /// How far ahead ``next(after:)`` looks before it says the expression never fires again (as `cronsim`).
    static let searchYears: Int64 = 50

    /// A schedule of `expression` in `timeZone`.
    public init(_ expression: CronExpression, timeZone: TimeZone = .gmt) {
        self.expression = expression
        self.timeZone = timeZone
    }

    /// A schedule read from text, in the IANA zone named `timeZone` (`UTC` by default).
    ///
    /// - Throws: ``CronExpressionError`` for a bad expression, or a zone that is not an IANA identifier.
    public init(_ expression: String, timeZone: String = "UTC") throws(CronExpressionError) {
        let parsed = try CronExpression(expression)
        guard let zone = Self.zone(named: timeZone) else {
            throw CronExpressionError(
                nil, "unknown time zone \(timeZone.prefix(60)); use an IANA name such as Europe/Berlin")
        }
        self.init(parsed, timeZone: zone)
    }

    /// The IANA zone with this identifier, or `nil`; `UTC` and `GMT` are UTC.
    public static func zone(named name: String) -> TimeZone? {
        if name == "UTC" || name == "GMT" || name == "Etc/UTC" { return TimeZone(identifier: "GMT") }
        // IANA names are Area/Location; abbreviations such as EST are ambiguous and refused.
        guard name.contains("/") else { return nil }
        return TimeZone(identifier: name)
    }

    public var description: String { "\(expression) (\(timeZone.identifier))" }

    /// The first instant strictly after `date` at which the schedule fires, or `nil` when it never fires again
    /// within 50 years (`0 0 30 2 *` is refused when read; `0 0 29 2 1` fires, on Mondays of February and on
    /// every February 29th).
    public func next(after date: Date) -> Date? {
        let after = Int64((date.timeIntervalSince1970).rounded(.down))
        let limit = after + Self.searchYears * 366 * 86_400
        // The instant a search starts from, and whether that instant itself may fire (at a segment's start).
        var cursor = after
        var inclusive = false
        while cursor < limit {
            let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(cursor))))
            let transition = timeZone.nextDaylightSavingTimeTransition(
                after: Date(timeIntervalSince1970: TimeInterval(cursor))
            ).map { Int64($0.timeIntervalSince1970.rounded(.down)) }
            let segmentEnd = min(transition ?? limit, limit)
            // Local wall-clock seconds of the first minute that may fire in this segment.
            var local =
                inclusive
                ? Self.ceilingToMinute(cursor + offset)
                : Self.floorToMinute(cursor + offset) + 60
            while let wall = firstMatch(from: local, before: segmentEnd + offset) {
                let instant = wall - offset
                if expression.isFixedTime, happenedBefore(wall: wall, at: instant, offset: offset) {
                    local = wall + 60  // the second time this wall-clock time comes round: fixed-time runs once
                    continue
                }
                return Date(timeIntervalSince1970: TimeInterval(instant))
            }
            guard let transition, transition < limit else { return nil }
            let nextOffset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(transition))))
            if expression.isFixedTime, nextOffset > offset,
                firstMatch(from: transition + offset, before: transition + nextOffset) != nil
            {
                // A fixed time in the hour the clock skips fires once, as the clock jumps past it.
                return Date(timeIntervalSince1970: TimeInterval(transition))
            }
            cursor = transition
            inclusive = true
        }
        return nil
    }

    /// The next `count` instants strictly after `date`, fewer when the schedule stops firing.
    public func instants(after date: Date, count: Int) -> [Date] {
        var result: [Date] = []
        var cursor = date
        while result.count < count, let next = next(after: cursor) {
            result.append(next)
            cursor = next
        }
        return result
    }

    /// Whether the wall-clock time `wall`, reached at `instant` under `offset`, was already reached at an earlier
    /// instant (the clock went back over it).
    private func happenedBefore(wall: Int64, at instant: Int64, offset: Int64) -> Bool {
        // A fall-back within the last few hours had a larger offset before it: the same wall time under that offset
        // is an earlier instant, if that offset was in force then.
        let earlierOffset = Int64(
            timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant - 4 * 3600))))
        guard earlierOffset > offset else { return false }
        let earlier = wall - earlierOffset
        return Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(earlier))))
            == earlierOffset
    }

    /// The first matching wall-clock minute at or after `start` and before `end` (local seconds since 1970), or `nil`.
    func firstMatch(from start: Int64, before end: Int64) -> Int64? {
        var day = Self.floorDivide(start, 86_400)
        var minuteOfDay = Int((start - day * 86_400) / 60)
        while day * 86_400 < end {
            let (year, month, dayOfMonth) = Self.civil(fromDays: day)
            let weekday = Int(((day % 7) + 11) % 7)  // 1970-01-01 was a Thursday (4)
            if expression.matchesDay(year: year, month: month, day: dayOfMonth, weekday: weekday) {
                var hour = minuteOfDay / 60
                var minute = minuteOfDay % 60
                while hour < 24 {
                    if expression.matchesHour(hour) {
                        while minute < 60 {
                            if expression.matchesMinute(minute) {
                                let wall = day * 86_400 + Int64(hour * 3600 + minute * 60)
                                return wall < end ? wall : nil
                            }
                            minute += 1
                        }
                    }
                    hour += 1
                    minute = 0
                }
            } else if !expression.matchesMonth(month) {
                // Skip the rest of a month that cannot match.
                let daysInMonth = Self.daysIn(year: year, month: month)
                day += Int64(daysInMonth - dayOfMonth)
            }
            day += 1
            minuteOfDay = 0
        }
        return nil
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
    }

    static func floorToMinute(_ seconds: Int64) -> Int64 { floorDivide(seconds, 60) * 60 }

    static func ceilingToMinute(_ seconds: Int64) -> Int64 { -floorDivide(-seconds, 60) * 60 }

    /// The proleptic Gregorian date of a day number (days since 1970-01-01); H. Hinnant's `civil_from_days`.
    static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = floorDivide(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
