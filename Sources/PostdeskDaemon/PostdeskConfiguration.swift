import Foundation
import Logging
import MailboxPolling
import PostdeskHTTP
import SystemPackage
import TicketPipeline

/// Everything the daemon reads from `postdesk.yaml` and `POSTDESK_*` environment variables, validated.
///
/// Without a file, the built-in sample (`conf/postdesk.yaml`) applies, so the daemon runs with no file at all; with
/// a file, only each key's own default fills what the file leaves out (no listener or queue comes from the sample).
public struct PostdeskConfiguration: Sendable, Equatable {
    public struct Queue: Sendable, Equatable {
        public var name: String
        public var tag: String
        public var addresses: [String]
        /// The pipeline's options for this queue (`queues.<name>.*`).
        public var policy = QueuePolicy()
        /// `queues.<name>.plus_queues`: `support+billing@…` goes to another queue, by `+detail`.
        public var subQueues: [String: String] = [:]
    }

    public struct TLSFiles: Sendable, Equatable {
        public var certificatePath: String
        public var privateKeyPath: String
    }

    public var hostname: String
    public var logLevel: Logger.Level
    public var storePath: String
    /// Empty: no LMTP listener.
    public var lmtpSocket: String
    public var lmtpSocketMode: UInt32
    public var lmtpSocketOwner: String?
    public var lmtpSocketGroup: String?
    /// `host:port`, or nil when SMTP is disabled.
    public var smtpListen: (host: String, port: Int)?
    public var smtpTLS: TLSFiles?
    public var maxMessageSize: Int
    public var maxRecipients: Int
    /// SMTP sessions at once (`smtp.max_connections`).
    public var maxConnections: Int
    public var commandTimeout: Duration
    public var dataTimeout: Duration
    /// LMTP sessions at once (`lmtp.max_connections`), apart from SMTP's so that SMTP clients cannot lock the
    /// local MTA out.
    public var lmtpMaxConnections = 100
    /// A command line must be complete this long after its first octet (`limits.command_deadline`).
    public var commandDeadline: Duration = .seconds(300)
    /// MAIL to the end of DATA may take at most this long (`limits.transaction_deadline`).
    public var transactionDeadline: Duration = .seconds(3600)
    /// After SIGTERM, how long a client still sending DATA may take before it gets 421 and its session closes.
    public var shutdownGrace: Duration = .seconds(30)
    /// How long one message may spend in the pipeline before its client gets 451 and it is marked poison.
    public var processingDeadline: Duration = .seconds(60)
    /// Where messages over `spoolThreshold` octets are written while they arrive (`store.spool_directory`;
    /// nil: `spool` next to the database).
    public var spoolDirectoryOption: String?
    /// Octets of a message held in memory during DATA before the rest goes to a spool file.
    public var spoolThreshold = 1 << 20

    /// The spool directory in effect.
    public var spoolDirectory: String {
        spoolDirectoryOption
            ?? URL(fileURLWithPath: storePath).deletingLastPathComponent().appendingPathComponent(
                "spool"
            ).path
    }
    public var queues: [Queue]
    /// The mailboxes the poller serves (`mailboxes.*`); empty: no poller.
    public var mailboxes: [MailboxSettings] = []
    /// The HTTP server (`http.*`); nil: disabled.
    public var http: HTTPServerSettings?
    /// The receivers of events (`webhooks.*`); empty: no outbox events, no worker.
    public var webhooks: [WebhookSettings] = []
    /// The pipeline's options shared by all queues (`pipeline.*`, `identity.*`).
    public var pipeline = PipelineOptions()
    /// Mail Postdesk sends (`outbound.*`, `queues.<name>.acknowledge`); off by default.
    public var outbound = OutboundOptions()
    /// Every key read, with its value and where it came from (`check-config` prints them).
    public var origins: [ConfiguredValue] = []

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.hostname == rhs.hostname && lhs.logLevel == rhs.logLevel && lhs.storePath == rhs.storePath
            && lhs.lmtpSocket == rhs.lmtpSocket && lhs.lmtpSocketMode == rhs.lmtpSocketMode
            && lhs.lmtpSocketOwner == rhs.lmtpSocketOwner && lhs.lmtpSocketGroup == rhs.lmtpSocketGroup
            && lhs.smtpListen?.host == rhs.smtpListen?.host && lhs.smtpListen?.port == rhs.smtpListen?.port
            && lhs.smtpTLS == rhs.smtpTLS && lhs.maxMessageSize == rhs.maxMessageSize
            && lhs.maxRecipients == rhs.maxRecipients && lhs.maxConnections == rhs.maxConnections
            && lhs.commandTimeout == rhs.commandTimeout && lhs.dataTimeout == rhs.dataTimeout
            && lhs.lmtpMaxConnections == rhs.lmtpMaxConnections && lhs.commandDeadline == rhs.commandDeadline
            && lhs.transactionDeadline == rhs.transactionDeadline && lhs.shutdownGrace == rhs.shutdownGrace
            && lhs.processingDeadline == rhs.processingDeadline
            && lhs.spoolDirectoryOption == rhs.spoolDirectoryOption
            && lhs.spoolThreshold == rhs.spoolThreshold
            && lhs.queues == rhs.queues && lhs.pipeline == rhs.pipeline && lhs.mailboxes == rhs.mailboxes
            && lhs.http == rhs.http
            && lhs.webhooks == rhs.webhooks
            && lhs.outbound == rhs.outbound
    }
}

