import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// OAuth2 mailboxes against a real Dovecot whose `oauth2` passdb asks the local token server (the stand-in for
/// Microsoft's and Google's, speaking the same protocol): the first consent by `postdesk oauth login` (device
/// flow), XOAUTH2 and OAUTHBEARER, an expired access token refreshed, a rotated refresh token kept across a
/// SIGKILL, a revoked one turning that mailbox `needs-attention` while a password mailbox goes on.
@Suite("OAuth2 mailboxes against a real Dovecot", .serialized, .timeLimit(.minutes(10)))
struct MailboxOAuthTests {
    @Test func consentRefreshRotationAndRevocation() async throws {
        let scratch = try ScratchDirectory(label: "poll-oauth")
        let tokens = try await OAuthTokenServerProcess.start(in: scratch, users: ["bench"])
        let dovecot = try await DovecotInstance.start(
            in: scratch, users: ["bench": "unused-password", "other": "other-pässwort"],
            oauthIntrospectionURL: tokens.introspectionURL)
        let postdesk = try PostdeskServer(in: scratch)
        do {
            let clientSecret = scratch.file("client.secret")
            try "\(OAuthTokenServerProcess.clientSecret)\n".write(
                toFile: clientSecret, atomically: true, encoding: .utf8)
            let otherSecret = scratch.file("other.secret")
            try "other-pässwort\n".write(toFile: otherSecret, atomically: true, encoding: .utf8)
            try postdesk.setExtraConfig(
                """
                mailboxes:
                  - name: hosted
                    protocol: pop3
                    host: localhost
                    port: \(dovecot.pop3sPort)
                    ca_file: \(dovecot.certificatePath)
                    username: bench
                    auth:
                      oauth2:
                        provider: generic
                        client_id: \(OAuthTokenServerProcess.clientID)
                        client_secret_file: \(clientSecret)
                        flow: device_code
                        mechanism: oauthbearer
                        token_url: \(tokens.base)/token
                        device_url: \(tokens.base)/devicecode
                        scopes: [mail, offline_access]
                    queue: support
                    poll_interval: 1
                  - name: password
                    protocol: imap
                    host: localhost
                    port: \(dovecot.imapsPort)
                    ca_file: \(dovecot.certificatePath)
                    username: other
                    auth:
                      password_file: \(otherSecret)
                    queue: support

                """)
            // The first consent: the CLI shows a device code; the test approves it as the person would.
            let login = try ChildProcess(
                executable: postdesk.executable,
                arguments: ["oauth", "login", "hosted", "--config", postdesk.configPath],
                outputPrefix: scratch.file("oauth-login"))
            var userCode: String?
            _ = await waitUntil(seconds: 30) {
                let output = login.standardOutput
                if let range = output.range(of: "enter the code ") {
                    userCode = output[range.upperBound...].split(whereSeparator: \.isWhitespace).first.map {
                        $0.trimmingCharacters(in: .punctuationCharacters)
                    }
                }
                return userCode != nil || !login.isRunning
            }
            let code = try #require(userCode, "stdout: \(login.standardOutput) stderr: \(login.standardError)")
            try await tokens.approveDevice(userCode: code, user: "bench")
            #expect(await login.waitForExit(seconds: 30))
            #expect(login.terminationStatus == 0, "\(login.standardError)")
            #expect(login.standardOutput.contains("Tokens stored for hosted"))
            // Encrypted at rest: the token file holds no token in clear, the key file is 0600.
            let oauthDirectory = (postdesk.databasePath as NSString).deletingLastPathComponent + "/oauth"
            let files = try FileManager.default.contentsOfDirectory(atPath: oauthDirectory)
            #expect(files.contains("oauth-tokens.key"), "\(files)")
            let keyMode =
                try FileManager.default.attributesOfItem(atPath: oauthDirectory + "/oauth-tokens.key")[
                    .posixPermissions] as? Int
            #expect(keyMode == 0o600)

            try dovecot.deliver(MailboxPollingTests.messages("oauth")[0].raw, to: "bench")
            try await postdesk.start()
            #expect(
                try await waitUntil(seconds: 30) { try await postdesk.listTickets().count == 1 },
                "\(postdesk.serverLog)")

            // The access token expires: the server refuses it, the poller refreshes (rotation: a new refresh
            // token, the old one dead) and goes on.
            try await tokens.control("expire-access")
            try dovecot.deliver(MailboxPollingTests.messages("oauth")[1].raw, to: "bench")
            #expect(
                try await waitUntil(seconds: 40) { try await postdesk.listTickets().count == 2 },
                "\(postdesk.serverLog)")
            let refreshes = try await tokens.requestLog().filter { ($0["grant_type"] as? String) == "refresh_token" }
            #expect(!refreshes.isEmpty)

