import Foundation
import Logging
import MailParser
import MailServerClient
import MailboxPolling
import OutboundMail
import TicketPipeline
import TicketStoreSQLite

/// `outbound.*` and the queues' `acknowledge` options: mail Postdesk sends (acknowledgements of new tickets).
/// Off unless a queue acknowledges or a relay or sendmail command is set.
public struct OutboundOptions: Sendable, Equatable {
    /// A queue's outbound options (`queues.<name>.acknowledge`, `acknowledgement_template`,
    /// `acknowledgement_html_template`).
    public struct QueueOptions: Sendable, Equatable {
        public var acknowledge = false
        /// `queues.<name>.agents`: told of each new ticket and message.
        public var agents: [String] = []
        public var textTemplate: String?
        public var htmlTemplate: String?
    }

    /// Whether the outbound worker runs.
    public var enabled = false
    /// `outbound.relay`: `host:port` of the SMTP relay (default the local MTA on `127.0.0.1:25`).
    public var relayHost = "127.0.0.1"
    public var relayPort = 25
    /// `outbound.starttls`: auto, required or off.
    public var starttls = SMTPRelaySettings.StartTLSMode.auto
    /// `outbound.ca_file`: a private CA for the relay's certificate.
    public var caFile: String?
    /// `outbound.username` / `outbound.password_file`: AUTH PLAIN or LOGIN.
    public var username: String?
    public var passwordFile: String?
    /// `outbound.auth.oauth2_mailbox`: AUTH XOAUTH2 with this OAuth2 mailbox's access tokens instead of a password;
    /// the XOAUTH2 user is `outbound.username`, else the mailbox's `username`.
    public var oauth2Mailbox: String?
    /// `outbound.sendmail`: a sendmail command used instead of the relay.
    public var sendmail: String?
    /// `outbound.from`: the From of our mail; default each queue's first exact address.
    public var from: String?
    /// `outbound.acknowledgements_per_hour`: per requester address.
    public var acknowledgementsPerHour = 3
    /// `outbound.retry_initial_seconds`: the first retry's delay after a temporary failure (doubling after).
    public var retryInitialSeconds = 60
    public var queues: [String: QueueOptions] = [:]

