import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A private, real Dovecot 2.3 under a scratch directory, for the poller's tests: IMAP, IMAPS, POP3 and POP3S
/// on free 127.0.0.1 ports, a self-signed certificate for `localhost` / 127.0.0.1 (give `certificatePath` to
/// a client as its CA file), the test's users and passwords in a passwd-file, their Maildirs under the scratch
/// directory owned by uid/gid 65534, and an LMTP unix socket to load mail. With an OAuth introspection URL it also accepts XOAUTH2
/// and OAUTHBEARER, checked by Dovecot's `oauth2` passdb against that URL.
///
/// It never reads /etc/dovecot/conf.d nor touches the stock instance: the master runs in the foreground
/// (`dovecot -F`) as the test's child with its own base and state directories, and is stopped by its pid.
/// Failed logins are answered within 0.5 s (`auth_failure_delay = 0`; Dovecot flushes its failures twice a
/// second) and cost no penalty on the next attempt, so negative tests stay fast. An IDLE session hears of a
/// delivery about 0.5 s after it (Dovecot gathers changes that long before it notifies).
final class DovecotInstance {
    let root: String
    let configPath: String
    /// The self-signed certificate (PEM) the TLS listeners present: subjectAltName DNS:localhost, IP:127.0.0.1.
    let certificatePath: String
    let keyPath: String
    /// Dovecot's LMTP server; `deliver` talks to it.
    let lmtpSocketPath: String
    let logPath: String
    let infoLogPath: String
    let imapPort: UInt16
    let imapsPort: UInt16
    let pop3Port: UInt16
    let pop3sPort: UInt16
    /// User name → password, as given to `init`.
    let users: [String: String]
    let oauthIntrospectionURL: String?
    private var master: ChildProcess?
    private var commandCount = 0

    /// The uid and gid that own every mailbox (nobody/nogroup): no system user has to be created.
    static let mailOwnerID: UInt32 = 65534
    /// The domain of the addresses `deliver` uses (`user@dovecot.test`); Dovecot keeps only the local part.
    static let mailDomain = "dovecot.test"
    static let installHint =
        "Dovecot is not installed: run `sudo scripts/install-test-peers.sh` (CI installs it first)."

    /// Throws a clear message when Dovecot (imapd, pop3d, lmtpd) or a tool the rig needs is missing.
    static func requireInstalled() throws {
        for tool in ["dovecot", "doveadm", "doveconf", "openssl"] where findExecutable(tool) == nil {
            throw RigError.missingPeer("\(installHint) (`\(tool)` not found)")
        }
        for (service, package) in [("imap", "dovecot-imapd"), ("pop3", "dovecot-pop3d"), ("lmtp", "dovecot-lmtpd")]
        where !FileManager.default.isExecutableFile(atPath: "/usr/lib/dovecot/\(service)") {
            throw RigError.missingPeer("\(installHint) (\(package) is missing: no /usr/lib/dovecot/\(service))")
        }
    }

    /// Writes the instance's configuration, users file and mail root; `start()` generates the certificate
    /// and runs it.
    /// - Parameters:
    ///   - users: user name → password. Names are lowercase (Dovecot lowercases logins and LMTP recipients)
    ///     and may not contain `:`, `@` or white space.
    ///   - oauthIntrospectionURL: when set, XOAUTH2 and OAUTHBEARER are offered and every bearer token is
    ///     checked by `POST <url>` (form `token=`); the JSON answer must have `"active": true` and
    ///     `"username"` equal to the login name.
    ///   - settings: dovecot.conf lines appended after the rig's (a later line wins).
    init(
        in scratch: ScratchDirectory, users: [String: String], oauthIntrospectionURL: String? = nil,
        settings: [String] = []
    ) throws {
        try Self.requireInstalled()
        for name in users.keys
        where name.isEmpty || name != name.lowercased()
            || name.contains(where: { $0 == ":" || $0 == "@" || $0.isWhitespace })
        {
            throw RigError.launchFailed(
                command: "DovecotInstance(users:)",
                reason: "user name \"\(name)\" must be lowercase, without ':', '@' or white space")
        }
        self.users = users
        self.oauthIntrospectionURL = oauthIntrospectionURL
        root = scratch.file("dovecot")
        configPath = root + "/dovecot.conf"
        certificatePath = root + "/cert.pem"
        keyPath = root + "/key.pem"
        lmtpSocketPath = root + "/lmtp.sock"
        logPath = root + "/dovecot.log"
        infoLogPath = root + "/dovecot-info.log"
        imapPort = try LoopbackSockets.freePort()
        imapsPort = try LoopbackSockets.freePort()
        pop3Port = try LoopbackSockets.freePort()
        pop3sPort = try LoopbackSockets.freePort()

        let mailRoot = root + "/mail"
        for directory in [root, root + "/run", root + "/state", mailRoot] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            chmod(directory, 0o755)
        }
        chown(mailRoot, Self.mailOwnerID, Self.mailOwnerID)

