import Foundation
import TestSupport

/// The webhook receiver (`Tests/Fixtures/webhook-receiver.py`) for the daemon's tests: checks every signature with
/// the Standard Webhooks algorithm on its own and logs each request; its answer is set by `setMode` ("ok", "500",
/// "hang"). Started on a given loopback port, stopped by its pid.
final class WebhookReceiverProcess {
    let port: Int
    let directory: String
    private let process: ChildProcess

    var url: String { "http://127.0.0.1:\(port)/hooks" }

    /// One logged request.
    struct Request {
        var id: String
        var verified: Bool
        var status: Int
        var bodyText: String
        var body: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(bodyText.utf8)) as? [String: Any]) ?? [:]
        }
    }

    private init(port: Int, directory: String, process: ChildProcess) {
        self.port = port
        self.directory = directory
        self.process = process
    }

    /// - Parameter directory: holds `received.jsonl` and `mode`; kept across a restart on the same port.
    static func start(
        in scratch: ScratchDirectory, directory: String, secretFile: String, port: Int, mode: String = "ok"
    ) async throws -> WebhookReceiverProcess {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(mode.utf8).write(to: URL(fileURLWithPath: directory + "/mode"))
        let portFile = directory + "/port"
        try? FileManager.default.removeItem(atPath: portFile)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/webhook-receiver.py").path
        let process = try ChildProcess(
            executable: findExecutable("python3") ?? "/usr/bin/python3",
            arguments: [script, "--port", "\(port)", "--dir", directory, "--secret-file", secretFile],
            outputPrefix: scratch.file("webhook-receiver-\(UUID().uuidString.prefix(8))"))
        let started = await waitUntil(seconds: 20) {
            FileManager.default.fileExists(atPath: portFile) || !process.isRunning
        }
        guard started, process.isRunning else {
            await process.stop()
            throw RigError.timedOut(
                what: "the webhook receiver's port file", seconds: 20, detail: process.standardError)
        }
        return WebhookReceiverProcess(port: port, directory: directory, process: process)
    }

    func setMode(_ mode: String) throws {
        try Data(mode.utf8).write(to: URL(fileURLWithPath: directory + "/mode"), options: .atomic)
    }

    func requests() -> [Request] {
        guard let text = try? String(contentsOfFile: directory + "/received.jsonl", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                return nil
            }
            return Request(
                id: record["id"] as? String ?? "", verified: record["verified"] as? Bool ?? false,
                status: record["status"] as? Int ?? -1, bodyText: record["body"] as? String ?? "")
        }
    }

    func stop() async {
        await process.stop(graceSeconds: 2)
    }
}
