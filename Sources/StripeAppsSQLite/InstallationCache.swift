package import StripeApps
import Synchronization

/// A short-lived, bounded read-through cache of installation records, for the SQLite store.
///
/// Every signed UI call looks up its tenant's installation, and on SQLite that point read costs more than
/// verifying the signature. The SQLite store is owned by one process, whose writes go through
/// ``SQLiteInstallationStore/apply(_:)`` and update the cache; ``lifetime`` bounds how long a change made
/// by another process could go unseen. A generation counter keeps a read that raced with a write from
/// putting the older value back.
package final class InstallationCache: Sendable {
    private struct Entry {
        let installation: Installation?
        let expires: ContinuousClock.Instant
    }

    private struct State {
        var entries: [Tenant: Entry] = [:]
        var generation = 0
    }

    let lifetime: Duration
    let capacity: Int
    private let state = Mutex(State())

    package init(lifetime: Duration, capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    var isEnabled: Bool { lifetime > .zero }

    /// The cached record (`.some(nil)` for a cached "not installed"), or `nil` on a miss.
    package func cached(_ tenant: Tenant) -> Installation?? {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let entry = state.entries[tenant], entry.expires > now else { return nil }
            return .some(entry.installation)
        }
    }

    /// The generation to pass to ``fill(_:with:generation:)`` after reading the database.
    package var generation: Int { state.withLock { $0.generation } }

    /// Caches a value read from the database, unless a write happened since `generation` was taken.
    package func fill(_ tenant: Tenant, with installation: Installation?, generation: Int) {
        guard isEnabled else { return }
        let expires = ContinuousClock.now + lifetime
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[tenant] = Entry(installation: installation, expires: expires)
        }
    }

    /// Forgets a tenant's record after a committed write whose result this process does not hold.
    package func invalidate(_ tenant: Tenant) {
        state.withLock { state in
            state.generation += 1
            state.entries[tenant] = nil
        }
    }

    /// Records a committed write.
    package func written(_ installation: Installation) {
        let expires = ContinuousClock.now + lifetime
        state.withLock { state in
            state.generation += 1
            if isEnabled { state.entries[installation.tenant] = Entry(installation: installation, expires: expires) }
        }
    }
}
