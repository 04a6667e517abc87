import Foundation
import PostdeskHTTP
import Testing

@testable import PostdeskDaemon

/// `http.listen` and `http.tls.*`: the default, disabling, and every mistake reported with its key.
@Suite final class HTTPConfigurationTests {
    private let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pd-http-\(UUID())")

    deinit {
        try? FileManager.default.removeItem(at: scratch)
    }

    func file(_ name: String, _ contents: String) throws -> String {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let path = scratch.appendingPathComponent(name).path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func load(_ yaml: String, environment: [String: String] = [:]) async throws -> PostdeskConfiguration {
        try await PostdeskConfiguration.load(path: try file("postdesk.yaml", head + yaml), environment: environment)
    }

    func issues(_ yaml: String) async throws -> [String: String] {
        do {
            _ = try await load(yaml)
            return [:]
        } catch let errors as ConfigurationErrors {
            return Dictionary(errors.issues.map { ($0.key, $0.message) }, uniquingKeysWith: { $0 + "; " + $1 })
        }
    }

    let head = """
        store:
          path: /tmp/pd.db
        lmtp:
          socket: /tmp/pd.sock
        queues:
          names: [support]
          support:
            addresses: [support@example.test]

        """

    @Test func listensOnLoopback8025UnlessDisabled() async throws {
        #expect(try await load("").http == HTTPServerSettings(host: "127.0.0.1", port: 8025))
        #expect(try await load("http:\n  listen: \"\"\n").http == nil)
        #expect(try await load("", environment: ["POSTDESK_HTTP_LISTEN": ""]).http == nil)
        #expect(try await load("http:\n  listen: \"[::1]:0\"\n").http == HTTPServerSettings(host: "::1", port: 0))
        let summary = try await load("").summary
        #expect(summary.contains("http.listen: 127.0.0.1:8025"))
    }

    @Test func mistakesAreReportedWithTheirKey() async throws {
        #expect(try await issues("http:\n  listen: localhost\n")["http.listen"]?.contains("host:port") == true)
        #expect(try await issues("http:\n  listen: \"127.0.0.1:70000\"\n")["http.listen"] != nil)
        #expect(
            try await issues("http:\n  tls:\n    certificate: /nonexistent/cert.pem\n")["http.tls.key"]
                == "http.tls.certificate is set but the key is not")
        let both = try await issues("http:\n  tls:\n    certificate: /nonexistent/c.pem\n    key: /nonexistent/k.pem\n")
        #expect(both["http.tls.certificate"] == "cannot read /nonexistent/c.pem")
        #expect(both["http.tls.key"] == "cannot read /nonexistent/k.pem")
        #expect(try await issues("http:\n  listn: x\n")["http.listn"]?.contains("http.listen") == true)
    }

    @Test func tlsFilesAreTaken() async throws {
        let certificate = try file("cert.pem", "not checked here\n")
        let key = try file("key.pem", "not checked here\n")
        let settings = try await load("http:\n  tls:\n    certificate: \(certificate)\n    key: \(key)\n").http
        #expect(settings?.tlsCertificatePath == certificate)
        #expect(settings?.tlsKeyPath == key)
    }
}
