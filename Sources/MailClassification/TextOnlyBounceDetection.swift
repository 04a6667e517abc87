import MailParser

/// Bounces whose only signals are the subject and the body (rule `bounce-subject-body`): no report part, no
/// `X-Failed-Recipients`, a sender that is neither `MAILER-DAEMON` nor `postmaster` and a non-null return path.
/// Seen from Exim behind forwarders that rewrite the sender ("Mail delivery failed: returning message to
/// sender" from `mailnull@...`), Sendmail-style "Returned mail", "Undelivered mail", Exchange's
/// "Undeliverable: <subject>", and antivirus gateways' "Delivery failure notification".
///
/// A subject alone is what a person may write ("Returned mail question"), so two things must hold: the subject
/// is one of `subjectForms` as a whole phrase (followed by nothing, or by punctuation such as `:`, never by
/// another word), and the start of the body holds at least two distinct `bodyEvidence` phrases, which a
/// delivery failure notice always does and a person's question about one rarely does. The forms are learnt
/// from public bounce collections (Sisimai's set of emails, flufl.bounce's detectors).
enum TextOnlyBounceDetection {
    static let rule = "bounce-subject-body"

    /// Subject forms, compared ASCII case-insensitively at the start of the trimmed subject.
    static let subjectForms = [
        "Mail delivery failed",  // Exim: "Mail delivery failed: returning message to sender"
        "Mail delivery failure",
        "Returned mail",  // Sendmail: "Returned mail: see transcript for details"
        "Mail System Error - Returned Mail",
        "Undelivered Mail Returned to Sender",  // Postfix
        "Undelivered mail",
        "Undelivered message",
        "Undeliverable",  // Exchange: "Undeliverable: <original subject>"
        "Undeliverable mail",
        "Undeliverable message",
        "Delivery failure notification",  // antivirus and content-filter gateways
        "Delivery failure",
        "Delivery Status Notification (Failure)",
        "Delivery Notification: Delivery has failed",
        "Message delivery failure",
        "Message not delivered",
        "Nondeliverable mail",
        "Non-delivery report",
        "failure notice",  // qmail
        "Unzustellbar",  // Exchange, German
        "Non remis",  // Exchange, French
        "Non recapitabile",  // Exchange, Italian
        "No se puede entregar",  // Exchange, Spanish
        "Onbestelbaar",  // Exchange, Dutch
    ]

    /// Phrases of delivery failure notices, compared ASCII case-insensitively in the first `bodyBytes` of the
    /// text. Each is specific to a mail system's wording or a delivery status, not to everyday speech.
    static let bodyEvidence = [
        "could not be delivered", "couldn't be delivered", "could not deliver", "was not delivered",
        "wasn't delivered", "delivery has failed", "delivery to the following recipient",
        "this is a permanent error", "the following address(es) failed", "had permanent fatal errors",
        "transcript of session follows", "created automatically by mail delivery software",
        "unable to deliver", "user unknown", "no such user", "mailbox unavailable", "recipient address rejected",
        "address couldn't be found", "does not exist", "diagnostic-code:", "final-recipient:", "remote server",
        "550 5.", "554 5.", "552 5.", "contains a virus", "virus was found", "was quarantined",
    ]

    /// How much of the body is read: delivery failure notices explain themselves at the top.
    static let bodyBytes = 16_384

    /// The rule name when `message` is a bounce by its subject and body alone, else nil. O(subject forms) on the
    /// subject; only when a form matches, O(`bodyBytes` × evidence phrases) byte comparisons on the body.
    static func rule(_ message: ParsedMessage) -> String? {
        guard let subject = message.subject, hasBounceSubject(subject) else { return nil }
        let head = String(decoding: message.text.utf8.prefix(bodyBytes), as: UTF8.self)
        var found = 0
        for phrase in bodyEvidence where ByteText.containsIgnoringCase(head, phrase) {
            found += 1
            if found >= 2 { return rule }
        }
        return nil
    }

    /// Whether the trimmed subject starts with one of `subjectForms` as a whole phrase: followed by nothing, or
    /// (after blanks) by a punctuation mark (`:`, `-`, `(`, `[`, `<`, `,`, `;`, `.`, `!`), never by another word.
    /// O(forms × form length + blanks after the form).
    static func hasBounceSubject(_ subject: String) -> Bool {
        let trimmed = ByteText.trimmed(subject)
        for form in subjectForms where ByteText.hasPrefixIgnoringCase(trimmed, form) {
            let next = trimmed.utf8.dropFirst(form.utf8.count).first { !$0.isWhitespace }
            guard let next else { return true }
            if phraseEnds.contains(next) { return true }
        }
        return false
    }

    private static let phraseEnds: [UInt8] = Array(":-([<,;.!".utf8)
}
