import Foundation
import Testing
import TicketPipeline

@testable import PostdeskDaemon

/// `webhooks:` — a list of mappings flattened like `mailboxes:`, every key validated with its name, the secret read
/// only when the worker is made.
@Suite final class WebhookConfigurationTests {
    private let config = ConfigurationScratch(label: "webhooks")

    static let head = """
        store:
          path: /tmp/pd.db
        lmtp:
          socket: /tmp/pd-webhook-tests.sock
        queues:
          names: [support]
          support:
            addresses: [support@example.test]

        """

    @Test func aListOfMappingsAndNamesWithKeysAreTheSameConfiguration() async throws {
        let secret = try config.file("hook.secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")
        let list = try await config.load(
            Self.head + """
                webhooks:
                  - name: helpdesk
                    url: https://helpdesk.example.test/hooks
                    secret_file: \(secret)
                    events: [ticket.created, article.added]
                    timeout: 3
                  - name: local
                    url: http://127.0.0.1:9000/hooks
                    secret_file: \(secret)
                """)
        let keys = try await config.load(
            Self.head + """
                webhooks:
                  names: [helpdesk, local]
                  helpdesk:
                    url: https://helpdesk.example.test/hooks
                    secret_file: \(secret)
                    events: [ticket.created, article.added]
                    timeout: 3
                  local:
                    url: http://127.0.0.1:9000/hooks
                    secret_file: \(secret)
                """)
        #expect(list.webhooks == keys.webhooks)
        #expect(list.webhooks.map(\.name) == ["helpdesk", "local"])
        #expect(list.webhooks[0].events == [.ticketCreated, .articleAdded])
        #expect(list.webhooks[0].timeout == 3)
        #expect(list.webhooks[1].events == nil)
        #expect(list.webhooks[1].maxAttempts == 18)
        // Webhooks configured: the pipeline writes events.
        #expect(try list.pipelineSettings().recordsEvents)
        #expect(try await config.load(Self.head).pipelineSettings().recordsEvents == false)
        #expect(
            list.summary.contains(
                "webhook helpdesk: https://helpdesk.example.test/hooks (article.added, ticket.created), timeout 3 s"))
        let endpoint = try list.webhooks[0].endpoint()
        #expect(endpoint.name == "helpdesk")
    }

    @Test func everyMistakeIsNamedByItsKey() async throws {
        let found = try await config.issuesByKey(
            Self.head + """
                webhooks:
                  - name: clear
                    url: http://helpdesk.example.test/hooks
                    secret_file: /nonexistent/secret
                    events: [ticket.created, ticket.exploded]
                  - name: nosecret
                    url: ftp://example.test/
                """)
        #expect(found["webhooks.clear.url"]?.contains("loopback") == true)
        #expect(found["webhooks.clear.secret_file"]?.contains("cannot read /nonexistent/secret") == true)
        #expect(found["webhooks.clear.events"]?.contains("unknown event 'ticket.exploded'") == true)
        #expect(found["webhooks.nosecret.secret_file"]?.contains("is required") == true)
        #expect(found["webhooks.nosecret.url"]?.contains("https://") == true)
    }

    @Test func aListedTwiceOrUnnamedWebhookIsRefused() async throws {
        #expect(
            try await config.issuesByKey(
                Self.head + "webhooks:\n  - name: a\n    url: https://x.test/\n  - name: a\n    url: https://y.test/\n"
            )["webhooks"]?.contains("webhook 'a' is listed twice") == true)
        #expect(
            try await config.issuesByKey(Self.head + "webhooks:\n  - url: https://x.test/\n")["webhooks"]?.contains(
                "each webhook must be a mapping with a `name`") == true)
    }

    @Test func anUnusableSecretStopsTheWorkerNamingTheWebhook() async throws {
        let short = try config.file("short.secret", "tiny\n")
        let configuration = try await config.load(
            Self.head + "webhooks:\n  - name: weak\n    url: https://x.test/\n    secret_file: \(short)\n")
        #expect(throws: WebhookConfigurationError.self) { try configuration.webhooks[0].endpoint() }
        do {
            _ = try configuration.webhooks[0].endpoint()
        } catch {
            #expect(error.description.hasPrefix("webhooks.weak: secret_file"))
            #expect(!error.description.contains("tiny"))
        }
    }
}
