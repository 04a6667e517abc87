import Foundation

/// When to try a failed delivery again: exponential backoff with jitter, then give up (a dead letter).
///
/// The default waits 5 s, 10 s, 20 s, … doubling up to 4 h between attempts, and gives up after 18 attempts:
/// about 26 hours after the first, so a receiver that is down for a day still gets everything.
public struct WebhookRetryPolicy: Sendable, Hashable {
    public var initialDelay: Duration
    public var maximumDelay: Duration
    public var maximumAttempts: Int
    /// The delay is multiplied by a random factor in `1 - jitter ... 1 + jitter`, so that receivers coming back
    /// are not hit by every waiting delivery at once.
    public var jitter: Double

    public init(
        initialDelay: Duration = .seconds(5), maximumDelay: Duration = .seconds(4 * 3600), maximumAttempts: Int = 18,
        jitter: Double = 0.2
    ) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.maximumAttempts = maximumAttempts
        self.jitter = jitter
    }

    /// The delay after the `attempts`-th failed attempt (1 for the first), or nil when it was the last one.
    public func delay(afterAttempts attempts: Int) -> Duration? {
        guard attempts < maximumAttempts else { return nil }
        let base = initialDelay.seconds * pow(2, Double(min(max(attempts - 1, 0), 40)))
        let capped = min(base, maximumDelay.seconds)
        let factor = jitter > 0 ? Double.random(in: (1 - jitter)...(1 + jitter)) : 1
        return .milliseconds(Int64(capped * factor * 1000))
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