        // passwd-file: user:{scheme}password:uid:gid:gecos:home:shell:extra
        let usersPath = root + "/users"
        try users.keys.sorted().map { name in
            "\(name):{PLAIN}\(users[name]!):\(Self.mailOwnerID):\(Self.mailOwnerID)::\(mailRoot)/\(name)::"
        }.joined(separator: "\n").appending("\n").write(toFile: usersPath, atomically: true, encoding: .utf8)
        // Only root and Dovecot's own processes may read the passwords.
        if let group = getgrnam("dovecot") {
            chown(usersPath, 0, group.pointee.gr_gid)
            chmod(usersPath, 0o640)
        } else {
            chmod(usersPath, 0o600)
        }

        var oauthPassDB = ""
        if let oauthIntrospectionURL {
            let oauthPath = root + "/oauth2.conf.ext"
            try """
            introspection_mode = post
            introspection_url = \(oauthIntrospectionURL)
            username_attribute = username
            active_attribute = active
            active_value = true
            timeout_msecs = 5000

            """.write(toFile: oauthPath, atomically: true, encoding: .utf8)
            // Listed first but limited to the bearer mechanisms: PLAIN and LOGIN go to the passwd-file.
            oauthPassDB = """
                passdb {
                  driver = oauth2
                  mechanisms = xoauth2 oauthbearer
                  args = \(oauthPath)
                }

                """
        }
        let config = """
            # A private test instance: it does not include /etc/dovecot/conf.d.
            instance_name = postdesk-test-dovecot
            base_dir = \(root)/run
            state_dir = \(root)/state
            protocols = imap pop3 lmtp
            listen = 127.0.0.1
            log_path = \(logPath)
            info_log_path = \(infoLogPath)
            ssl = yes
            ssl_cert = <\(certificatePath)
            ssl_key = <\(keyPath)
            ssl_min_protocol = TLSv1.2
            # Only loopback listeners: PLAIN and LOGIN are allowed without TLS.
            disable_plaintext_auth = no
            auth_mechanisms = plain login\(oauthIntrospectionURL == nil ? "" : " xoauth2 oauthbearer")
            # LMTP's RCPT bench@dovecot.test is user bench.
            auth_username_format = %Ln
            auth_verbose = yes
            # The reply to a failed login still waits for Dovecot's next failure flush (every 0.5 s).
            auth_failure_delay = 0
            mail_location = maildir:~/Maildir
            first_valid_uid = 1
            mail_max_userip_connections = 100
            # IDLE: "still here" every 2 s, and new mail seen within 1 s even without inotify.
            imap_idle_notify_interval = 2 secs
            mailbox_idle_check_interval = 1 secs
            pop3_uidl_format = %08Xu%08Xv
            \(oauthPassDB)# Passwords only for PLAIN and LOGIN: a refused bearer token must not be tried as a password.
            passdb {
              driver = passwd-file
              mechanisms = plain login
              args = scheme=PLAIN username_format=%n \(usersPath)
            }
            userdb {
              driver = passwd-file
              args = username_format=%n \(usersPath)
            }
            service imap-login {
              inet_listener imap {
                address = 127.0.0.1
                port = \(imapPort)
              }
              inet_listener imaps {
                address = 127.0.0.1
                port = \(imapsPort)
                ssl = yes
              }
            }
            service pop3-login {
              inet_listener pop3 {
                address = 127.0.0.1
                port = \(pop3Port)
              }
              inet_listener pop3s {
                address = 127.0.0.1
                port = \(pop3sPort)
                ssl = yes
              }
            }
            # No auth penalty: anvil would delay every login after a failed one from 127.0.0.1 by 2, 4, 8… s, and
            # a test that tries a bad token before a good one would crawl. The auth process cannot reach a socket
            # of mode 0, and then skips the penalty.
            service anvil {
              unix_listener anvil-auth-penalty {
                mode = 0
              }
            }
            service lmtp {
              unix_listener \(lmtpSocketPath) {
                mode = 0666
              }
            }
            """
        try ([config] + settings).joined(separator: "\n").appending("\n").write(
            toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Writes an instance for `users` and starts it.
    static func start(
        in scratch: ScratchDirectory, users: [String: String], oauthIntrospectionURL: String? = nil
    ) async throws -> DovecotInstance {
        let instance = try DovecotInstance(in: scratch, users: users, oauthIntrospectionURL: oauthIntrospectionURL)
        try await instance.start()
        return instance
    }

    /// Generates the certificate (once), starts the master in the foreground and waits until the four
    /// listeners and the LMTP socket accept connections.
    func start() async throws {
        guard master == nil else { return }
        if !FileManager.default.fileExists(atPath: certificatePath) {
            try await ChildProcess.run(
                findExecutable("openssl") ?? "/usr/bin/openssl",
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", keyPath, "-out",
                    certificatePath,
                ], outputPrefix: root + "/openssl", timeout: 60)
            chmod(keyPath, 0o600)
        }
        let process = try ChildProcess(
            executable: findExecutable("dovecot") ?? "/usr/sbin/dovecot", arguments: ["-F", "-c", configPath],
            outputPrefix: root + "/master")
        master = process
        let ports = [imapPort, imapsPort, pop3Port, pop3sPort]
        let up = await waitUntil(seconds: 30) {
            guard process.isRunning else { return true }
            return LoopbackSockets.acceptsConnections(unixPath: lmtpSocketPath)
                && ports.allSatisfy { LoopbackSockets.acceptsConnections(port: $0) }
        }
        guard up, process.isRunning else {
            let detail = "master's stderr:\n\(process.standardError)\nlog:\n\(log())"
            await stop()
            if !up { throw RigError.timedOut(what: "Dovecot's listeners \(ports)", seconds: 30, detail: detail) }
            throw RigError.commandFailed(
                command: process.commandLine, status: process.terminationStatus, output: detail)
        }
    }

