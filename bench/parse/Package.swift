// swift-tools-version:6.1
import PackageDescription

// Parser throughput benchmark, kept out of the main package so it never slows normal builds.
// Run it through `bench/parse/run.sh`.
let package = Package(
    name: "ParseBench",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "postdesk", path: "../..")],
    targets: [
        .executableTarget(
            name: "ParseBench",
            dependencies: [.product(name: "MailParser", package: "postdesk")],
            swiftSettings: [.unsafeFlags(["-Ounchecked"])])
    ]
)
