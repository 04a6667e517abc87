import Foundation
import MailboxPolling

extension ValidatingReader {
    /// `mailboxes.names` and `mailboxes.<name>.*` (or a `mailboxes:` list of mappings with `name`): the mailboxes
    /// the poller serves. Every problem is reported with its key; nothing secret is read here (a password file is
    /// read at each connection, and only its readability is checked).
    mutating func mailboxes(queueNames: Set<String>) -> [MailboxSettings] {
        var result: [MailboxSettings] = []
        for name in stringArray("mailboxes.names") {
            guard !name.isEmpty, name != "names",
                name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            else {
                fail("mailboxes.names", "'\(name)' is not a valid mailbox name (letters, digits, - and _)")
                continue
            }
            if let mailbox = mailbox(name, queueNames: queueNames) { result.append(mailbox) }
        }
        return result
    }

    private mutating func mailbox(_ name: String, queueNames: Set<String>) -> MailboxSettings? {
        let prefix = "mailboxes.\(name)."
        var valid = true
        func check(_ condition: Bool, _ key: String, _ message: @autoclosure () -> String) {
            if !condition {
                fail(prefix + key, message())
                valid = false
            }
        }
        let protocolText = string(prefix + "protocol")
        let mailProtocol = MailboxSettings.MailProtocol(rawValue: protocolText.lowercased())
        check(mailProtocol != nil, "protocol", "must be imap or pop3, got '\(protocolText)'")
        let host = string(prefix + "host")
        check(!host.isEmpty && !host.contains(" "), "host", "must name the server, got '\(host)'")
        noteDefault(prefix + "tls", "implicit")
        let tlsText = optionalString(prefix + "tls") ?? "implicit"
        let tls = MailboxSettings.TLSMode(rawValue: tlsText.lowercased())
        check(tls != nil, "tls", "must be implicit, starttls or none, got '\(tlsText)'")
        if tls == MailboxSettings.TLSMode.none {
            check(
                Self.isLoopback(host), "tls",
                "none sends the password in clear: allowed only for a loopback host, not '\(host)'")
        }
        let defaultPort: Int =
            switch (mailProtocol ?? .imap, tls ?? .implicit) {
            case (.imap, .implicit): 993
            case (.imap, _): 143
            case (.pop3, .implicit): 995
            case (.pop3, _): 110
            }
        noteDefault(prefix + "port", String(defaultPort))
        let port = optionalInt(prefix + "port", default: defaultPort, minimum: 1)
        check(port <= 65535, "port", "must be a TCP port, got \(port)")
        let caFile = optionalString(prefix + "ca_file")
        if let caFile { check(FileManager.default.isReadableFile(atPath: caFile), "ca_file", "cannot read \(caFile)") }
        let username = string(prefix + "username")
        check(!username.isEmpty, "username", "must name the account to log in as")

        let authentication = mailboxAuthentication(prefix: prefix, valid: &valid)

        var folders = stringArray(prefix + "folders")
        if folders.isEmpty {
            noteDefault(prefix + "folders", "INBOX")
            folders = ["INBOX"]
        }
        if mailProtocol == .pop3 { check(folders == ["INBOX"], "folders", "POP3 has no folders: leave it out") }
        let queue = optionalString(prefix + "queue")
        if let queue { check(queueNames.contains(queue), "queue", "no queue '\(queue)' (queues.names)") }
        noteDefault(prefix + "after_commit", "delete")
        let afterText = (optionalString(prefix + "after_commit") ?? "delete").lowercased()
        let moveTo = optionalString(prefix + "move_to")
        var afterCommit = MailboxSettings.AfterCommit.delete
        switch (afterText, mailProtocol) {
        case ("delete", _): afterCommit = .delete
        case ("move", .imap?):
            check(moveTo != nil, "move_to", "after_commit: move needs the folder to move to")
            afterCommit = .move(folder: moveTo ?? "")
        case ("seen", .imap?): afterCommit = .markSeen
        case ("keep", .pop3?): afterCommit = .keep
        default:
            check(
                false, "after_commit",
                mailProtocol == .pop3
                    ? "must be delete or keep for POP3, got '\(afterText)'"
                    : "must be delete, move or seen for IMAP, got '\(afterText)'")
        }
        if moveTo != nil, afterText != "move" { check(false, "move_to", "is read only with after_commit: move") }
        noteDefault(prefix + "poll_interval", "60")
        let pollInterval = optionalInt(prefix + "poll_interval", default: 60, minimum: 1)
        let idle = bool(prefix + "idle", default: true)
        noteDefault(prefix + "max_message_size", "52428800")
        let maxSize = optionalInt(prefix + "max_message_size", default: 52_428_800, minimum: 1024)
        let oversizeFolder = optionalString(prefix + "oversize_folder")
        if oversizeFolder != nil { check(mailProtocol != .pop3, "oversize_folder", "POP3 has no folders") }
        noteDefault(prefix + "alert_after", "3600")
        let alertAfter = optionalInt(prefix + "alert_after", default: 3600, minimum: 1)
        noteDefault(prefix + "timeout", "60")
        let timeout = optionalInt(prefix + "timeout", default: 60, minimum: 1)

        guard valid, let mailProtocol, let tls, let authentication else { return nil }
        var settings = MailboxSettings(
            name: name, mailProtocol: mailProtocol, host: host, port: port, tls: tls, caFile: caFile,
            username: username, authentication: authentication, folders: folders, queue: queue,
            afterCommit: afterCommit, pollInterval: .seconds(pollInterval), idle: idle, maxMessageSize: maxSize,
            oversizeFolder: oversizeFolder, alertAfter: .seconds(alertAfter))
        settings.timeout = .seconds(timeout)
        return settings
    }