/// One configuration problem, named by its key so an operator can find it in the file or environment.
public struct ConfigurationIssue: Error, Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var message: String

    public var description: String { "\(key): \(message)" }
}

/// All problems found while loading a configuration; thrown as one error so none is hidden.
public struct ConfigurationErrors: Error, Sendable, CustomStringConvertible {
    public var source: String
    public var issues: [ConfigurationIssue]

    public var description: String {
        (["invalid configuration (\(source)):"] + issues.map { "  \($0)" }).joined(separator: "\n")
    }
}

extension PostdeskConfiguration {
    /// Each key's own default, used whatever the sources (the safe choice where there is one: LMTP socket
    /// mode 0660). A new key with a default is one line here.
    static let defaultValues: [String: ConfigurationEntry] = [
        "server.hostname": "localhost",
        "log.level": "info",
        "store.path": "./var/postdesk.db",
        "store.spool_directory": "",
        "lmtp.mode": "0660",
        "lmtp.max_connections": 100,
        "smtp.max_connections": 100,
        "limits.max_message_size": 52_428_800,
        "limits.max_recipients": 100,
        "limits.command_timeout": 300,
        "limits.data_timeout": 600,
        "limits.command_deadline": 300,
        "limits.transaction_deadline": 3600,
        "limits.shutdown_grace": 30,
        "limits.processing_deadline": 60,
        "limits.spool_threshold": 1_048_576,
        "http.listen": "127.0.0.1:8025",
    ]

    /// The listeners and queue of the sample `conf/postdesk.yaml` (a test keeps the two in step): used only when
    /// no file is given, so that `postdesk serve` runs out of the box. A file's listeners and queues take nothing
    /// from here.
    static let sampleValues: [String: ConfigurationEntry] = [
        "lmtp.socket": "./var/lmtp.sock",
        "smtp.listen": "127.0.0.1:2525",
        "queues.names": ["support"],
        "queues.support.tag": "Support",
        "queues.support.addresses": ["support@localhost", "*@support.test"],
    ]

