import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOSSL
import Testing
import TicketStoreSQLite

@testable import PostdeskHTTP

/// The server itself: TLS when certificate and key are configured, a clean stop, a bind failure reported.
@Suite struct ServerLifecycleTests {
    /// A self-signed certificate for 127.0.0.1 made with openssl, in `directory`.
    static func makeCertificate(in directory: URL) throws -> (certificate: String, key: String) {
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw APIFixture.FixtureError(description: "openssl failed") }
        return (certificate, key)
    }

    @Test func servesTLSWhenACertificateIsConfiguredAndStopsCleanly() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pd-http-tls-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (certificate, key) = try Self.makeCertificate(in: directory)
        let logger = Logger(label: "test.tls")
        let store = try SQLiteTicketStore(path: directory.appendingPathComponent("db.sqlite").path, logger: logger)
        defer { try? store.close() }
        let server = try APIServer(
            settings: HTTPServerSettings(
                host: "127.0.0.1", port: 0, tlsCertificatePath: certificate, tlsKeyPath: key),
            store: store, reader: store, logger: logger)
        let port = try await server.start()

        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificate))
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
        let response = try await client.execute(
            HTTPClientRequest(url: "https://127.0.0.1:\(port)/healthz"), timeout: .seconds(10))
        #expect(response.status.code == 200)
        _ = try await response.body.collect(upTo: 1 << 16)
        // Plain HTTP on the TLS port gets no HTTP answer.
        let plain = HTTPClient(eventLoopGroupProvider: .singleton)
        await #expect(throws: (any Error).self) {
            let answer = try await plain.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"), timeout: .seconds(5))
            _ = try await answer.body.collect(upTo: 1 << 16)
        }
        try await plain.shutdown()

        // An idle TLS keep-alive connection waits for the client's close_notify (NIOSSL gives it 5 s); the stop
        // returns at most a second after its grace whatever that wait (not timed here: the suite runs loaded).
        await server.stop(grace: .seconds(1))
        await #expect(throws: (any Error).self) {
            _ = try await client.execute(
                HTTPClientRequest(url: "https://127.0.0.1:\(port)/healthz"), timeout: .seconds(5))
        }
        try await client.shutdown()
    }

    @Test func aPlainServerStopsPromptlyWithAnIdleKeepAliveConnection() async throws {
        let api = try await APIFixture()
        #expect(try await api.request(.GET, "/healthz", template: nil).status == 200)
        let clock = ContinuousClock()
        let started = clock.now
        await api.server.stop(grace: .seconds(30))
        #expect(clock.now - started < .seconds(15), "an idle keep-alive connection does not hold the stop to its grace")
        await api.tearDown()
    }

    @Test func anAddressInUseFailsTheStart() async throws {
        let api = try await APIFixture()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pd-http-busy-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteTicketStore(
            path: directory.appendingPathComponent("db.sqlite").path, logger: Logger(label: "test.busy"))
        defer { try? store.close() }
        let second = try APIServer(
            settings: HTTPServerSettings(host: "127.0.0.1", port: api.port), store: store, reader: store,
            logger: Logger(label: "test.busy"))
        await #expect(throws: (any Error).self) { _ = try await second.start() }
        await api.tearDown()
    }
}
