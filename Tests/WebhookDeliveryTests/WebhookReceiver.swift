import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The Python receiver (Tests/Fixtures/webhook-receiver.py) for one test: started on a loopback port (a given
/// one, to come back on the same address after a "down" phase), stopped by its pid.
final class WebhookReceiver {
    let directory: URL
    let secretFile: URL
    private(set) var port = 0
    private var process: Process?

    /// One request as the receiver logged it.
    struct Received: Sendable {
        var id: String
        var verified: Bool
        var status: Int
        /// The request body exactly as received.
        var bodyText: String
        var body: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(bodyText.utf8)) as? [String: Any]) ?? [:]
        }
        var type: String { body["type"] as? String ?? "" }
        var data: [String: Any] { body["data"] as? [String: Any] ?? [:] }
        var ticketNumber: Int? { (data["ticket"] as? [String: Any])?["number"] as? Int }
    }

    init(directory: URL, secret: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        secretFile = directory.appendingPathComponent("secret")
        try Data(secret.utf8).write(to: secretFile)
    }

    /// A loopback port nobody listens on (bound, then released), for an endpoint whose receiver starts later.
    static func unusedPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw ReceiverError.noPort }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    enum ReceiverError: Error { case noPort, notStarted }

    func start(port requested: Int = 0) throws {
        let portFile = directory.appendingPathComponent("port")
        try? FileManager.default.removeItem(at: portFile)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/webhook-receiver.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", script.path, "--port", "\(requested)", "--dir", directory.path, "--secret-file",
            secretFile.path,
        ]
        try process.run()
        self.process = process
        // Bounded: 15 s for the interpreter to start on a loaded machine.
        for _ in 0..<300 {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let value = Int(text) {
                port = value
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        stop()
        throw ReceiverError.notStarted
    }

    /// SIGTERM, reaped with `waitpid` (bounded; then SIGKILL): `Process.waitUntilExit` can hang off the main
    /// run loop on Linux.
    func stop() {
        guard let process else { return }
        self.process = nil
        let pid = process.processIdentifier
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<250 {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || (reaped < 0 && errno == ECHILD) { return }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
    }

    /// "ok" (204) or "500".
    func setMode(_ mode: String) throws {
        try Data(mode.utf8).write(to: directory.appendingPathComponent("mode"), options: .atomic)
    }

    var url: URL { URL(string: "http://127.0.0.1:\(port)/hooks")! }

    func received() -> [Received] {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("received.jsonl"), encoding: .utf8)
        else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let bodyText = record["body"] as? String
            else { return nil }
            return Received(
                id: record["id"] as? String ?? "", verified: record["verified"] as? Bool ?? false,
                status: record["status"] as? Int ?? 0, bodyText: bodyText)
        }
    }

    /// Waits (bounded by `seconds`) until `condition` holds for what arrived.
    func wait(seconds: Double = 30, until condition: ([Received]) -> Bool) async throws -> [Received] {
        var received: [Received] = []
        _ = await waitUntil(seconds: seconds) {
            received = self.received()
            return condition(received)
        }
        return received
    }
}