            // Killed outright, restarted with every access token expired: only the rotated refresh token, stored
            // before it was used, can bring the next message in.
            await postdesk.killAbruptly()
            try await tokens.control("expire-access")
            try dovecot.deliver(MailboxPollingTests.messages("oauth")[2].raw, to: "bench")
            try await postdesk.start()
            #expect(
                try await waitUntil(seconds: 40) { try await postdesk.listTickets().count == 3 },
                "\(postdesk.serverLog)")
            let failedRefreshes = try await tokens.requestLog().filter {
                ($0["grant_type"] as? String) == "refresh_token" && ($0["error"] as? String) == "invalid_grant"
            }
            #expect(failedRefreshes.isEmpty, "an old refresh token was used: \(failedRefreshes)")

            // Revoked (a password change, an admin): that mailbox needs attention; the other keeps working.
            try await tokens.control("revoke", ["user": "bench"])
            try await tokens.control("expire-access")
            try dovecot.deliver(MailboxPollingTests.messages("oauth")[0].raw, to: "other")
            var status = ""
            #expect(
                try await waitUntil(seconds: 40) {
                    status = try await postdesk.cli(["mailboxes"], label: "mailboxes")
                    // First the refused access token, then (after the backoff) the refused refresh token.
                    return status.contains("postdesk oauth login hosted")
                }, "\(status)\n\(postdesk.serverLog)")
            #expect(status.contains("needs-attention"), "\(status)")
            #expect(try await waitUntil(seconds: 30) { try await dovecot.messageCount(user: "other") == 0 })
            #expect(try await postdesk.listTickets().count == 3, "the same message again is a duplicate: no ticket")
            #expect(!postdesk.serverLog.contains(OAuthTokenServerProcess.clientSecret))
        } catch {
            Issue.record(error)
        }
        await postdesk.stop()
        await dovecot.stop()
        await tokens.stop()
        scratch.remove()
    }

    @Test func authorizationCodeConsentOnALoopbackRedirectThenXOAUTH2OverIMAP() async throws {
        let scratch = try ScratchDirectory(label: "poll-oauth-code")
        let tokens = try await OAuthTokenServerProcess.start(in: scratch, users: ["bench"])
        let dovecot = try await DovecotInstance.start(
            in: scratch, users: ["bench": "unused-password"], oauthIntrospectionURL: tokens.introspectionURL)
        let postdesk = try PostdeskServer(in: scratch)
        do {
            try postdesk.setExtraConfig(
                """
                mailboxes:
                  - name: imap-oauth
                    protocol: imap
                    host: localhost
                    port: \(dovecot.imapsPort)
                    ca_file: \(dovecot.certificatePath)
                    username: bench
                    auth:
                      oauth2:
                        provider: generic
                        client_id: \(OAuthTokenServerProcess.clientID)
                        flow: authorization_code
                        mechanism: xoauth2
                        token_url: \(tokens.base)/token
                        authorize_url: \(tokens.base)/authorize
                        scopes: [mail, offline_access]
                    queue: support
                    after_commit: delete

                """)
            let login = try ChildProcess(
                executable: postdesk.executable,
                arguments: ["oauth", "login", "imap-oauth", "--no-paste", "--config", postdesk.configPath],
                outputPrefix: scratch.file("oauth-login"))
            var consentURL: URL?
            _ = await waitUntil(seconds: 30) {
                consentURL = login.standardOutput.split(whereSeparator: \.isWhitespace)
                    .first { $0.hasPrefix("http://127.0.0.1:\(tokens.port)/authorize") }
                    .flatMap { URL(string: String($0)) }
                return consentURL != nil || !login.isRunning
            }
            let url = try #require(consentURL, "stdout: \(login.standardOutput) stderr: \(login.standardError)")
            // The browser: the server approves and redirects to the CLI's loopback listener, with the code.
            #expect(url.absoluteString.contains("code_challenge_method=S256"))
            _ = try await URLSession.shared.data(from: url)
            #expect(await login.waitForExit(seconds: 30))
            #expect(login.terminationStatus == 0, "\(login.standardError)")

            // The stored token is enough for the step-by-step check (XOAUTH2 over IMAPS), which never refreshes.
            let check = try await postdesk.cli(["mailboxes", "test", "imap-oauth"], label: "check")
            #expect(check.contains("ok   authentication: logged in as bench"), "\(check)")

            try dovecot.deliver(MailboxPollingTests.messages("xoauth2")[1].raw, to: "bench")
            try await postdesk.start()
            #expect(
                try await waitUntil(seconds: 30) { try await dovecot.messageCount(user: "bench") == 0 },
                "\(postdesk.serverLog)")
            let tickets = try await postdesk.listTickets()
            #expect(tickets.count == 1)
            #expect(tickets.first?.subject?.contains("プリンターが動きません") == true)
            let status = try await postdesk.cli(["mailboxes", "--json"], label: "mailboxes")
            #expect(status.contains("\"access_token_expires\""), "\(status)")
        } catch {
            Issue.record(error)
        }
        await postdesk.stop()
        await dovecot.stop()
        await tokens.stop()
        scratch.remove()
    }
}
