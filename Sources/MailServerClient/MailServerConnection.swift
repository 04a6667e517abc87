import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// One client connection to a mail server: TCP, implicit TLS or STARTTLS with the certificate verified, and
/// reads and writes bounded in time, so a server that stops answering or reading holds nobody. The protocol
/// drivers (the mailbox poller's IMAP and POP3, the outbound SMTP submission) read chunks and feed them to their
/// pure codec; the connection knows nothing of any protocol.
///
/// Used by one task at a time (the conversation's own); reading applies back-pressure, so a fast server never
/// fills memory while the caller writes what it read somewhere slower.
public final class MailServerConnection {
    /// How the conversation is protected: TLS from the first byte, TLS after the protocol's STARTTLS, or none.
    public enum TLSMode: String, Sendable, CaseIterable {
        case implicit, starttls, none
    }

    private let channel: any Channel
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let host: String
    private let timeout: Duration
    private let tlsContext: NIOSSLContext?
    /// Set by the scheduled close when a read outlived its time.
    private let timedOut = NIOLockedValueBox(false)
    public private(set) var isSecure: Bool

    /// The server's certificate, once TLS is up (for `postdesk mailboxes test`).
    public var peerCertificate: NIOSSLCertificate? {
        get async { try? await channel.nioSSL_peerCertificate().get() }
    }

    private init(
        channel: any Channel, asyncChannel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, host: String, timeout: Duration,
        tlsContext: NIOSSLContext?, isSecure: Bool
    ) {
        self.channel = channel
        self.inbound = asyncChannel.inbound.makeAsyncIterator()
        self.outbound = asyncChannel.outbound
        self.host = host
        self.timeout = timeout
        self.tlsContext = tlsContext
        self.isSecure = isSecure
    }

    /// Connects, with the TLS handshake when `tls` is `.implicit`. `caFile` replaces the system's roots.
    public static func connect(
        host: String, port: Int, tls: TLSMode, caFile: String?, timeout: Duration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(MailServerConnectionError) -> MailServerConnection {
        let tlsContext: NIOSSLContext?
        do {
            tlsContext = tls == .none ? nil : try makeTLSContext(caFile: caFile)
        } catch {
            throw MailServerConnectionError(.tls, "cannot use the CA file \(caFile ?? "(system roots)"): \(error)")
        }
        let implicitTLS = tls == .implicit
        let serverName = Self.isIPAddress(host) ? nil : host
        do {
            let asyncChannel = try await ClientBootstrap(group: group)
                .connectTimeout(timeAmount(timeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if implicitTLS, let tlsContext {
                            let handler = try NIOSSLClientHandler(context: tlsContext, serverHostname: serverName)
                            try channel.pipeline.syncOperations.addHandler(handler)
                        }
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            return MailServerConnection(
                channel: asyncChannel.channel, asyncChannel: asyncChannel, host: host, timeout: timeout,
                tlsContext: tlsContext, isSecure: implicitTLS)
        } catch {
            throw MailServerConnectionError(.connect, "cannot connect to \(host):\(port): \(error)")
        }
    }

    /// Puts TLS under the conversation (after the server's go-ahead to STARTTLS/STLS). Nothing the server sent
    /// before is kept by the caller (CVE-2011-0411's lesson, client side).
    public func startTLS() async throws(MailServerConnectionError) {
        guard let tlsContext else { throw MailServerConnectionError(.tls, "STARTTLS without a TLS context") }
        let serverName = Self.isIPAddress(host) ? nil : host
        do {
            let handler = try NIOSSLClientHandler(context: tlsContext, serverHostname: serverName)
            try await channel.pipeline.addHandler(handler, position: .first).get()
            isSecure = true
        } catch {
            throw MailServerConnectionError(.tls, "cannot start TLS with \(host): \(error)")
        }
    }

    /// The next bytes from the server; nil when it closed the connection. Throws when nothing came for `limit`
    /// (default: the connection's timeout) or the connection failed (a TLS error names the certificate problem).
    public func read(within limit: Duration? = nil) async throws(MailServerConnectionError) -> ByteBuffer? {
        let limit = limit ?? timeout
        let (result, timedOut) = await closing(after: limit) { try await self.inbound.next() }
        switch result {
        case .success(nil) where timedOut, .failure where timedOut:
            throw MailServerConnectionError(.timeout, "no answer from \(host) within \(limit)")
        case .success(let chunk):
            return chunk
        case .failure(let error):
            throw MailServerConnectionError(isSecure ? .tls : .connection, "connection to \(host) failed: \(error)")
        }
    }

    /// Sends `bytes`, waiting while the server does not read (back-pressure), but at most `limit` (default: the
    /// connection's timeout): a server that stops reading cannot hold the caller, and the connection is closed.
    public func write(_ bytes: [UInt8], within limit: Duration? = nil) async throws(MailServerConnectionError) {
        let limit = limit ?? timeout
        let (result, timedOut) = await closing(after: limit) { try await self.outbound.write(ByteBuffer(bytes: bytes)) }
        guard case .failure(let error) = result else { return }
        if timedOut { throw MailServerConnectionError(.timeout, "\(host) read nothing we sent within \(limit)") }
        throw MailServerConnectionError(.connection, "cannot write to \(host): \(error)")
    }

    /// Runs `body` with the connection closed from the event loop if it takes longer than `limit` (which ends a
    /// wait in a read or a write); returns its result and whether the deadline closed the connection.
    private func closing<T>(
        after limit: Duration, _ body: () async throws -> T
    ) async -> (result: Result<T, any Error>, timedOut: Bool) {
        let timedOut = self.timedOut
        let channel = self.channel
        let deadline = channel.eventLoop.scheduleTask(in: Self.timeAmount(limit)) {
            timedOut.withLockedValue { $0 = true }
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        let result: Result<T, any Error>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        return (result, timedOut.withLockedValue { $0 })
    }

    /// Writes `bytes` after `delay` from the event loop, unless `once` was claimed first (by the caller writing
    /// the same bytes itself): IDLE is ended on time even while the task waits in a read.
    public func scheduleWrite(
        _ bytes: [UInt8], after delay: Duration, once: NIOLockedValueBox<Bool>
    ) -> Scheduled<Void> {
        let channel = self.channel
        return channel.eventLoop.scheduleTask(in: Self.timeAmount(delay)) {
            guard
                once.withLockedValue({ claimed in
                    defer { claimed = true }; return !claimed
                })
            else { return }
            channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// Closes the connection; a failure to close is of no consequence to the caller.
    public func close() async {
        outbound.finish()
        try? await channel.close()
    }

    private static func makeTLSContext(caFile: String?) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if let caFile { configuration.trustRoots = .file(caFile) }
        return try NIOSSLContext(configuration: configuration)
    }

    /// An IPv4 or IPv6 literal: TLS then checks the certificate's IP address entries, not a host name.
    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
