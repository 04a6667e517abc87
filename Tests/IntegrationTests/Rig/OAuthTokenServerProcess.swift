import Foundation
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The local OAuth2 authorization server (`Tests/Fixtures/oauth-token-server.py`) for the poller's tests: the
/// real token, device and introspection endpoints, which Dovecot's `oauth2` passdb asks too. A stand-in for
/// Microsoft's and Google's servers, speaking their protocol; started on a free loopback port, stopped by its pid.
final class OAuthTokenServerProcess {
    static let clientID = "postdesk-test"
    static let clientSecret = "s3cret"

    let port: Int
    private let process: ChildProcess

    var base: String { "http://127.0.0.1:\(port)" }
    var introspectionURL: String { base + "/introspect" }

    private init(port: Int, process: ChildProcess) {
        self.port = port
        self.process = process
    }

    static func start(in scratch: ScratchDirectory, users: [String], arguments: [String] = []) async throws
        -> OAuthTokenServerProcess
    {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/oauth-token-server.py").path
        let portFile = scratch.file("oauth-port")
        let process = try ChildProcess(
            executable: findExecutable("python3") ?? "/usr/bin/python3",
            arguments: [script, "--port-file", portFile, "--client-id", clientID, "--client-secret", clientSecret]
                + users.flatMap { ["--user", $0] } + arguments,
            outputPrefix: scratch.file("oauth-server"))
        var port: Int?
        _ = await waitUntil(seconds: 20) {
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap {
                Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            return port != nil || !process.isRunning
        }
        guard let port else {
            await process.stop()
            throw RigError.timedOut(
                what: "the OAuth token server's port file", seconds: 20, detail: process.standardError)
        }
        return OAuthTokenServerProcess(port: port, process: process)
    }

    /// POST to a control endpoint (`revoke`, `expire-access`, `config`, …) with a form body; its JSON answer.
    @discardableResult
    func control(_ endpoint: String, _ form: [String: String] = [:]) async throws -> String {
        try await post("/control/" + endpoint, form)
    }

    /// The server's request log: method, path, grant type, status, error (never a token).
    func requestLog() async throws -> [[String: Any]] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: base + "/control/log")!)
        return (try JSONSerialization.jsonObject(with: data) as? [[String: Any]]) ?? []
    }

    /// The person at the browser approving a device code.
    func approveDevice(userCode: String, user: String) async throws {
        let url = URL(string: "\(base)/device?user_code=\(userCode)&user=\(user)")!
        _ = try await URLSession.shared.data(from: url)
    }

    func post(_ path: String, _ form: [String: String]) async throws -> String {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(
            form.map { key, value in
                "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value)"
            }.joined(separator: "&").utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        return String(decoding: data, as: UTF8.self)
    }

    func stop() async {
        await process.stop()
    }
}
