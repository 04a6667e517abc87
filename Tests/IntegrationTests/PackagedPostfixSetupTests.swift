import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension EndToEndTests {
    /// The files under `packaging/` as an operator installs them: a real Postfix running as its own user
    /// delivers into `postdesk serve` running as the unit's user, with the socket directory made as
    /// tmpfiles.d makes it. Paths are re-rooted under a scratch directory (`/run/postdesk` becomes
    /// `<scratch>/run/postdesk`), with the same modes and owners; no systemd is needed.
    @Suite("Packaged Postfix setup")
    struct PackagedPostfixSetupTests {
        @Test("Postfix (user postfix) delivers through the packaged files into postdesk (user postdesk)")
        func packagedFilesDeliver() async throws {
            try PostfixInstance.requireInstalled()
            guard geteuid() == 0 else {
                throw RigError.missingPeer(
                    "the packaged-setup test creates users' directories: run it as root (CI does)")
            }
            let packaged = try PackagedFiles()
            for name in [packaged.serviceUser, packaged.socketDirectory.user] where getpwnam(name) == nil {
                throw RigError.missingPeer("no user `\(name)`: run `sudo scripts/install-test-peers.sh`")
            }
            let setpriv = try #require(findExecutable("setpriv"), "setpriv (util-linux) is needed")
            let systemPython = "/usr/bin/python3"

            let scratch = try ScratchDirectory(label: "packaged")
            var daemon: ChildProcess?
            var postfix: PostfixInstance?
            var succeeded = false
            defer {
                if succeeded { scratch.remove() }
            }
            do {
                func rerooted(_ path: String) -> String { scratch.path + path }

                // As systemd-tmpfiles and StateDirectory= would make them.
                let socketDirectory = rerooted(packaged.socketDirectory.path)
                try makeDirectory(
                    socketDirectory, mode: packaged.socketDirectory.mode, user: packaged.socketDirectory.user,
                    group: packaged.socketDirectory.group)
                let stateDirectory = rerooted(packaged.stateDirectory)
                try makeDirectory(
                    stateDirectory, mode: 0o755, user: packaged.serviceUser, group: packaged.serviceGroup)

                // The transport's next hop and the daemon's socket are the same absolute path.
                let transport = try #require(packaged.transports.first)
                #expect(transport.nextHop == "lmtp:unix:" + packaged.daemonSocket, "transport: \(transport)")
                #expect(packaged.daemonSocket.hasPrefix(packaged.socketDirectory.path + "/"))
                let socket = rerooted(packaged.daemonSocket)

                // The unit's user may not be able to enter the build directory: the binary is installed.
                let binary = scratch.file("postdesk")
                try FileManager.default.copyItem(atPath: try PostdeskServer.locateExecutable(), toPath: binary)
                chmod(binary, 0o755)
                // Nor read the checkout (a clone in a 0700 `mktemp -d` directory): the configuration is installed
                // too, as an operator installs it to /etc/postdesk.
                let configuration = scratch.file("postdesk.yaml")
                try FileManager.default.copyItem(atPath: packaged.daemonConfigPath, toPath: configuration)
                chmod(configuration, 0o644)
                var credentials = ["--reuid=\(packaged.serviceUser)", "--regid=\(packaged.serviceGroup)"]
                credentials.append(
                    packaged.supplementaryGroups.isEmpty
                        ? "--clear-groups" : "--groups=" + packaged.supplementaryGroups.joined(separator: ","))
                let environment = [
                    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "POSTDESK_LMTP_SOCKET": socket,
                    "POSTDESK_STORE_PATH": stateDirectory + "/postdesk.db",
                    // The packaged default 127.0.0.1:8025 may be taken on a test machine: any free port.
                    "POSTDESK_HTTP_LISTEN": "127.0.0.1:0",
                ]
                func asService(_ arguments: [String]) -> [String] {
                    credentials + ["--", binary] + arguments + ["--config", configuration]
                }

                let serve = try ChildProcess(
                    executable: setpriv, arguments: asService(["serve"]), outputPrefix: scratch.file("serve"),
                    environment: environment)
                daemon = serve
                let listening = await waitUntil(seconds: 30) {
                    !serve.isRunning || LoopbackSockets.acceptsConnections(unixPath: socket)
                }
                try #require(listening && serve.isRunning, "postdesk serve did not come up:\n\(serve.standardError)")

                // The socket: the daemon's user, the directory's group (postfix), the configured mode.
                var status = stat()
                try #require(stat(socket, &status) == 0)
                #expect(status.st_mode & 0o7777 == packaged.daemonSocketMode)
                #expect(status.st_uid == getpwnam(packaged.serviceUser)!.pointee.pw_uid)
                #expect(status.st_gid == getgrnam("postfix")!.pointee.gr_gid)

                // Any other local user is kept out (the socket would let them inject mail with any envelope).
                let stranger = try await ChildProcess.run(
                    setpriv,
                    [
                        "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", systemPython, "-c",
                        "import socket, sys\ns = socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1])\n"
                            + " print('connected')\nexcept OSError as e:\n print(type(e).__name__)",
                        socket,
                    ], outputPrefix: scratch.file("stranger"), environment: ["PATH": "/usr/bin:/bin"])
                #expect(stranger == "PermissionError\n")

                // Postfix with the packaged transport table, lmtp service line and lmtp_* settings.
                let table = packaged.transportTable.replacingOccurrences(
                    of: packaged.daemonSocket, with: socket)
                let instance = try PostfixInstance(
                    in: scratch, lmtpSocket: socket, relayDomains: packaged.transports.map(\.domain),
                    transportTable: table, lmtpService: packaged.lmtpService,
                    settings: packaged.postfixSettings.filter { $0.name.hasPrefix("lmtp_") }.map {
                        "\($0.name) = \($0.value)"
                    })
                postfix = instance
                try await instance.start()

                let subject = "Drucker brennt — ¿ayuda? 🔥"
                let clients = try MailClients(scratch: scratch)
                _ = try await clients.inject(
                    [
                        OutgoingMail(
                            from: "zoe@example.test", to: ["help@" + transport.domain], subject: subject,
                            messageID: "<packaged-1@example.test>", body: "Le pilote est déjà installé.\n")
                    ], port: instance.smtpPort, label: "inject")
                try await instance.waitForEmptyQueue(seconds: 60)
                #expect(instance.countDeliveries(status: "sent") == 1, "maillog:\n\(instance.maillog())")
                #expect(instance.maillog().contains(socket), "maillog:\n\(instance.maillog())")

                // Read as the daemon's user too: root must not leave files in its state directory.
                let listing = try await ChildProcess.run(
                    setpriv, asService(["tickets", "list", "--json"]), outputPrefix: scratch.file("list"),
                    environment: environment)
                let tickets = try JSONDecoder().decode([TicketSummary].self, from: Data(listing.utf8))
                #expect(tickets.map(\.subject) == [subject], "tickets: \(listing)")
                #expect(tickets.map(\.queue) == ["support"])
                succeeded = true
            } catch {
                await postfix?.stop()
                await daemon?.stop()
                throw RigFailure(underlying: error, scratch: scratch.path)
            }
            await postfix?.stop()
            await daemon?.stop()
        }

        /// `mkdir` + `chown` + `chmod` (after the chown, which would clear a setgid bit).
        private func makeDirectory(_ path: String, mode: mode_t, user: String, group: String) throws {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            guard let account = getpwnam(user), let entry = getgrnam(group) else {
                throw RigError.missingPeer("no user `\(user)` or group `\(group)`")
            }
            guard chown(path, account.pointee.pw_uid, entry.pointee.gr_gid) == 0, chmod(path, mode) == 0 else {
                throw RigError.launchFailed(command: "chown/chmod \(path)", reason: String(cString: strerror(errno)))
            }
        }
    }
}
