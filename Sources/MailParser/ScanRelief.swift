/// Lets the caller of a long scan release the memory behind it. The parser reports how many bytes its long
/// scans have passed; every `interval` bytes it calls `release`, with which a caller whose message is a file
/// mapping drops the pages already read from its resident set. Releasing more than was read is always safe:
/// a page read again is only faulted back in. The parser itself stays pure: it never learns what is released.
public final class ScanRelief {
    public let interval: Int
    private let release: () -> Void
    private var sinceRelease = 0

    public init(every interval: Int = 1 << 20, release: @escaping () -> Void) {
        precondition(interval > 0, "the interval must be positive")
        self.interval = interval
        self.release = release
    }

    /// Reports `count` more bytes scanned.
    public func scanned(_ count: Int) {
        sinceRelease += count
        if sinceRelease >= interval {
            sinceRelease = 0
            release()
        }
    }
}
