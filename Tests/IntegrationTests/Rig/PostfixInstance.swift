import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A private Postfix instance under a scratch directory: smtpd on a free 127.0.0.1 port, every
/// relay domain routed to one LMTP unix socket, no chroot, logging to a file through postlogd,
/// and short retry times so a delivery deferred while the receiver is down is retried quickly.
/// It never touches /etc/postfix's own instance (only reads meta files from it).
final class PostfixInstance {
    let root: String
    let configDirectory: String
    let queueDirectory: String
    let maillogPath: String
    let smtpPort: UInt16
    private let scratch: ScratchDirectory
    private var masterPID: Int32?

    static let installHint =
        "Postfix is not installed: run `sudo scripts/install-test-peers.sh` (CI installs it first)."

    /// Throws a clear message when Postfix (or a tool the rig needs) is missing.
    static func requireInstalled() throws {
        for tool in ["postfix", "postconf", "postqueue", "smtp-sink", "smtp-source"] where findExecutable(tool) == nil {
            throw RigError.missingPeer("\(installHint) (`\(tool)` not found)")
        }
        guard findExecutable("script") != nil else {
            throw RigError.missingPeer("`script` (util-linux) not found; the Postfix rig needs it")
        }
        guard getpwnam("postfix") != nil else {
            throw RigError.missingPeer("\(installHint) (no `postfix` user)")
        }
    }

    /// Writes the instance's configuration; `relayDomains` all deliver to `lmtpSocket`.
    /// - Parameters:
    ///   - transportTable: a transport(5) table to route with instead (read as `texthash:`, no postmap).
    ///   - lmtpService: the master.cf line of the `lmtp` service instead of the rig's own.
    ///   - settings: main.cf lines appended after the rig's (a later line wins).
    init(
        in scratch: ScratchDirectory, lmtpSocket: String, relayDomains: [String], transportTable: String? = nil,
        lmtpService: String? = nil, settings: [String] = []
    ) throws {
        try Self.requireInstalled()
        self.scratch = scratch
        root = scratch.file("postfix")
        configDirectory = root + "/etc"
        queueDirectory = root + "/spool"
        maillogPath = root + "/maillog"
        smtpPort = try LoopbackSockets.freePort()
        let dataDirectory = root + "/data"
        let fileManager = FileManager.default
        for directory in [configDirectory, queueDirectory, dataDirectory] {
            try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            chmod(directory, 0o755)
        }
        // The queue directory must be root-owned and the data directory owned by the mail owner.
        if let account = getpwnam("postfix") {
            chown(dataDirectory, account.pointee.pw_uid, account.pointee.pw_gid)
        }
        var transportMaps =
            "inline:{ "
            + relayDomains.map { "\($0)=lmtp:unix:\(lmtpSocket)" }.joined(separator: ", ") + " }"
        if let transportTable {
            try transportTable.write(toFile: configDirectory + "/transport", atomically: true, encoding: .utf8)
            transportMaps = "texthash:\(configDirectory)/transport"
        }
        let mainConfig = """
            compatibility_level = 3.6
            queue_directory = \(queueDirectory)
            data_directory = \(dataDirectory)
            meta_directory = /etc/postfix
            maillog_file = \(maillogPath)
            maillog_file_prefixes = \(root)
            myhostname = mx.rig.test
            mydomain = rig.test
            myorigin = $myhostname
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            mydestination =
            local_recipient_maps =
            alias_maps =
            alias_database =
            biff = no
            relay_domains = \(relayDomains.joined(separator: ", "))
            relay_recipient_maps =
            transport_maps = \(transportMaps)
            smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
            default_transport = error:outbound mail disabled in the test instance
            relay_transport = error:outbound mail disabled in the test instance
            disable_dns_lookups = yes
            smtp_dns_support_level = disabled
            lmtp_destination_concurrency_limit = 10
            lmtp_destination_recipient_limit = 50
            minimal_backoff_time = 1s
            maximal_backoff_time = 2s
            queue_run_delay = 1s
            in_flow_delay = 0
            delay_warning_time = 0
            """
        // chroot = n everywhere: a chrooted lmtp client could not see a socket outside the spool.
        var masterConfig = """
            127.0.0.1:\(smtpPort) inet n - n - - smtpd
            pickup    unix  n - n 60    1 pickup
            cleanup   unix  n - n -     0 cleanup
            qmgr      unix  n - n 300   1 qmgr
            rewrite   unix  - - n -     - trivial-rewrite
            bounce    unix  - - n -     0 bounce
            defer     unix  - - n -     0 bounce
            trace     unix  - - n -     0 bounce
            verify    unix  - - n -     1 verify
            flush     unix  n - n 1000? 0 flush
            proxymap  unix  - - n -     - proxymap
            showq     unix  n - n -     - showq
            error     unix  - - n -     - error
            retry     unix  - - n -     - error
            discard   unix  - - n -     - discard
            lmtp      unix  - - n -     - lmtp
            anvil     unix  - - n -     1 anvil
            scache    unix  - - n -     1 scache
            postlog   unix-dgram n - n - 1 postlogd

            """
        if let lmtpService {
            masterConfig = masterConfig.replacingOccurrences(
                of: "lmtp      unix  - - n -     - lmtp\n", with: lmtpService + "\n")
        }
        try ([mainConfig] + settings).joined(separator: "\n").appending("\n").write(
            toFile: configDirectory + "/main.cf", atomically: true, encoding: .utf8)
        try masterConfig.write(toFile: configDirectory + "/master.cf", atomically: true, encoding: .utf8)
    }

