// swift-tools-version: 6.2
// CustomerSync: a complete Stripe App backend built on stripe-apps-backend as an outside package would use it
// (a path dependency here; `.package(url: "https://github.com/…/stripe-apps-backend", from: "…")` in your app).
import PackageDescription

let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "CustomerSync",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "CustomerSync", targets: ["CustomerSync"]),
        .executable(name: "customer-sync-backend", targets: ["CustomerSyncBackend"]),
    ],
    dependencies: [
        .package(name: "stripe-apps-backend", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
    ],
    targets: [
        .target(
            name: "CustomerSync",
            dependencies: [
                .product(name: "StripeApps", package: "stripe-apps-backend"),
                .product(name: "StripeAppsAPI", package: "stripe-apps-backend"),
                .product(name: "StripeAppsServer", package: "stripe-apps-backend"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "CustomerSyncBackend",
            dependencies: [
                "CustomerSync",
                .product(name: "StripeApps", package: "stripe-apps-backend"),
                .product(name: "StripeAppsServer", package: "stripe-apps-backend"),
                .product(name: "StripeAppsSQLite", package: "stripe-apps-backend"),
                .product(name: "StripeAppsPostgres", package: "stripe-apps-backend"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "CustomerSyncTests",
            dependencies: [
                "CustomerSync",
                .product(name: "StripeApps", package: "stripe-apps-backend"),
                .product(name: "StripeAppsServer", package: "stripe-apps-backend"),
                .product(name: "StripeAppsTesting", package: "stripe-apps-backend"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: settings
        ),
    ]
)