    /// The master's pid and its children's (login, imap, pop3, lmtp, auth, log…); empty when stopped.
    func processIDs() -> [Int32] {
        guard let master, master.isRunning else { return [] }
        return [master.pid] + Self.children(of: master.pid)
    }

    /// Stops the master by its pid (SIGTERM, SIGKILL if it lingers), then every child it had, by pid: an imap
    /// process with a client in IDLE, and the log and stats processes waiting for it, outlive the master.
    /// Safe to call twice.
    func stop() async {
        guard let process = master else { return }
        let children = Self.children(of: process.pid)
        await process.stop(graceSeconds: 10)
        for signal in [SIGTERM, SIGKILL] {
            let alive = children.filter(processIsAlive)
            if alive.isEmpty { break }
            for pid in alive { kill(pid, signal) }
            _ = await waitUntil(seconds: 5) { !children.contains(where: processIsAlive) }
        }
        master = nil
    }

    /// Pids whose parent is `parent`, read from /proc.
    private static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let closing = stat.lastIndex(of: ")")
            else { return nil }
            // After "(comm)": state, then the parent's pid.
            let fields = stat[stat.index(after: closing)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent ? pid : nil
        }
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    func infoLog() -> String { (try? String(contentsOfFile: infoLogPath, encoding: .utf8)) ?? "" }

    /// The address that reaches `user` over LMTP.
    static func address(of user: String) -> String { "\(user)@\(mailDomain)" }

    // MARK: Loading mail

    /// Delivers `raw` (exact bytes; CRLF or LF line ends) to `user`'s INBOX over Dovecot's LMTP socket, as an
    /// MTA would; throws unless Dovecot answers 250.
    func deliver(_ raw: [UInt8], to user: String, from sender: String = "sender@example.test") throws {
        let client = try RawLMTPClient(socketPath: lmtpSocketPath)
        let result = try client.deliver(from: sender, to: [Self.address(of: user)], message: raw)
        guard result.rcpt.map(\.code) == [250], result.data.map(\.code) == [250] else {
            throw RigError.unexpectedOutput(
                command: "LMTP delivery to \(Self.address(of: user))", reason: "not accepted",
                output: "RCPT: \(result.rcpt) DATA: \(result.data)\nlog:\n\(log())")
        }
    }

    /// Saves `raw` straight into `folder` (`doveadm save`), for folders LMTP does not deliver to.
    func save(_ raw: [UInt8], user: String, folder: String) async throws {
        commandCount += 1
        let input = root + "/save-\(commandCount).eml"
        try Data(raw).write(to: URL(fileURLWithPath: input))
        try await doveadm(["save", "-u", user, "-m", folder], standardInputPath: input)
    }

    // MARK: Mailbox administration (doveadm)

