import MailParser

/// The authentication verdicts a command mail must carry, read from the `Authentication-Results` field that our
/// own MTA adds.
///
/// Only the topmost field whose authserv-id is ours counts: our MTA prepends its field above everything the
/// message brought, so any field below it (even one with our authserv-id) came from the sender and may be forged,
/// and fields above it with another authserv-id were added after ours and are ignored. This holds only if our MTA
/// always adds its field (or removes fields claiming its authserv-id, as RFC 8601 section 5 asks); an MTA setup
/// that writes DKIM, SPF and DMARC results into separate fields must put all required methods in the topmost one.
public struct AuthenticationRequirement: Sendable, Hashable {
    /// The authserv-id our MTA writes (compared ASCII case-insensitively).
    public var authservID: String
    /// The methods that must each have a `pass` result. Empty: nothing is required and every message passes.
    public var methods: Set<AuthenticationMethod>

    public init(authservID: String, methods: Set<AuthenticationMethod>) {
        self.authservID = authservID
        self.methods = methods
    }

    /// Checks the message's `Authentication-Results` values, in message order (topmost first). A method passes when
    /// any of its results in our field is `pass` (a message may carry several DKIM signatures).
    ///
    /// - Complexity: O(n) in the bytes of the values up to and including ours: the others are read only as far as
    ///   their authserv-id, ours is parsed once.
    public func check(headerValues: [String]) -> AuthenticationCheck {
        guard !methods.isEmpty else { return .passed(reason: "no authentication method is required") }
        let ours = "Authentication-Results of \(TerminalText.escaped(authservID))"
        for value in headerValues {
            var reader = AuthenticationResultsParser(value)
            guard let id = reader.readAuthservID(), ByteText.equalsIgnoringCase(id, authservID) else { continue }
            let results: AuthenticationResults
            do {
                results = try AuthenticationResults.parsing(value)
            } catch {
                return .failed(reason: "\(ours) is malformed: \(error.summary)")
            }
            var passed: [String] = []
            var failed: [String] = []
            for method in AuthenticationMethod.allCases where methods.contains(method) {
                let found = results.results(for: method.rawValue)
                if found.contains(where: { $0.result == "pass" }) {
                    passed.append("\(method.rawValue)=pass")
                } else if found.isEmpty {
                    failed.append("\(method.rawValue): no result")
                } else {
                    let verdicts = found.prefix(4).map { "\(method.rawValue)=\(TerminalText.escaped($0.result))" }
                    failed.append(verdicts.joined(separator: ", "))
                }
            }
            if failed.isEmpty { return .passed(reason: "\(ours): " + passed.joined(separator: ", ")) }
            return .failed(reason: "\(ours): required method did not pass: " + failed.joined(separator: "; "))
        }
        return .failed(reason: "no Authentication-Results field from \(TerminalText.escaped(authservID))")
    }
}
