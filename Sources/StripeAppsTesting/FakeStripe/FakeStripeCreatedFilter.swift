import StripeApps

/// Stripe's `created` list filter: `created=123` or `created[gt|gte|lt|lte]=123`.
struct FakeStripeCreatedFilter: Sendable {
    private var lower: Int64 = .min
    private var upper: Int64 = .max

    /// Reads `created` from `parameters`; absent means no bounds.
    init(_ parameters: FakeStripeParameters) throws(FakeStripeError) {
        guard let value = parameters["created"] else { return }
        if value.stringValue != nil {
            guard let exact = try parameters.integer("created") else { return }
            lower = exact
            upper = exact
            return
        }
        guard let bounds = try parameters.object("created") else { return }
        try bounds.allowOnly(["gt", "gte", "lt", "lte"])
        if let gt = try bounds.integer("gt") { lower = max(lower, gt == .max ? gt : gt + 1) }
        if let gte = try bounds.integer("gte") { lower = max(lower, gte) }
        if let lt = try bounds.integer("lt") { upper = min(upper, lt == .min ? lt : lt - 1) }
        if let lte = try bounds.integer("lte") { upper = min(upper, lte) }
    }

    /// Whether `timestamp` passes.
    func contains(_ timestamp: Int64) -> Bool {
        lower <= timestamp && timestamp <= upper
    }
}
