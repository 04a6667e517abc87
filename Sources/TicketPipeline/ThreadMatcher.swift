import MailParser

/// What in a message could tie it to an existing ticket of one queue. Computed before the store's writer
/// runs, so the serialized part does only lookups.
public struct ThreadingClues: Sendable, Hashable {
    /// In-Reply-To first, then References newest first; no duplicates, bounded in number.
    public var referencedMessageIDs: [String]
    /// Ticket numbers found in `[<Tag> #<number>]` subject tags of this queue, in order of appearance.
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

    public init(maximumReferences: Int = 20) {
        self.maximumReferences = maximumReferences
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
        let numbers = parsed.subject.map { Self.subjectTicketNumbers(in: $0, tag: queue.tag) } ?? []
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
    /// Message-ID, then a subject tag — the tag only when `sender` (lower-cased) is the ticket's requester or a
    /// participant; a tag from anyone else is returned as `refusedTag` (a hijack attempt or a forward) so the
    /// caller can open a new ticket linked to it. With `sender` nil, tags are not checked.
    public func match(
        _ clues: ThreadingClues, queue: String, sender: String?, signer: MessageIDSigner?,
        in transaction: any TicketStoreTransaction
    ) throws -> (match: ThreadMatch?, refusedTag: Int?) {
        if let signer {
            for id in clues.referencedMessageIDs {
                guard let number = signer.ticket(fromMessageID: id) else { continue }
                if try transaction.ticketExists(number: number, queue: queue) {
                    return (ThreadMatch(ticket: number, evidence: .signedMessageID, messageID: id), nil)
                }
            }
        }
        for id in clues.referencedMessageIDs {
            if let number = try transaction.ticketNumber(forArticleMessageID: id, queue: queue) {
                return (ThreadMatch(ticket: number, evidence: .storedMessageID, messageID: id), nil)
            }
        }
        var refused: Int?
        for number in clues.subjectTicketNumbers {
            guard try transaction.ticketExists(number: number, queue: queue) else { continue }
            if let sender, !(try transaction.isParticipant(address: sender, ticket: number)) {
                if refused == nil { refused = number }
                continue
            }
            return (ThreadMatch(ticket: number, evidence: .subjectTag, messageID: nil), nil)
        }
        return (nil, refused)
    }

    /// Numbers from every `[<tag> #<digits>]` in `subject`; the tag matches case-insensitively, and spaces
    /// before `#` are optional, because mail clients and people retype tags loosely.
    static func subjectTicketNumbers(in subject: String, tag: String) -> [Int] {
        let subjectBytes = Array(subject.lowercased().utf8)
        let tagBytes = Array(tag.lowercased().utf8)
        guard !tagBytes.isEmpty, subjectBytes.count > tagBytes.count + 3 else { return [] }
        let openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]"), hash = UInt8(ascii: "#")
        let space = UInt8(ascii: " "), zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")
        var numbers: [Int] = []
        var index = 0
        while index < subjectBytes.count {
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
            if !numbers.contains(value) { numbers.append(value) }
        }
        return numbers
    }
}

/// Why a message continues a ticket.
public struct ThreadMatch: Sendable, Hashable {
    public enum Evidence: String, Sendable, Hashable {
        /// In-Reply-To/References named a Message-ID we generated and signed.
        case signedMessageID = "signed-message-id"
        /// In-Reply-To/References named the Message-ID of an article of the ticket.
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
        case .storedMessageID: "threaded: references <\(messageID ?? "")>, an article of this ticket"
        case .subjectTag: "threaded: subject tag #\(ticket), sent by the requester or a participant"
        }
    }
}
