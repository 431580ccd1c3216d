// swift-tools-version: 6.2
import PackageDescription

/// Settings shared by every target.
let swiftSettings: [SwiftSetting] = [
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0335-existential-any.md
    .enableUpcomingFeature("ExistentialAny"),
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0444-member-import-visibility.md
    .enableUpcomingFeature("MemberImportVisibility"),
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0409-access-level-on-imports.md
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// Library targets also warn about public types that do not say whether they are `Sendable`.
let librarySettings: [SwiftSetting] =
    swiftSettings + [
        .treatWarning("ExplicitSendable", as: .warning)
    ]

let package = Package(
    name: "stripe-apps-backend",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "StripeApps", targets: ["StripeApps"]),
        .library(name: "StripeAppsSQLite", targets: ["StripeAppsSQLite"]),
        .library(name: "StripeAppsPostgres", targets: ["StripeAppsPostgres"]),
        .library(name: "StripeAppsServer", targets: ["StripeAppsServer"]),
        .library(name: "StripeAppsAPI", targets: ["StripeAppsAPI"]),
        .library(name: "StripeAppsTesting", targets: ["StripeAppsTesting"]),
        .executable(name: "stripe-apps-backend", targets: ["stripe-apps-backend"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        // W3C Trace Context (`traceparent`, `tracestate`) for the backend's own OTLP tracer.
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.1.0"),
    ],
    targets: [
        .target(
            name: "StripeApps",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                // The tracing API only (no implementation): the storage backends' spans.
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: librarySettings
        ),
        .target(
            name: "StripeAppsSQLite",
            dependencies: [
                "StripeApps",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: librarySettings
        ),
        .target(
            name: "StripeAppsPostgres",
            dependencies: [
                "StripeApps",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: librarySettings
        ),
        .target(
            name: "StripeAppsServer",
            dependencies: [
                "StripeApps",
                "StripeAppsAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: librarySettings
        ),
        .target(
            name: "StripeAppsAPI",
            dependencies: [
                "StripeApps",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: librarySettings
        ),
        .target(
            name: "StripeAppsTesting",
            dependencies: [
                "StripeApps",
                "StripeAppsAPI",
                "StripeAppsServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // Stripe's example objects (MIT, from Stripe's OpenAPI repository) shape the fake Stripe API's answers.
            resources: [.copy("Resources/fixtures3.json"), .copy("Resources/LICENSE-stripe-openapi")],
            swiftSettings: librarySettings
        ),
        // The complete program of Docs/library.md, compiled with the package so that the guide cannot rot.
        .executableTarget(
            name: "library-backend-example",
            dependencies: [
                "StripeApps",
                "StripeAppsSQLite",
                "StripeAppsPostgres",
                "StripeAppsServer",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Examples/LibraryBackend",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StripeAppsTestingTests",
            dependencies: [
                "StripeApps",
                "StripeAppsAPI",
                "StripeAppsServer",
                "StripeAppsTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StripeAppsAPITests",
            dependencies: [
                "StripeApps",
                "StripeAppsAPI",
                "StripeAppsTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "stripe-apps-backend",
            dependencies: [
                "StripeApps",
                "StripeAppsAPI",
                "StripeAppsServer",
                "StripeAppsSQLite",
                "StripeAppsPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            // Stripe's example objects (MIT, from Stripe's OpenAPI repository) for `simulate event`.
            resources: [.copy("Resources/fixtures3.json"), .copy("Resources/LICENSE-stripe-openapi")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "stripe-apps-test-server",
            dependencies: [
                "StripeApps",
                "StripeAppsServer",
                "StripeAppsSQLite",
                "StripeAppsPostgres",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestServer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "stripe-apps-benchmarks",
            dependencies: [
                "StripeApps",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/stripe-apps-benchmarks",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "stripe-apps-bare-route",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/stripe-apps-bare-route",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StripeAppsTests",
            dependencies: [
                "StripeApps",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StripeAppsStorageTests",
            dependencies: [
                "StripeApps",
                "StripeAppsSQLite",
                "StripeAppsPostgres",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StripeAppsServerTests",
            dependencies: [
                "StripeApps",
                "StripeAppsAPI",
                "StripeAppsServer",
                "StripeAppsTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StripeAppsBackendTests",
            dependencies: [
                "stripe-apps-backend",
                "StripeApps",
                "StripeAppsAPI",
                "StripeAppsSQLite",
                "StripeAppsServer",
                "StripeAppsTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
