// swift-tools-version:6.1
import PackageDescription

// Layers (bottom to top, see ARCHITECTURE.md): MailParser, MessageSpool → SMTPProtocol → SMTPTransport →
// TicketPipeline → TicketStoreSQLite → PostdeskDaemon → postdesk (CLI).
let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "postdesk",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "postdesk", targets: ["postdesk"]),
        .library(name: "MailParser", targets: ["MailParser"]),
        .library(name: "MessageSpool", targets: ["MessageSpool"]),
        .library(name: "SMTPProtocol", targets: ["SMTPProtocol"]),
        .library(name: "SMTPTransport", targets: ["SMTPTransport"]),
        .library(name: "TicketPipeline", targets: ["TicketPipeline"]),
        .library(name: "TicketStoreSQLite", targets: ["TicketStoreSQLite"]),
        .library(name: "MailClassification", targets: ["MailClassification"]),
        .library(name: "SASLMechanisms", targets: ["SASLMechanisms"]),
        .library(name: "POP3Protocol", targets: ["POP3Protocol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", .upToNextMinor(from: "2.101.2")),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // Tests only: property-based checks of the text toolkit.
        .package(url: "https://github.com/x-sheep/swift-property-based.git", exact: "2.0.1"),
    ],
    targets: [
        // 1. Mail model and parser: pure value types, no I/O.
        .target(
            name: "MailParser",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        // 1. Raw message bytes: in memory, or spooled to a file and mapped when large.
        .target(name: "MessageSpool", swiftSettings: strict),
        // 2. SMTP/LMTP server session state machine: bytes in, replies and events out.
        .target(name: "SMTPProtocol", swiftSettings: strict),
        // 2. IMAP client codec: commands out, responses in, FETCH bodies streamed in chunks (pure, no NIO).
        .target(name: "IMAPProtocol", swiftSettings: strict),
        // 2. Client-side SASL exchanges (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER) for the IMAP and POP3 pollers (pure).
        .target(name: "SASLMechanisms", dependencies: ["MailParser"], swiftSettings: strict),
        // 2. POP3 client codec: commands to bytes, an incremental response parser streaming message bodies (pure).
        .target(name: "POP3Protocol", dependencies: ["SASLMechanisms", "MailParser"], swiftSettings: strict),
        // 2. XML API by mail: transactions read with libxml2 (no DTD, no entities, no network), responses (pure).
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .target(
            name: "XMLTransactions", dependencies: ["CLibXML2", "MailCommands", "MailParser"], swiftSettings: strict),
        // 3. SwiftNIO listeners (unix socket, TCP, STARTTLS) driving the state machine.
        .target(
            name: "SMTPTransport",
            dependencies: [
                "SMTPProtocol", "MessageSpool",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // 3. A client connection to a mail server (NIO + TLS, reads bounded in time) and where OAuth2 tokens come
        //    from: shared by the poller and the outbound submission client.
        .target(
            name: "MailServerClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict),
        // 5. The mailbox poller: IMAP and POP3 over NIO (+ TLS), driving the pure codecs, into the intake contract.
        .target(
            name: "MailboxPolling",
            dependencies: [
                "TicketPipeline", "MessageSpool", "MailParser", "IMAPProtocol", "POP3Protocol", "SASLMechanisms",
                "MailServerClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // 3. OAuth2 tokens for polled mailboxes: flows, refresh, encrypted token store (AsyncHTTPClient, NIO).
        .target(
            name: "OAuthTokens",
            dependencies: [
                "MessageSpool", "MailParser",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // 5. Outbound mail: MIME composition (pure), templates, SMTP submission client (NIO + TLS) or sendmail, worker.
        .target(
            name: "OutboundMail",
            dependencies: [
                "MailParser", "MailClassification", "SASLMechanisms", "TicketPipeline", "MailServerClient",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // 4. Mail classification: own mail, loops, bounces, automated mail, filters, attachment policy (pure).
        .target(name: "MailClassification", dependencies: ["MailParser"], swiftSettings: strict),
        // 4. Mail commands: structured requests, variable commands, alert rules, Authentication-Results (pure).
        .target(name: "MailCommands", dependencies: ["MailParser"], swiftSettings: strict),
        // 4. Ticket pipeline: pure logic over the TicketStore protocol.
        .target(
            name: "TicketPipeline",
            dependencies: [
                "MailParser", "MailClassification", "MailCommands", "XMLTransactions", "MessageSpool",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // 5. GRDB/SQLite implementation of the store protocol.
        .target(
            name: "TicketStoreSQLite",
            dependencies: [
                "TicketPipeline", "MailCommands", "MailParser", "MessageSpool",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // 5. Webhooks: delivers the transactional outbox's events, signed the Standard Webhooks way.
        .target(
            name: "WebhookDelivery",
            dependencies: [
                "TicketPipeline",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // 6. Daemon composition: config, listeners, lifecycle.
        .target(
            name: "PostdeskDaemon",
            dependencies: [
                "MailParser", "SMTPProtocol", "SMTPTransport", "TicketPipeline", "TicketStoreSQLite",
                "MailClassification", "MailCommands", "XMLTransactions", "MessageSpool", "MailboxPolling",
                "OAuthTokens", "PostdeskHTTP", "WebhookDelivery", "OutboundMail", "MailServerClient",
                .product(name: "Yams", package: "Yams"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict),
        // 6. The HTTP server and API v1 (Hummingbird 2): health, tickets, downloads, changes, records, tokens.
        .target(
            name: "PostdeskHTTP",
            dependencies: [
                "TicketStoreSQLite", "TicketPipeline", "MailCommands", "MailParser",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        // 7. The commit the binary was built from (`postdesk --version`), written by `make` (scripts/build-info.sh).
        .target(name: "PostdeskBuildInfo"),
        // 7. The `postdesk` command.
        .executableTarget(
            name: "postdesk",
            dependencies: [
                "PostdeskDaemon", "MailParser", "TicketPipeline", "TicketStoreSQLite", "MessageSpool", "MailboxPolling",
                "OAuthTokens", "PostdeskHTTP", "MailServerClient",
                "PostdeskBuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),

        // Helpers shared by test targets (the seeded generator of the fuzz tests); nothing else depends on it.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(
            name: "MailParserTests",
            dependencies: [
                "MailParser", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            resources: [.copy("Corpus")]),
        .testTarget(name: "MessageSpoolTests", dependencies: ["MessageSpool"]),
        .testTarget(name: "SMTPProtocolTests", dependencies: ["SMTPProtocol"]),
        .testTarget(
            name: "IMAPProtocolTests", dependencies: ["IMAPProtocol", "TestSupport"], resources: [.copy("Transcripts")]),
        .testTarget(name: "SASLMechanismsTests", dependencies: ["SASLMechanisms", "TestSupport"]),
        .testTarget(
            name: "XMLTransactionsTests",
            dependencies: ["XMLTransactions", "MailCommands", "MailParser", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "POP3ProtocolTests", dependencies: ["POP3Protocol", "SASLMechanisms", "TestSupport"],
            resources: [.copy("Transcripts")]),
        .testTarget(
            name: "SMTPTransportTests",
            dependencies: [
                "SMTPTransport", "MessageSpool", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        .testTarget(
            name: "OAuthTokensTests",
            dependencies: [
                "OAuthTokens",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "MailServerClientTests", dependencies: ["MailServerClient"], swiftSettings: strict),
        .testTarget(
            name: "OutboundMailTests",
            dependencies: [
                "OutboundMail", "MailParser", "MailClassification", "TicketPipeline", "TicketStoreSQLite",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .testTarget(name: "MailClassificationTests", dependencies: ["MailClassification"]),
        .testTarget(
            name: "MailCommandsTests", dependencies: ["MailCommands", "MailParser", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "TicketPipelineTests",
            dependencies: [
                "TicketPipeline", "TicketStoreSQLite", "MailClassification", "MailCommands", "MessageSpool",
                "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(
            name: "PostdeskDaemonTests",
            dependencies: [
                "PostdeskDaemon", "TicketPipeline", "MailboxPolling", "PostdeskHTTP", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "PostdeskHTTPTests",
            dependencies: [
                "PostdeskHTTP", "TicketStoreSQLite", "TicketPipeline", "MessageSpool", "MailParser", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "WebhookDeliveryTests",
            dependencies: [
                "WebhookDelivery", "TicketPipeline", "TicketStoreSQLite", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "PostdeskDaemon", "TicketStoreSQLite", "MessageSpool", "TicketPipeline", "OutboundMail", "MailParser",
                "MailServerClient", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
    ]
)