    /// Loads and validates the configuration: `POSTDESK_*` environment variables override the YAML file, which
    /// overrides each key's default; without a file, the built-in sample stands in for it. A missing file is an
    /// error unless `path` is nil. A key or `POSTDESK_*` variable that Postdesk does not read is an error.
    ///
    /// - Throws: `ConfigurationErrors` listing every problem with its key.
    public static func load(
        path: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> PostdeskConfiguration {
        let source = path ?? "built-in defaults"
        var file: [String: ConfigurationEntry]?
        if let path {
            guard FileManager.default.isReadableFile(atPath: path),
                let data = FileManager.default.contents(atPath: path)
            else {
                throw ConfigurationErrors(
                    source: source, issues: [.init(key: "(file)", message: "cannot read \(path)")])
            }
            do {
                file = try ConfigurationLayers.flatten(yaml: String(decoding: data, as: UTF8.self))
            } catch let issue as ConfigurationIssue {
                throw ConfigurationErrors(source: source, issues: [issue])
            }
        }
        let layers = ConfigurationLayers(
            environment: environment, file: file, sample: sampleValues, defaults: defaultValues)
        return try validate(layers, source: source)
    }

    static func validate(_ layers: ConfigurationLayers, source: String) throws -> PostdeskConfiguration {
        var reader = ValidatingReader(layers: layers)
        let hostname = reader.string("server.hostname")
        if hostname.isEmpty || hostname.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" }) {
            reader.fail("server.hostname", "must be a host name without spaces, got '\(hostname)'")
        }
        let levelText = reader.string("log.level")
        let logLevel = Logger.Level(rawValue: levelText.lowercased())
        if logLevel == nil {
            let allowed = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            reader.fail("log.level", "must be one of \(allowed), got '\(levelText)'")
        }
        let storePath = reader.string("store.path")
        if storePath.isEmpty { reader.fail("store.path", "must name the SQLite database file") }

        let lmtpSocket = reader.string("lmtp.socket")
        let modeText = reader.string("lmtp.mode")
        let mode = UInt32(modeText, radix: 8)
        if mode == nil || mode! > 0o777 {
            reader.fail("lmtp.mode", "must be an octal file mode such as 0660, got '\(modeText)'")
        }
        let owner = reader.optionalString("lmtp.owner")
        let group = reader.optionalString("lmtp.group")

        let listenText = reader.string("smtp.listen")
        var smtpListen: (host: String, port: Int)?
        if !listenText.isEmpty {
            if let colon = listenText.lastIndex(of: ":"), let port = Int(listenText[listenText.index(after: colon)...]),
                (0...65535).contains(port), colon != listenText.startIndex
            {
                var host = String(listenText[..<colon])
                if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
                smtpListen = (host, port)
            } else {
                reader.fail("smtp.listen", "must be host:port (e.g. 127.0.0.1:2525) or empty, got '\(listenText)'")
            }
        }
        let hasMailboxes = !reader.stringArray("mailboxes.names").isEmpty
        if lmtpSocket.isEmpty && smtpListen == nil && !hasMailboxes {
            reader.fail("lmtp.socket", "no listener and no mailbox: set lmtp.socket, smtp.listen or mailboxes")
        }
        var tls: TLSFiles?
        let certificate = reader.optionalString("smtp.tls.certificate")
        let key = reader.optionalString("smtp.tls.key")
        switch (certificate, key) {
        case (nil, nil): break
        case (let certificate?, let key?):
            for (name, path) in [("smtp.tls.certificate", certificate), ("smtp.tls.key", key)]
            where !FileManager.default.isReadableFile(atPath: path) {
                reader.fail(name, "cannot read \(path)")
            }
            tls = TLSFiles(certificatePath: certificate, privateKeyPath: key)
        case (nil, _): reader.fail("smtp.tls.certificate", "smtp.tls.key is set but the certificate is not")
        case (_, nil): reader.fail("smtp.tls.key", "smtp.tls.certificate is set but the key is not")
        }

        let maxMessageSize = reader.positiveInt("limits.max_message_size")
        let maxRecipients = reader.positiveInt("limits.max_recipients")
        let maxConnections = reader.positiveInt("smtp.max_connections")
        let lmtpMaxConnections = reader.positiveInt("lmtp.max_connections")
        let commandTimeout = reader.positiveInt("limits.command_timeout")
        let dataTimeout = reader.positiveInt("limits.data_timeout")
        let commandDeadline = reader.positiveInt("limits.command_deadline")
        let transactionDeadline = reader.positiveInt("limits.transaction_deadline")
        let shutdownGrace = reader.positiveInt("limits.shutdown_grace")
        let processingDeadline = reader.positiveInt("limits.processing_deadline")
        let spoolThreshold = reader.positiveInt("limits.spool_threshold")
        let spoolDirectory = reader.optionalString("store.spool_directory")

        var queues: [Queue] = []
        var owners: [String: String] = [:]
        let names = reader.stringArray("queues.names")
        if names.isEmpty { reader.fail("queues.names", "list at least one queue") }
        for name in names {
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), !name.isEmpty,
                name != "names"
            else {
                reader.fail("queues.names", "'\(name)' is not a valid queue name (letters, digits, - and _)")
                continue
            }
            reader.noteDefault("queues.\(name).tag", name.capitalized)
            let tag = reader.optionalString("queues.\(name).tag") ?? name.capitalized
            if tag.contains(where: { $0 == "[" || $0 == "]" || $0 == "#" }) {
                reader.fail("queues.\(name).tag", "must not contain '[', ']' or '#', got '\(tag)'")
            }
            let addresses = reader.stringArray("queues.\(name).addresses")
            if addresses.isEmpty {
                reader.fail("queues.\(name).addresses", "list the addresses or *@domain patterns this queue receives")
            }
            for address in addresses {
                let lowered = address.lowercased()
                let parts = lowered.split(separator: "@", omittingEmptySubsequences: false)
                if parts.count != 2 || parts[0].isEmpty || parts[1].isEmpty || parts[1].contains("*")
                    || (parts[0].contains("*") && parts[0] != "*")
                {
                    reader.fail(
                        "queues.\(name).addresses", "'\(address)' is neither local@domain nor *@domain")
                } else if let other = owners[lowered] {
                    reader.fail("queues.\(name).addresses", "'\(address)' is already received by queue '\(other)'")
                } else {
                    owners[lowered] = name
                }
            }
            queues.append(Queue(name: name, tag: tag, addresses: addresses))
        }

