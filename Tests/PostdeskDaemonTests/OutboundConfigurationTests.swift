import Foundation
import Testing
import TicketPipeline

@testable import PostdeskDaemon

@Suite("outbound.* and the queues' acknowledge/agents keys")
struct OutboundConfigurationTests {
    private let config = ConfigurationScratch(
        label: "outbound-config", head: "lmtp:\n  socket: /tmp/pd-test-lmtp.sock\n")

    @Test func offUnlessConfigured() async throws {
        let configuration = try await config.load(
            "queues:\n  names: [support]\n  support:\n    addresses: [s@desk.test]\n")
        #expect(!configuration.outbound.enabled)
        #expect(configuration.queues[0].policy.acknowledgement == nil)
        #expect(configuration.queues[0].policy.notifiedAgents.isEmpty)
    }

    @Test func everyKeyIsRead() async throws {
        let configuration = try await config.load(
            """
            outbound:
              relay: "mail.desk.test:587"
              starttls: required
              from: help@desk.test
              acknowledgements_per_hour: 5
              retry_initial_seconds: 10
            identity:
              secret: "0123456789abcdef0123"
            queues:
              names: [support]
              support:
                addresses: [s@desk.test]
                acknowledge: true
                agents: [Anna@Desk.test]
            """)
        let outbound = configuration.outbound
        #expect(outbound.enabled)
        #expect(outbound.relayHost == "mail.desk.test" && outbound.relayPort == 587)
        #expect(outbound.starttls == .required)
        #expect(outbound.from == "help@desk.test")
        #expect(outbound.retryInitialSeconds == 10)
        #expect(configuration.queues[0].policy.acknowledgement == AcknowledgementRule(perAddressPerHour: 5))
        #expect(configuration.queues[0].policy.notifiedAgents == ["anna@desk.test"])
        // Our From address is our own: mail from it coming back is a loop.
        #expect(try configuration.pipelineSettings().ownMail.ownAddresses.contains("help@desk.test"))
    }

    @Test func badValuesAreReportedWithTheirKeys() async throws {
        do {
            _ = try await config.load(
                """
                outbound:
                  relay: "nohost"
                  starttls: sometimes
                  username: desk
                  sendmail: /nonexistent/sendmail
                queues:
                  names: [support]
                  support:
                    addresses: [s@desk.test]
                    agents: [not-an-address]
                    acknowledgement_template: /nonexistent/ack.mustache
                """)
            Issue.record("accepted")
        } catch let errors as ConfigurationErrors {
            let keys = Set(errors.issues.map(\.key))
            #expect(
                keys.isSuperset(of: [
                    "outbound.relay", "outbound.starttls", "outbound.password_file", "outbound.sendmail",
                    "queues.support.agents", "queues.support.acknowledgement_template",
                ]), "\(errors.issues)")
        }
    }

    /// A mailbox logging in with OAuth2, and another with a password, for `outbound.auth.oauth2_mailbox`.
    static let mailboxes = """
        mailboxes:
          - name: hosted
            protocol: imap
            host: localhost
            username: desk@desk.test
            auth:
              oauth2:
                provider: google
                client_id: desk-client
          - name: plain
            protocol: imap
            host: localhost
            username: plain@desk.test
            auth:
              password_env: HOME
        queues:
          names: [support]
          support:
            addresses: [s@desk.test]
        """

    @Test func oauth2MailboxNamesTheTokenSourceAndItsUser() async throws {
        let configuration = try await config.load(
            Self.mailboxes + "\noutbound:\n  relay: \"smtp.gmail.com:587\"\n  auth:\n    oauth2_mailbox: hosted\n")
        #expect(configuration.outbound.oauth2Mailbox == "hosted")
        // The XOAUTH2 user is the mailbox's own unless outbound.username says otherwise.
        #expect(configuration.outbound.username == "desk@desk.test")
        #expect(configuration.outbound.summary.contains("auth xoauth2 with mailbox hosted's tokens"))
        let other = try await config.load(
            Self.mailboxes
                + "\noutbound:\n  relay: \"smtp.gmail.com:587\"\n  username: send@desk.test\n"
                + "  auth:\n    oauth2_mailbox: hosted\n")
        #expect(other.outbound.username == "send@desk.test")
    }

    @Test func oauth2MailboxMustBeAnOAuthMailboxAndNotBesideAPassword() async throws {
        for (auth, expected) in [
            ("  auth:\n    oauth2_mailbox: nowhere\n", "no mailbox 'nowhere'"),
            ("  auth:\n    oauth2_mailbox: plain\n", "mailbox 'plain' does not log in with auth.oauth2"),
            (
                "  password_file: /etc/hostname\n  auth:\n    oauth2_mailbox: hosted\n",
                "set either outbound.password_file or outbound.auth.oauth2_mailbox"
            ),
        ] {
            do {
                _ = try await config.load(Self.mailboxes + "\noutbound:\n  relay: \"smtp.gmail.com:587\"\n" + auth)
                Issue.record("accepted: \(auth)")
            } catch let errors as ConfigurationErrors {
                let issue = errors.issues.first { $0.key == "outbound.auth.oauth2_mailbox" }
                #expect(issue?.message.contains(expected) == true, "\(errors.issues)")
            }
        }
    }
}
