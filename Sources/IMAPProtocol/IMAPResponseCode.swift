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

extension IMAPResponseCode: CustomStringConvertible {
    /// The code as the server wrote it, without brackets (`AUTHENTICATIONFAILED`, `UIDVALIDITY 3857529045`,
    /// `COPYUID 38505 304,319:320 3956:3958`): for logs that quote the server.
    public var description: String {
        switch self {
        case .alert: return "ALERT"
        case .authenticationFailed: return "AUTHENTICATIONFAILED"
        case .authorizationFailed: return "AUTHORIZATIONFAILED"
        case .unavailable: return "UNAVAILABLE"
        case .expired: return "EXPIRED"
        case .privacyRequired: return "PRIVACYREQUIRED"
        case .contactAdmin: return "CONTACTADMIN"
        case .tryCreate: return "TRYCREATE"
        case .nonexistent: return "NONEXISTENT"
        case .alreadyExists: return "ALREADYEXISTS"
        case .readOnly: return "READ-ONLY"
        case .readWrite: return "READ-WRITE"
        case .parse: return "PARSE"
        case .cannot: return "CANNOT"
        case .limit: return "LIMIT"
        case .overQuota: return "OVERQUOTA"
        case .inUse: return "INUSE"
        case .noPermission: return "NOPERM"
        case .serverBug: return "SERVERBUG"
        case .clientBug: return "CLIENTBUG"
        case .closed: return "CLOSED"
        case .uidNotSticky: return "UIDNOTSTICKY"
        case .capability(let capabilities): return (["CAPABILITY"] + capabilities.names).joined(separator: " ")
        case .permanentFlags(let flags): return "PERMANENTFLAGS (" + flags.map(\.name).joined(separator: " ") + ")"
        case .uidValidity(let value): return "UIDVALIDITY \(value)"
        case .uidNext(let value): return "UIDNEXT \(value)"
        case .unseen(let value): return "UNSEEN \(value)"
        case .highestModSequence(let value): return "HIGHESTMODSEQ \(value)"
        case .copyUID(let validity, let source, let destination):
            return "COPYUID \(validity) \(source.wireText) \(destination.wireText)"
        case .appendUID(let validity, let uids): return "APPENDUID \(validity) \(uids.wireText)"
        case .other(let name, let text): return text.isEmpty ? name : "\(name) \(text)"
        }
    }
}