    /// Runs a Postfix admin command under a pseudo-terminal: without one Postfix prints nothing,
    /// not even its errors.
    @discardableResult
    private func administer(_ command: String, label: String, timeout: Double = 60) async throws -> String {
        try await ChildProcess.run(
            findExecutable("script") ?? "/usr/bin/script", ["-qec", command, "/dev/null"],
            outputPrefix: scratch.file("postfix-\(label)"), timeout: timeout)
    }

    /// Starts the master daemon and waits until smtpd accepts connections.
    func start() async throws {
        do {
            try await administer("postfix -c \(configDirectory) start", label: "start")
        } catch {
            throw RigError.unexpectedOutput(
                command: "postfix start", reason: "\(error)", output: "maillog:\n" + maillog())
        }
        let pidFile = queueDirectory + "/pid/master.pid"
        let up = await waitUntil(seconds: 30) {
            if masterPID == nil, let text = try? String(contentsOfFile: pidFile, encoding: .utf8) {
                masterPID = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            return LoopbackSockets.acceptsConnections(port: smtpPort)
        }
        guard up else {
            throw RigError.timedOut(what: "Postfix smtpd on 127.0.0.1:\(smtpPort)", seconds: 30, detail: maillog())
        }
    }

    /// Sets main.cf parameters (`postconf -e`); call before `start()`, or restart the instance.
    func setMainParameters(_ parameters: [String: String]) async throws {
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) {
            try await administer("postconf -c \(configDirectory) -e '\(name) = \(value)'", label: "postconf-\(name)")
        }
    }

    /// Stops the instance: `postfix stop`, then the master's pid directly if it lingers.
    func stop() async {
        guard let pid = masterPID else { return }
        _ = try? await administer("postfix -c \(configDirectory) stop", label: "stop", timeout: 20)
        if !(await waitUntil(seconds: 10) { !processIsAlive(pid) }) {
            kill(pid, SIGKILL)
            _ = await waitUntil(seconds: 5) { !processIsAlive(pid) }
        }
        masterPID = nil
    }

    /// Asks the queue manager to retry deferred mail now (and forget "dead" destinations).
    func flushQueue() async {
        _ = try? await administer("postqueue -c \(configDirectory) -f", label: "flush", timeout: 20)
    }

    /// Number of messages still in the queue (incoming, active, deferred, maildrop).
    func queuedMessageCount() -> Int {
        var count = 0
        for name in ["incoming", "active", "deferred", "maildrop"] {
            guard let walker = FileManager.default.enumerator(atPath: queueDirectory + "/" + name) else { continue }
            while let entry = walker.nextObject() as? String {
                var status = stat()
                if lstat(queueDirectory + "/" + name + "/" + entry, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG
                {
                    count += 1
                }
            }
        }
        return count
    }

    /// Waits until the queue is empty, flushing deferred mail every few seconds.
    func waitForEmptyQueue(seconds: Double) async throws {
        var lastFlush = Date()
        let emptied = await waitUntil(seconds: seconds, interval: .milliseconds(100)) {
            if queuedMessageCount() == 0 { return true }
            if Date().timeIntervalSince(lastFlush) > 3 {
                await flushQueue()
                lastFlush = Date()
            }
            return false
        }
        guard emptied else {
            throw RigError.timedOut(
                what: "Postfix's queue to empty (\(queuedMessageCount()) left)", seconds: seconds,
                detail: "last maillog lines:\n" + maillog().split(separator: "\n").suffix(15).joined(separator: "\n"))
        }
    }

    func maillog() -> String { (try? String(contentsOfFile: maillogPath, encoding: .utf8)) ?? "" }

    /// The `status=` of every delivery line logged for `queueID`, one per recipient attempt.
    func deliveryStatuses(queueID: String) -> [(recipient: String, status: String)] {
        var result: [(String, String)] = []
        for line in maillog().split(separator: "\n") where line.contains(" \(queueID): to=<") {
            guard let toRange = line.range(of: "to=<"),
                let toEnd = line[toRange.upperBound...].firstIndex(of: ">"),
                let statusRange = line.range(of: "status=")
            else { continue }
            let status = line[statusRange.upperBound...].prefix { $0 != " " }
            result.append((String(line[toRange.upperBound..<toEnd]), String(status)))
        }
        return result
    }

    /// How many delivery lines in the log carry `status=<status>`.
    func countDeliveries(status: String) -> Int {
        maillog().split(separator: "\n").count { $0.contains(" status=\(status) ") }
    }
}
