import AsyncHTTPClient
import Foundation
import Logging
import MailParser
import MessageSpool
import NIOCore
import NIOHTTP1
import PostdeskHTTP
import Synchronization
import TicketPipeline
import TicketStoreSQLite

/// A real store in a temporary directory, the real pipeline over it, and the API server on a loopback port, with
/// a read token and a write token. Every response is recorded for the spec check (`SpecConformance`).
final class APIFixture: Sendable {
    let directory: URL
    let store: SQLiteTicketStore
    let intake: TicketIntake
    let server: APIServer
    let port: Int
    let client: HTTPClient
    let readToken = APIToken.generate()
    let writeToken = APIToken.generate()
    let recorder: ResponseRecorder

    static let support = QueueDefinition(
        name: "support", tag: "Support", addresses: ["support@example.org", "*@support.test"])
    static let sales = QueueDefinition(name: "sales", tag: "Sales", addresses: ["sales@example.org"])

    /// Our side of replies as a daemon with outbound mail would have it: each queue's first address, both queues'
    /// addresses ours, Message-IDs signed @desk.test.
    static let replySender = AgentReply.Sender(
        from: { queue in MailAddress(name: nil, address: queue == "sales" ? "sales@example.org" : "support@example.org")
        },
        isOwnAddress: { address in
            QueueRouter(queues: [APIFixture.support, APIFixture.sales]).queue(for: address) != nil
        },
        messageIDs: MessageIDSigner(secret: Array("a reply-signing secret for tests".utf8), domain: "desk.test"))

    init(readiness: HTTPReadiness = HTTPReadiness(), replies: AgentReply.Sender? = nil) async throws {
        recorder = ResponseRecorder()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "postdesk-http-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var logger = Logger(label: "test.api")
        logger.logLevel = .warning
        let store = try SQLiteTicketStore(
            path: directory.appendingPathComponent("postdesk.db").path, logger: logger)
        let intake = TicketIntake(
            router: QueueRouter(queues: [Self.support, Self.sales]), store: store, logger: logger)
        self.store = store
        self.intake = intake
        let server = try APIServer(
            settings: HTTPServerSettings(host: "127.0.0.1", port: 0), store: store, reader: store,
            readiness: readiness, replay: { id in try await intake.replay(quarantineID: id) }, replies: replies,
            logger: logger)
        self.server = server
        port = try await server.start()
        client = HTTPClient(eventLoopGroupProvider: .singleton)
        try await store.createAPIToken(name: "reader", hash: APIToken.hash(readToken), scope: "read", at: Date())
        try await store.createAPIToken(name: "writer", hash: APIToken.hash(writeToken), scope: "write", at: Date())
    }

    func tearDown() async {
        try? await client.shutdown()
        await server.stop()
        try? store.close()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Delivers `raw` through the pipeline as LMTP would, to `recipient`; returns the ticket number.
    @discardableResult
    func deliver(_ raw: String, to recipient: String = "support@example.org") async throws -> Int {
        let outcomes = await intake.process(
            InboundMessage(
                sender: "sender@example.com", recipients: [recipient], raw: Array(raw.utf8), source: .lmtp,
                receivedAt: Date(), sessionID: "test"))
        switch outcomes.first?.result {
        case .created(let ticket), .appended(let ticket): return ticket
        case let other: throw FixtureError(description: "delivery gave \(String(describing: other))")
        }
    }

    struct FixtureError: Error, CustomStringConvertible {
        var description: String
    }

    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        }
        var contentType: String { headers.first(name: "content-type") ?? "" }
    }

    /// Sends one request; `template` names the spec's path for the conformance check (nil: not recorded, e.g.
    /// a path the spec does not have).
    func request(
        _ method: HTTPMethod, _ path: String, token: String? = nil, body: String? = nil, template: String?,
        headers extra: [(String, String)] = []
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let collected = try await response.body.collect(upTo: 16 << 20)
        let reply = Reply(
            status: Int(response.status.code), headers: response.headers, body: Array(collected.readableBytesView))
        if let template {
            recorder.record(method: method, template: template, reply: reply)
        }
        return reply
    }

    func get(_ path: String, token: String? = nil, template: String?) async throws -> Reply {
        try await request(.GET, path, token: token ?? readToken, template: template)
    }
}

/// Responses seen by the tests, with the spec path they answer, checked against `api/openapi.yaml` at the end.
final class ResponseRecorder: Sendable {
    private let lines = Mutex<[String]>([])

    func record(method: HTTPMethod, template: String, reply: APIFixture.Reply) {
        let mediaType = reply.contentType.split(separator: ";").first.map(String.init) ?? ""
        var entry: [String: Any] = [
            "method": method.rawValue.lowercased(), "path": template, "status": reply.status,
            "content_type": reply.contentType,
        ]
        if mediaType.hasSuffix("json") {
            entry["body"] = (try? JSONSerialization.jsonObject(with: Data(reply.body))) ?? NSNull()
        }
        guard let data = try? JSONSerialization.data(withJSONObject: entry) else { return }
        lines.withLock { $0.append(String(decoding: data, as: UTF8.self)) }
    }

    var recorded: [String] { lines.withLock { $0 } }

    /// Runs `scripts/check-api-responses.py` over the recorded responses: every status declared for its
    /// operation, every JSON body valid against its schema. Returns the script's output and exit status.
    func checkAgainstSpec() throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("api-responses-\(UUID()).jsonl")
        try recorded.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", repositoryRoot.appendingPathComponent("scripts/check-api-responses.py").path,
            repositoryRoot.appendingPathComponent("api/openapi.yaml").path, file.path,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}

/// The repository's root, from this file's path (symbolic links resolved: a scratch package may link the tests).
let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
