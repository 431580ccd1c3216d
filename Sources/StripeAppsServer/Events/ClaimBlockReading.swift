import StripeApps

extension InstallationStore {
    /// Whether `tenant` is blocked, as a worker starting claimed work must see it: the claim's own reading
    /// (`reading`, from the statement that made the claim) while it is younger than `lifetime`, counted from
    /// `claimedAt` (taken before that statement ran); otherwise, or when the claim did not read it, the
    /// installation read now. The inbox and job workers decide by it alike.
    func isBlocked(
        _ tenant: Tenant, claimReading reading: Bool?, claimedAt: ContinuousClock.Instant?, lifetime: Duration
    ) async throws -> Bool {
        if let reading, let claimedAt, ContinuousClock.now - claimedAt < lifetime { return reading }
        return try await installation(for: tenant)?.isBlocked == true
    }
}
