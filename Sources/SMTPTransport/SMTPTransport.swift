import Logging
import MessageSpool
import NIOCore
import NIOPosix
import NIOSSL
// SMTPTransport: see ARCHITECTURE.md (layers). SwiftNIO listeners (unix socket, TCP, STARTTLS) driving SMTPProtocol.
@_exported import SMTPProtocol
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

#if canImport(Glibc)
    /// `struct group` from <grp.h>; the bare name is shadowed by `listenUnix`'s `group` parameter and the
    /// server's event loop group.
    private typealias GroupEntry = Glibc.group
#elseif canImport(Musl)
    private typealias GroupEntry = Musl.group
#elseif canImport(Darwin)
    private typealias GroupEntry = Darwin.group
#endif

/// What the server needs from the application: a cheap recipient check and the durable delivery. One calling
/// convention: a completion, called once.
public protocol SMTPBackend: Sendable {
    /// RCPT TO check, synchronous and cheap (config lookup): accept with a route that comes back with the
    /// delivery, or refuse with a reply (e.g. 550 5.1.1).
    func validateRecipient(_ address: String, session: SMTPSessionInfo) -> SMTPRecipientCheck
    /// Stores the message. `message` holds its bytes (dot-unstuffed, as received, CRLF line ends): in memory, or
    /// the mapped spool file of a large one. It may do its synchronous part on the calling thread, which for
    /// messages up to `SMTPServerConfiguration.inlineDeliveryLimit` is the session's event loop, and must call
    /// `completion` exactly once, from any thread, with one reply per recipient in order. It never fails: a store
    /// failure is a 4xx reply chosen by the backend.
    func deliver(
        _ delivery: SMTPDelivery, message: RawMessage, completion: @escaping @Sendable ([SMTPReply]) -> Void)
}

/// Limits and identity of an `SMTPServer`; the defaults suit a Postfix content filter.
public struct SMTPServerConfiguration: Sendable {
    /// Announced in the greeting and EHLO/LHLO replies.
    public var hostname: String = "localhost"
    /// Octets after dot-unstuffing; advertised as SIZE.
    public var maxMessageSize: Int = 52_428_800
    public var maxRecipients: Int = 100
    /// SMTP sessions at once, across the server's SMTP listeners.
    public var maxConnections: Int = 100
    /// LMTP sessions at once, across the server's LMTP listeners: a limit of their own, so that SMTP clients
    /// holding every SMTP slot never lock the local MTA out.
    public var maxLMTPConnections: Int = 100
    /// Idle time allowed between commands (RFC 5321 §4.5.3.2 suggests 5 minutes).
    public var commandTimeout: Duration = .seconds(300)
    /// Idle time allowed between two reads during DATA.
    public var dataTimeout: Duration = .seconds(600)
    /// A command line must be complete this long after its first octet arrived, however steadily the client
    /// trickles it (the idle timeouts alone let one octet every few minutes hold a session for ever).
    public var commandDeadline: Duration = .seconds(300)
    /// A transaction must reach the end of its DATA this long after its MAIL was accepted.
    public var transactionDeadline: Duration = .seconds(3600)
    /// Octets of replies a session may have waiting for a client that does not read them. Input is only
    /// processed while the channel is writable (its buffered replies are under NIO's high water mark, 64 KiB),
    /// so this is a last bound: beyond it the session is closed with a log line.
    public var maxPendingOutput: Int = 1 << 20
    /// Enables STARTTLS on SMTP listeners.
    public var tls: NIOSSLContext?
    /// Where messages larger than `spoolThreshold` are written while they arrive, so that no session holds a
    /// whole large message in memory; nil keeps every message in memory.
    public var spoolDirectory: String?
    /// Octets of a message held in memory before it goes to a spool file.
    public var spoolThreshold: Int = 1 << 20
    /// Messages up to this size are handed to the backend on the session's event loop, larger ones on NIO's
    /// thread pool. Inline saves two thread hand-offs per message (the largest cost of a small message after
    /// the disk's), while a large message's parsing would stall the loop's other sessions. A backend that only
    /// hands the message on to threads of its own (the daemon's) takes every message inline: `Int.max`.
    public var inlineDeliveryLimit: Int = 64 * 1024

