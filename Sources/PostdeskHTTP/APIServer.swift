import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization
import TicketPipeline
import TicketStoreSQLite

/// The HTTP server: `/healthz`, `/readyz` and API v1 (`api/openapi.yaml`), on Hummingbird 2.
///
/// It runs in a service group of its own, which `stop()` shuts down gracefully (the listener closes, requests in
/// flight finish, idle keep-alive connections close): the daemon decides when, after its own graceful shutdown
/// began. Handlers run as tasks, never on an event loop; reads go to `reader`, writes to `store`'s writer.
public final class APIServer: Sendable {
    private let application: Application<RouterResponder<APIRequestContext>>
    private let group: ServiceGroup
    private let logger: Logger
    private let running = Mutex<Task<Void, any Error>?>(nil)
    private let bound = StartState()

    /// The bound port or why the server stopped, and the `start` call waiting for either; a class, so that the
    /// server's callbacks share it.
    private final class StartState: Sendable {
        struct Fields {
            var port: Int?
            var failure: (any Error)?
            var waiter: CheckedContinuation<Int, any Error>?
        }

        let fields = Mutex(Fields())

        func withLock<T>(_ body: (inout Fields) -> T) -> T { fields.withLock { body(&$0) } }
    }

    /// - Parameters:
    ///   - replay: runs a quarantined message through the pipeline again (`POST /api/v1/quarantine/{id}/replay`);
    ///     nil answers that route with 503.
    ///   - replies: our side of agents' mailed replies (`POST /api/v1/tickets/{number}/replies`); nil (outbound
    ///     mail off) answers that route with 409.
    ///   - priority: while intake is busy, the API's bounded share of the time; nil: never held.
    public init(
        settings: HTTPServerSettings, store: SQLiteTicketStore, reader: any TicketDatabaseReading,
        readiness: HTTPReadiness = HTTPReadiness(),
        replay: (@Sendable (Int64) async throws -> ReplayOutcome)? = nil, replies: AgentReply.Sender? = nil,
        priority: IntakePriority? = nil, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        self.logger = logger
        let router = Router(context: APIRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: ProblemMiddleware(logger: logger))
        if let priority { router.add(middleware: IntakePriorityMiddleware(priority: priority)) }
        let usage = TokenUsage { name, date in try await store.markAPITokenUsed(name: name, at: date) }
        router.add(middleware: BearerAuthenticator(tokens: reader, usage: usage, logger: logger))
        HealthRoutes(readiness: readiness, store: store, reader: reader).register(on: router)
        router.get("api/v1/openapi.yaml") { _, _ in
            APIResponse.text(OpenAPIDocument.yaml + "\n", contentType: "application/yaml; charset=utf-8")
        }
        TicketRoutes(reader: reader, store: store, replies: replies).register(on: router)
        RecordRoutes(reader: reader, replay: replay).register(on: router)
        WebhookRoutes(reader: reader, store: store).register(on: router)
        ContactRoutes(reader: reader, store: store).register(on: router)
        MethodNotAllowed.register(on: router)

        // Idle keep-alive connections are closed after a minute: a client cannot hold sockets for ever.
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .seconds(60)))
        let server: HTTPServerBuilder
        if let certificate = settings.tlsCertificatePath, let key = settings.tlsKeyPath {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            var tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            tls.minimumTLSVersion = .tlsv12
            server = try .tls(http1, tlsConfiguration: tls)
        } else {
            server = http1
        }
        let bound = self.bound
        application = Application(
            responder: router.buildResponder(), server: server,
            configuration: ApplicationConfiguration(address: .hostname(settings.host, port: settings.port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? settings.port
                let waiter = bound.withLock { state in
                    state.port = port
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume(returning: port)
            }, eventLoopGroupProvider: .shared(eventLoopGroup), logger: logger)
        group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [application], logger: logger))
    }

    /// Starts listening; returns the bound port once the listener is up, or throws why it could not (the
    /// address is in use, the TLS files are wrong).
    public func start() async throws -> Int {
        let group = self.group
        let bound = self.bound
        let logger = self.logger
        let task = Task {
            do {
                try await group.run()
            } catch {
                let waiter = bound.withLock { state in
                    state.failure = error
                    defer { state.waiter = nil }
                    return state.waiter
                }
                if let waiter {
                    waiter.resume(throwing: error)
                } else {
                    logger.error("HTTP server stopped", metadata: ["error": "\(error)"])
                }
                throw error
            }
        }
        running.withLock { $0 = task }
        return try await withCheckedThrowingContinuation { continuation in
            let known = bound.withLock { state -> Result<Int, any Error>? in
                if let port = state.port { return .success(port) }
                if let failure = state.failure { return .failure(failure) }
                state.waiter = continuation
                return nil
            }
            if let known { continuation.resume(with: known) }
        }
    }

    /// Stops accepting, lets requests in flight finish for up to `grace`, then cancels the rest and returns at
    /// most a second later. An idle TLS connection may still be waiting for its client's close_notify then
    /// (NIOSSL allows 5 s); it closes on its own, and nothing of it touches the store.
    public func stop(grace: Duration = .seconds(5)) async {
        guard let task = running.withLock({ $0 }) else { return }
        await group.triggerGracefulShutdown()
        if await Self.finishes(task, within: grace) { return }
        task.cancel()
        if !(await Self.finishes(task, within: .seconds(1))) {
            logger.notice("HTTP connections still closing after the shutdown grace: not waiting for them")
        }
    }

    /// Whether `task` ends within `limit`, without cancelling it: two tasks race to answer once.
    private static func finishes(_ task: Task<Void, any Error>, within limit: Duration) async -> Bool {
        let (answers, continuation) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .bufferingOldest(1))
        let waiter = Task {
            _ = await task.result
            continuation.yield(true)
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            continuation.yield(false)
        }
        defer {
            waiter.cancel()
            timer.cancel()
            continuation.finish()
        }
        for await finished in answers { return finished }
        return false
    }
}
