import MailParser

/// What in a message could tie it to an existing ticket of one queue. Computed before the store's writer
/// runs, so the serialized part does only lookups.
public struct ThreadingClues: Sendable, Hashable {
    /// In-Reply-To first, then References newest first; no duplicates, bounded in number.
    public var referencedMessageIDs: [String]
    /// Distinct ticket numbers found in `[<Tag> #<number>]` subject tags of this queue, in order of appearance,
    /// at most `ThreadMatcher.maximumSubjectTags`.
    public var subjectTicketNumbers: [Int]

    public init(referencedMessageIDs: [String], subjectTicketNumbers: [Int]) {
        self.referencedMessageIDs = referencedMessageIDs
        self.subjectTicketNumbers = subjectTicketNumbers
    }
}

/// Decides whether a message continues an existing ticket. Kept as one small unit so that signed
/// Message-IDs, sender checks for subject tags and reopen rules can be added here alone.
public struct ThreadMatcher: Sendable {
    /// References beyond this many (newest kept) are ignored: a long thread must not cost unbounded lookups.
    public var maximumReferences: Int
    /// Distinct subject tags beyond this many are ignored: a subject naming every ticket number must not cost a
    /// lookup per ticket on the store's single writer while every delivery waits.
    public var maximumSubjectTags: Int

    public init(maximumReferences: Int = 20, maximumSubjectTags: Int = 10) {
        self.maximumReferences = maximumReferences
        self.maximumSubjectTags = maximumSubjectTags
    }

    /// The clues `parsed` carries for `queue`. Pure; no store access.
    public func clues(for parsed: ParsedMessage, queue: QueueDefinition) -> ThreadingClues {
        var seen = Set<String>()
        var ids: [String] = []
        func add(_ id: String) {
            guard !id.isEmpty, ids.count < maximumReferences, seen.insert(id).inserted else { return }
            ids.append(id)
        }
        parsed.inReplyTo.forEach(add)
        parsed.references.reversed().forEach(add)
        let numbers =
            parsed.subject.map { Self.subjectTicketNumbers(in: $0, tag: queue.tag, limit: maximumSubjectTags) } ?? []
        return ThreadingClues(referencedMessageIDs: ids, subjectTicketNumbers: numbers)
    }

    /// The ticket of `queue` the message continues, if any. Message references win over subject tags,
    /// because a subject is easy to forge or quote while a Message-ID must have been seen.
    public func ticket(
        for clues: ThreadingClues, queue: String, in transaction: any TicketStoreTransaction
    ) throws -> Int? {
        try match(clues, queue: queue, sender: nil, signer: nil, in: transaction).match?.ticket
    }

    /// The strongest evidence tying the message to a ticket of `queue`: a Message-ID we signed, then a stored
    /// Message-ID (its oldest article), then a subject tag. A stored Message-ID or a tag counts only when
    /// `sender` (lower-cased; `""` for a message that names no sender) is the ticket's requester or a
    /// participant: everyone the thread went to knows its Message-IDs and its tag, so either alone proves
    /// nothing. The first one refused is returned as `refused` (a hijack attempt, or a forward) so the caller
    /// can open a new ticket linked to it. A signed Message-ID needs no participant: only we can make one.
    /// With `sender` nil, nothing is checked (for callers outside intake).
    ///
    /// Store lookups: at most `maximumReferences` (twice) plus `maximumSubjectTags`, each on an index.
    public func match(
        _ clues: ThreadingClues, queue: String, sender: String?, signer: MessageIDSigner?,
        in transaction: any TicketStoreTransaction
    ) throws -> (match: ThreadMatch?, refused: ThreadMatch?) {
        if let signer {
            for id in clues.referencedMessageIDs.prefix(maximumReferences) {
                guard let number = signer.ticket(fromMessageID: id) else { continue }
                if try transaction.ticketExists(number: number, queue: queue) {
                    return (ThreadMatch(ticket: number, evidence: .signedMessageID, messageID: id), nil)
                }
            }
        }
        var refused: ThreadMatch?
        for id in clues.referencedMessageIDs.prefix(maximumReferences) {
            guard let number = try transaction.ticketNumber(forArticleMessageID: id, queue: queue) else { continue }
            let candidate = ThreadMatch(ticket: number, evidence: .storedMessageID, messageID: id)
            if let sender, !(try transaction.isParticipant(address: sender, ticket: number)) {
                if refused == nil { refused = candidate }
                continue
            }
            return (candidate, nil)
        }
        for number in clues.subjectTicketNumbers.prefix(maximumSubjectTags) {
            guard try transaction.ticketExists(number: number, queue: queue) else { continue }
            let candidate = ThreadMatch(ticket: number, evidence: .subjectTag, messageID: nil)
            if let sender, !(try transaction.isParticipant(address: sender, ticket: number)) {
                if refused == nil { refused = candidate }
                continue
            }
            return (candidate, nil)
        }
        return (nil, refused)
    }

