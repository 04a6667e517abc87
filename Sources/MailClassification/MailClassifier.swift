import MailParser

/// Everything the classifier needs for one queue. Every option has a default.
public struct ClassifierConfiguration: Sendable, Hashable {
    public var ownMail: OwnMailConfiguration
    public var bounces: BounceDetectionConfiguration
    public var filter: MailFilter
    public var attachments: AttachmentPolicy
    /// Not applied by `classify` (it needs counts from the store): the pipeline asks it for automated mail.
    public var automatedBudget: AutomatedSenderBudget

    public init(
        ownMail: OwnMailConfiguration = OwnMailConfiguration(instanceName: ""),
        bounces: BounceDetectionConfiguration = BounceDetectionConfiguration(), filter: MailFilter = MailFilter(),
        attachments: AttachmentPolicy = AttachmentPolicy(),
        automatedBudget: AutomatedSenderBudget = AutomatedSenderBudget()
    ) {
        self.ownMail = ownMail
        self.bounces = bounces
        self.filter = filter
        self.attachments = attachments
        self.automatedBudget = automatedBudget
    }
}

/// Classifies one parsed message: the first stages of the ticket pipeline, as pure logic.
///
/// Order (each decision is recorded in `Classification.decisions`):
/// 1. bounces and reports (`BounceDetection`): a bounce is never a ticket, whatever else it looks like;
/// 2. own mail and loops (`OwnMailDetection`): dropped;
/// 3. automated mail (`AutomatedMailDetection` on headers, `AutoReplyTextDetection` on the text): flagged, then
///    still filtered;
/// 4. the queue's filters (`MailFilter`): ignore wins over allow;
/// 5. the attachment policy, for every message (`AttachmentPolicy`).
public struct MailClassifier: Sendable {
    public let configuration: ClassifierConfiguration
    private let ownMail: OwnMailDetection
    private let bounces: BounceDetection
    private let automated = AutomatedMailDetection()
    private let ignoredFileNames: [FileNameGlob]

    public init(_ configuration: ClassifierConfiguration) {
        self.configuration = configuration
        ownMail = OwnMailDetection(configuration.ownMail)
        bounces = BounceDetection(configuration.bounces)
        ignoredFileNames = configuration.attachments.ignoredFileNames.map(FileNameGlob.init)
    }

    public func classify(_ message: ParsedMessage, envelope: MailEnvelope) -> Classification {
        let signals = HeaderSignals(message)
        var decisions: [ClassificationDecision] = []
        decisions.reserveCapacity(6)
        let attachments = configuration.attachments.decisions(for: message.attachments, globs: ignoredFileNames)
        func finish(_ classification: Classification) -> Classification {
            var result = classification
            result.attachments = attachments
            for decision in attachments where decision.action != .keep {
                decisions.append(
                    ClassificationDecision(stage: .attachments, rule: decision.rule, reason: decision.reason))
            }
            result.decisions = decisions
            return result
        }

        if let report = bounces.evaluate(message, signals: signals, envelope: envelope) {
            decisions.append(ClassificationDecision(stage: .bounce, rule: report.rule, reason: report.summary))
            return finish(Classification(verdict: .bounce(report), bounce: report))
        }
        decisions.append(ClassificationDecision(stage: .bounce, rule: "none", reason: "not a bounce or report"))

        switch ownMail.evaluate(message, signals: signals, envelope: envelope) {
        case .ownMail(let rule, let reason):
            decisions.append(ClassificationDecision(stage: .ownMail, rule: rule, reason: reason))
            return finish(Classification(verdict: .ownMail(reason: reason)))
        case .loop(let rule, let reason):
            decisions.append(ClassificationDecision(stage: .ownMail, rule: rule, reason: reason))
            return finish(Classification(verdict: .loop(reason: reason)))
        case nil:
            decisions.append(ClassificationDecision(stage: .ownMail, rule: "none", reason: "not our own mail, no loop"))
        }

        let automatedMail = AutoReplyTextDetection.adding(
            AutoReplyTextDetection.reasons(message), to: automated.evaluate(signals: signals, envelope: envelope))
        if let automatedMail {
            for reason in automatedMail.reasons {
                decisions.append(
                    ClassificationDecision(
                        stage: .automated, rule: reason.rule, reason: "\(reason.kind.rawValue): \(reason.detail)"))
            }
        } else {
            decisions.append(ClassificationDecision(stage: .automated, rule: "none", reason: "no automation signals"))
        }

        let filter = configuration.filter.evaluate(message, envelope: envelope)
        let filterRule: String =
            switch (filter.list, filter.rule) {
            case (.ignore?, _): "ignore-list"
            case (.allow?, nil): "not-on-allow-list"
            case (.allow?, _?): "allow-list"
            case (nil, _): "none"
            }
        decisions.append(ClassificationDecision(stage: .filter, rule: filterRule, reason: filter.reason))

        let verdict: ClassificationVerdict
        if filter.outcome == .ignored {
            verdict = .ignored(filter)
        } else if let automatedMail {
            verdict = .automated(automatedMail)
        } else {
            verdict = .accepted
        }
        return finish(Classification(verdict: verdict, automated: automatedMail, filter: filter))
    }
}
