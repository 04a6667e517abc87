import Foundation
import MailParser
import MailServerClient
import NIOCore
import SASLMechanisms

/// Submits one message to a relay over SMTP (RFC 5321): EHLO, STARTTLS with the certificate verified, AUTH
/// PLAIN or LOGIN (or XOAUTH2 with an OAuth2 access token), then MAIL (SIZE, BODY=8BITMIME, SMTPUTF8 when offered
/// and needed), RCPT per recipient, DATA with dot-stuffing, QUIT. Every step waits at most `settings.stepTimeout`
/// (the end of DATA `settings.dataTimeout`). Runs in the calling task, never on an event loop's thread.
public struct SMTPSubmissionClient: Sendable {
    public let settings: SMTPRelaySettings
    /// Where the password is read, afresh for each submission (a rotated secret needs no restart); nil: the one
    /// in `settings.credentials`.
    public let passwordFile: String?
    /// AUTH XOAUTH2 with this token source's access token instead of a password (`outbound.auth.oauth2_mailbox`).
    public let oauth2: SMTPOAuth2Login?

    public init(settings: SMTPRelaySettings, passwordFile: String? = nil, oauth2: SMTPOAuth2Login? = nil) {
        self.settings = settings
        self.passwordFile = passwordFile
        self.oauth2 = oauth2
    }

    /// Sends `message` from `sender` to `recipients`; throws `SubmissionError` when the conversation ended
    /// before every recipient got an answer (nothing was delivered then).
    public func submit(
        _ message: [UInt8], from sender: String, to recipients: [String]
    ) async throws(SubmissionError) -> SubmissionResult {
        var settings = self.settings
        if let passwordFile, var credentials = settings.credentials {
            guard let data = FileManager.default.contents(atPath: passwordFile) else {
                throw SubmissionError(.auth, "cannot read outbound.password_file \(passwordFile)")
            }
            credentials.password = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
            settings.credentials = credentials
        }
        let connection: MailServerConnection
        do {
            connection = try await MailServerConnection.connect(
                host: settings.host, port: settings.port, tls: settings.starttls == .off ? .none : .starttls,
                caFile: settings.caFile, timeout: settings.stepTimeout)
        } catch {
            // The detail names the host and port ("cannot connect to …") or the CA file.
            throw SubmissionError(error.step == .tls ? .tls : .connect, error.detail)
        }
        var session = Session(connection: connection, settings: settings, oauth2: oauth2)
        do {
            let result = try await session.run(message, from: sender, to: recipients)
            await session.quit()
            return result
        } catch {
            await session.quit()
            throw error
        }
    }

    /// One conversation; `parser` keeps bytes of a reply split across reads.
    private struct Session {
        let connection: MailServerConnection
        let settings: SMTPRelaySettings
        let oauth2: SMTPOAuth2Login?
        var parser = SMTPReplyParser()
        var pending: [SMTPReply] = []

        init(connection: MailServerConnection, settings: SMTPRelaySettings, oauth2: SMTPOAuth2Login?) {
            self.connection = connection
            self.settings = settings
            self.oauth2 = oauth2
        }

        mutating func run(
            _ message: [UInt8], from sender: String, to recipients: [String]
        ) async throws(SubmissionError) -> SubmissionResult {
            try await expect(reply(.greeting), 220, .greeting)
            var extensions = try await ehlo()
            if settings.starttls != .off {
                if extensions.offers("STARTTLS") {
                    try await send("STARTTLS")
                    try await expect(reply(.starttls), 220, .starttls)
                    // Anything the server sent before the handshake is dropped (CVE-2011-0411, client side).
                    parser = SMTPReplyParser()
                    pending.removeAll()
                    do {
                        try await connection.startTLS()
                    } catch {
                        throw SubmissionError(.tls, error.detail)
                    }
                    extensions = try await ehlo()
                } else if settings.starttls == .required {
                    throw SubmissionError(
                        .starttls, "\(settings.host) does not offer STARTTLS (outbound.starttls: required)")
                }
            }
            if let oauth2 {
                try await authenticate(oauth2, extensions: extensions)
            } else if let credentials = settings.credentials {
                try await authenticate(credentials, extensions: extensions)
            }
            return try await transaction(message, from: sender, to: recipients, extensions: extensions)
        }

