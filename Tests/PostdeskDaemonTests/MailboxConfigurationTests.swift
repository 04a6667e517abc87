import Foundation
import MailboxPolling
import Testing

@testable import PostdeskDaemon

/// `mailboxes:` — every key validated with its name, both spellings (a list of mappings, or names + keys), and
/// environment overrides.
@Suite final class MailboxConfigurationTests {
    private let config = ConfigurationScratch(label: "mailboxes")

    static let head = """
        store:
          path: /tmp/pd.db
        queues:
          names: [support]
          support:
            addresses: [support@example.test]

        """

    @Test func aListOfMappingsAndNamesWithKeysAreTheSameConfiguration() async throws {
        let secret = try config.file("imap.secret", "pässwort\n")
        let list = try await config.load(
            Self.head + """
                mailboxes:
                  - name: büro-imap
                    protocol: imap
                    host: imap.example.test
                    username: support@example.test
                    auth:
                      password_file: \(secret)
                    folders: [INBOX, Erledigt/Überprüft]
                    after_commit: move
                    move_to: Archiv
                    queue: support
                """)
        let keyed = try await config.load(
            Self.head + """
                mailboxes:
                  names: [büro-imap]
                  büro-imap:
                    protocol: imap
                    host: imap.example.test
                    username: support@example.test
                    auth:
                      password_file: \(secret)
                    folders: [INBOX, Erledigt/Überprüft]
                    after_commit: move
                    move_to: Archiv
                    queue: support
                """)
        #expect(list.mailboxes == keyed.mailboxes)
        let mailbox = try #require(list.mailboxes.first)
        #expect(mailbox.port == 993 && mailbox.tls == .implicit)
        #expect(mailbox.afterCommit == .move(folder: "Archiv"))
        #expect(mailbox.folders == ["INBOX", "Erledigt/Überprüft"])
        #expect(mailbox.authentication == .password(.file(secret)))
        // A poller alone is a complete setup: no listener needed.
        #expect(list.lmtpSocket.isEmpty && list.smtpListen == nil)
    }

    @Test func everyMailboxErrorNamesItsKey() async throws {
        let found = try await config.issuesByKey(
            Self.head + """
                mailboxes:
                  - name: remote
                    protocol: pop4
                    host: mail.example.test
                    tls: none
                    username: ""
                    auth:
                      password_file: /nonexistent/secret
                    after_commit: seen
                    queue: sales
                    poll_interval: 0
                    idle: perhaps
                    folderz: [INBOX]
                  - name: pop
                    protocol: pop3
                    host: 127.0.0.1
                    tls: none
                    username: u
                    auth:
                      password_env: POSTDESK_TEST_NO_SUCH_VARIABLE
                    after_commit: move
                """)
        #expect(found["mailboxes.remote.protocol"]?.contains("imap or pop3") == true)
        #expect(found["mailboxes.remote.tls"]?.contains("loopback") == true)
        #expect(found["mailboxes.remote.username"] != nil)
        #expect(found["mailboxes.remote.auth.password_file"]?.contains("cannot read") == true)
        #expect(found["mailboxes.remote.queue"]?.contains("no queue 'sales'") == true)
        #expect(found["mailboxes.remote.poll_interval"] != nil)
        #expect(found["mailboxes.remote.idle"]?.contains("true or false") == true)
        #expect(found["mailboxes.remote.folderz"]?.contains("did you mean `mailboxes.remote.folders`") == true)
        #expect(found["mailboxes.pop.auth.password_env"]?.contains("no variable") == true)
        #expect(found["mailboxes.pop.after_commit"]?.contains("delete or keep for POP3") == true)
    }

    @Test func oauthSettingsAreCheckedAndTheGenericProviderNeedsItsEndpoints() async throws {
        let found = try await config.issuesByKey(
            Self.head + """
                mailboxes:
                  - name: m365
                    protocol: imap
                    host: outlook.office365.com
                    username: support@contoso.example
                    auth:
                      oauth2:
                        provider: microsoft
                        tenant: contoso.onmicrosoft.com
                        client_id: 00000000-0000-0000-0000-000000000000
                        flow: client_credentials
                        client_secret_expires: 31.12.2027
                  - name: other
                    protocol: imap
                    host: imap.example.test
                    username: u
                    auth:
                      oauth2:
                        provider: generic
                        client_id: abc
                        token_url: http://auth.example.test/token
                """)
        #expect(found["mailboxes.m365.auth.oauth2.client_secret_file"]?.contains("client_credentials") == true)
        #expect(found["mailboxes.m365.auth.oauth2.client_secret_expires"]?.contains("2027-06-30") == true)
        #expect(found["mailboxes.other.auth.oauth2.token_url"]?.contains("https") == true)
        #expect(found["mailboxes.other.auth.oauth2.scopes"] != nil)
    }

    @Test func environmentVariablesOverrideAMailboxKey() async throws {
        let secret = try config.file("pop.secret", "x\n")
        let configuration = try await config.load(
            Self.head + """
                mailboxes:
                  - name: pop
                    protocol: pop3
                    host: 127.0.0.1
                    tls: none
                    username: u
                    auth:
                      password_file: \(secret)
                """, environment: ["POSTDESK_MAILBOXES_POP_POLL_INTERVAL": "15", "POSTDESK_MAILBOXES_POP_PORT": "1110"])
        let mailbox = try #require(configuration.mailboxes.first)
        #expect(mailbox.pollInterval == .seconds(15))
        #expect(mailbox.port == 1110)
        #expect(mailbox.afterCommit == .delete)
        let origins = Dictionary(configuration.origins.map { ($0.key, $0.origin) }, uniquingKeysWith: { a, _ in a })
        #expect(origins["mailboxes.pop.poll_interval"] == .environment)
        #expect(origins["mailboxes.pop.host"] == .file)
        // The password file's path is shown, never a secret.
        #expect(!configuration.originTable.contains("x\n"))
    }
}
