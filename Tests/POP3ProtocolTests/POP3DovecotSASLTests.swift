import Foundation
import POP3Protocol
import SASLMechanisms
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// PLAIN and LOGIN (with and without an initial response, ASCII and UTF-8 credentials) against a real Dovecot
/// started by the test: a private instance in a temporary directory, POP3 on a loopback port, stopped by its pid.
/// Runs where Dovecot is installed and the test runs as root (as on the CI image: scripts/install-test-peers.sh).
@Suite(
    "SASL over POP3 against a real Dovecot",
    .enabled(if: PrivateDovecot.available, "needs /usr/sbin/dovecot and root"), .serialized)
struct POP3DovecotSASLTests {
    @Test(.timeLimit(.minutes(2)))
    func plainAndLoginAuthenticateAndWrongPasswordsAreRefused() throws {
        let dovecot = try PrivateDovecot.start()
        defer { dovecot.stop() }

        let users: [(String, String)] = [("bench", "benchpw"), ("jürgen", "pässwörd-日本")]
        for (user, password) in users {
            for initialResponse in [true, false] {
                let plain = try SASLExchange.plain(username: user, password: password)
                #expect(try authenticate(port: dovecot.port, plain, sendInitialResponse: initialResponse) == .ok)
            }
            let login = try SASLExchange.login(username: user, password: password)
            #expect(try authenticate(port: dovecot.port, login, sendInitialResponse: true) == .ok)
        }

        // Each refusal costs Dovecot's failure delay and anvil penalty (2-6 s here), so two are enough: PLAIN with
        // an initial response (UTF-8 user) and LOGIN by prompts (ASCII user).
        let wrong = try SASLExchange.plain(username: "jürgen", password: "pässwörd-日本x")
        #expect(
            try authenticate(port: dovecot.port, wrong, sendInitialResponse: true) == .refused(.authenticationFailure))
        let wrongLogin = try SASLExchange.login(username: "bench", password: "nope")
        #expect(
            try authenticate(port: dovecot.port, wrongLogin, sendInitialResponse: false)
                == .refused(.authenticationFailure))
    }

    enum Outcome: Equatable {
        case ok
        case refused(POP3ResponseCode.Meaning?)
    }

    /// One session: greeting, CAPA (must offer the mechanism), AUTH driven by the exchange, STAT when in, QUIT.
    private func authenticate(port: UInt16, _ start: SASLExchange, sendInitialResponse: Bool) throws -> Outcome {
        var exchange = start
        var client = try BlockingSocket(port: port)
        defer { client.close() }
        var parser = POP3ResponseParser()
        func send(_ command: POP3Command) throws -> [POP3Event] {
            try client.write(try command.encoded())
            parser.expect(command.responseKind)
            return try client.readEvents(&parser)
        }
        #expect(try client.readEvents(&parser).first.map { if case .ok = $0 { true } else { false } } == true)
        guard case .capabilities(let capabilities)? = try send(.capa).last else {
            Issue.record("no CAPA listing")
            return .refused(nil)
        }
        #expect(capabilities.saslMechanisms.contains(exchange.mechanism.rawValue))
        var initial: [UInt8]? = nil
        if sendInitialResponse, let response = exchange.initialResponse {
            initial = response
            exchange.initialResponseSent()
        }
        var events = try send(.auth(mechanism: exchange.mechanism.rawValue, initialResponse: initial))
        while true {
            switch events.first {
            case .saslChallenge(let challenge)?:
                events = try send(.authResponse(try exchange.respond(toChallenge: challenge)))
            case .ok?:
                guard case .ok(let stat)? = try send(.stat).first else { return .refused(nil) }
                #expect(try POP3MaildropStatus(statusLine: stat).messageCount == 0)
                _ = try send(.quit)
                return .ok
            case .error(let line)?:
                _ = try send(.quit)
                return .refused(line.code?.meaning)
            default:
                Issue.record("unexpected \(events)")
                return .refused(nil)
            }
        }
    }
}

/// A blocking TCP client on 127.0.0.1 with a 10 s receive timeout: enough for a test, no event loop.
struct BlockingSocket {
    private var descriptor: Int32