    var summary: String {
        guard enabled else { return "outbound: off" }
        let auth = oauth2Mailbox.map { " auth xoauth2 with mailbox \($0)'s tokens" } ?? ""
        let transport =
            sendmail.map { "sendmail \($0)" } ?? "relay \(relayHost):\(relayPort) starttls \(starttls)\(auth)"
        let acknowledging = queues.filter(\.value.acknowledge).keys.sorted()
        return "outbound: \(transport); from \(from ?? "(each queue's first address)"); acknowledging queues "
            + "\(acknowledging), at most \(acknowledgementsPerHour) per address per hour"
    }
}

extension ValidatingReader {
    /// Reads `outbound.*` and `queues.<name>.acknowledge|acknowledgement_template|acknowledgement_html_template`.
    mutating func outbound(queueNames: [String], mailboxes: [MailboxSettings]) -> OutboundOptions {
        var options = OutboundOptions()
        for name in queueNames {
            let prefix = "queues.\(name)."
            var queue = OutboundOptions.QueueOptions()
            queue.acknowledge = bool(prefix + "acknowledge", default: false)
            queue.agents = stringArray(prefix + "agents").map { $0.lowercased() }
            for agent in queue.agents where !agent.contains("@") || agent.contains(" ") {
                fail(prefix + "agents", "'\(agent)' is not an address")
            }
            queue.textTemplate = optionalString(prefix + "acknowledgement_template")
            queue.htmlTemplate = optionalString(prefix + "acknowledgement_html_template")
            for (key, path) in [
                ("acknowledgement_template", queue.textTemplate), ("acknowledgement_html_template", queue.htmlTemplate),
            ] {
                guard let path else { continue }
                if let data = FileManager.default.contents(atPath: path) {
                    do {
                        _ = try OutboundTemplates(text: String(decoding: data, as: UTF8.self), name: path)
                    } catch {
                        fail(prefix + key, "\(error)")
                    }
                } else {
                    fail(prefix + key, "cannot read \(path)")
                }
            }
            options.queues[name] = queue
        }
        noteDefault("outbound.relay", "127.0.0.1:25")
        let relay = optionalString("outbound.relay")
        if let relay {
            if let colon = relay.lastIndex(of: ":"), let port = Int(relay[relay.index(after: colon)...]),
                (1...65535).contains(port), colon > relay.startIndex
            {
                options.relayHost = String(relay[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                options.relayPort = port
            } else {
                fail("outbound.relay", "must be host:port, got '\(relay)'")
            }
        }
        noteDefault("outbound.starttls", "auto")
        let starttls = optionalString("outbound.starttls") ?? "auto"
        if let mode = SMTPRelaySettings.StartTLSMode(rawValue: starttls.lowercased()) {
            options.starttls = mode
        } else {
            fail("outbound.starttls", "must be auto, required or off, got '\(starttls)'")
        }
        options.caFile = optionalString("outbound.ca_file")
        if let caFile = options.caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            fail("outbound.ca_file", "cannot read \(caFile)")
        }
        options.username = optionalString("outbound.username")
        options.passwordFile = optionalString("outbound.password_file")
        options.oauth2Mailbox = optionalString("outbound.auth.oauth2_mailbox")
        if let name = options.oauth2Mailbox {
            if options.passwordFile != nil {
                fail(
                    "outbound.auth.oauth2_mailbox", "set either outbound.password_file or outbound.auth.oauth2_mailbox")
            }
            if let mailbox = mailboxes.first(where: { $0.name == name }) {
                if case .oauth2 = mailbox.authentication {
                    if options.username == nil { options.username = mailbox.username }
                } else {
                    fail("outbound.auth.oauth2_mailbox", "mailbox '\(name)' does not log in with auth.oauth2")
                }
            } else {
                fail("outbound.auth.oauth2_mailbox", "no mailbox '\(name)' (mailboxes)")
            }
        } else if options.username != nil, options.passwordFile == nil {
            fail("outbound.password_file", "outbound.username is set: name the file holding its password")
        }
        if let file = options.passwordFile, !FileManager.default.isReadableFile(atPath: file) {
            fail("outbound.password_file", "cannot read \(file)")
        }
        if options.username != nil, options.starttls == .off, !Self.isLoopback(options.relayHost) {
            fail("outbound.starttls", "off sends the password or token in clear: allowed only for a loopback relay")
        }
        options.sendmail = optionalString("outbound.sendmail")
        if let sendmail = options.sendmail, !FileManager.default.isExecutableFile(atPath: sendmail) {
            fail("outbound.sendmail", "\(sendmail) is not an executable file")
        }
        options.from = optionalString("outbound.from")
        if let from = options.from, !from.contains("@") || from.contains(" ") {
            fail("outbound.from", "'\(from)' is not an address")
        }
        options.acknowledgementsPerHour = optionalInt("outbound.acknowledgements_per_hour", default: 3, minimum: 1)
        options.retryInitialSeconds = optionalInt("outbound.retry_initial_seconds", default: 60, minimum: 1)
        options.enabled =
            relay != nil || options.sendmail != nil
            || options.queues.values.contains { $0.acknowledge || !$0.agents.isEmpty }
        return options
    }
}

extension PostdeskConfiguration {
    /// The outbound mail worker this configuration describes, or nil when outbound mail is off. Reads the queues'
    /// template files and the Message-ID secret. `tokens`: the daemon's OAuth2 token manager, for
    /// `outbound.auth.oauth2_mailbox`.
    public func makeOutboundWorker(
        store: any TicketStore, logger: Logger, tokens: (any AccessTokenSource)? = nil
    ) throws -> OutboundMailWorker? {
        guard outbound.enabled else { return nil }
        guard let signer = try pipelineSettings().messageIDs else { return nil }
        var queueSettings: [String: OutboundQueueSettings] = [:]
        for queue in queues {
            let options = outbound.queues[queue.name] ?? OutboundOptions.QueueOptions()
            let templates =
                try options.textTemplate.map {
                    try OutboundTemplates.load(textFile: $0, htmlFile: options.htmlTemplate)
                }
                ?? OutboundTemplates()
            queueSettings[queue.name] = OutboundQueueSettings(
                tag: queue.tag, from: outboundFrom(queue: queue.name), acknowledgement: templates)
        }
        let transport: any MailTransport
        if let sendmail = outbound.sendmail {
            transport = SendmailTransport(path: sendmail)
        } else {
            var oauth2: SMTPOAuth2Login?
            if let mailbox = outbound.oauth2Mailbox {
                guard let tokens else { throw OutboundTokenSourceMissing(mailbox: mailbox) }
                oauth2 = SMTPOAuth2Login(username: outbound.username ?? "", tokenSource: mailbox, tokens: tokens)
            }
            let credentials =
                oauth2 != nil
                ? nil : outbound.username.map { SMTPRelaySettings.Credentials(username: $0, password: "") }
            transport = SMTPSubmissionClient(
                settings: SMTPRelaySettings(
                    host: outbound.relayHost, port: outbound.relayPort, starttls: outbound.starttls,
                    caFile: outbound.caFile, credentials: credentials, heloName: hostname),
                passwordFile: outbound.passwordFile, oauth2: oauth2)
        }
        var options = OutboundMailWorker.Options(instanceName: hostname)
        options.initialRetryDelay = .seconds(outbound.retryInitialSeconds)
        return OutboundMailWorker(
            store: store, transport: transport, signer: signer, queues: queueSettings, options: options,
            logger: logger)
    }

    /// The From of queue `queue`'s mail: `outbound.from`, else the queue's first exact address.
    func outboundFrom(queue name: String) -> MailAddress {
        let firstExact = queues.first { $0.name == name }?.addresses.first { !$0.hasPrefix("*@") }
        return MailAddress(name: nil, address: outbound.from ?? firstExact ?? "postdesk@\(hostname)")
    }

    /// Our side of agents' replies through the API (`POST /api/v1/tickets/{number}/replies`): each queue's From,
    /// which addresses are ours (any queue's, `pipeline.own_mail.addresses`, `outbound.from`: never copied on a
    /// reply), and the Message-ID signer the outbound worker signs with. Nil when outbound mail is off.
    public func agentReplySender() throws -> AgentReply.Sender? {
        guard outbound.enabled, let signer = try pipelineSettings().messageIDs else { return nil }
        let router = QueueRouter(queues: queueDefinitions)
        let own = Set(pipeline.ownAddresses + (outbound.from.map { [$0.lowercased()] } ?? []))
        let configuration = self
        return AgentReply.Sender(
            from: { configuration.outboundFrom(queue: $0) },
            isOwnAddress: { own.contains($0) || router.queue(for: $0) != nil }, messageIDs: signer)
    }
}

/// `outbound.auth.oauth2_mailbox` names a mailbox, but no OAuth2 token manager runs (no mailbox uses OAuth2).
public struct OutboundTokenSourceMissing: Error, Sendable, CustomStringConvertible {
    public var mailbox: String

    public var description: String {
        "outbound.auth.oauth2_mailbox: no OAuth2 token manager runs for mailbox '\(mailbox)'"
    }
}