        private mutating func ehlo() async throws(SubmissionError) -> SMTPExtensions {
            try await send("EHLO \(settings.heloName)")
            let reply = try await reply(.ehlo)
            try expect(reply, 250, .ehlo)
            return SMTPExtensions(ehloReply: reply)
        }

        private mutating func authenticate(
            _ credentials: SMTPRelaySettings.Credentials, extensions: SMTPExtensions
        ) async throws(SubmissionError) {
            guard connection.isSecure || settings.allowsPlaintextAuth else {
                throw SubmissionError(.auth, "refusing to send the password to \(settings.host) without TLS")
            }
            let mechanisms = extensions.parameters("AUTH").map { $0.uppercased() }
            var exchange: SASLExchange
            do {
                if mechanisms.contains("PLAIN") {
                    exchange = try .plain(username: credentials.username, password: credentials.password)
                } else if mechanisms.contains("LOGIN") {
                    exchange = try .login(username: credentials.username, password: credentials.password)
                } else {
                    throw SubmissionError(.auth, "\(settings.host) offers neither AUTH PLAIN nor LOGIN: \(mechanisms)")
                }
            } catch let error as SubmissionError {
                throw error
            } catch {
                throw SubmissionError(.auth, "\(error)")
            }
            if let refusal = try await runExchange(&exchange) {
                throw SubmissionError(.auth, "\(settings.host) refused the credentials", reply: refusal)
            }
        }

        /// AUTH XOAUTH2 with a fresh access token; when the relay refuses it (a 334 with the error JSON, then
        /// 535) the token source is told and asked once more, so an access token revoked or expired early is
        /// refreshed at once. A second refusal, or no token at all, fails naming the relay and the token source.
        private mutating func authenticate(
            _ login: SMTPOAuth2Login, extensions: SMTPExtensions
        ) async throws(SubmissionError) {
            let relay = "\(settings.host):\(settings.port)"
            guard connection.isSecure || settings.allowsPlaintextAuth else {
                throw SubmissionError(.auth, "refusing to send an OAuth2 access token to \(relay) without TLS")
            }
            let mechanisms = extensions.parameters("AUTH").map { $0.uppercased() }
            guard mechanisms.contains("XOAUTH2") else {
                throw SubmissionError(
                    .auth, "\(relay) does not offer AUTH XOAUTH2 (it offers \(mechanisms)) for \(login.source)")
            }
            var refusal: (reply: SMTPReply, serverError: SASLServerError?)?
            var refreshed = false
            for attempt in 0..<2 {
                if attempt > 0 {
                    await login.tokens.tokenRejected(for: login.tokenSource)
                    refreshed = true
                }
                let token: String
                do {
                    token = try await login.tokens.accessToken(for: login.tokenSource)
                } catch {
                    // No reply: temporary, retried with backoff (an operator may have to log in again).
                    throw SubmissionError(.token, "no access token from \(login.source) for \(relay): \(error)")
                }
                var exchange: SASLExchange
                do {
                    exchange = try .xoauth2(username: login.username, accessToken: token)
                } catch {
                    throw SubmissionError(.token, "the access token from \(login.source) is unusable: \(error)")
                }
                guard let refused = try await runExchange(&exchange) else { return }
                refusal = (refused, exchange.serverError)
                // Only a refused token is worth a fresh one; a 454 (the server cannot check it now) is retried later.
                guard refused.code == 535 || exchange.serverError != nil else { break }
            }
            let detail = (refreshed ? ", also after a refresh" : "") + (refusal?.serverError.map { "; \($0)" } ?? "")
            throw SubmissionError(
                .auth, "\(relay) refused the access token from \(login.source)\(detail)", reply: refusal?.reply)
        }

