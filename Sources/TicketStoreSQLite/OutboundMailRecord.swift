import Foundation

/// One row of the outbound mail queue as `postdesk outbound` shows it: what was (or was not) sent, to whom, and
/// what came of it.
public struct OutboundMailRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var kind: String
    public var ticketNumber: Int
    public var queue: String
    public var recipient: String
    public var subject: String
    /// pending, sent, failed or suppressed.
    public var state: String
    public var attempts: Int
    /// The relay's last answer, the failure, or why it was suppressed.
    public var lastResult: String?
    public var createdAt: Date
    public var finishedAt: Date?
}