    /// The first `limit` distinct numbers from `[<tag> #<digits>]` in `subject`, in order of appearance; the tag
    /// matches case-insensitively, and spaces before `#` are optional, because mail clients and people retype
    /// tags loosely. O(n) in the subject's bytes, one pass (each `[` compares at most the tag's length, and the
    /// scan stops at the `limit`th number): a subject naming every ticket costs no more than `limit` lookups.
    static func subjectTicketNumbers(in subject: String, tag: String, limit: Int = 10) -> [Int] {
        let subjectBytes = Array(subject.lowercased().utf8)
        let tagBytes = Array(tag.lowercased().utf8)
        guard !tagBytes.isEmpty, limit > 0, subjectBytes.count > tagBytes.count + 3 else { return [] }
        let openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]"), hash = UInt8(ascii: "#")
        let space = UInt8(ascii: " "), zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")
        var numbers: [Int] = []
        var seen = Set<Int>()
        var index = 0
        while index < subjectBytes.count, numbers.count < limit {
            defer { index += 1 }
            guard subjectBytes[index] == openBracket else { continue }
            var cursor = index + 1
            guard cursor + tagBytes.count <= subjectBytes.count,
                subjectBytes[cursor..<(cursor + tagBytes.count)].elementsEqual(tagBytes)
            else { continue }
            cursor += tagBytes.count
            while cursor < subjectBytes.count, subjectBytes[cursor] == space { cursor += 1 }
            guard cursor < subjectBytes.count, subjectBytes[cursor] == hash else { continue }
            cursor += 1
            var value = 0
            var digits = 0
            while cursor < subjectBytes.count, subjectBytes[cursor] >= zero, subjectBytes[cursor] <= nine,
                digits < 18
            {
                value = value * 10 + Int(subjectBytes[cursor] - zero)
                digits += 1
                cursor += 1
            }
            guard digits > 0, cursor < subjectBytes.count, subjectBytes[cursor] == closeBracket, value > 0 else {
                continue
            }
            // The tag is consumed: the scan resumes after its `]`, so no byte is looked at twice.
            index = cursor
            if seen.insert(value).inserted { numbers.append(value) }
        }
        return numbers
    }
}

/// Why a message continues a ticket.
public struct ThreadMatch: Sendable, Hashable {
    public enum Evidence: String, Sendable, Hashable {
        /// In-Reply-To/References named a Message-ID we generated and signed.
        case signedMessageID = "signed-message-id"
        /// In-Reply-To/References named the Message-ID of the ticket's article (the oldest holding it), and the
        /// sender takes part in the ticket.
        case storedMessageID = "stored-message-id"
        /// The subject carried the ticket's tag, and the sender takes part in the ticket.
        case subjectTag = "subject-tag"
    }

    public var ticket: Int
    public var evidence: Evidence
    /// The Message-ID that matched, for the two Message-ID kinds.
    public var messageID: String?

    /// A sentence for the ticket's activity log.
    public var reason: String {
        switch evidence {
        case .signedMessageID: "threaded: references our signed Message-ID <\(messageID ?? "")>"
        case .storedMessageID:
            "threaded: references <\(messageID ?? "")>, an article of this ticket, sent by the requester or a "
                + "participant"
        case .subjectTag: "threaded: subject tag #\(ticket), sent by the requester or a participant"
        }
    }
}