    public init(
        hostname: String = "localhost", maxMessageSize: Int = 52_428_800, maxRecipients: Int = 100,
        maxConnections: Int = 100, commandTimeout: Duration = .seconds(300), dataTimeout: Duration = .seconds(600),
        tls: NIOSSLContext? = nil, spoolDirectory: String? = nil, spoolThreshold: Int = 1 << 20
    ) {
        self.hostname = hostname
        self.maxMessageSize = maxMessageSize
        self.maxRecipients = maxRecipients
        self.maxConnections = maxConnections
        self.commandTimeout = commandTimeout
        self.dataTimeout = dataTimeout
        self.tls = tls
        self.spoolDirectory = spoolDirectory
        self.spoolThreshold = spoolThreshold
    }
}

/// Why a listener could not be opened.
public enum SMTPServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Another process accepts connections on this socket path.
    case socketInUse(path: String)
    /// The path exists and is not a socket: we never delete it.
    case notASocket(path: String)
    case unknownUser(String)
    case unknownGroup(String)
    /// A system call failed: which one, on what, and errno.
    case systemCall(String, path: String, errno: Int32)
    /// `shutdownGracefully()` was already called.
    case shutDown

    public var description: String {
        switch self {
        case .socketInUse(let path): return "another server is listening on \(path)"
        case .notASocket(let path): return "\(path) exists and is not a socket"
        case .unknownUser(let name): return "unknown user '\(name)'"
        case .unknownGroup(let name): return "unknown group '\(name)'"
        case .systemCall(let call, let path, let errno):
            return "\(call)(\(path)) failed: \(String(cString: strerror(errno))) (errno \(errno))"
        case .shutDown: return "the server is shutting down"
        }
    }
}

/// An SMTP/LMTP server with any number of unix and TCP listeners; SMTP and LMTP sessions have separate
/// connection limits.
public final class SMTPServer: Sendable {
    private struct State {
        var listeners: [any Channel] = []
        var sessions: [ObjectIdentifier: any Channel] = [:]
        /// Open sessions per dialect, for the connection limits.
        var sessionCounts: [SMTPDialect: Int] = [:]
        var nextSessionNumber: UInt64 = 0
        var shuttingDown = false
    }

    private let configuration: SMTPServerConfiguration
    private let backend: any SMTPBackend
    private let logger: Logger
    private let group: any EventLoopGroup
    private let state = Mutex(State())
    /// Distinguishes session ids of two server runs in the logs.
    private let sessionPrefix: String

