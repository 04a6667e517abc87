import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

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
    }
}
