import Synchronization

/// Articles rendered from their raw messages, kept by article id between reads, so that reading a ticket again
/// (the API, a webhook's payload) neither loads nor parses nor hashes its raw messages again. An article never
/// changes once written, so an entry is never stale.
///
/// Bounded by `byteBudget` (the UTF-8 bytes of the kept texts plus a fixed overhead per entry); past it the least
/// recently read entries go, down to three quarters of the budget, so an eviction round (O(n log n) in the entries)
/// comes at most once per quarter budget stored. A rendering over an eighth of the budget is not kept.
public final class RenderedArticleCache: Sendable {
    /// What an entry costs besides its strings: the dictionary slot and the string headers.
    static let entryOverhead = 256

    public let byteBudget: Int
    private let state = Mutex(State())

    private struct State {
        var entries: [Int64: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    private struct Entry {
        var article: RenderedArticle
        var cost: Int
        var lastRead: UInt64
    }

    public init(byteBudget: Int = 32 << 20) {
        self.byteBudget = max(byteBudget, 0)
    }

    /// The kept rendering of article `id`, marked as just read; nil when it is not kept.
    public func article(_ id: Int64) -> RenderedArticle? {
        state.withLock { state in
            guard var entry = state.entries[id] else { return nil }
            state.clock += 1
            entry.lastRead = state.clock
            state.entries[id] = entry
            return entry.article
        }
    }

    /// Keeps `article` as the rendering of article `id`, making room as the budget says.
    public func keep(_ article: RenderedArticle, for id: Int64) {
        let cost = article.cost + Self.entryOverhead
        guard cost <= byteBudget / 8 else { return }
        state.withLock { state in
            state.clock += 1
            if let old = state.entries.updateValue(
                Entry(article: article, cost: cost, lastRead: state.clock), forKey: id)
            {
                state.bytes -= old.cost
            }
            state.bytes += cost
            guard state.bytes > byteBudget else { return }
            let target = byteBudget / 4 * 3
            for (oldID, entry) in state.entries.sorted(by: { $0.value.lastRead < $1.value.lastRead }) {
                guard state.bytes > target else { break }
                state.entries[oldID] = nil
                state.bytes -= entry.cost
            }
        }
    }

    /// How many renderings are kept, and their cost in bytes.
    public var usage: (entries: Int, bytes: Int) {
        state.withLock { ($0.entries.count, $0.bytes) }
    }
}
