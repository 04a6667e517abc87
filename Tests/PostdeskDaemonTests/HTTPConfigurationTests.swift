import Foundation
import PostdeskHTTP
import Testing

@testable import PostdeskDaemon

/// `http.listen` and `http.tls.*`: the default, disabling, and every mistake reported with its key.
@Suite final class HTTPConfigurationTests {
    private let config = ConfigurationScratch(label: "http", head: HTTPConfigurationTests.head)

    static let head = """
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
        #expect(try await config.load("").http == HTTPServerSettings(host: "127.0.0.1", port: 8025))
        #expect(try await config.load("http:\n  listen: \"\"\n").http == nil)
        #expect(try await config.load("", environment: ["POSTDESK_HTTP_LISTEN": ""]).http == nil)
        #expect(
            try await config.load("http:\n  listen: \"[::1]:0\"\n").http == HTTPServerSettings(host: "::1", port: 0))
        let summary = try await config.load("").summary
        #expect(summary.contains("http.listen: 127.0.0.1:8025"))
    }

    @Test func mistakesAreReportedWithTheirKey() async throws {
        #expect(
            try await config.issuesByKey("http:\n  listen: localhost\n")["http.listen"]?.contains("host:port") == true)
        #expect(try await config.issuesByKey("http:\n  listen: \"127.0.0.1:70000\"\n")["http.listen"] != nil)
        #expect(
            try await config.issuesByKey("http:\n  tls:\n    certificate: /nonexistent/cert.pem\n")["http.tls.key"]
                == "http.tls.certificate is set but the key is not")
        let both = try await config.issuesByKey(
            "http:\n  tls:\n    certificate: /nonexistent/c.pem\n    key: /nonexistent/k.pem\n")
        #expect(both["http.tls.certificate"] == "cannot read /nonexistent/c.pem")
        #expect(both["http.tls.key"] == "cannot read /nonexistent/k.pem")
        #expect(try await config.issuesByKey("http:\n  listn: x\n")["http.listn"]?.contains("http.listen") == true)
    }

    @Test func tlsFilesAreTaken() async throws {
        let certificate = try config.file("cert.pem", "not checked here\n")
        let key = try config.file("key.pem", "not checked here\n")
        let settings = try await config.load("http:\n  tls:\n    certificate: \(certificate)\n    key: \(key)\n").http
        #expect(settings?.tlsCertificatePath == certificate)
        #expect(settings?.tlsKeyPath == key)
    }
}
