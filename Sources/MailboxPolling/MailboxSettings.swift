import Foundation
import MailServerClient

/// One mailbox the poller serves (`mailboxes.<name>.*`), validated by the daemon's configuration.
public struct MailboxSettings: Sendable, Equatable {
    public enum MailProtocol: String, Sendable, CaseIterable {
        case imap, pop3
    }

    /// How the connection is protected. `none` is accepted for loopback hosts only.
    public typealias TLSMode = MailServerConnection.TLSMode

    /// Where the password is read from, at every connection (so a rotated secret needs no restart). It is never
    /// logged.
    public enum PasswordSource: Sendable, Equatable {
        case file(String)
        case environment(String)
    }

    public enum Authentication: Sendable, Equatable {
        case password(PasswordSource)
        case oauth2(OAuthMailboxSettings)
    }

    /// What happens on the server to a message once its ticket is committed.
    public enum AfterCommit: Sendable, Equatable {
        /// IMAP: `\Deleted` + `UID EXPUNGE` of that UID only (or MOVE to nowhere); POP3: DELE.
        case delete
        /// IMAP only: moved to this folder (MOVE, or COPY + `\Deleted` + UID EXPUNGE).
        case move(folder: String)
        /// IMAP only: flagged `\Seen` and left in place.
        case markSeen
        /// POP3 only: left on the server; the UIDL remembers it.
        case keep
    }

    public var name: String
    public var mailProtocol: MailProtocol
    public var host: String
    public var port: Int
    public var tls: TLSMode
    /// PEM file of the CA that signs the server's certificate, for private CAs; nil: the system's roots.
    public var caFile: String?
    public var username: String
    public var authentication: Authentication
    /// IMAP folders polled, in order.
    public var folders: [String]
    /// The queue every message of this mailbox goes to; nil: routed from the headers, as `postdesk deliver` does.
    public var queue: String?
    public var afterCommit: AfterCommit
    /// Time between two polls when the server offers no IDLE (or `idle` is off), and after an error's backoff.
    public var pollInterval: Duration
    public var idle: Bool
    /// Larger messages are not downloaded: they are recorded as too large, and moved to `oversizeFolder` if set.
    public var maxMessageSize: Int
    public var oversizeFolder: String?
    /// A mailbox failing for longer than this is logged at `error`, once an hour.
    public var alertAfter: Duration
    /// Connecting, the TLS handshake and every command's reply must take less than this.
    public var timeout: Duration = .seconds(60)
    /// IDLE is ended and re-issued this often (RFC 2177: servers may drop an IDLE after 30 minutes).
    public var idleRenewal: Duration = .seconds(25 * 60)

    public init(
        name: String, mailProtocol: MailProtocol, host: String, port: Int, tls: TLSMode, caFile: String? = nil,
        username: String, authentication: Authentication, folders: [String] = ["INBOX"], queue: String? = nil,
        afterCommit: AfterCommit = .delete, pollInterval: Duration = .seconds(60), idle: Bool = true,
        maxMessageSize: Int = 52_428_800, oversizeFolder: String? = nil, alertAfter: Duration = .seconds(3600)
    ) {
        self.name = name
        self.mailProtocol = mailProtocol
        self.host = host
        self.port = port
        self.tls = tls
        self.caFile = caFile
        self.username = username
        self.authentication = authentication
        self.folders = folders
        self.queue = queue
        self.afterCommit = afterCommit
        self.pollInterval = pollInterval
        self.idle = idle
        self.maxMessageSize = maxMessageSize
        self.oversizeFolder = oversizeFolder
        self.alertAfter = alertAfter
    }

    /// The envelope recipient the mailbox's messages are handed over with: the mailbox's own address when the
    /// user name is one, else `username@host`.
    public var recipientAddress: String {
        username.contains("@") ? username : "\(username)@\(host)"
    }
}

/// A mailbox's OAuth2 client (`mailboxes.<name>.auth.oauth2.*`).
public struct OAuthMailboxSettings: Sendable, Equatable {
    public enum Provider: String, Sendable, CaseIterable {
        case microsoft, google, generic
    }

    public enum Flow: String, Sendable, CaseIterable {
        case authorizationCode = "authorization_code"
        case clientCredentials = "client_credentials"
        case deviceCode = "device_code"
    }

    /// The SASL mechanism the token is presented with.
    public enum Mechanism: String, Sendable, CaseIterable {
        case xoauth2, oauthbearer
    }

    public var provider: Provider
    /// Microsoft's directory (tenant id or domain); `organizations` when unset.
    public var tenant: String?
    public var clientID: String
    public var clientSecretFile: String?
    public var flow: Flow
    public var mechanism: Mechanism
    /// Generic provider's endpoints and scopes; for the presets, overrides.
    public var tokenURL: String?
    public var authorizeURL: String?
    public var deviceURL: String?
    public var scopes: [String]
    /// When the client secret stops working (Azure shows it), for the health report's warnings.
    public var clientSecretExpires: Date?

    public init(
        provider: Provider, tenant: String? = nil, clientID: String, clientSecretFile: String? = nil,
        flow: Flow = .authorizationCode, mechanism: Mechanism = .xoauth2, tokenURL: String? = nil,
        authorizeURL: String? = nil, deviceURL: String? = nil, scopes: [String] = [], clientSecretExpires: Date? = nil
    ) {
        self.provider = provider
        self.tenant = tenant
        self.clientID = clientID
        self.clientSecretFile = clientSecretFile
        self.flow = flow
        self.mechanism = mechanism
        self.tokenURL = tokenURL
        self.authorizeURL = authorizeURL
        self.deviceURL = deviceURL
        self.scopes = scopes
        self.clientSecretExpires = clientSecretExpires
    }
}
