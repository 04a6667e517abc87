import Foundation
import Testing

@testable import PostdeskDaemon

@Suite final class ConfigurationTests {
    /// The repository root, found from this file's location.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private let config = ConfigurationScratch(label: "config")

    @Test func sampleFileIsTheBuiltInDefault() async throws {
        let sample = try await PostdeskConfiguration.load(
            path: Self.root.appendingPathComponent("conf/postdesk.yaml").path, environment: [:])
        let builtIn = try await PostdeskConfiguration.load(path: nil, environment: [:])
        #expect(sample == builtIn)
        #expect(builtIn.storePath == "./var/postdesk.db")
        #expect(builtIn.lmtpSocket == "./var/lmtp.sock")
        #expect(builtIn.smtpListen?.host == "127.0.0.1" && builtIn.smtpListen?.port == 2525)
        #expect(
            builtIn.queues == [
                .init(name: "support", tag: "Support", addresses: ["support@localhost", "*@support.test"])
            ])
        #expect(builtIn.maxRecipients == 100 && builtIn.lmtpSocketMode == 0o660)
    }

    @Test func environmentOverridesFileAndDefaults() async throws {
        let path = try config.configurationFile(
            "store:\n  path: /tmp/from-file.db\nlmtp:\n  socket: /tmp/x.sock\nqueues:\n  names: [support]\n"
                + "  support:\n    addresses: [support@localhost]\n")
        let configuration = try await PostdeskConfiguration.load(
            path: path,
            environment: [
                "POSTDESK_STORE_PATH": "/tmp/from-env.db", "POSTDESK_LIMITS_MAX_RECIPIENTS": "7",
                "POSTDESK_QUEUES_NAMES": "support,sales", "POSTDESK_QUEUES_SALES_ADDRESSES": "sales@example.test",
                "POSTDESK_SMTP_LISTEN": "",
            ])
        #expect(configuration.storePath == "/tmp/from-env.db")
        #expect(configuration.maxRecipients == 7)
        #expect(configuration.queues.map(\.name) == ["support", "sales"])
        #expect(configuration.queues[1].addresses == ["sales@example.test"])
        #expect(configuration.queues[1].tag == "Sales")
        #expect(configuration.smtpListen == nil)
    }

    @Test func everyErrorIsReportedWithItsKey() async throws {
        let found = try await config.issues(
            """
            server:
              hostname: ""
            log:
              level: loud
            lmtp:
              mode: "999"
            smtp:
              listen: "nowhere"
              tls:
                certificate: /nonexistent/cert.pem
            limits:
              max_recipients: -3
              data_timeout: soon
              processing_deadline: 0
            queues:
              names: [support, "bad name"]
              support:
                tag: "Sup[port]"
                addresses: ["support@localhost", "broken", "a*@x.test"]
            """)
        let keys = Set(found.map(\.key))
        for key in [
            "server.hostname", "log.level", "lmtp.mode", "smtp.listen", "smtp.tls.key", "limits.max_recipients",
            "limits.data_timeout", "limits.processing_deadline", "queues.names", "queues.support.tag",
            "queues.support.addresses",
        ] {
            #expect(keys.contains(key), "missing an issue for \(key): \(found)")
        }
        #expect(found.contains { $0.key == "limits.data_timeout" && $0.message.contains("soon") })
        #expect(found.contains { $0.key == "queues.support.addresses" && $0.message.contains("'broken'") })
    }

    @Test func anAddressBelongsToOneQueueOnly() async throws {
        let found = try await config.issues(
            """
            lmtp:
              socket: /tmp/x.sock
            queues:
              names: [a, b]
              a:
                addresses: ["help@x.test"]
              b:
                addresses: ["HELP@x.test"]
            """)
        #expect(found == [.init(key: "queues.b.addresses", message: "'HELP@x.test' is already received by queue 'a'")])
    }

    @Test func noListenerIsAnError() async throws {
        let found = try await config.issues(
            "lmtp:\n  socket: \"\"\nsmtp:\n  listen: \"\"\nqueues:\n  names: [a]\n  a:\n    addresses: [a@x.test]\n")
        #expect(found.map(\.key) == ["lmtp.socket"])
    }

    /// Issue 12 point 8: a mistyped key used to fall back silently to the built-in sample's value.
    @Test func aMistypedKeyIsAnErrorNamingTheNearestKnownKey() async throws {
        let found = try await config.issues(
            """
            lmtp:
              sockett: /run/postdesk/lmtp.sock
            queues:
              names: [support]
              support:
                adresses: [support@localhost]
                filter:
                  ignroe: ["subject:unsubscribe"]
              sales:
                addresses: [sales@localhost]
            """)
        #expect(
            found.contains(
                .init(key: "lmtp.sockett", message: "unknown key; did you mean `lmtp.socket`?")), "\(found)")
        #expect(
            found.contains(
                .init(key: "queues.support.adresses", message: "unknown key; did you mean `queues.support.addresses`?")
            ), "\(found)")
        #expect(
            found.contains(
                .init(
                    key: "queues.support.filter.ignroe",
                    message: "unknown key; did you mean `queues.support.filter.ignore`?")), "\(found)")
        #expect(
            found.contains(
                .init(
                    key: "queues.sales.addresses",
                    message: "queue 'sales' is not listed in queues.names, so this is not read")))
        // Nothing came from the sample: no socket, no addresses.
        #expect(found.contains { $0.key == "lmtp.socket" && $0.message.contains("no listener") })
        #expect(found.contains { $0.key == "queues.support.addresses" && $0.message.contains("list the addresses") })
    }

    @Test func aMistypedEnvironmentVariableIsAnError() async throws {
        let found = try await config.issues(
            "lmtp:\n  socket: /tmp/x.sock\nqueues:\n  names: [support]\n  support:\n    addresses: [s@x.test]\n",
            environment: [
                "POSTDESK_LIMITS_MAX_RECIPENTS": "5", "POSTDESK_CONFIG": "/elsewhere.yaml", "HOME": "/root",
                "POSTDESK_QUEUES_SUPPORT_TAG": "Help",
            ])
        #expect(
            found == [
                .init(
                    key: "POSTDESK_LIMITS_MAX_RECIPENTS",
                    message: "unknown environment variable; did you mean `POSTDESK_LIMITS_MAX_RECIPIENTS`?")
            ])
        let withoutFile = try await PostdeskConfiguration.load(
            path: nil, environment: ["POSTDESK_SMTP_LISTEN": "", "POSTDESK_QUEUES_SUPPORT_TAG": "Help"])
        #expect(withoutFile.smtpListen == nil && withoutFile.queues.first?.tag == "Help")
    }

    /// Issue 12 points 4 and 8: a file's queues and listeners take nothing from the built-in sample; keys the file
    /// leaves out keep their own (safe) defaults.
    @Test func aFileTakesNoListenerOrQueueFromTheSample() async throws {
        let configuration = try await PostdeskConfiguration.load(
            path: try config.configurationFile(
                "lmtp:\n  socket: /tmp/x.sock\nqueues:\n  names: [support]\n  support:\n    addresses: [support@localhost]\n"
            ), environment: [:])
        #expect(configuration.smtpListen == nil, "a file that sets only lmtp: gets no SMTP listener")
        #expect(configuration.queues == [.init(name: "support", tag: "Support", addresses: ["support@localhost"])])
        #expect(configuration.lmtpSocketMode == 0o660)
        #expect(configuration.maxRecipients == 100 && configuration.storePath == "./var/postdesk.db")
    }

    @Test func everyValueSaysWhereItCameFrom() async throws {
        let configuration = try await PostdeskConfiguration.load(
            path: try config.configurationFile(
                "lmtp:\n  socket: /tmp/x.sock\nidentity:\n  secret: \"0123456789abcdef0123\"\nqueues:\n  names: [support]\n"
                    + "  support:\n    addresses: [support@localhost]\n"),
            environment: ["POSTDESK_LIMITS_MAX_RECIPIENTS": "7"])
        func origin(_ key: String) -> ConfiguredValue? { configuration.origins.first { $0.key == key } }
        #expect(
            origin("limits.max_recipients") == .init(key: "limits.max_recipients", value: "7", origin: .environment))
        #expect(origin("lmtp.socket") == .init(key: "lmtp.socket", value: "/tmp/x.sock", origin: .file))
        #expect(origin("lmtp.mode") == .init(key: "lmtp.mode", value: "0660", origin: .default))
        #expect(origin("store.spool_directory") == .init(key: "store.spool_directory", value: "\"\"", origin: .default))
        #expect(origin("smtp.listen") == .init(key: "smtp.listen", value: "(unset)", origin: .default))
        #expect(origin("queues.support.tag") == .init(key: "queues.support.tag", value: "Support", origin: .default))
        #expect(origin("identity.secret") == .init(key: "identity.secret", value: "(secret)", origin: .file))
        #expect(!configuration.originTable.contains("0123456789abcdef"))
        #expect(configuration.originTable.contains("[environment (POSTDESK_LIMITS_MAX_RECIPIENTS)]"))
        let builtIn = try await PostdeskConfiguration.load(path: nil, environment: [:])
        #expect(builtIn.origins.first { $0.key == "smtp.listen" }?.origin == .sample)
    }

    @Test func unreadableOrInvalidFileIsReported() async throws {
        await #expect(throws: ConfigurationErrors.self) {
            _ = try await PostdeskConfiguration.load(path: "/nonexistent/postdesk.yaml", environment: [:])
        }
        let found = try await config.issues("just a string, not a mapping")
        #expect(found.first?.key == "(file)")
    }

    @Test func connectionLimitsPerListenerAndDeadlinesReachTheServer() async throws {
        let path = try config.configurationFile(
            """
            lmtp:
              socket: /tmp/x.sock
              max_connections: 7
            smtp:
              max_connections: 3
            limits:
              command_deadline: 40
            queues:
              names: [support]
              support:
                addresses: [support@localhost]
            """)
        let configuration = try await PostdeskConfiguration.load(
            path: path, environment: ["POSTDESK_LIMITS_TRANSACTION_DEADLINE": "900"])
        let server = try configuration.serverConfiguration()
        #expect(server.maxLMTPConnections == 7 && server.maxConnections == 3)
        #expect(server.commandDeadline == .seconds(40) && server.transactionDeadline == .seconds(900))
        let defaults = try await PostdeskConfiguration.load(path: nil, environment: [:]).serverConfiguration()
        #expect(defaults.maxLMTPConnections == 100 && defaults.maxConnections == 100)
        #expect(defaults.commandDeadline == .seconds(300) && defaults.transactionDeadline == .seconds(3600))
        let found = try await config.issues(
            "lmtp:\n  socket: /tmp/x.sock\n  max_connections: 0\nlimits:\n  transaction_deadline: never\n"
                + "queues:\n  names: [support]\n  support:\n    addresses: [support@localhost]\n")
        #expect(Set(found.map(\.key)) == ["lmtp.max_connections", "limits.transaction_deadline"])
    }
}

