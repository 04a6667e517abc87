import Foundation

/// A stored API token: its name, scope and dates, and the SHA-256 of the token (never the token itself).
public struct APITokenRecord: Sendable, Hashable, Codable {
    public var name: String
    /// Lower-case hex SHA-256 of the token; not shown by `tokens list`.
    public var hash: String
    /// `read` or `write`.
    public var scope: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    public init(name: String, hash: String, scope: String, createdAt: Date, lastUsedAt: Date?, revokedAt: Date?) {
        self.name = name
        self.hash = hash
        self.scope = scope
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}

/// Why a token could not be created or revoked.
public struct APITokenError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A token (active or revoked) already has this name.
        case duplicateName
        /// No token has this name.
        case unknownName
        /// The token was revoked before.
        case alreadyRevoked
    }

    public var kind: Kind
    public var name: String

    public init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }

    public var description: String {
        switch kind {
        case .duplicateName: "a token named '\(name)' already exists (names are never reused, even once revoked)"
        case .unknownName: "no token named '\(name)'"
        case .alreadyRevoked: "the token '\(name)' is already revoked"
        }
    }
}