    private mutating func mailboxAuthentication(
        prefix: String, valid: inout Bool
    ) -> MailboxSettings.Authentication? {
        let passwordFile = optionalString(prefix + "auth.password_file")
        let passwordEnv = optionalString(prefix + "auth.password_env")
        let oauthProvider = optionalString(prefix + "auth.oauth2.provider")
        let chosen = [passwordFile != nil, passwordEnv != nil, oauthProvider != nil].filter { $0 }.count
        guard chosen == 1 else {
            fail(
                prefix + "auth",
                chosen == 0
                    ? "set one of auth.password_file, auth.password_env or auth.oauth2.provider"
                    : "set only one of auth.password_file, auth.password_env and auth.oauth2")
            valid = false
            return nil
        }
        if let passwordFile {
            guard FileManager.default.isReadableFile(atPath: passwordFile) else {
                fail(prefix + "auth.password_file", "cannot read \(passwordFile)")
                valid = false
                return nil
            }
            return .password(.file(passwordFile))
        }
        if let passwordEnv {
            guard ProcessInfo.processInfo.environment[passwordEnv] != nil else {
                fail(prefix + "auth.password_env", "the environment has no variable \(passwordEnv)")
                valid = false
                return nil
            }
            return .password(.environment(passwordEnv))
        }
        let oauth = prefix + "auth.oauth2."
        guard let provider = OAuthMailboxSettings.Provider(rawValue: (oauthProvider ?? "").lowercased()) else {
            fail(oauth + "provider", "must be microsoft, google or generic, got '\(oauthProvider ?? "")'")
            valid = false
            return nil
        }
        let clientID = string(oauth + "client_id")
        if clientID.isEmpty {
            fail(oauth + "client_id", "must be set: the application (client) id")
            valid = false
        }
        let secretFile = optionalString(oauth + "client_secret_file")
        if let secretFile, !FileManager.default.isReadableFile(atPath: secretFile) {
            fail(oauth + "client_secret_file", "cannot read \(secretFile)")
            valid = false
        }
        noteDefault(oauth + "flow", "authorization_code")
        let flowText = optionalString(oauth + "flow") ?? "authorization_code"
        let flow = OAuthMailboxSettings.Flow(rawValue: flowText.lowercased())
        if flow == nil {
            fail(oauth + "flow", "must be authorization_code, client_credentials or device_code, got '\(flowText)'")
            valid = false
        }
        if flow == .clientCredentials, secretFile == nil {
            fail(oauth + "client_secret_file", "client_credentials needs the client secret")
            valid = false
        }
        noteDefault(oauth + "mechanism", "xoauth2")
        let mechanismText = optionalString(oauth + "mechanism") ?? "xoauth2"
        let mechanism = OAuthMailboxSettings.Mechanism(rawValue: mechanismText.lowercased())
        if mechanism == nil {
            fail(oauth + "mechanism", "must be xoauth2 or oauthbearer, got '\(mechanismText)'")
            valid = false
        }
        let tokenURL = optionalString(oauth + "token_url")
        let authorizeURL = optionalString(oauth + "authorize_url")
        let deviceURL = optionalString(oauth + "device_url")
        for (key, url) in [("token_url", tokenURL), ("authorize_url", authorizeURL), ("device_url", deviceURL)] {
            guard let url else { continue }
            let parsed = URL(string: url)
            let loopback = parsed?.host.map(Self.isLoopback) ?? false
            if parsed?.scheme != "https", !(parsed?.scheme == "http" && loopback) {
                fail(oauth + key, "must be an https URL (http only on loopback), got '\(url)'")
                valid = false
            }
        }
        if provider == .generic, tokenURL == nil {
            fail(oauth + "token_url", "the generic provider needs its token endpoint")
            valid = false
        }
        let scopes = stringArray(oauth + "scopes")
        if provider == .generic, scopes.isEmpty {
            fail(oauth + "scopes", "the generic provider needs the scopes to ask for")
            valid = false
        }
        var secretExpires: Date?
        if let text = optionalString(oauth + "client_secret_expires") {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withFullDate]
            secretExpires = formatter.date(from: text)
            if secretExpires == nil {
                fail(oauth + "client_secret_expires", "must be a date like 2027-06-30, got '\(text)'")
                valid = false
            }
        }
        guard let flow, let mechanism else { return nil }
        return .oauth2(
            OAuthMailboxSettings(
                provider: provider, tenant: optionalString(oauth + "tenant"), clientID: clientID,
                clientSecretFile: secretFile, flow: flow, mechanism: mechanism, tokenURL: tokenURL,
                authorizeURL: authorizeURL, deviceURL: deviceURL, scopes: scopes, clientSecretExpires: secretExpires))
    }

    /// `localhost`, 127.0.0.0/8 or ::1: the only hosts a mailbox may reach without TLS.
    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
