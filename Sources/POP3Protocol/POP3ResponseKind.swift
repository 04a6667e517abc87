/// The shape of the response the driver expects next. POP3 replies do not say whether lines follow the status
/// line, so the driver declares it for every command it sends (`POP3Command.responseKind` gives it).
public enum POP3ResponseKind: Sendable, Hashable {
    /// One status line: the greeting, USER, PASS, STAT, `LIST n`, `UIDL n`, DELE, NOOP, RSET, QUIT, STLS.
    case status
    /// A step of `AUTH`: `+OK`, `-ERR`, or a `+ base64` challenge the client must answer.
    case authenticationStep
    /// CAPA: `+OK` then capability lines up to `.`.
    case capabilityListing
    /// LIST without argument: `+OK` then `number size` lines up to `.`.
    case scanListing
    /// UIDL without argument: `+OK` then `number unique-id` lines up to `.`.
    case uniqueIDListing
    /// RETR or TOP: `+OK` then the dot-stuffed message, streamed.
    case messageBody
}