        for index in queues.indices {
            queues[index].policy = reader.queuePolicy(queue: queues[index].name)
            queues[index].policy.commands = reader.commandPolicy(queue: queues[index].name)
            queues[index].subQueues = reader.subQueues(queue: queues[index].name, known: Set(names))
        }
        let pipeline = reader.pipelineOptions(hostname: hostname, queueNames: Set(names))
        let mailboxes = reader.mailboxes(queueNames: Set(names))
        let http = reader.httpServer()
        let webhooks = reader.webhooks()
        let outbound = reader.outbound(queueNames: queues.map(\.name), mailboxes: mailboxes)
        for index in queues.indices {
            queues[index].policy.repliesToCommands = outbound.enabled
            guard let options = outbound.queues[queues[index].name] else { continue }
            if options.acknowledge {
                queues[index].policy.acknowledgement = AcknowledgementRule(
                    perAddressPerHour: outbound.acknowledgementsPerHour)
            }
            queues[index].policy.notifiedAgents = options.agents
        }

        reader.issues += reader.layers.unknownKeys(
            queueNames: Set(names), mailboxNames: Set(reader.stringArray("mailboxes.names")))
        if !reader.issues.isEmpty { throw ConfigurationErrors(source: source, issues: reader.issues) }
        var configuration = PostdeskConfiguration(
            hostname: hostname, logLevel: logLevel!, storePath: storePath, lmtpSocket: lmtpSocket,
            lmtpSocketMode: mode!, lmtpSocketOwner: owner, lmtpSocketGroup: group, smtpListen: smtpListen,
            smtpTLS: tls, maxMessageSize: maxMessageSize, maxRecipients: maxRecipients, maxConnections: maxConnections,
            commandTimeout: .seconds(commandTimeout), dataTimeout: .seconds(dataTimeout), queues: queues)
        configuration.shutdownGrace = .seconds(shutdownGrace)
        configuration.processingDeadline = .seconds(processingDeadline)
        configuration.lmtpMaxConnections = lmtpMaxConnections
        configuration.commandDeadline = .seconds(commandDeadline)
        configuration.transactionDeadline = .seconds(transactionDeadline)
        configuration.spoolThreshold = spoolThreshold
        configuration.spoolDirectoryOption = spoolDirectory
        configuration.pipeline = pipeline
        configuration.mailboxes = mailboxes
        configuration.http = http
        configuration.webhooks = webhooks
        configuration.outbound = outbound
        configuration.origins = reader.origins()
        return configuration
    }
}

/// Reads typed values and collects a `ConfigurationIssue` for each one of the wrong type, instead of silently
/// falling back to a default; remembers every key it was asked for (see `ConfigurationLayers.unknownKeys`).
struct ValidatingReader {
    var layers: ConfigurationLayers
    var issues: [ConfigurationIssue] = []
    /// Defaults that live in code rather than in `defaultValues`, for `check-config`'s table.
    private var codeDefaults: [String: String] = [:]
    private var secretKeys: Set<String> = []

    init(layers: ConfigurationLayers) {
        self.layers = layers
    }

    mutating func fail(_ key: String, _ message: String) {
        issues.append(ConfigurationIssue(key: key, message: message))
    }

    /// The text of a single value; a list where one value belongs is an error.
    mutating func string(_ key: String) -> String {
        switch layers.lookup(key)?.entry {
        case nil: return ""
        case .scalar(let text): return text
        case .list:
            fail(key, "must be a single value, not a list")
            return ""
        }
    }

    /// nil for a missing or empty value.
    mutating func optionalString(_ key: String) -> String? {
        let value = string(key)
        return value.isEmpty ? nil : value
    }

    /// A value that must never be shown (`check-config` prints `(secret)`).
    mutating func secretString(_ key: String) -> String? {
        secretKeys.insert(key)
        return optionalString(key)
    }

    /// A YAML list, or comma-separated text (environment variables).
    mutating func stringArray(_ key: String) -> [String] {
        switch layers.lookup(key)?.entry {
        case nil: return []
        case .list(let values):
            return values.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        case .scalar(let single):
            return single.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
        }
    }

