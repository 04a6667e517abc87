/// The steps a message goes through in `TicketIntake`. A message that stops in one of them (a crash, a hang) is
/// named by it in the log and in its quarantine entry. The raw values are kept in the in-flight ledger across
/// restarts: a new stage takes a new value, whatever its place.
public enum PipelineStage: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Handed over by the transport, not yet looked at.
    case received = 1
    /// Recipients matched to queues.
    case route
    /// Raw bytes to the message model (`MessageParser`).
    case parse
    /// Bounces, own mail, loops, automated mail, filters, attachments.
    case classify
    /// Threading clues and the delivery plan.
    case plan
    /// Inside the store's transaction.
    case commit
    /// Mail commands and alert rules (between classify and plan).
    case command

    public var description: String {
        switch self {
        case .received: "received"
        case .route: "route"
        case .parse: "parse"
        case .classify: "classify"
        case .plan: "plan"
        case .commit: "commit"
        case .command: "command"
        }
    }

    /// The stage named `name` (as `description` spells it), or nil.
    public init?(name: String) {
        guard let stage = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = stage
    }
}
