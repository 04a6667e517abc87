import Foundation
import MailClassification
import Synchronization
import Testing
import TicketPipeline

@testable import PostdeskDaemon

@Suite struct PipelineConfigurationTests {
    private let config = ConfigurationScratch(label: "pipeline", head: "lmtp:\n  socket: /tmp/pd-test-lmtp.sock\n")

    /// A file needs a listener and a queue of its own (nothing comes from the built-in sample): the queue is added
    /// where the test's YAML has none.
    func withQueue(_ yaml: String) -> String {
        yaml.contains("queues:")
            ? yaml : yaml + "\nqueues:\n  names: [support]\n  support:\n    addresses: [support@localhost]\n"
    }

    func load(_ yaml: String, environment: [String: String] = [:]) async throws -> PostdeskConfiguration {
        try await config.load(withQueue(yaml), environment: environment)
    }

    func issues(_ yaml: String) async throws -> [ConfigurationIssue] {
        try await config.issues(withQueue(yaml))
    }

    @Test func defaultsKeepOrdinaryMailFlowing() async throws {
        let configuration = try await PostdeskConfiguration.load(path: nil, environment: [:])
        let policy = try #require(configuration.queues.first?.policy)
        #expect(policy == QueuePolicy())
        #expect(policy.automatedBudget.messagesPerDay == 40)
        #expect(policy.closedTicketReplies == .reopenWithin(days: 14))
        #expect(policy.unknownSenders == .createContact)
        #expect(configuration.pipeline == PipelineOptions())
        #expect(configuration.pipeline.identityDomain == "localhost")
    }

    @Test func everyQueueOptionIsRead() async throws {
        let configuration = try await load(
            """
            server:
              hostname: helpdesk.test
            pipeline:
              max_attachments: 5
              own_mail:
                message_id_domains: [Helpdesk.Test]
                addresses: [notify@helpdesk.test]
            identity:
              secret: "0123456789abcdef0123"
            queues:
              names: [support]
              support:
                addresses: ["support@localhost"]
                filter:
                  allow: ["domain:*.customer.test", "address:vip@else.test"]
                  ignore: ["subject:unsubscribe", "keyword:casino", "body:lottery", "domain:spam.test"]
                attachments:
                  ignore: ["logo.png", "image00*.png"]
                  max_size: 1000
                  raw_message: yes
                automated:
                  per_sender_per_day: 3
                closed_replies:
                  policy: new
                requester:
                  unknown_senders: fallback
                  address: guest@helpdesk.test
                  reply_to: true
            """)
        let policy = try #require(configuration.queues.first?.policy)
        #expect(
            policy.filter.allow == [
                .domain("customer.test", includeSubdomains: true), .address("vip@else.test"),
            ])
        #expect(
            policy.filter.ignore == [
                .keyword("unsubscribe", match: .wholeWord, fields: .subject),
                .keyword("casino", match: .wholeWord, fields: .subjectAndBody),
                .keyword("lottery", match: .wholeWord, fields: .body),
                .domain("spam.test", includeSubdomains: false),
            ])
        #expect(
            policy.attachments == AttachmentPolicy(ignoredFileNames: ["logo.png", "image00*.png"], maximumSize: 1000))
        #expect(policy.attachRawMessage)
        #expect(policy.automatedBudget.messagesPerDay == 3)
        #expect(policy.closedTicketReplies == .alwaysNew)
        #expect(policy.unknownSenders == .fallbackContact(address: "guest@helpdesk.test"))
        #expect(policy.replyToAsRequester)
        #expect(configuration.pipeline.maxAttachments == 5)
        #expect(configuration.pipeline.ownMessageIDDomains == ["helpdesk.test"])
        #expect(configuration.pipeline.identityDomain == "helpdesk.test")
        let settings = try configuration.pipelineSettings()
        #expect(settings.ownMail.ownAddresses == ["support@localhost", "notify@helpdesk.test"])
        let signer = try #require(settings.messageIDs)
        #expect(signer.ticket(fromMessageID: signer.messageID(ticket: 4, article: 2)) == 4)
        // The summary never shows the secret.
        #expect(!configuration.summary.contains("0123456789abcdef0123"))
    }

    @Test func everyPipelineErrorIsReportedWithItsKey() async throws {
        let found = try await issues(
            """
            pipeline:
              max_attachments: 0
              own_mail:
                addresses: [nobody]
            identity:
              secret: short
            queues:
              names: [support]
              support:
                addresses: ["support@localhost"]
                filter:
                  ignore: ["nonsense", "colour:red", "domain:"]
                attachments:
                  max_size: big
                automated:
                  per_sender_per_day: -1
                closed_replies:
                  policy: sometimes
                  reopen_days: x
                requester:
                  unknown_senders: redirect
                  reply_to: maybe
            """)
        let keys = Set(found.map(\.key))
        for key in [
            "pipeline.max_attachments", "pipeline.own_mail.addresses", "identity.secret",
            "queues.support.filter.ignore", "queues.support.attachments.max_size",
            "queues.support.automated.per_sender_per_day", "queues.support.closed_replies.policy",
            "queues.support.closed_replies.reopen_days", "queues.support.requester.address",
            "queues.support.requester.reply_to",
        ] {
            #expect(keys.contains(key), "missing an issue for \(key): \(found)")
        }
        #expect(found.filter { $0.key == "queues.support.filter.ignore" }.count == 3)
        #expect(!found.contains { $0.message.contains("short") })
    }

    @Test func generatedSecretIsKeptNextToTheDatabase() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pd-secret-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = try await load("store:\n  path: \(directory.path)/db/postdesk.db\n")
        let first = try #require(try configuration.pipelineSettings().messageIDs)
        let keyFile = directory.appendingPathComponent("db/message-id.key").path
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        // The same secret on the next start: IDs signed before still verify.
        let second = try #require(try configuration.pipelineSettings().messageIDs)
        #expect(second.ticket(fromMessageID: first.messageID(ticket: 9, article: 1)) == 9)
    }

    @Test func processesCreatingTheSecretTogetherAllGetTheSameOne() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pd-secret-race-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyFile = directory.appendingPathComponent("message-id.key").path
        let results = Mutex([[UInt8]]())
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            let secret = try? PostdeskConfiguration.loadOrCreateSecret(at: keyFile)
            results.withLock { $0.append(secret ?? []) }
        }
        let secrets = results.withLock { $0 }
        #expect(secrets.count == 16)
        #expect(Set(secrets).count == 1, "every caller uses the one secret on disk")
        let onDisk = try String(contentsOfFile: keyFile, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(secrets.first == Array(onDisk.utf8))
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["message-id.key"])
    }
}

