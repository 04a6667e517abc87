/// A search criterion for `UID SEARCH` (RFC 9051 6.4.4), the ones a poller uses.
public indirect enum IMAPSearchKey: Sendable, Hashable {
    case all
    case uid(IMAPUIDSet)
    case seen
    case unseen
    case deleted
    case undeleted
    case larger(UInt64)
    case smaller(UInt64)
    case not(IMAPSearchKey)
    case or(IMAPSearchKey, IMAPSearchKey)
    /// All of these (written one after another).
    case and([IMAPSearchKey])

    var wireText: String {
        switch self {
        case .all: return "ALL"
        case .uid(let set): return "UID \(set.wireText)"
        case .seen: return "SEEN"
        case .unseen: return "UNSEEN"
        case .deleted: return "DELETED"
        case .undeleted: return "UNDELETED"
        case .larger(let size): return "LARGER \(size)"
        case .smaller(let size): return "SMALLER \(size)"
        case .not(let key): return "NOT \(key.parenthesisedIfCompound)"
        case .or(let a, let b): return "OR \(a.parenthesisedIfCompound) \(b.parenthesisedIfCompound)"
        case .and(let keys): return keys.isEmpty ? "ALL" : keys.map(\.wireText).joined(separator: " ")
        }
    }

    private var parenthesisedIfCompound: String {
        if case .and(let keys) = self, keys.count > 1 { return "(\(wireText))" }
        return wireText
    }
}
