/// A response code (RFC 9051 7.1, RFC 4315 UIDPLUS, RFC 5530): the machine-readable part of a status response.
public enum IMAPResponseCode: Sendable, Hashable {
    case alert
    case authenticationFailed
    case authorizationFailed
    case unavailable
    case expired
    case privacyRequired
    case contactAdmin
    case tryCreate
    case nonexistent
    case alreadyExists
    case readOnly
    case readWrite
    case parse
    case cannot
    case limit
    case overQuota
    case inUse
    case noPermission
    case serverBug
    case clientBug
    case closed
    case uidNotSticky
    case capability(IMAPCapabilities)
    case permanentFlags([IMAPFlag])
    case uidValidity(UInt32)
    case uidNext(UInt32)
    case unseen(UInt32)
    case highestModSequence(UInt64)
    /// RFC 4315: the UIDs the copied (or moved) messages got; `source[i]` became `destination[i]`.
    case copyUID(uidValidity: UInt32, source: IMAPUIDSet, destination: IMAPUIDSet)
    /// RFC 4315: the UID(s) an appended message got.
    case appendUID(uidValidity: UInt32, uids: IMAPUIDSet)
    /// Any other code: its name upper-cased and the text up to `]` (empty when there is none).
    case other(name: String, text: String)
}
