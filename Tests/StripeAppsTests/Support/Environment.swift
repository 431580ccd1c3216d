import Foundation

/// `CI=true`: tests that need an outside component must run and fail when it is missing.
let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
