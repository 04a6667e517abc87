/// A set of UIDs: ranges `first:last`, where `last` may be `*` (the highest UID in the mailbox). Sets built from
/// UIDs are sorted and merged, so they encode compactly (`1:3,7,9:*`); sets parsed from a response (COPYUID,
/// VANISHED, ESEARCH) keep the server's order, because COPYUID pairs source and destination by position.
public struct IMAPUIDSet: Sendable, Hashable, CustomStringConvertible {
    /// `first:last`, or `first:*` when `last` is nil; a single UID has `first == last`.
    public struct Range: Sendable, Hashable {
        public var first: UInt32
        /// nil stands for `*`.
        public var last: UInt32?

        public init(_ first: UInt32, _ last: UInt32?) {
            self.first = first
            self.last = last
        }
    }

    public let ranges: [Range]

    /// The set of `uids`, sorted and merged into ranges. O(n log n).
    public init(_ uids: some Sequence<UInt32>) {
        var merged: [Range] = []
        for uid in uids.sorted() {
            // Sorted, so `uid >= previous` and the difference cannot overflow.
            if let previous = merged.last?.last, uid - previous <= 1 {
                merged[merged.count - 1].last = uid
            } else {
                merged.append(Range(uid, uid))
            }
        }
        ranges = merged
    }

    /// The ranges as given (no sorting or merging).
    public init(ranges: [Range]) {
        self.ranges = ranges
    }

    /// `first:*`: this UID and every later one.
    public static func from(_ first: UInt32) -> IMAPUIDSet {
        IMAPUIDSet(ranges: [Range(first, nil)])
    }

    /// `1:*`.
    public static let all = IMAPUIDSet.from(1)

    public var isEmpty: Bool { ranges.isEmpty }

    /// The wire form (`1:3,7,9:*`). O(number of ranges).
    public var wireText: String {
        ranges.map { range in
            switch range.last {
            case nil: return "\(range.first):*"
            case let last? where last == range.first: return "\(range.first)"
            case let last?: return "\(range.first):\(last)"
            }
        }.joined(separator: ",")
    }

    public var description: String { wireText }

    /// Whether `uid` is in the set (`*` taken as unbounded). O(number of ranges).
    public func contains(_ uid: UInt32) -> Bool {
        ranges.contains { range in
            let low = min(range.first, range.last ?? .max)
            let high = max(range.first, range.last ?? .max)
            return uid >= low && uid <= high
        }
    }

    /// The number of UIDs (duplicates counted), or nil when a range ends in `*`. O(number of ranges).
    public var count: UInt64? {
        var total: UInt64 = 0
        for range in ranges {
            guard let last = range.last else { return nil }
            total += UInt64(max(range.first, last) - min(range.first, last)) + 1
        }
        return total
    }

    /// The UIDs in order (each range ascending), or nil when a range ends in `*` or there are more than `limit`.
    /// O(the UIDs returned).
    public func uids(limit: Int = 1_000_000) -> [UInt32]? {
        guard let count, count <= UInt64(limit) else { return nil }
        var result: [UInt32] = []
        result.reserveCapacity(Int(count))
        for range in ranges {
            let last = range.last!
            result.append(contentsOf: min(range.first, last)...max(range.first, last))
        }
        return result
    }
}