    init(port: UInt16) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw SocketFailure(what: "socket") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            Glibc.close(descriptor)
            throw SocketFailure(what: "connect to port \(port)")
        }
    }

    func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw SocketFailure(what: "send") }
            sent += count
        }
    }

    /// Reads until the parser has finished every declared response.
    func readEvents(_ parser: inout POP3ResponseParser) throws -> [POP3Event] {
        var events: [POP3Event] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        repeat {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw SocketFailure(what: "recv (closed or timed out)") }
            events += try parser.parse(buffer[..<count])
        } while parser.pendingExpectationCount > 0 || !parser.isBetweenResponses
        return events
    }

    mutating func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }
}

struct SocketFailure: Error, CustomStringConvertible {
    let what: String
    var description: String { "\(what) failed: errno \(errno)" }
}

/// A Dovecot 2.3 master with its own configuration under a temporary directory (POP3 only, plaintext on a loopback
/// port, PLAIN and LOGIN, passwd-file users with UTF-8 names allowed, no failure delay).
struct PrivateDovecot {
    static let binary = "/usr/sbin/dovecot"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: binary) && getuid() == 0 }

    let directory: URL
    let port: UInt16
    let pid: pid_t

    static func start() throws -> PrivateDovecot {
        let files = FileManager.default
        let directory = files.temporaryDirectory.appendingPathComponent("postdesk-pop3-dovecot-\(UUID().uuidString)")
        let path = directory.path
        for sub in ["run", "state", "mail"] {
            try files.createDirectory(atPath: "\(path)/\(sub)", withIntermediateDirectories: true)
        }
        try files.setAttributes([.ownerAccountID: 65534, .groupOwnerAccountID: 65534], ofItemAtPath: "\(path)/mail")
        let users = """
            bench:{PLAIN}benchpw:65534:65534::\(path)/mail/bench::
            jürgen:{PLAIN}pässwörd-日本:65534:65534::\(path)/mail/juergen::

            """
        try users.write(toFile: "\(path)/users", atomically: true, encoding: .utf8)
        try files.setAttributes(
            [.posixPermissions: 0o640, .groupOwnerAccountName: "dovecot"], ofItemAtPath: "\(path)/users")
        let port = try freePort()
        let configuration = """
            instance_name = postdesk-pop3-test-\(port)
            base_dir = \(path)/run
            state_dir = \(path)/state
            protocols = pop3
            listen = 127.0.0.1
            log_path = \(path)/dovecot.log
            ssl = no
            disable_plaintext_auth = no
            auth_mechanisms = plain login
            auth_username_chars =
            auth_failure_delay = 0
            mail_location = maildir:~/Maildir
            first_valid_uid = 1
            passdb {
              driver = passwd-file
              args = scheme=PLAIN \(path)/users
            }
            userdb {
              driver = passwd-file
              args = \(path)/users
            }
            service pop3-login {
              inet_listener pop3 {
                address = 127.0.0.1
                port = \(port)
              }
              inet_listener pop3s {
                port = 0
              }
            }

            """
        try configuration.write(toFile: "\(path)/dovecot.conf", atomically: true, encoding: .utf8)
        // The master forks into the background and writes its pid; the launcher exits at once.
        let status = try spawnAndWait([binary, "-c", "\(path)/dovecot.conf"])
        guard status == 0 else { throw SocketFailure(what: "dovecot start (see \(path)/dovecot.log)") }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: "\(path)/run/master.pid", encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                var probe = try? BlockingSocket(port: port)
            {
                probe.close()
                return PrivateDovecot(directory: directory, port: port, pid: pid)
            }
            usleep(50_000)
        }
        throw SocketFailure(what: "dovecot did not listen on \(port) within 15 s")
    }

    /// Stops the master this test started (by its pid) and waits up to 10 s for it to go.
    func stop() {
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, kill(pid, 0) == 0 { usleep(50_000) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs a program and waits for it, with an empty signal mask and default handlers: the test process blocks
    /// signals on its threads, and a daemon inheriting that mask would never see the SIGTERM that stops it
    /// (Foundation's `Process` passes the mask on, and its `waitUntilExit` did not return here either).
    private static func spawnAndWait(_ arguments: [String]) throws -> Int32 {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        guard posix_spawn(&child, arguments[0], nil, &attributes, &argv, environ) == 0 else {
            throw SocketFailure(what: "spawn \(arguments[0])")
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        return (status >> 8) & 0xFF
    }

    /// A port the kernel just handed out on 127.0.0.1 (free at that moment).
    private static func freePort() throws -> UInt16 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw SocketFailure(what: "bind to a free port") }
        return UInt16(bigEndian: address.sin_port)
    }
}
