import Foundation
import MailServerClient
import MailboxPolling
import OutboundMail
import TestSupport
import Testing

/// A token source with one fixed access token: what the relay makes of a token it does not know.
private actor FixedTokenSource: AccessTokenSource {
    let token: String
    private(set) var rejections = 0

    init(token: String) { self.token = token }

    func accessToken(for mailbox: String) async throws -> String { token }
    func tokenRejected(for mailbox: String) async { rejections += 1 }
}

extension EndToEndTests {
    /// AUTH XOAUTH2 to a real relay: Postfix's SASL cannot check a bearer token itself, so its smtpd asks a real
    /// Dovecot's auth service (`smtpd_sasl_type = dovecot`), whose `oauth2` passdb asks the local token server.
    /// Postfix takes a recipient only from an authenticated client, so an acknowledgement that arrives proves
    /// the login.
    @Suite("Outbound mail with AUTH XOAUTH2 through Postfix + Dovecot SASL", .serialized, .timeLimit(.minutes(10)))
    struct OutboundOAuthRelayTests {
        @Test("Acknowledgements go out with the mailbox's token; an expired one is refreshed; a refusal is typed")
        func xoauth2ToTheRelay() async throws {
            try PostfixInstance.requireInstalled()
            let scratch = try ScratchDirectory(label: "xoauth")
            let tokens = try await OAuthTokenServerProcess.start(in: scratch, users: ["bench"])
            let authSocket = scratch.file("dovecot-auth.sock")
            let dovecot = try DovecotInstance(
                in: scratch, users: ["bench": "unused-password"], oauthIntrospectionURL: tokens.introspectionURL,
                settings: [
                    """
                    service auth {
                      unix_listener \(authSocket) {
                        mode = 0666
                      }
                    }
                    """
                ])
            let postdesk = try PostdeskServer(in: scratch)
            let capture = try await MailCapture(in: scratch, name: "customers")
            let postfix = try PostfixInstance(
                in: scratch, lmtpSocket: capture.socketPath, relayDomains: ["example.org"],
                settings: [
                    "smtpd_sasl_auth_enable = yes", "smtpd_sasl_type = dovecot", "smtpd_sasl_path = \(authSocket)",
                    "smtpd_recipient_restrictions = permit_sasl_authenticated, reject",
                    "smtpd_relay_restrictions = permit_sasl_authenticated, reject",
                ])
            func stopAll() async {
                await postfix.stop()
                await postdesk.stop()
                await capture.stop()
                await dovecot.stop()
                await tokens.stop()
            }
            do {
                try await dovecot.start()
                try await postfix.start()
                let clientSecret = scratch.file("client.secret")
                try "\(OAuthTokenServerProcess.clientSecret)\n".write(
                    toFile: clientSecret, atomically: true, encoding: .utf8)
                try postdesk.setExtraConfig(
                    """
                    server:
                      hostname: desk-a.test
                    mailboxes:
                      - name: hosted
                        protocol: imap
                        host: localhost
                        port: \(dovecot.imapsPort)
                        ca_file: \(dovecot.certificatePath)
                        username: bench
                        auth:
                          oauth2:
                            provider: generic
                            client_id: \(OAuthTokenServerProcess.clientID)
                            client_secret_file: \(clientSecret)
                            flow: client_credentials
                            token_url: \(tokens.base)/token
                            scopes: [mail]
                        queue: support
                        poll_interval: 3600
                    outbound:
                      relay: "127.0.0.1:\(postfix.smtpPort)"
                      starttls: "off"
                      retry_initial_seconds: 1
                      auth:
                        oauth2_mailbox: hosted
                    queues.support.acknowledge: true

                    """)
                let summary = try await postdesk.cli(["check-config"], label: "check")
                #expect(summary.contains("auth xoauth2 with mailbox hosted's tokens"), "\(summary)")
                try await postdesk.start()

                func deliver(_ message: String, from sender: String) throws -> Int {
                    let client = try RawLMTPClient(socketPath: postdesk.socketPath)
                    return try client.deliver(
                        from: sender, to: [PostdeskServer.supportAddress], message: Array(message.utf8)
                    ).data.first?.code ?? 0
                }
                func waitForMessages(_ count: Int) async -> Int {
                    _ = await waitUntil(seconds: 60) { capture.messages().count >= count }
                    return capture.messages().count
                }

                #expect(
                    try deliver(customerMessage(subject: "Anmeldung schlägt fehl"), from: "kunde@example.org") == 250)
                #expect(await waitForMessages(1) == 1, "log:\n\(postdesk.serverLog)\n\(postfix.maillog())")
                #expect(capture.messages().first?.subject == "[Support #1] Anmeldung schlägt fehl")
                #expect(postfix.maillog().contains("sasl_method=XOAUTH2, sasl_username=bench"), "\(postfix.maillog())")

                // Every access token issued so far expires: the relay refuses the cached one (334 with the error
                // JSON, then 535); the client asks the token manager again, which fetches a new one, and sends.
                try await tokens.control("expire-access")
                try await tokens.control("reset-log")
                #expect(
                    try deliver(customerMessage(subject: "Zweite Frage – dringend"), from: "zoe@example.org") == 250)
                #expect(await waitForMessages(2) == 2, "log:\n\(postdesk.serverLog)\n\(postfix.maillog())")
                let fetched = try await tokens.requestLog().filter { ($0["path"] as? String) == "/token" }
                #expect(fetched.count == 1, "\(fetched)")
                #expect(!postdesk.serverLog.contains("deferred"), "\(postdesk.serverLog)")

                // The token endpoint fails: the mail waits (a temporary failure) and the log names the relay and
                // the token source; once tokens come again it is sent.
                try await tokens.control("expire-access")
                try await tokens.control("fail", ["count": "2", "status": "400", "error": "invalid_client"])
                #expect(try deliver(customerMessage(subject: "Dritte"), from: "third@example.org") == 250)
                #expect(await waitForMessages(3) == 3, "log:\n\(postdesk.serverLog)")
                #expect(
                    postdesk.serverLog.contains(
                        "token: no access token from mailbox hosted's OAuth2 tokens (outbound.auth.oauth2_mailbox)"
                            + " for 127.0.0.1:\(postfix.smtpPort)"), "\(postdesk.serverLog)")

                // A token the authorization server never issued: refused, asked again, refused again, then a
                // typed error naming the relay, the token source and the server's JSON.
                let unknown = FixedTokenSource(token: "not-a-token-we-issued")
                let client = SMTPSubmissionClient(
                    settings: SMTPRelaySettings(
                        host: "127.0.0.1", port: Int(postfix.smtpPort), starttls: .off, stepTimeout: .seconds(30)),
                    oauth2: SMTPOAuth2Login(username: "bench", tokenSource: "hosted", tokens: unknown))
                let error = await #expect(throws: SubmissionError.self) {
                    _ = try await client.submit(
                        Array("Subject: x\r\n\r\nx\r\n".utf8), from: "a@desk-a.test", to: ["b@example.org"])
                }
                #expect(error?.step == .auth)
                #expect(error?.reply?.code == 535)
                #expect(error?.isPermanent == true)
                #expect(
                    error?.detail.hasPrefix(
                        "127.0.0.1:\(postfix.smtpPort) refused the access token from mailbox hosted's OAuth2 tokens "
                            + "(outbound.auth.oauth2_mailbox), also after a refresh; server error: status=")
                        == true, "\(String(describing: error))")
                #expect(await unknown.rejections == 1)
            } catch {
                await stopAll()
                throw RigFailure(underlying: error, scratch: scratch.path)
            }
            await stopAll()
            scratch.remove()
        }
    }
}
