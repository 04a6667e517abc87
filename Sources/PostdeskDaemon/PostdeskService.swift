import Foundation
import Logging
import MailParser
import MessageSpool
import NIOCore
import NIOPosix
import NIOSSL
import SMTPProtocol
import SMTPTransport
import ServiceLifecycle
import TicketPipeline
import TicketStoreSQLite

/// The daemon: opens the store, listens for LMTP and SMTP, and on graceful shutdown (SIGTERM) stops accepting,
/// lets the transactions in flight finish, then closes.
public struct PostdeskService: Service {
    public let configuration: PostdeskConfiguration
    public let logger: Logger

    public init(configuration: PostdeskConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let store = try SQLiteTicketStore(path: configuration.storePath, logger: logger)
        try SpoolDirectory.prepare(configuration.spoolDirectory)
        let intake = try configuration.makeIntake(store: store, logger: logger)
        let router = intake.router
        let server = SMTPServer(
            configuration: try configuration.serverConfiguration(),
            backend: TicketIntakeBackend(intake: intake, router: router, logger: logger),
            logger: logger, group: MultiThreadedEventLoopGroup.singleton)
        if !configuration.lmtpSocket.isEmpty {
            try await server.listenUnix(
                path: configuration.lmtpSocket, dialect: .lmtp, mode: mode_t(configuration.lmtpSocketMode),
                owner: configuration.lmtpSocketOwner, group: configuration.lmtpSocketGroup)
            logger.info("listening", metadata: ["lmtp": "\(configuration.lmtpSocket)"])
        }
        if let listen = configuration.smtpListen {
            let port = try await server.listenTCP(host: listen.host, port: listen.port, dialect: .smtp)
            logger.info(
                "listening",
                metadata: ["smtp": "\(listen.host):\(port)", "starttls": "\(configuration.smtpTLS != nil)"])
        }
        logger.info(
            "postdesk ready",
            metadata: ["store": "\(configuration.storePath)", "queues": "\(configuration.queues.map(\.name))"])
        // Suspends until SIGTERM/SIGINT; a cancellation ends the wait the same way.
        try? await gracefulShutdown()
        logger.info("shutting down: finishing transactions in flight")
        await server.shutdownGracefully(grace: configuration.shutdownGrace)
        let statistics = store.commitStatistics
        do {
            try store.close()
        } catch {
            logger.error("closing the ticket store failed", metadata: ["error": "\(error)"])
        }
        logger.info(
            "stopped",
            metadata: [
                "writes": "\(statistics.writes)", "commits": "\(statistics.commits)", "fsyncs": "\(statistics.syncs)",
                "writer_cpu_us_per_write":
                    "\(statistics.writes == 0 ? 0 : Int(statistics.writerCPUSeconds * 1e6) / statistics.writes)",
            ])
    }
}

extension PostdeskConfiguration {
    /// The queues as the pipeline routes to them.
    public var queueDefinitions: [QueueDefinition] {
        queues.map {
            QueueDefinition(
                name: $0.name, tag: $0.tag, addresses: $0.addresses, policy: $0.policy, subQueues: $0.subQueues)
        }
    }

    /// The pipeline exactly as the daemon runs it, over `store`: also used by `postdesk quarantine replay`.
    public func makeIntake(store: any TicketStore, logger: Logger) throws -> TicketIntake {
        TicketIntake(
            router: QueueRouter(queues: queueDefinitions), store: store, logger: logger,
            settings: try pipelineSettings())
    }

    func serverConfiguration() throws -> SMTPServerConfiguration {
        var server = SMTPServerConfiguration()
        server.hostname = hostname
        server.maxMessageSize = maxMessageSize
        server.maxRecipients = maxRecipients
        server.maxConnections = maxConnections
        server.commandTimeout = .seconds(commandTimeout.components.seconds)
        server.dataTimeout = .seconds(dataTimeout.components.seconds)
        server.spoolDirectory = spoolDirectory
        server.spoolThreshold = spoolThreshold
        if let smtpTLS {
            let chain = try NIOSSLCertificate.fromPEMFile(smtpTLS.certificatePath).map {
                NIOSSLCertificateSource.certificate($0)
            }
            let key = try NIOSSLPrivateKey(file: smtpTLS.privateKeyPath, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            // TLS 1.0 and 1.1 are deprecated (RFC 8996); every MTA of the last decade speaks 1.2.
            tls.minimumTLSVersion = .tlsv12
            server.tls = try NIOSSLContext(configuration: tls)
        }
        return server
    }
}
