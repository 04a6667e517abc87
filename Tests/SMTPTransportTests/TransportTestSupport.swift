import Foundation
import Logging
import MessageSpool
import NIOCore
import NIOPosix
import NIOSSL
import SMTPTransport
import Synchronization

/// The backend under these tests: records what it gets, knows a fixed set of recipients, and can hold
/// deliveries until the test releases them.
final class RecordingBackend: SMTPBackend {
    /// One delivery as the backend saw it: the envelope, and the whole message (spooled octets and the rest).
    @dynamicMemberLookup
    struct Received: Sendable {
        var envelope: SMTPDelivery
        var data: [UInt8]

        var recipients: [String] { envelope.recipients.map(\.address) }
        subscript<Value>(dynamicMember path: KeyPath<SMTPDelivery, Value>) -> Value { envelope[keyPath: path] }
    }

    private struct State {
        var deliveries: [Received] = []
        var spooledSizes: [Int] = []
        var deliveryCount = 0
        var started = 0
        var holding = false
        /// Held deliveries, each finishing itself when released.
        var waiting: [@Sendable () -> Void] = []
    }

    let knownRecipients: Set<String>
    /// Off for throughput runs, which only count.
    let recordData: Bool
    private let state = Mutex(State())

    init(
        knownRecipients: Set<String> = ["a@x.test", "b@x.test", "c@x.test"], holdDeliveries: Bool = false,
        recordData: Bool = true
    ) {
        self.knownRecipients = knownRecipients
        self.recordData = recordData
        state.withLock { $0.holding = holdDeliveries }
    }

    var deliveries: [Received] { state.withLock { $0.deliveries } }
    var startedDeliveries: Int { state.withLock { $0.started } }
    var deliveryCount: Int { state.withLock { $0.deliveryCount } }

    /// Lets held and future deliveries complete.
    func release() {
        let waiting = state.withLock { state -> [@Sendable () -> Void] in
            state.holding = false
            defer { state.waiting = [] }
            return state.waiting
        }
        for finish in waiting { finish() }
    }

    func validateRecipient(_ address: String, session: SMTPSessionInfo) -> SMTPRecipientCheck {
        knownRecipients.contains(address.lowercased()) ? .accept(route: nil) : .refuse(.unknownRecipient(address))
    }

    /// Spooled messages seen, and their sizes.
    var spooledSizes: [Int] { state.withLock { $0.spooledSizes } }

    /// Answers on the calling thread (or the releasing one): never through the cooperative pool, which the
    /// suite's long CPU-bound tests may occupy for seconds while these sessions wait for their replies.
    func deliver(
        _ delivery: SMTPDelivery, message: RawMessage, completion: @escaping @Sendable ([SMTPReply]) -> Void
    ) {
        let finish: @Sendable () -> Void = { [self] in completion(record(delivery, message: message)) }
        let proceed = state.withLock { state -> Bool in
            state.started += 1
            if state.holding {
                state.waiting.append(finish)
                return false
            }
            return true
        }
        if proceed { finish() }
    }

    private func record(_ delivery: SMTPDelivery, message: RawMessage) -> [SMTPReply] {
        state.withLock { state in
            state.deliveryCount += 1
            if message.isSpooled { state.spooledSizes.append(message.count) }
            if recordData {
                // Recorded whole, as the backend sees it: spooled octets and the rest together.
                state.deliveries.append(Received(envelope: delivery, data: message.bytes))
            }
        }
        return delivery.recipients.enumerated().map { index, recipient in
            SMTPReply(code: 250, enhancedStatus: "2.0.0", "<\(recipient)> stored as #\(index + 1)")
        }
    }
}

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        // Unix socket paths must stay under ~100 bytes: keep the name short.
        path = "/tmp/smtpt-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

struct ProcessResult {
    var status: Int32
    var output: String
    var error: String
}

enum ProcessFailure: Error, CustomStringConvertible {
    case timedOut(seconds: Double, stderr: String)

    var description: String {
        switch self {
        case .timedOut(let seconds, let stderr): return "process still running after \(seconds) s; stderr: \(stderr)"
        }
    }
}

/// Runs `python3 -c script args...`, killing it (by its pid) if it outlives `timeout`.
///
/// Output goes to temporary files, not pipes: draining pipes would block threads of the cooperative pool,
/// which the server's backend tasks need.
func runPython(_ script: String, arguments: [String] = [], timeout: Double = 20) async throws -> ProcessResult {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let outputPath = directory.path + "/stdout"
    let errorPath = directory.path + "/stderr"
    _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
    let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
    let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
    defer {
        try? output.close()
        try? errors.close()
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
    while process.isRunning {
        if ContinuousClock.now > deadline {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let stderr = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            throw ProcessFailure.timedOut(seconds: timeout, stderr: stderr)
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus,
        output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
        error: (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
}

/// A self-signed certificate for 127.0.0.1/localhost made with the openssl CLI, as an NIOSSL server context.
func makeTLSContext(in directory: TemporaryDirectory) throws -> NIOSSLContext {
    let certificate = directory.path + "/cert.pem"
    let key = directory.path + "/key.pem"
    let openssl = Process()
    openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    openssl.arguments = [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ]
    openssl.standardOutput = FileHandle.nullDevice
    openssl.standardError = FileHandle.nullDevice
    try openssl.run()
    openssl.waitUntilExit()
    let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
    let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
    return try NIOSSLContext(
        configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey)))
}

func makeServer(
    _ configuration: SMTPServerConfiguration = SMTPServerConfiguration(hostname: "mx.test"),
    backend: any SMTPBackend
) -> SMTPServer {
    var logger = Logger(label: "smtp-transport-tests")
    logger.logLevel = ProcessInfo.processInfo.environment["SMTP_TEST_LOG"] != nil ? .trace : .critical
    return SMTPServer(
        configuration: configuration, backend: backend, logger: logger, group: MultiThreadedEventLoopGroup.singleton)
}

/// Python helpers shared by the scripts: a line-oriented raw client.
let pythonRawClient = """
    import socket, sys, time, json
    def connect(target):
        if isinstance(target, str):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(target)
        else:
            s = socket.create_connection(target)
        s.settimeout(10)
        return s, s.makefile('rb')
    def reply(f):
        lines = []
        while True:
            line = f.readline()
            if not line:
                return ' | '.join(lines) if lines else 'EOF'
            line = line.decode('utf-8', 'replace').rstrip('\\r\\n')
            lines.append(line)
            if len(line) < 4 or line[3] != '-':
                return ' | '.join(lines)

    """
