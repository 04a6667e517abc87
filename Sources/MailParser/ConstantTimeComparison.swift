/// Equality of secrets (API token hashes, the XML API's password) in time that does not depend on where the two
/// differ, so a caller cannot learn a secret byte by byte from response times.
public enum ConstantTimeComparison {
    /// Whether `given` equals `expected`. The loop always runs over all of `expected`'s bytes (reading `given`
    /// cyclically), so the time depends only on `expected`'s length — neither on the first difference nor on
    /// `given`'s length. O(n) in `expected`'s UTF-8 bytes, one pass.
    public static func equals(_ given: some StringProtocol, _ expected: some StringProtocol) -> Bool {
        let left = Array(given.utf8)
        let right = Array(expected.utf8)
        var difference = UInt64(truncatingIfNeeded: left.count ^ right.count)
        guard !right.isEmpty else { return left.isEmpty }
        for index in right.indices {
            let presented = left.isEmpty ? 0 : left[index % left.count]
            difference |= UInt64(presented ^ right[index])
        }
        return difference == 0
    }
}
