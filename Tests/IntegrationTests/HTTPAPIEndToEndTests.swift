import AsyncHTTPClient
import Foundation
import Logging
import MessageSpool
import NIOCore
import NIOHTTP1
import Testing
import TicketPipeline
import TicketStoreSQLite

extension EndToEndTests {
    /// Issue 14: the running daemon serves the HTTP API; `postdesk tokens` creates, lists and revokes its tokens.
    @Suite("HTTP API of the running daemon")
    struct HTTPAPIEndToEndTests {
        @Test("a token from `postdesk tokens create` reads a ticket delivered over LMTP; revoked, it is refused")
        func tokensAndTicketsThroughTheDaemon() async throws {
            let port = try LoopbackSockets.freePort()
            try await EndToEndRig.run(
                label: "http-api", withPostfix: false,
                postdeskEnvironment: ["POSTDESK_HTTP_LISTEN": "127.0.0.1:\(port)"]
            ) { rig in
                let message =
                    "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <m@example.test>\r\nTo: support@support.test\r\n"
                    + "Subject: =?UTF-8?B?RHJ1Y2tlciBicmVubnQ=?=\r\nMessage-ID: <api-1@example.test>\r\n\r\n"
                    + "Bitte helfen.\r\n\r\nAm Montag schrieb Support:\r\n> Neu starten?\r\n"
                let transcript = try await rig.clients.lmtpSession(
                    socket: rig.postdesk.socketPath, from: "m@example.test", rcpts: ["support@support.test"],
                    message: message, label: "http-api")
                #expect(transcript.data.map(\.code) == [250])

                let token = try await rig.postdesk.cli(["tokens", "create", "e2e", "--scope", "read"], label: "token")
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(token.hasPrefix("pd_") && token.count == 46, "printed once: \(token)")
                let listed = try await rig.postdesk.cli(["tokens", "list"], label: "tokens-list")
                #expect(listed.contains("e2e") && listed.contains("read"))
                #expect(!listed.contains(token), "the token is never listed")

                let client = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = client.shutdown() }
                func get(_ path: String, token: String?) async throws -> (Int, String) {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
                    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
                    let response = try await client.execute(request, timeout: .seconds(10))
                    let body = try await response.body.collect(upTo: 1 << 20)
                    return (Int(response.status.code), String(buffer: body))
                }
                let (readyStatus, ready) = try await get("/readyz", token: nil)
                #expect(readyStatus == 200, "\(ready)")
                let (status, body) = try await get("/api/v1/tickets/1", token: token)
                #expect(status == 200, "\(body)")
                #expect(body.contains("\"subject\":\"Drucker brennt\""))
                #expect(body.contains("\"name\":\"Jürgen Müller\""))
                #expect(body.contains("\"stripped_text\":\"Bitte helfen.\""), "\(body)")
                #expect(try await get("/api/v1/tickets/1", token: nil).0 == 401)

                _ = try await rig.postdesk.cli(["tokens", "revoke", "e2e"], label: "revoke")
                #expect(try await get("/api/v1/tickets/1", token: token).0 == 401, "revoked at once")
                #expect(!rig.postdesk.serverLog.contains(token), "the token never reaches the log")
            }
        }

        @Test("a quarantined message is replayed through the API in a child process, once")
        func quarantineReplayThroughTheDaemon() async throws {
            let port = try LoopbackSockets.freePort()
            try await EndToEndRig.run(
                label: "http-replay", withPostfix: false,
                postdeskEnvironment: ["POSTDESK_HTTP_LISTEN": "127.0.0.1:\(port)"]
            ) { rig in
                let raw =
                    "From: =?UTF-8?Q?Zo=C3=AB?= <zoe@example.test>\r\nTo: support@support.test\r\n"
                    + "Subject: Aus der =?UTF-8?Q?Quarant=C3=A4ne?=\r\nMessage-ID: <replay-1@example.test>\r\n\r\nHallo\r\n"
                // Written by a second connection to the daemon's store, as the pipeline would on a failure.
                let store = try SQLiteTicketStore(path: rig.postdesk.databasePath, logger: Logger(label: "test"))
                let id = try await store.write { transaction in
                    try transaction.quarantine(
                        NewQuarantineEntry(
                            receivedAt: Date(), source: .lmtp, sessionID: "s", envelopeSender: "zoe@example.test",
                            envelopeRecipients: ["support@support.test"], raw: RawMessage(Array(raw.utf8)),
                            error: "injected for the test"))
                }
                try store.close()
                let token = try await rig.postdesk.cli(["tokens", "create", "ops", "--scope", "write"], label: "token")
                    .trimmingCharacters(in: .whitespacesAndNewlines)

                let client = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = client.shutdown() }
                func send(_ method: HTTPMethod, _ path: String) async throws -> (Int, String) {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
                    request.method = method
                    request.headers.add(name: "Authorization", value: "Bearer \(token)")
                    let response = try await client.execute(request, timeout: .seconds(60))
                    let body = try await response.body.collect(upTo: 1 << 20)
                    return (Int(response.status.code), String(buffer: body))
                }
                let (status, body) = try await send(.POST, "/api/v1/quarantine/\(id)/replay")
                #expect(status == 200, "\(body)")
                #expect(body.contains("\"outcome\":\"replayed\""), "\(body)")
                let (_, tickets) = try await send(.GET, "/api/v1/tickets")
                #expect(tickets.contains("\"subject\":\"Aus der Quarantäne\""), "\(tickets)")
                #expect(try await send(.POST, "/api/v1/quarantine/\(id)/replay").0 == 409, "stored once")
                #expect(rig.postdesk.isRunning)
            }
        }
    }
}
