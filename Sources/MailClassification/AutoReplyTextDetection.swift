import MailParser

/// Auto-replies that carry none of the RFC 3834 headers, recognised by their text (rules):
/// - `auto-reply-subject`: a subject that starts with an "automatic reply" phrase in one of many languages
///   (what Outlook, Exchange, Gmail, Zimbra and webmail vacation responders write in the user's language),
///   followed by a colon or nothing — never by another word, so "Automatic reply not working" stays a ticket;
/// - `lotus-notes-auto`: Lotus Notes / Domino's `AUTO: <name> is out of the office (returning <date>)`;
/// - `challenge-response`: a challenge-response anti-spam system asking to confirm the sender (by the
///   system's domain, TMDA's `X-Delivery-Agent`, or a confirmation subject together with a body that speaks of
///   approved senders).
/// A subject starting with a reply or forward prefix (`Re:`, `AW:`) is a person's mail and matches none.
/// The forms are learnt from public auto-reply collections (Sisimai's RFC 3834 detector and set of emails).
enum AutoReplyTextDetection {
    /// "Automatic reply" phrases, lower-cased, compared with the lower-cased start of the trimmed subject
    /// (canonical equivalence, so precomposed and decomposed accents both match).
    static let subjectForms = [
        // English (Outlook, Exchange, Gmail, Zimbra, vacation(1))
        "automatic reply", "auto reply", "auto-reply", "autoreply", "auto response", "auto-response",
        "autoresponse", "out of office", "out of the office", "out of office autoreply", "out of office reply",
        // German, French, Spanish, Italian, Portuguese, Dutch
        "automatische antwort", "abwesenheitsnotiz", "réponse automatique", "respuesta automática",
        "risposta automatica", "resposta automática", "automatisch antwoord",
        // Polish, Czech, Slovak, Hungarian, Romanian, Croatian, Slovenian
        "automatyczna odpowiedź", "odpowiedź automatyczna", "automatická odpověď", "automatická odpoveď",
        "automatikus válasz", "răspuns automat", "automatski odgovor", "samodejni odgovor",
        // Swedish, Danish, Norwegian, Finnish, Turkish, Greek
        "automatiskt svar", "automatisk svar", "automaattinen vastaus", "otomatik yanıt",
        "otomatik cevap", "αυτόματη απάντηση",
        // Russian, Ukrainian, Bulgarian
        "автоматический ответ", "автоматична відповідь", "автоматичен отговор",
        // Japanese, Chinese (simplified, traditional), Korean
        "自動応答", "自動返信", "自动回复", "自動回覆", "自動回復", "자동 회신", "자동 응답",
        // Arabic, Hebrew, Thai, Vietnamese, Indonesian
        "رد تلقائي", "תשובה אוטומטית", "ตอบกลับอัตโนมัติ", "trả lời tự động", "balasan otomatis",
    ]

    /// The first scalar of each form (forms are lower-case).
    static let formInitials = Set(subjectForms.compactMap(\.unicodeScalars.first))

    /// Domains of challenge-response anti-spam services.
    static let challengeResponseDomains = ["spamarrest.com", "boxbe.com", "mailblocks.com", "bluebottle.com"]
    /// Subject and body phrases (ASCII, case-insensitive) of a challenge-response request: one of each.
    static let challengeSubjects = [
        "please confirm your message", "please confirm your e-mail", "please confirm your email",
        "verification required", "sender verification", "confirm that you are human", "approval required",
    ]
    static let challengeBodies = [
        "approved senders", "approved sender list", "whitelist", "allowlist", "spam protection", "anti-spam",
        "challenge", "verify that you are a human", "confirm that you are a human", "real person",
    ]
    /// How much of the subject and body is read. The subject is cut at a scalar count, not a character count: one
    /// character may hold any number of combining scalars.
    static let subjectScalars = 160
    static let bodyBytes = 8192

    /// The reasons this message is an auto-reply by its text: at most one. O(`subjectScalars` × forms) on
    /// the subject, O(`bodyBytes` × phrases) on the body only for a challenge-response subject.
    static func reasons(_ message: ParsedMessage) -> [AutomatedReason] {
        let subject = message.subject ?? ""
        if let form = localizedForm(subject) {
            return [AutomatedReason(rule: "auto-reply-subject", kind: .autoReply, detail: "Subject: \(form)")]
        }
        let subjectHead = String(decoding: subject.utf8.prefix(512), as: UTF8.self)
        if ByteText.hasPrefixIgnoringCase(ByteText.trimmed(subjectHead), "AUTO:"),
            ByteText.containsIgnoringCase(subjectHead, "out of the office")
                || ByteText.containsIgnoringCase(subjectHead, "out of office")
        {
            return [
                AutomatedReason(
                    rule: "lotus-notes-auto", kind: .autoReply, detail: "Subject: AUTO: … out of the office")
            ]
        }
        if let detail = challengeResponse(message, subjectHead: subjectHead) {
            return [AutomatedReason(rule: "challenge-response", kind: .autoReply, detail: detail)]
        }
        return []
    }

    /// `automated` with `reasons` added, its kind chosen again by `AutomatedMailDetection.kindPriority`.
    static func adding(_ reasons: [AutomatedReason], to automated: AutomatedMail?) -> AutomatedMail? {
        guard !reasons.isEmpty else { return automated }
        let all = (automated?.reasons ?? []) + reasons
        let kind =
            AutomatedMailDetection.kindPriority.first { kind in all.contains { $0.kind == kind } } ?? .autoReply
        return AutomatedMail(kind: kind, reasons: all)
    }

    /// The matched form, when the subject starts with an "automatic reply" phrase followed by nothing or a
    /// colon (ASCII or full-width).
    static func localizedForm(_ subject: String) -> String? {
        // Most subjects start with a letter no form starts with: one scalar's lower-case mapping decides that.
        guard let first = subject.unicodeScalars.first(where: { !$0.properties.isWhitespace }),
            let lowered = first.properties.lowercaseMapping.unicodeScalars.first,
            formInitials.contains(lowered)
        else { return nil }
        let cut = String(String.UnicodeScalarView(subject.unicodeScalars.prefix(subjectScalars)))
        let head = ByteText.trimmed(cut).lowercased()
        for form in subjectForms where head.hasPrefix(form) {
            let rest = head.dropFirst(form.count).drop { $0 == " " || $0 == "\t" }
            if rest.isEmpty || rest.first == ":" || rest.first == "：" { return form }
        }
        return nil
    }

    private static func challengeResponse(_ message: ParsedMessage, subjectHead: String) -> String? {
        for sender in message.from {
            guard let domain = MailAddressForm.domain(sender.address) else { continue }
            for service in challengeResponseDomains
            where MailAddressForm.domain(domain, matches: service, includeSubdomains: true) {
                return "sender domain \(domain)"
            }
        }
        if let agent = message.headers.first(where: { ByteText.equalsIgnoringCase($0.name, "x-delivery-agent") }),
            ByteText.hasPrefixIgnoringCase(ByteText.trimmed(agent.value), "TMDA")
        {
            return "X-Delivery-Agent: TMDA"
        }
        guard let phrase = challengeSubjects.first(where: { ByteText.containsIgnoringCase(subjectHead, $0) })
        else { return nil }
        let bodyHead = String(decoding: message.text.utf8.prefix(bodyBytes), as: UTF8.self)
        guard let evidence = challengeBodies.first(where: { ByteText.containsIgnoringCase(bodyHead, $0) })
        else { return nil }
        return "subject \"\(phrase)\", body \"\(evidence)\""
    }
}
