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
        .executable(name: "stripe-apps-backend", targets: ["stripe-apps-backend"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
    ],
    targets: [
        .target(
            name: "StripeApps",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto")
            ],
            swiftSettings: librarySettings
        ),
        .executableTarget(
            name: "stripe-apps-backend",
            dependencies: [
                "StripeApps",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
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
            name: "StripeAppsBackendTests",
            dependencies: [
                "stripe-apps-backend",
                "StripeApps",
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