    public init(
        configuration: SMTPServerConfiguration, backend: any SMTPBackend, logger: Logger,
        group: any EventLoopGroup
    ) {
        self.configuration = configuration
        self.backend = backend
        self.logger = logger
        self.group = group
        self.sessionPrefix = String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16, uppercase: true)
    }

    /// LMTP on a unix socket. A stale socket file is replaced (if something still answers on it, throws
    /// `SMTPServerError.socketInUse`). The socket gets `mode` and, when given, owner/group (names or ids) before
    /// anyone can connect: it is bound under a hidden name in the same directory, given its mode and owner, then
    /// renamed into place. Between `bind` and `chmod` the socket has the umask's mode, and a local user could
    /// connect in that window; the rename closes it.
    public func listenUnix(
        path: String, dialect: SMTPDialect = .lmtp, mode: mode_t = 0o666, owner: String? = nil,
        group: String? = nil
    ) async throws {
        let uid = try owner.map(Self.userID)
        let gid = try group.map(Self.groupID)
        try Self.removeStaleSocket(at: path)
        let hidden = Self.hiddenSiblingPath(of: path)
        let bindPath = hidden ?? path
        if let hidden { try Self.removeStaleSocket(at: hidden) }
        let channel = try await bootstrap(dialect: dialect, tcp: false)
            .bind(unixDomainSocketPath: bindPath).get()
        do {
            guard chmod(bindPath, mode) == 0 else {
                throw SMTPServerError.systemCall("chmod", path: bindPath, errno: errno)
            }
            if uid != nil || gid != nil {
                guard chown(bindPath, uid ?? uid_t.max, gid ?? gid_t.max) == 0 else {
                    throw SMTPServerError.systemCall("chown", path: bindPath, errno: errno)
                }
            }
            if hidden != nil {
                guard rename(bindPath, path) == 0 else {
                    throw SMTPServerError.systemCall("rename", path: path, errno: errno)
                }
            }
            try register(listener: channel)
        } catch {
            try? await channel.close()
            unlink(bindPath)
            throw error
        }
    }

    /// `<directory>/.<name>.new` (or a shorter `<directory>/.pd~`) when it fits `sun_path`, else nil and the
    /// socket is bound at its own path (only a path within a few bytes of the limit).
    private static func hiddenSiblingPath(of path: String) -> String? {
        let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        let directory = path.lastIndex(of: "/").map { String(path[...$0]) } ?? ""
        let name = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
        for candidate in [directory + "." + name + ".new", directory + ".pd~"] where candidate.utf8.count < capacity {
            return candidate
        }
        return nil
    }

    /// Listens on TCP; returns the bound port (useful with port 0).
    public func listenTCP(host: String, port: Int, dialect: SMTPDialect = .smtp) async throws -> Int {
        let channel = try await bootstrap(dialect: dialect, tcp: true).bind(host: host, port: port).get()
        do {
            try register(listener: channel)
        } catch {
            try? await channel.close()
            throw error
        }
        return channel.localAddress?.port ?? port
    }

    /// Sessions currently open, on every listener.
    public var activeSessions: Int { state.withLock { $0.sessions.count } }

    /// Stops accepting, lets transactions in flight finish (their replies are sent), then closes idle sessions
    /// with 421. Returns once every session is closed.
    /// - Parameter grace: how long a client still sending DATA may take to finish; after that its session gets
    ///   `421 4.3.2` and is closed without its message (the MTA retries it later). A delivery already handed to
    ///   the backend always completes. nil waits as long as the data timeout allows.
    public func shutdownGracefully(grace: Duration? = nil) async {
        let (listeners, sessions) = state.withLock { state in
            state.shuttingDown = true
            let listeners = state.listeners
            state.listeners = []
            return (listeners, Array(state.sessions.values))
        }
        for listener in listeners {
            try? await listener.close()
        }
        for session in sessions {
            session.eventLoop.execute {
                session.pipeline.fireUserInboundEventTriggered(SMTPShutdownRequest(immediately: false))
            }
        }
        let deadline = grace.map { graceDuration in
            Task {
                try await Task.sleep(for: graceDuration)
                let remaining = self.state.withLock { Array($0.sessions.values) }
                for session in remaining {
                    session.eventLoop.execute {
                        session.pipeline.fireUserInboundEventTriggered(SMTPShutdownRequest(immediately: true))
                    }
                }
            }
        }
        defer { deadline?.cancel() }
        for session in sessions {
            try? await session.closeFuture.get()
        }
        // Sessions accepted while the listeners were closing.
        let late = state.withLock { Array($0.sessions.values) }
        for session in late {
            try? await session.closeFuture.get()
        }
    }

    // MARK: - Internals

    private func register(listener: any Channel) throws {
        let accepted = state.withLock { state -> Bool in
            guard !state.shuttingDown else { return false }
            state.listeners.append(listener)
            return true
        }
        if !accepted { throw SMTPServerError.shutDown }
    }

    private func bootstrap(dialect: SMTPDialect, tcp: Bool) -> ServerBootstrap {
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.maxMessagesPerRead, value: 4)
            // The session stops processing input and reading while its replies sit above the high mark.
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(
                    low: SMTPSessionHandler.writeBufferHighMark / 2, high: SMTPSessionHandler.writeBufferHighMark))
        if tcp {
            bootstrap = bootstrap.serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        }
        return bootstrap.childChannelInitializer { [self] channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(self.makeHandler(for: channel, dialect: dialect))
            }
        }
    }

    private func makeHandler(for channel: any Channel, dialect: SMTPDialect) -> SMTPSessionHandler {
        let key = ObjectIdentifier(channel)
        let limit = dialect == .lmtp ? configuration.maxLMTPConnections : configuration.maxConnections
        let (number, refusal) = state.withLock { state -> (UInt64, SMTPReply?) in
            state.nextSessionNumber += 1
            if state.shuttingDown { return (state.nextSessionNumber, .shuttingDown(hostname: configuration.hostname)) }
            if state.sessionCounts[dialect, default: 0] >= limit {
                return (state.nextSessionNumber, .tooManyConnections(hostname: configuration.hostname))
            }
            state.sessions[key] = channel
            state.sessionCounts[dialect, default: 0] += 1
            return (state.nextSessionNumber, nil)
        }
        if refusal == nil {
            channel.closeFuture.whenComplete { [self] _ in
                state.withLock { state in
                    if state.sessions.removeValue(forKey: key) != nil { state.sessionCounts[dialect, default: 1] -= 1 }
                }
            }
        } else {
            logger.warning(
                "connection refused",
                metadata: ["reason": "\(refusal!)", "dialect": "\(dialect.rawValue)", "limit": "\(limit)"])
        }
        let tls = dialect == .smtp ? configuration.tls : nil
        var remote: String?
        if let address = channel.remoteAddress, let ip = address.ipAddress {
            remote = address.port.map { "\(ip):\($0)" } ?? ip
        }
        let info = SMTPSessionInfo(
            sessionID: "\(sessionPrefix)-\(number)", dialect: dialect, remoteAddress: remote)
        let session = SMTPServerSession(
            configuration: SMTPSessionConfiguration(
                hostname: configuration.hostname, maxMessageSize: configuration.maxMessageSize,
                maxRecipients: configuration.maxRecipients, tlsAvailable: tls != nil,
                spoolThreshold: configuration.spoolDirectory == nil ? nil : configuration.spoolThreshold),
            info: info)
        return SMTPSessionHandler(
            session: session, backend: backend, logger: logger, tls: tls, commandTimeout: configuration.commandTimeout,
            dataTimeout: configuration.dataTimeout, refusal: refusal, spoolDirectory: configuration.spoolDirectory,
            inlineDeliveryLimit: configuration.inlineDeliveryLimit,
            limits: SMTPSessionHandler.ClientLimits(
                commandDeadline: configuration.commandDeadline, transactionDeadline: configuration.transactionDeadline,
                maxPendingOutput: configuration.maxPendingOutput))
    }

    /// Removes a socket file left by a previous run; refuses to touch a live socket or any other file.
    private static func removeStaleSocket(at path: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            if errno == ENOENT { return }
            throw SMTPServerError.systemCall("lstat", path: path, errno: errno)
        }
        guard (status.st_mode & S_IFMT) == S_IFSOCK else { throw SMTPServerError.notASocket(path: path) }
        if try isAnswering(path) { throw SMTPServerError.socketInUse(path: path) }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw SMTPServerError.systemCall("unlink", path: path, errno: errno)
        }
    }

    /// Connects without blocking: refused means stale; connected or pending means someone listens.
    private static func isAnswering(_ path: String) throws -> Bool {
        #if canImport(Glibc)
            let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let descriptor = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw SMTPServerError.systemCall("socket", path: path, errno: errno) }
        defer { close(descriptor) }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else {
            throw SMTPServerError.systemCall("connect", path: path, errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result == 0 { return true }
        switch errno {
        case EINPROGRESS, EAGAIN: return true
        case ECONNREFUSED, ENOENT: return false
        default: throw SMTPServerError.systemCall("connect", path: path, errno: errno)
        }
    }

    private static func userID(_ name: String) throws -> uid_t {
        if let numeric = uid_t(name) { return numeric }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var scratch = [CChar](repeating: 0, count: 16_384)
        guard getpwnam_r(name, &entry, &scratch, scratch.count, &result) == 0, result != nil else {
            throw SMTPServerError.unknownUser(name)
        }
        return entry.pw_uid
    }

    private static func groupID(_ name: String) throws -> gid_t {
        if let numeric = gid_t(name) { return numeric }
        var entry = GroupEntry()
        var result: UnsafeMutablePointer<GroupEntry>?
        var scratch = [CChar](repeating: 0, count: 16_384)
        guard getgrnam_r(name, &entry, &scratch, scratch.count, &result) == 0, result != nil else {
            throw SMTPServerError.unknownGroup(name)
        }
        return entry.gr_gid
    }
}