@Suite struct RoutingConfigurationTests {
    private let config = ConfigurationScratch(label: "routing")

    @Test func subQueuesTriageDefaultsAndAgents() async throws {
        let configuration = try await config.load(
            """
            lmtp:
              socket: /tmp/pd-test-lmtp.sock
            pipeline:
              triage_queue: triage
            queues:
              names: [support, billing, triage]
              support:
                addresses: ["support@localhost"]
                plus_queues: ["billing=billing"]
                defaults:
                  category: general
                  priority: normal
                  type: incident
                requester:
                  agents: [Agent@Localhost]
              billing:
                addresses: ["billing@localhost"]
              triage:
                addresses: ["triage@localhost"]
            """)
        #expect(configuration.queues[0].subQueues == ["billing": "billing"])
        #expect(
            configuration.queues[0].policy.ticketDefaults
                == TicketDefaults(category: "general", priority: "normal", type: "incident"))
        #expect(configuration.queues[0].policy.agentAddresses == ["agent@localhost"])
        #expect(configuration.pipeline.triageQueue == "triage")
        #expect(configuration.queueDefinitions[0].subQueues == ["billing": "billing"])

        let keys = try await config.issues(
            """
            pipeline:
              triage_queue: nowhere
            queues:
              names: [support]
              support:
                addresses: ["support@localhost"]
                plus_queues: ["billing=missing", "broken"]
                requester:
                  agents: [not-an-address]
            """
        ).map(\.key)
        #expect(keys.filter { $0 == "queues.support.plus_queues" }.count == 2)
        #expect(keys.contains("pipeline.triage_queue"))
        #expect(keys.contains("queues.support.requester.agents"))
    }
}