        /// Runs one SASL exchange after `AUTH`; returns nil when the relay accepted it, or its refusal.
        private mutating func runExchange(_ exchange: inout SASLExchange) async throws(SubmissionError) -> SMTPReply? {
            if let initial = exchange.initialResponse {
                exchange.initialResponseSent()
                try await send("AUTH \(exchange.mechanism.rawValue) \(SASLBase64.encodedString(initial))")
            } else {
                try await send("AUTH \(exchange.mechanism.rawValue)")
            }
            for _ in 0..<4 {
                let answer = try await reply(.auth)
                // 235 per RFC 4954; smtp-sink and some old relays say 250.
                if (200..<300).contains(answer.code) { return nil }
                guard answer.code == 334 else { return answer }
                do {
                    let challenge = try SASLBase64.decode(Array((answer.lines.first ?? "").utf8))
                    let response = try exchange.respond(toChallenge: challenge)
                    try await send(SASLBase64.encodedString(response))
                } catch let error as SubmissionError {
                    throw error
                } catch {
                    try? await send("*")
                    throw SubmissionError(.auth, "\(error)")
                }
            }
            throw SubmissionError(.auth, "\(settings.host) kept challenging")
        }

        private mutating func transaction(
            _ message: [UInt8], from sender: String, to recipients: [String], extensions: SMTPExtensions
        ) async throws(SubmissionError) -> SubmissionResult {
            var parameters = ""
            if extensions.offers("SIZE") {
                // `SIZE` without a number: no fixed limit, but the size is still declared (RFC 1870).
                if let limit = extensions.parameters("SIZE").first.flatMap(Int.init), limit > 0, message.count > limit {
                    throw SubmissionError(
                        .size, "the message has \(message.count) bytes; \(settings.host) takes \(limit)")
                }
                parameters += " SIZE=\(message.count)"
            }
            if message.contains(where: { $0 >= 0x80 }), extensions.offers("8BITMIME") {
                parameters += " BODY=8BITMIME"
            }
            let needsUTF8 = (recipients + [sender]).contains { $0.utf8.contains { $0 >= 0x80 } }
            if needsUTF8 {
                guard extensions.offers("SMTPUTF8") else {
                    throw SubmissionError(
                        .smtputf8, "an address is not ASCII and \(settings.host) does not offer SMTPUTF8")
                }
                parameters += " SMTPUTF8"
            }
            try await send("MAIL FROM:<\(sender)>\(parameters)")
            try await expect(reply(.mail), 250, .mail)
            var results: [SubmissionResult.RecipientReply] = []
            for recipient in recipients {
                try await send("RCPT TO:<\(recipient)>")
                results.append(.init(address: recipient, reply: try await reply(.mail)))
            }
            guard results.contains(where: { $0.reply.isPositive }) else {
                try? await send("RSET")
                _ = try? await reply(.mail)
                return SubmissionResult(recipients: results, data: nil)
            }
            try await send("DATA")
            try await expect(reply(.data), 354, .data)
            try await write(DotStuffing.stuffed(message) + Array(".\r\n".utf8))
            let final = try await reply(.data, within: settings.dataTimeout)
            return SubmissionResult(recipients: results, data: final)
        }

        mutating func quit() async {
            try? await send("QUIT")
            _ = try? await reply(.connection, within: .seconds(2))
            await connection.close()
        }

        private func send(_ command: String) async throws(SubmissionError) {
            try await write(Array((command + "\r\n").utf8))
        }

        private func write(_ bytes: [UInt8]) async throws(SubmissionError) {
            do {
                try await connection.write(bytes)
            } catch {
                throw SubmissionError(error.step == .timeout ? .timeout : .connection, error.detail)
            }
        }

        private func expect(_ reply: SMTPReply, _ code: Int, _ step: SubmissionError.Step) throws(SubmissionError) {
            guard reply.code == code else {
                throw SubmissionError(step, "\(settings.host) answered \(reply) (expected \(code))", reply: reply)
            }
        }

        private mutating func reply(
            _ step: SubmissionError.Step, within limit: Duration? = nil
        ) async throws(SubmissionError) -> SMTPReply {
            while pending.isEmpty {
                let chunk: ByteBuffer?
                do {
                    chunk = try await connection.read(within: limit ?? settings.stepTimeout)
                } catch {
                    throw SubmissionError(
                        error.step == .timeout ? .timeout : .connection, "\(step.rawValue): \(error.detail)")
                }
                guard let chunk else {
                    throw SubmissionError(.connection, "\(settings.host) closed the connection during \(step.rawValue)")
                }
                do {
                    pending.append(contentsOf: try parser.feed(chunk.readableBytesView))
                } catch {
                    throw SubmissionError(.protocolViolation, "\(settings.host) sent a malformed reply: \(error)")
                }
            }
            return pending.removeFirst()
        }
    }
}
