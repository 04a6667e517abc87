import Foundation

/// What the files under `packaging/` say, read from the files themselves so that a test of the packaged
/// setup follows them instead of repeating them.
struct PackagedFiles {
    /// A `d` line of tmpfiles.d(5).
    struct Directory {
        let path: String
        /// Including the setgid bit when the line sets it.
        let mode: mode_t
        let user: String
        let group: String
    }

    /// The directory of the LMTP socket (packaging/tmpfiles.d/postdesk.conf).
    let socketDirectory: Directory
    /// `User=`, `Group=`, `SupplementaryGroups=` and `StateDirectory=` of packaging/systemd/postdesk.service.
    let serviceUser: String
    let serviceGroup: String
    let supplementaryGroups: [String]
    let stateDirectory: String
    /// packaging/postfix/transport, whole, and its entries (domain, next hop).
    let transportTable: String
    let transports: [(domain: String, nextHop: String)]
    /// The `lmtp` line of packaging/postfix/master.cf.
    let lmtpService: String
    /// The `name = value` lines of packaging/postfix/main.cf.
    let postfixSettings: [(name: String, value: String)]
    /// packaging/postdesk/postdesk.yaml, and its `lmtp.socket` and `lmtp.mode`.
    let daemonConfigPath: String
    let daemonSocket: String
    let daemonSocketMode: mode_t

    /// The repository's packaging directory, found from this file's location.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("packaging").path

    init(directory: String = Self.directory) throws {
        func read(_ name: String) throws -> String {
            do {
                return try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            } catch {
                throw RigError.unexpectedOutput(command: "read packaging/\(name)", reason: "\(error)", output: "")
            }
        }
        func malformed(_ name: String, _ reason: String, _ text: String) -> RigError {
            RigError.unexpectedOutput(command: "parse packaging/\(name)", reason: reason, output: text)
        }
        /// Lines without comments and blank lines.
        func statements(_ text: String) -> [Substring] {
            text.split(separator: "\n").filter {
                let trimmed = $0.trimmingCharacters(in: .whitespaces)
                return !trimmed.isEmpty && !trimmed.hasPrefix("#")
            }
        }

        let tmpfiles = try read("tmpfiles.d/postdesk.conf")
        let directoryLines = statements(tmpfiles).map { $0.split(separator: " ", omittingEmptySubsequences: true) }
            .filter { $0.first == "d" && $0.count >= 5 }
        guard directoryLines.count == 1, let fields = directoryLines.first, let mode = mode_t(fields[2], radix: 8)
        else { throw malformed("tmpfiles.d/postdesk.conf", "expected one `d PATH MODE USER GROUP` line", tmpfiles) }
        socketDirectory = Directory(
            path: String(fields[1]), mode: mode, user: String(fields[3]), group: String(fields[4]))

        let unit = try read("systemd/postdesk.service")
        var unitValues: [String: String] = [:]
        for line in statements(unit) {
            guard let equals = line.firstIndex(of: "=") else { continue }
            unitValues[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let user = unitValues["User"], let group = unitValues["Group"], let state = unitValues["StateDirectory"]
        else { throw malformed("systemd/postdesk.service", "needs User=, Group= and StateDirectory=", unit) }
        serviceUser = user
        serviceGroup = group
        supplementaryGroups = (unitValues["SupplementaryGroups"] ?? "").split(separator: " ").map(String.init)
        stateDirectory = "/var/lib/" + state

        transportTable = try read("postfix/transport")
        transports = statements(transportTable).compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.count == 2 ? (String(fields[0]), String(fields[1])) : nil
        }
        guard !transports.isEmpty else { throw malformed("postfix/transport", "no `domain nexthop` entry", "") }

        let master = try read("postfix/master.cf")
        guard let lmtp = statements(master).first(where: { $0.hasPrefix("lmtp ") }) else {
            throw malformed("postfix/master.cf", "no `lmtp` service line", master)
        }
        lmtpService = String(lmtp)

        let main = try read("postfix/main.cf")
        postfixSettings = statements(main).compactMap { line in
            guard let equals = line.firstIndex(of: "=") else { return nil }
            return (
                line[..<equals].trimmingCharacters(in: .whitespaces),
                line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            )
        }

        daemonConfigPath = directory + "/postdesk/postdesk.yaml"
        let config = try read("postdesk/postdesk.yaml")
        // The two keys of the `lmtp:` section this test needs; the daemon itself reads the whole file.
        var section = ""
        var socket: String?
        var socketMode: mode_t?
        for line in statements(config) {
            if !line.hasPrefix(" ") {
                section = line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard section == "lmtp:" else { continue }
            let pair = line.trimmingCharacters(in: .whitespaces).split(separator: ":", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: " \""))
            if pair[0] == "socket" { socket = value }
            if pair[0] == "mode" { socketMode = mode_t(value, radix: 8) }
        }
        guard let socket, let socketMode else {
            throw malformed("postdesk/postdesk.yaml", "needs lmtp.socket and lmtp.mode", config)
        }
        daemonSocket = socket
        daemonSocketMode = socketMode
    }
}
