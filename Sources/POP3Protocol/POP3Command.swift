import SASLMechanisms

/// A POP3 client command (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH), encoded to its exact bytes.
/// Arguments are checked so that nothing a caller passes can end the line early or smuggle a second command.
/// `description` never shows a password or SASL data.
public enum POP3Command: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// `CAPA`: the server's capabilities (a `.capabilityListing`).
    case capa
    /// `STLS`: start TLS (RFC 2595). After its `+OK` the parser must hold no bytes (see
    /// `POP3ResponseParser.bufferedByteCount`): bytes sent before the handshake would be injected plaintext.
    case stls
    /// `USER name`.
    case user(String)
    /// `PASS password` (spaces allowed: RFC 1939 lets the password contain them).
    case pass(String)
    /// `AUTH mechanism [initial-response]` (RFC 5034): the initial response is base64-encoded here; an empty one is
    /// sent as `=`. Leave it nil when `POP3Command.initialResponseFits` says the line would be too long.
    case auth(mechanism: String, initialResponse: [UInt8]?)
    /// The answer to a SASL challenge: one base64 line (empty for an empty answer).
    case authResponse([UInt8])
    /// `*`: cancels the AUTH exchange; the server answers `-ERR`.
    case authCancel
    /// `STAT`.
    case stat
    /// `LIST` (a `.scanListing`) or `LIST n` (one status line).
    case list(Int?)
    /// `UIDL` (a `.uniqueIDListing`) or `UIDL n` (one status line).
    case uidl(Int?)
    /// `RETR n`: the whole message (a `.messageBody`).
    case retr(Int)
    /// `TOP n lines`: the header and the first `lines` lines of the body (a `.messageBody`).
    case top(Int, lines: Int)
    /// `DELE n`: marks a message deleted; it goes at `QUIT`.
    case dele(Int)
    /// `NOOP`.
    case noop
    /// `RSET`: unmarks every deleted message.
    case rset
    /// `QUIT`: ends the session and commits the deletions.
    case quit

    /// RFC 5034 §4: an AUTH command line with its initial response must not exceed 255 octets (CRLF included);
    /// a longer response goes after an empty challenge instead.
    public static let authCommandLimit = 255

    /// Whether `AUTH mechanism initialResponse` fits in `authCommandLimit` octets. O(1).
    public static func initialResponseFits(mechanism: String, initialResponse: [UInt8]) -> Bool {
        let encoded = initialResponse.isEmpty ? 1 : (initialResponse.count + 2) / 3 * 4
        return "AUTH ".utf8.count + mechanism.utf8.count + 1 + encoded + 2 <= authCommandLimit
    }

    /// The `AUTH` command that starts `exchange`: with its initial response when it has one and the line fits
    /// `authCommandLimit` (the exchange is then told it was sent), else without, so that the server's empty
    /// challenge gets the response instead (`SASLExchange.respond` answers it). O(n) in the initial response.
    public static func auth(starting exchange: inout SASLExchange) -> POP3Command {
        let mechanism = exchange.mechanism.rawValue
        guard let initial = exchange.initialResponse,
            initialResponseFits(mechanism: mechanism, initialResponse: initial)
        else { return .auth(mechanism: mechanism, initialResponse: nil) }
        exchange.initialResponseSent()
        return .auth(mechanism: mechanism, initialResponse: initial)
    }

    /// The response this command gets, for `POP3ResponseParser.expect`.
    public var responseKind: POP3ResponseKind {
        switch self {
        case .capa: return .capabilityListing
        case .list(nil): return .scanListing
        case .uidl(nil): return .uniqueIDListing
        case .retr, .top: return .messageBody
        case .auth, .authResponse, .authCancel: return .authenticationStep
        default: return .status
        }
    }

    /// The command line, CR LF included. Throws `.invalidArgument` for CR, LF or NUL in an argument, an empty
    /// user name or password, a message number below 1, a negative TOP line count, or a mechanism name that is
    /// not 1–20 characters of `A-Z 0-9 - _` (RFC 4422). O(n) in the arguments.
    public func encoded() throws(POP3ProtocolError) -> [UInt8] {
        switch self {
        case .capa: return line("CAPA")
        case .stls: return line("STLS")
        case .stat: return line("STAT")
        case .noop: return line("NOOP")
        case .rset: return line("RSET")
        case .quit: return line("QUIT")
        case .authCancel: return line("*")
        case .user(let name): return try line("USER", text: name, field: "USER argument")
        case .pass(let password): return try line("PASS", text: password, field: "PASS argument")
        case .list(let number): return try line("LIST", optional: number)
        case .uidl(let number): return try line("UIDL", optional: number)
        case .retr(let number): return try line("RETR", optional: number)
        case .dele(let number): return try line("DELE", optional: number)
        case .top(let number, let lines):
            guard lines >= 0 else { throw Self.invalid("TOP line count", "is negative") }
            return try Array(line("TOP", optional: number).dropLast(2)) + Array(" \(lines)\r\n".utf8)
        case .auth(let mechanism, let initialResponse):
            try Self.checkMechanism(mechanism)
            var bytes = Array("AUTH \(mechanism)".utf8)
            if let initialResponse {
                bytes.append(UInt8(ascii: " "))
                bytes += initialResponse.isEmpty ? [UInt8(ascii: "=")] : SASLBase64.encode(initialResponse)
            }
            return bytes + [0x0D, 0x0A]
        case .authResponse(let response):
            return SASLBase64.encode(response) + [0x0D, 0x0A]
        }
    }

    public var description: String {
        switch self {
        case .capa: return "CAPA"
        case .stls: return "STLS"
        case .stat: return "STAT"
        case .noop: return "NOOP"
        case .rset: return "RSET"
        case .quit: return "QUIT"
        case .authCancel: return "*"
        case .user(let name): return "USER \(name.debugDescription)"
        case .pass: return "PASS <redacted>"
        case .list(let number): return "LIST" + (number.map { " \($0)" } ?? "")
        case .uidl(let number): return "UIDL" + (number.map { " \($0)" } ?? "")
        case .retr(let number): return "RETR \(number)"
        case .dele(let number): return "DELE \(number)"
        case .top(let number, let lines): return "TOP \(number) \(lines)"
        case .auth(let mechanism, let initialResponse):
            return "AUTH \(mechanism.debugDescription)"
                + (initialResponse.map { " <initial response, \($0.count) bytes, redacted>" } ?? "")
        case .authResponse(let response): return "<SASL response, \(response.count) bytes, redacted>"
        }
    }

    public var debugDescription: String { "POP3Command(\(description))" }

    public var customMirror: Mirror { Mirror(self, children: ["command": description], displayStyle: .enum) }

    // MARK: Encoding

    private func line(_ verb: String) -> [UInt8] { Array(verb.utf8) + [0x0D, 0x0A] }

    private func line(_ verb: String, text: String, field: String) throws(POP3ProtocolError) -> [UInt8] {
        let argument = Array(text.utf8)
        guard !argument.isEmpty else { throw Self.invalid(field, "is empty") }
        if argument.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) {
            throw Self.invalid(field, "contains CR, LF or NUL")
        }
        return Array(verb.utf8) + [UInt8(ascii: " ")] + argument + [0x0D, 0x0A]
    }

    private func line(_ verb: String, optional number: Int?) throws(POP3ProtocolError) -> [UInt8] {
        guard let number else { return line(verb) }
        guard number >= 1 else { throw Self.invalid("\(verb) message number", "\(number) is below 1") }
        return Array("\(verb) \(number)\r\n".utf8)
    }

    private static func checkMechanism(_ mechanism: String) throws(POP3ProtocolError) {
        let bytes = Array(mechanism.utf8)
        let valid =
            (1...20).contains(bytes.count)
            && bytes.allSatisfy { byte in
                (0x41...0x5A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2D || byte == 0x5F
            }
        guard valid else { throw invalid("AUTH mechanism", "is not 1-20 characters of A-Z 0-9 - _") }
    }

    private static func invalid(_ field: String, _ reason: String) -> POP3ProtocolError {
        POP3ProtocolError(.invalidArgument(reason: reason), context: field, streamOffset: nil, bytes: [])
    }
}