    /// Creates `name` (UTF-8; Dovecot stores it in modified UTF-7) for `user`.
    func createFolder(_ name: String, user: String) async throws {
        try await doveadm(["mailbox", "create", "-u", user, name])
    }

    func messageCount(user: String, folder: String = "INBOX") async throws -> Int {
        try await numericStatus("messages", user: user, folder: folder)
    }

    func uidValidity(user: String, folder: String = "INBOX") async throws -> UInt32 {
        UInt32(try await numericStatus("uidvalidity", user: user, folder: folder))
    }

    /// Changes the folder's UIDVALIDITY, as a server that rebuilt its index would.
    func setUIDValidity(user: String, folder: String = "INBOX", value: UInt32) async throws {
        try await doveadm(["mailbox", "update", "-u", user, "--uid-validity", String(value), folder])
    }

    /// The UIDs in the folder, ascending.
    func uids(user: String, folder: String = "INBOX") async throws -> [UInt32] {
        try await fetch(["uid"], user: user, folder: folder).compactMap { $0["uid"].flatMap { UInt32($0) } }
    }

    /// The flags of one message, e.g. `["\\Seen", "\\Deleted"]`; nil when no message has that UID.
    func flags(user: String, folder: String = "INBOX", uid: UInt32) async throws -> Set<String>? {
        let rows = try await fetch(["flags"], user: user, folder: folder, uid: uid)
        return rows.first.map { Set(($0["flags"] ?? "").split(separator: " ").map(String.init)) }
    }

    /// The raw (undecoded, unfolded by Dovecot) value of header `name` of every message, in UID order;
    /// "" for a message without it.
    func headerValues(_ name: String, user: String, folder: String = "INBOX") async throws -> [String] {
        let field = "hdr.\(name.lowercased())"
        return try await fetch([field], user: user, folder: folder).map { $0[field] ?? "" }
    }

    /// The body (after the header) of every message, in UID order, with LF line ends as Dovecot stores it.
    func messageBodies(user: String, folder: String = "INBOX") async throws -> [String] {
        try await fetch(["body"], user: user, folder: folder).map { $0["body"] ?? "" }
    }

    /// Removes every message of the folder at once (no IMAP session sees it coming).
    func expungeAll(user: String, folder: String = "INBOX") async throws {
        try await doveadm(["expunge", "-u", user, "mailbox", folder, "all"])
    }

    /// Drops every IMAP/POP3 connection of `user` (the client sees `* BYE` or the socket close).
    func kick(user: String) async throws {
        try await doveadm(["kick", user])
    }

    private func numericStatus(_ field: String, user: String, folder: String) async throws -> Int {
        let output = try await doveadm(["-f", "json", "mailbox", "status", "-u", user, field, folder])
        let rows = try decodeRows(output, command: "mailbox status \(field) \(folder)")
        guard let text = rows.first?[field], let value = Int(text) else {
            throw RigError.unexpectedOutput(
                command: "doveadm mailbox status \(field)", reason: "no number for \(folder)", output: output)
        }
        return value
    }

    /// `doveadm fetch` of `fields` (always with `uid`), one row per message in UID order.
    private func fetch(_ fields: [String], user: String, folder: String, uid: UInt32? = nil) async throws
        -> [[String: String]]
    {
        var query = ["mailbox", folder]
        if let uid { query += ["uid", String(uid)] }
        let output = try await doveadm(
            ["-f", "json", "fetch", "-u", user, (["uid"] + fields).joined(separator: " ")] + query)
        return try decodeRows(output, command: "fetch \(fields) \(folder)").sorted {
            (UInt32($0["uid"] ?? "") ?? 0) < (UInt32($1["uid"] ?? "") ?? 0)
        }
    }

    private func decodeRows(_ output: String, command: String) throws -> [[String: String]] {
        do {
            return try JSONDecoder().decode([[String: String]].self, from: Data(output.utf8))
        } catch {
            throw RigError.unexpectedOutput(command: "doveadm \(command)", reason: "\(error)", output: output)
        }
    }

    /// Runs doveadm against this instance's config within 30 s; throws with its output when it fails.
    @discardableResult
    private func doveadm(_ arguments: [String], standardInputPath: String = "/dev/null") async throws -> String {
        commandCount += 1
        return try await ChildProcess.run(
            findExecutable("doveadm") ?? "/usr/bin/doveadm", ["-c", configPath] + arguments,
            outputPrefix: root + "/doveadm-\(commandCount)", timeout: 30, standardInputPath: standardInputPath)
    }
}
