import Prometheus
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The standard `process_*` metrics of Prometheus client libraries, read from `/proc/self` at each scrape.
///
/// Our own because swift-prometheus has none and swift-metrics moved its system metrics to a package not in
/// our dependency set (swift-system-metrics); this is the same reading of `/proc` those do, in 80 lines. On
/// systems without `/proc` (macOS), only the start time is reported.
package final class ProcessMetrics: Sendable {
    private let residentMemory: Gauge
    private let virtualMemory: Gauge
    private let openFDs: Gauge
    private let maximumFDs: Gauge
    private let cpuSeconds: Counter
    private let startTime: Gauge
    /// The CPU seconds already added to the counter, which can only be incremented.
    private let cpuReported = Mutex(0.0)

    init(registry: PrometheusCollectorRegistry) {
        residentMemory = registry.makeGauge(
            descriptor: .init("process_resident_memory_bytes", "Resident memory size in bytes."))
        virtualMemory = registry.makeGauge(
            descriptor: .init("process_virtual_memory_bytes", "Virtual memory size in bytes."))
        openFDs = registry.makeGauge(descriptor: .init("process_open_fds", "Number of open file descriptors."))
        maximumFDs = registry.makeGauge(
            descriptor: .init("process_max_fds", "Maximum number of open file descriptors."))
        cpuSeconds = registry.makeCounter(
            descriptor: .init("process_cpu_seconds_total", "Total user and system CPU time spent in seconds."))
        startTime = registry.makeGauge(
            descriptor: .init("process_start_time_seconds", "Start time of the process since unix epoch in seconds."))
        startTime.set(Self.readStartTime() ?? Date().timeIntervalSince1970)
    }

    /// Reads the current values; called before each scrape is written.
    func update() {
        if let stat = Self.readStat() {
            residentMemory.set(Double(stat.residentPages) * Double(sysconf(Int32(_SC_PAGESIZE))))
            virtualMemory.set(Double(stat.virtualBytes))
            let total = Double(stat.userTicks + stat.systemTicks) / Double(sysconf(Int32(_SC_CLK_TCK)))
            let delta = cpuReported.withLock { reported in
                defer { reported = max(reported, total) }
                return total - reported
            }
            if delta > 0 { cpuSeconds.increment(by: delta) }
        }
        if let count = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count {
            openFDs.set(Double(count - 1))  // less the descriptor of the listing itself
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { maximumFDs.set(Double(limit.rlim_cur)) }
    }

    /// The fields of `/proc/self/stat` used here (see proc(5)).
    package struct Stat: Equatable {
        package var userTicks: Int
        package var systemTicks: Int
        package var startTicks: Int
        package var virtualBytes: Int
        package var residentPages: Int
    }

    /// Parses `/proc/self/stat`; the command name (field 2) may hold spaces and parentheses, so fields are counted
    /// from the last `)`.
    package static func parseStat(_ text: String) -> Stat? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        // Fields from 3 (state) on.
        let fields = text[text.index(after: close)...].split(separator: " ")
        func field(_ number: Int) -> Int? { fields.count > number - 3 ? Int(fields[number - 3]) : nil }
        guard let user = field(14), let system = field(15), let start = field(22), let virtual = field(23),
            let resident = field(24)
        else { return nil }
        return Stat(
            userTicks: user, systemTicks: system, startTicks: start, virtualBytes: virtual, residentPages: resident)
    }

    package static func readStat() -> Stat? {
        (try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8)).flatMap(parseStat)
    }

    /// The boot time (`btime` of `/proc/stat`) plus the process's start in clock ticks since boot.
    static func readStartTime() -> Double? {
        guard let stat = readStat(), let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(line.dropFirst("btime ".count))
        else { return nil }
        return boot + Double(stat.startTicks) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
