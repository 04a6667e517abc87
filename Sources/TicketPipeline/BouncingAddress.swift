import Foundation

/// An address our own mail bounced from (a DSN of a message we signed): since when and why. Outbound mail to it
/// is suppressed until a delivery to it succeeds or the flag is cleared (`postdesk contacts unbounce`).
public struct BouncingAddress: Sendable, Hashable, Codable {
    /// Lower-cased addr-spec.
    public var address: String
    public var since: Date
    /// The bounce's diagnostic (or status, or summary).
    public var reason: String

    public init(address: String, since: Date, reason: String) {
        self.address = address
        self.since = since
        self.reason = reason
    }
}
