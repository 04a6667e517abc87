import AsyncHTTPClient
import Foundation
import NIOCore
import OAuthTokens
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The local token server (Tests/Fixtures/oauth-token-server.py) run for one test: started on a free
/// loopback port, driven through its control endpoints, stopped by its pid.
struct OAuthTokenServer: Sendable {
    static let clientID = "postdesk-test"
    static let clientSecret = "s3cret"

    let port: Int
    let pid: pid_t
    let directory: URL

    var base: String { "http://127.0.0.1:\(port)" }

    /// The provider whose endpoints are this server's.
    var provider: OAuthProvider {
        OAuthProvider(
            name: "generic", authorizationURL: URL(string: "\(base)/authorize"),
            tokenURL: URL(string: "\(base)/token")!,
            deviceAuthorizationURL: URL(string: "\(base)/devicecode"), delegatedScopes: ["mail", "offline_access"],
            appOnlyScopes: ["mail.app"])
    }

    func settings(_ flow: OAuthFlow, secret: String? = OAuthTokenServer.clientSecret) -> OAuthClientSettings {
        OAuthClientSettings(provider: provider, clientID: Self.clientID, clientSecret: secret, flow: flow)
    }

    /// Runs `body` with a fresh server (users `bench` and `other`) and a fresh scratch directory.
    static func with<T>(
        arguments: [String] = [], _ body: (OAuthTokenServer) async throws -> T
    ) async throws -> T {
        let server = try start(arguments: arguments)
        defer { server.stop() }
        return try await body(server)
    }

    static func start(arguments: [String]) throws -> OAuthTokenServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "oauth-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/oauth-token-server.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let portFile = directory.appendingPathComponent("port").path
        process.arguments =
            [
                "python3", script.path, "--port-file", portFile, "--pidfile",
                directory.appendingPathComponent("pid").path,
                "--user", "bench", "--user", "other",
            ] + arguments
        try process.run()
        // Bounded wait for the port file (python starts slowly on a loaded machine).
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8),
                let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return OAuthTokenServer(port: port, pid: process.processIdentifier, directory: directory)
            }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGKILL)
        throw ServerDidNotStart(script: script.path)
    }

    /// SIGTERM, then SIGKILL if it has not exited within 5 s; never waits longer.
    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<250 {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || (reaped < 0 && errno == ECHILD) { break }
            usleep(20_000)
        }
        if kill(pid, 0) == 0 {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, WNOHANG)
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// A scratch directory for token stores, removed with the server.
    func scratch(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// POSTs a control form; answers the JSON.
    @discardableResult
    func control(_ name: String, _ fields: [String: String] = [:]) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: "\(base)/control/\(name)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let form = fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }
        request.body = .bytes(ByteBuffer(string: form.joined(separator: "&")))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
    }

    /// The server's request log.
    func log() async throws -> [[String: Any]] {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "\(base)/control/log"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        return try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [[String: Any]] ?? []
    }

    /// Waits (at most 10 s) until the server is answering a non-control request, e.g. one held by a delay.
    func waitForRequestInFlight() async throws {
        for _ in 0..<500 {
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "\(base)/control/in-flight"), timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 16)
            let answer = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
            if (answer?["in_flight"] as? NSNumber)?.intValue ?? 0 > 0 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ServerDidNotStart(script: "no request in flight within 10 s")
    }

    /// How many token requests with `grant` the server answered, and how many of them with 200.
    func tokenRequests(grant: String) async throws -> (all: Int, succeeded: Int) {
        let entries = try await log().filter {
            $0["path"] as? String == "/token" && $0["grant_type"] as? String == grant
        }
        return (entries.count, entries.filter { $0["status"] as? Int == 200 }.count)
    }

    /// Whether the server considers `token` an active access token (what Dovecot asks).
    func introspect(_ token: String) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: "\(base)/introspect")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(
            ByteBuffer(string: "token=\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
    }

    /// Fresh tokens for `user` without a flow, stored for `mailbox` as if a consent had happened.
    func seed(_ store: OAuthTokenStore, mailbox: String, user: String = "bench") async throws -> OAuthTokenRecord {
        let answer = try await control("issue", ["user": user])
        let now = Date()
        let record = OAuthTokenRecord(
            accessToken: answer["access_token"] as! String,
            accessTokenExpiresAt: now.addingTimeInterval((answer["expires_in"] as! NSNumber).doubleValue),
            refreshToken: answer["refresh_token"] as? String, refreshTokenObtainedAt: now, lastRefreshAt: now)
        try store.save(record, for: mailbox)
        return record
    }
}

struct ServerDidNotStart: Error {
    var script: String
}
