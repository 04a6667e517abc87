/// Command tags: `prefix` then a counter (`P1`, `P2`, ...), unique within a connection.
public struct IMAPTagGenerator: Sendable, Hashable {
    public let prefix: String
    private var counter: UInt64 = 0

    /// `prefix` must be atom characters other than `+` (it is checked when encoding).
    public init(prefix: String = "P") {
        self.prefix = prefix
    }

    /// The next tag. O(1).
    public mutating func next() -> String {
        counter += 1
        return "\(prefix)\(counter)"
    }
}