@Suite struct TicketIntakeBackendTests {
    @Test func postfixQueueIDIsTakenFromTheTopReceivedHeader() {
        let message = Array(
            ("Received: from client.example.test (localhost [127.0.0.1])\r\n"
                + "\tby mx.bench.test (Postfix) with ESMTP id 4Fb1C2d3E4\r\n\tfor <help@support.test>; "
                + "Mon, 23 Nov 2026 10:00:00 +0000 (UTC)\r\nSubject: hi\r\n\r\nbody (Postfix) with ESMTP id NOTME\r\n")
                .utf8)
        #expect(SupervisedIntake.postfixQueueID(in: message) == "4Fb1C2d3E4")
        let noPostfix = Array("Subject: hi\r\n\r\nby x (Postfix) with ESMTP id NOTME\r\n".utf8)
        #expect(SupervisedIntake.postfixQueueID(in: noPostfix) == nil)
        #expect(SupervisedIntake.postfixQueueID(in: []) == nil)
        #expect(SupervisedIntake.postfixQueueID(in: Array("Received: by x (Postfix) with ESMTP id ".utf8)) == nil)
    }
}

@Suite struct TransactionLogTests {
    @Test(arguments: [
        (Duration.milliseconds(3) + .microseconds(650), "3.65"), (.microseconds(40), "0.04"), (.seconds(2), "2000.00"),
    ])
    func millisecondsHaveTwoDecimals(duration: Duration, text: String) {
        #expect(SupervisedIntake.milliseconds(duration) == text)
    }
}