    mutating func positiveInt(_ key: String) -> Int {
        let text = string(key)
        if let value = Int(text) {
            if value > 0 { return value }
            fail(key, "must be a positive integer, got \(value)")
            return 1
        }
        fail(key, "must be a positive integer, got '\(text)'")
        return 1
    }

    mutating func optionalInt(_ key: String, default defaultValue: Int, minimum: Int) -> Int {
        codeDefaults[key] = String(defaultValue)
        guard let text = optionalString(key) else { return defaultValue }
        if let value = Int(text), value >= minimum { return value }
        fail(key, "must be an integer of at least \(minimum), got '\(text)'")
        return defaultValue
    }

    mutating func bool(_ key: String, default defaultValue: Bool) -> Bool {
        codeDefaults[key] = String(defaultValue)
        guard let text = optionalString(key) else { return defaultValue }
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default:
            fail(key, "must be true or false, got '\(text)'")
            return defaultValue
        }
    }

    /// Records the default a key takes in code when nothing sets it, for `check-config`'s table.
    mutating func noteDefault(_ key: String, _ value: String) {
        codeDefaults[key] = value
    }

    /// Every key read, its value and its origin, in the order read.
    func origins() -> [ConfiguredValue] {
        var layers = layers
        return layers.accessed.map { key in
            guard let (entry, origin) = layers.lookup(key) else {
                return ConfiguredValue(key: key, value: codeDefaults[key] ?? "(unset)", origin: .default)
            }
            let text = entry.displayText
            let value = secretKeys.contains(key) ? "(secret)" : text.isEmpty ? "\"\"" : text
            return ConfiguredValue(key: key, value: value, origin: origin)
        }
    }
}

extension PostdeskConfiguration {
    /// A human-readable overview for `postdesk check-config`.
    public var summary: String {
        var lines = [
            "  server.hostname: \(hostname)",
            "  log.level: \(logLevel.rawValue)",
            "  store.path: \(storePath)",
            "  store.spool_directory: \(spoolDirectory) (messages over \(spoolThreshold) bytes)",
            "  lmtp.socket: \(lmtpSocket.isEmpty ? "(disabled)" : lmtpSocket) mode 0\(String(lmtpSocketMode, radix: 8))"
                + (lmtpSocketOwner.map { " owner \($0)" } ?? "") + (lmtpSocketGroup.map { " group \($0)" } ?? ""),
            "  smtp.listen: \(smtpListen.map { "\($0.host):\($0.port)" } ?? "(disabled)")"
                + (smtpTLS == nil ? "" : " with STARTTLS"),
            "  http.listen: \(http.map { "\($0.host):\($0.port)" } ?? "(disabled)")"
                + (http?.tlsCertificatePath == nil ? "" : " with TLS"),
            "  limits: message \(maxMessageSize) bytes, \(maxRecipients) recipients, \(maxConnections) SMTP + "
                + "\(lmtpMaxConnections) LMTP connections, "
                + "timeouts \(commandTimeout.components.seconds) s command / \(dataTimeout.components.seconds) s data, "
                + "deadlines \(commandDeadline.components.seconds) s per command line / "
                + "\(transactionDeadline.components.seconds) s per transaction, "
                + "\(shutdownGrace.components.seconds) s shutdown grace, "
                + "\(processingDeadline.components.seconds) s processing deadline",
        ]
        for queue in queues {
            lines.append("  queue \(queue.name) [\(queue.tag)]: \(queue.addresses.joined(separator: ", "))")
            lines.append("    \(queue.policy.summary)")
        }
        lines.append("  \(pipeline.summary)")
        lines.append("  \(outbound.summary)")
        for webhook in webhooks {
            let events = webhook.events.map { $0.map(\.rawValue).sorted().joined(separator: ", ") } ?? "all events"
            lines.append(
                "  webhook \(webhook.name): \(webhook.url.absoluteString) (\(events)), timeout \(webhook.timeout) s, "
                    + "\(webhook.maxAttempts) attempts")
        }
        return lines.joined(separator: "\n")
    }

    /// Every key read, its value and where it came from, one per line, for `postdesk check-config`.
    public var originTable: String {
        let width = min(origins.map(\.key.count).max() ?? 0, 48)
        return origins.map { item in
            let origin =
                item.origin == .environment
                ? "environment (\(ConfigurationLayers.environmentName(of: item.key)))" : item.origin.rawValue
            let key = item.key.padding(toLength: max(width, item.key.count), withPad: " ", startingAt: 0)
            return "  \(key)  \(item.value)  [\(origin)]"
        }.joined(separator: "\n")
    }
}
