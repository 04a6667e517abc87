import MailParser
import MessageSpool

/// Routing by the message's own headers, for intake paths that cannot refuse a recipient (`postdesk deliver`,
/// replays, later the poller): a catch-all or forwarding mailbox hands over mail whose envelope names no queue,
/// while `Delivered-To`, `X-Original-To`, `To` or `Cc` still do.
enum HeaderRouting {
    /// The first queue named by `Delivered-To`, then `X-Original-To` (both set by the MTA that delivered it, so
    /// the most specific), then `To`, then `Cc`; with the header and address that named it.
    static func queue(
        for raw: RawMessage, router: QueueRouter
    ) -> (queue: QueueDefinition, header: String, address: String)? {
        let parsed = raw.parsed()
        var candidates: [(header: String, address: String)] = []
        for name in ["Delivered-To", "X-Original-To"] {
            for field in parsed.headers where field.name.lowercased() == name.lowercased() {
                candidates.append((name, bareAddress(field.value)))
            }
        }
        candidates += parsed.to.map { ("To", $0.address) } + parsed.cc.map { ("Cc", $0.address) }
        for candidate in candidates where !candidate.address.isEmpty {
            if let queue = router.queue(for: candidate.address) {
                return (queue, candidate.header, candidate.address)
            }
        }
        return nil
    }

    /// `<a@b>` or ` a@b ` as `a@b`: these trace headers hold a single addr-spec.
    private static func bareAddress(_ value: String) -> String {
        var text = Substring(value).drop { $0 == " " || $0 == "\t" }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        if text.first == "<", text.last == ">" { text = text.dropFirst().dropLast() }
        return String(text)
    }
}
