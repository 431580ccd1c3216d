import Foundation
import Logging
import StripeApps
import StripeAppsServer
import Synchronization

/// `stripe-apps-test-server jobs-bench`: the job queue and worker on the storage DATABASE_URL names, in one process.
///
/// 1. Pushes `JOBS` (20,000) jobs from 16 tasks: pushes/s, each push durable when it returns.
/// 2. Starts the worker (`JOB_CONCURRENCY`, no-op handler) on that backlog: claims+completions/s.
/// 3. With the worker running, pushes 2,000 jobs at about 200/s: p50 and p99 from push to handler start.
/// 4. Installs 10,000 tenants and times one slot of a per-installation schedule fanned out to all of them.
enum JobsBenchmark {
    struct Noop: JobParameters {
        static let jobName = "bench"
        let pushedAt: Double
    }

    static func run<Storage: StorageBackend>(storage: Storage, configuration: AppConfiguration, logger: Logger)
        async throws
    {
        let environment = ProcessInfo.processInfo.environment
        let count = Int(environment["JOBS"] ?? "") ?? 20_000
        let tenantCount = Int(environment["TENANTS"] ?? "") ?? 10_000
        // Real time: PostgreSQL advances schedules on its own clock.
        let clock = Mutex(Date())
        let started = Mutex(0)
        let latencies = Mutex<[Double]>([])
        let measuring = Atomic(false)
        var registry = JobRegistry()
        registry.registerJob(parameters: Noop.self) { parameters, _ in
            if measuring.load(ordering: .relaxed) {
                let latency = Date().timeIntervalSince1970 - parameters.pushedAt
                latencies.withLock { $0.append(latency) }
            }
            started.withLock { $0 += 1 }
        }
        let worker = jobWorker(
            configuration: configuration, storage: storage, registry: registry, now: { clock.withLock { $0 } },
            logger: logger)

        // 1. Pushes.
        let pushStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<16 {
                group.addTask {
                    for _ in stride(from: lane, to: count, by: 16) {
                        try await worker.push(Noop(pushedAt: 0))
                    }
                }
            }
            try await group.waitForAll()
        }
        let pushSeconds = (ContinuousClock.now - pushStart).timeInterval
        print("push: \(count) jobs in \(format(pushSeconds)) s, \(Int(Double(count) / pushSeconds)) jobs/s")

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            // 2. The backlog.
            let runStart = ContinuousClock.now
            worker.start()
            while started.withLock({ $0 }) < count { try await Task.sleep(for: .milliseconds(5)) }
            let runSeconds = (ContinuousClock.now - runStart).timeInterval
            print(
                "run: \(count) jobs claimed and completed in \(format(runSeconds)) s, \(Int(Double(count) / runSeconds)) jobs/s (JOB_CONCURRENCY=\(configuration.jobConcurrency))"
            )
            // 3. Push to start at about 200/s.
            measuring.store(true, ordering: .relaxed)
            for _ in 0..<2000 {
                try await worker.push(Noop(pushedAt: Date().timeIntervalSince1970))
                try await Task.sleep(for: .milliseconds(5))
            }
            while latencies.withLock({ $0.count }) < 2000 { try await Task.sleep(for: .milliseconds(5)) }
            let sorted = latencies.withLock { $0 }.sorted()
            print(
                "push to start at ~200/s: p50 \(format(sorted[sorted.count / 2] * 1000)) ms, p99 \(format(sorted[sorted.count * 99 / 100] * 1000)) ms, max \(format((sorted.last ?? 0) * 1000)) ms"
            )
            group.cancelAll()
        }

        // 4. Fan-out of one slot to every installed tenant.
        let now = clock.withLock { $0 }
        for index in 0..<tenantCount {
            _ = try await storage.installations.apply(
                InstallationChange(
                    tenant: Tenant(accountID: "acct_fan\(index)", mode: .live), action: .activate,
                    source: .installCallback, occurredAt: now, recordedAt: now))
        }
        // A worker of its own for the fan-out, so that its schedule is registered only now.
        var fanRegistry = JobRegistry()
        fanRegistry.registerJob(parameters: Noop.self) { _, _ in }
        try fanRegistry.addSchedule(
            "fan-out", try JobSchedule.every(.seconds(2)), parameters: Noop(pushedAt: 0), perInstallation: true)
        let fanWorker = jobWorker(
            configuration: configuration, storage: storage, registry: fanRegistry, now: { clock.withLock { $0 } },
            logger: logger)
        clock.withLock { $0 = Date() }
        _ = await fanWorker.advanceSchedules()  // registers the schedule
        // Just past the next 2-second slot boundary, so one slot is due.
        let past = Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 2)
        try await Task.sleep(for: .milliseconds(Int64((2 - past + 0.1) * 1000)))
        clock.withLock { $0 = Date() }
        let fanStart = ContinuousClock.now
        let pushed = await fanWorker.advanceSchedules()
        let fanSeconds = (ContinuousClock.now - fanStart).timeInterval
        print("fan-out: one slot to \(pushed) of \(tenantCount) tenants in \(format(fanSeconds)) s")
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }
}
