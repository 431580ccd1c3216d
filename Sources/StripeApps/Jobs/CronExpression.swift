/// A standard five-field cron expression (minute, hour, day of month, month, day of week), as Debian's cron reads
/// it.
///
/// - Fields: numbers, `*`, lists (`1,15`), ranges (`1-5`), steps (`*/15`, `10-50/20`, `5/15`: from 5 to the
///   field's end), three-letter month and weekday names (`JAN`–`DEC`, `SUN`–`SAT`, any case); 0 and 7 are both
///   Sunday.
/// - Nicknames: `@yearly` and `@annually` (`0 0 1 1 *`), `@monthly` (`0 0 1 * *`), `@weekly` (`0 0 * * 0`),
///   `@daily` and `@midnight` (`0 0 * * *`), `@hourly` (`0 * * * *`). `@reboot` has no meaning for a schedule
///   shared by several instances and is refused.
/// - Day of month and day of week: when both are restricted, a day matches if **either** does; when either field
///   starts with `*`, both must match (Debian's rule, so `*/2` in one of them means "and").
/// - Not supported, and refused with the field named: a seconds field, `L`, `W`, `#`, `?` and `H`.
///
/// Whether the expression is **fixed-time** (neither the minute nor the hour field starts with `*`) decides how
/// ``CronSchedule`` treats daylight-saving changes, as Debian's cron does.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// One of the five fields, named in errors.
    public enum Field: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        case minute, hour, dayOfMonth, month, dayOfWeek

        public var description: String {
            switch self {
            case .minute: "minute"
            case .hour: "hour"
            case .dayOfMonth: "day-of-month"
            case .month: "month"
            case .dayOfWeek: "day-of-week"
            }
        }

        var range: ClosedRange<Int> {
            switch self {
            case .minute: 0...59
            case .hour: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .dayOfWeek: 0...7
            }
        }

        var names: [String] {
            switch self {
            case .month: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
            case .dayOfWeek: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
            default: []
            }
        }

        /// The value of the first name (`JAN` is 1, `SUN` is 0).
        var firstNameValue: Int { self == .month ? 1 : 0 }
    }

    /// The text it was read from.
    public let text: String
    /// Matching minutes, bit `n` for minute `n`.
    let minutes: UInt64
    /// Matching hours.
    let hours: UInt32
    /// Matching days of the month, bit `n` for day `n`.
    let daysOfMonth: UInt32
    /// Matching months, bit `n` for month `n`.
    let months: UInt16
    /// Matching days of the week, bit 0 for Sunday.
    let daysOfWeek: UInt8
    /// Whether a day must match both day fields (one of them starts with `*`), rather than either.
    let daysMustMatchBoth: Bool
    /// Whether neither the minute nor the hour field starts with `*`.
    public let isFixedTime: Bool

    static let nicknames: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    /// Reads an expression.
    ///
    /// - Throws: ``CronExpressionError`` naming the field that is wrong, or saying why the whole expression is.
    public init(_ text: String) throws(CronExpressionError) {
        let trimmed = text.trimmingWhitespace()
        self.text = trimmed
        var source = trimmed
        if trimmed.hasPrefix("@") {
            let nickname = trimmed.lowercased()
            if nickname == "@reboot" {
                throw CronExpressionError(
                    nil, "@reboot has no meaning for a schedule several instances share; use a job pushed at start-up")
            }
            guard let expanded = Self.nicknames[nickname] else {
                throw CronExpressionError(
                    nil,
                    "unknown nickname \(trimmed.prefix(20)); known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly"
                )
            }
            source = expanded
        }
        let parts = source.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { String($0).uppercased() }
        guard parts.count == 5 else {
            throw CronExpressionError(
                nil,
                parts.count == 6
                    ? "six fields: a seconds field is not supported; use minute hour day-of-month month day-of-week"
                    : "an expression has five fields (minute hour day-of-month month day-of-week), not \(parts.count)")
        }
        let minuteValues = try Self.parse(parts[0], .minute)
        let hourValues = try Self.parse(parts[1], .hour)
        let dayValues = try Self.parse(parts[2], .dayOfMonth)
        let monthValues = try Self.parse(parts[3], .month)
        let weekdayValues = try Self.parse(parts[4], .dayOfWeek)
        minutes = minuteValues.reduce(0) { $0 | (1 << UInt64($1)) }
        hours = hourValues.reduce(0) { $0 | (1 << UInt32($1)) }
        daysOfMonth = dayValues.reduce(0) { $0 | (1 << UInt32($1)) }
        months = monthValues.reduce(0) { $0 | (1 << UInt16($1)) }
        daysOfWeek = weekdayValues.reduce(0) { $0 | (1 << UInt8($1 % 7)) }
        daysMustMatchBoth = parts[2].hasPrefix("*") || parts[4].hasPrefix("*")
        isFixedTime = !parts[0].hasPrefix("*") && !parts[1].hasPrefix("*")
        if daysMustMatchBoth, let firstDay = dayValues.min(), firstDay > 29 {
            // Only when both day fields must match can the day of month alone make the expression unsatisfiable.
            let longest = monthValues.map { [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][$0] }.max() ?? 31
            if firstDay > longest {
                throw CronExpressionError(.dayOfMonth, "day \(firstDay) never occurs in the months given")
            }
        }
    }

    public var description: String { text }

    /// The values a field's text selects.
    static func parse(_ text: String, _ field: Field) throws(CronExpressionError) -> [Int] {
        guard !text.isEmpty else { throw CronExpressionError(field, "is empty") }
        var values: [Int] = []
        for term in text.split(separator: ",", omittingEmptySubsequences: false) {
            values += try parseTerm(String(term), field)
        }
        return values
    }

    private static func parseTerm(_ term: String, _ field: Field) throws(CronExpressionError) -> [Int] {
        guard !term.isEmpty else { throw CronExpressionError(field, "has an empty list item") }
        // Extensions of other crons; letters are checked only where no name could contain them (JUL, WED, THU).
        for unsupported in ["#", "?"] + (field.names.isEmpty ? ["L", "W", "H"] : [])
        where term.contains(unsupported) {
            throw CronExpressionError(field, "\(unsupported) is not supported (five-field Debian cron only)")
        }
        var base = term
        var step = 1
        if let slash = term.firstIndex(of: "/") {
            base = String(term[..<slash])
            let stepText = term[term.index(after: slash)...]
            guard let parsed = Int(stepText), stepText.allSatisfy(\.isASCIIDigit), parsed > 0 else {
                throw CronExpressionError(field, "step \(stepText.prefix(10)) is not a whole number above 0")
            }
            step = parsed
        }
        let lower: Int
        let upper: Int
        if base == "*" {
            (lower, upper) = (field.range.lowerBound, field.range.upperBound)
        } else if let dash = base.firstIndex(of: "-") {
            lower = try value(String(base[..<dash]), field)
            upper = try value(String(base[base.index(after: dash)...]), field)
            guard lower <= upper else {
                throw CronExpressionError(field, "range \(base.prefix(12)) ends before it starts")
            }
        } else {
            lower = try value(base, field)
            // `5/15` runs from 5 to the end of the field; a plain value is just itself.
            upper = term.contains("/") ? field.range.upperBound : lower
        }
        return Array(stride(from: lower, through: upper, by: step))
    }

    private static func value(_ text: String, _ field: Field) throws(CronExpressionError) -> Int {
        if let index = field.names.firstIndex(of: text) { return index + field.firstNameValue }
        guard !text.isEmpty, text.allSatisfy(\.isASCIIDigit), let number = Int(text.prefix(6)), text.count <= 6,
            field.range.contains(number)
        else {
            let allowed =
                field.names.isEmpty
                ? "\(field.range.lowerBound)-\(field.range.upperBound)"
                : "\(field.range.lowerBound)-\(field.range.upperBound) or \(field.names.first ?? "")-\(field.names.last ?? "")"
            throw CronExpressionError(field, "\(text.prefix(12)) is not a value of \(allowed)")
        }
        return number
    }

    func matchesMinute(_ minute: Int) -> Bool { minutes & (1 << UInt64(minute)) != 0 }
    func matchesHour(_ hour: Int) -> Bool { hours & (1 << UInt32(hour)) != 0 }
    func matchesMonth(_ month: Int) -> Bool { months & (1 << UInt16(month)) != 0 }

    /// Whether a civil date matches the month and the day rule.
    func matchesDay(year: Int, month: Int, day: Int, weekday: Int) -> Bool {
        guard matchesMonth(month) else { return false }
        let dayOfMonth = daysOfMonth & (1 << UInt32(day)) != 0
        let dayOfWeek = daysOfWeek & (1 << UInt8(weekday)) != 0
        return daysMustMatchBoth ? dayOfMonth && dayOfWeek : dayOfMonth || dayOfWeek
    }
}

/// Why a cron expression or a schedule's time zone was refused.
public struct CronExpressionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field that is wrong; `nil` when the expression as a whole is.
    public let field: CronExpression.Field?
    /// What is wrong, in plain words.
    public let message: String

    init(_ field: CronExpression.Field?, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String {
        if let field { return "invalid \(field) field: \(message)" }
        return "invalid cron expression: \(message)"
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
