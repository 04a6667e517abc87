import MailParser
import Testing

@testable import MailCommands

/// Hostile and huge texts: each finishes (the bounds only catch a hang or a quadratic walk, they measure
/// nothing) with the exact answer.
@Suite("Structured requests: huge and hostile input")
struct StructuredRequestHardeningTests {
    let parser = StructuredRequestParserTests.parser
    static let hangBound = Duration.seconds(60)

    func parsed(_ text: String) -> (StructuredRequestResult?, Duration) {
        var result: StructuredRequestResult?
        let elapsed = ContinuousClock().measure { result = parser.parse(text, sender: "a@example.test") }
        return (result, elapsed)
    }

    @Test func oneMegabyteWithoutTheToken() {
        let (atSigns, atElapsed) = parsed(String(repeating: "@", count: 1 << 20))
        #expect(atSigns == nil)
        #expect(atElapsed < Self.hangBound)
        let (near, nearElapsed) = parsed(String(repeating: "CreateS", count: 150_000))
        #expect(near == nil)
        #expect(nearElapsed < Self.hangBound)
    }

    @Test func oneMegabyteOfTokensOnOneLine() {
        let (result, elapsed) = parsed(String(repeating: "CreateSR ", count: 120_000))
        #expect(result == nil)
        #expect(elapsed < Self.hangBound)
    }

    @Test func hundredThousandLinesBeforeTheBlock() {
        let prose = String(repeating: "Une ligne ordinaire du message, avec CreateSR dedans.\n", count: 100_000)
        let (result, elapsed) = parsed(prose + StructuredRequestParserTests.french)
        guard case .request(let request) = result else { return #expect(Bool(false), "\(String(describing: result))") }
        #expect(request.type == "VPN access")
        #expect(elapsed < Self.hangBound)
    }

    @Test func hundredThousandLineLongText() {
        let lines = String(repeating: "texte : suite\n", count: 100_000)
        let text =
            "CreateSR\nType: Accès VPN\nRequérant: a\nUtilisateur: a\n- Justification:\n" + lines
            + "- Nom du poste: PC\n- Date de début: 01/01/2027\nCreateSR\n"
        let (result, elapsed) = parsed(text)
        guard case .request(let request) = result else { return #expect(Bool(false), "\(String(describing: result))") }
        #expect(request.fields.first?.value.utf8.count == lines.utf8.count - 1)
        #expect(elapsed < Self.hangBound)
    }

    /// The worst case for the language passes: French, English and the mixed pass each read the whole block
    /// before the one unknown label at its end.
    @Test func hundredThousandSectionLinesThenAnUnknownLabel() {
        let sections = String(repeating: "--- Section\n", count: 100_000)
        let text = "CreateSR\nType: Accès VPN\n" + sections + "- Inconnu: x\nCreateSR\n"
        let (result, elapsed) = parsed(text)
        guard case .invalid(let error) = result else { return #expect(Bool(false), "\(String(describing: result))") }
        #expect(error.kind == .unknownField(label: "Inconnu"))
        #expect(error.line == 100_003)
        #expect(elapsed < Self.hangBound)
    }

    @Test func unterminatedHundredThousandLineBlock() {
        let (result, elapsed) = parsed("CreateSR\n" + String(repeating: "- Nom du poste: x\n", count: 100_000))
        guard case .invalid(let error) = result else { return #expect(Bool(false), "\(String(describing: result))") }
        #expect(error.kind == .unterminatedBlock(token: "CreateSR"))
        #expect(elapsed < Self.hangBound)
    }

    @Test func oneMegabyteLineInsideTheBlock() {
        let huge = String(repeating: "ж", count: 1 << 19)
        let (result, elapsed) = parsed("CreateSR\nType: Accès VPN\nRequérant: a\n" + huge + ": x\nCreateSR\n")
        guard case .invalid(let error) = result else { return #expect(Bool(false), "\(String(describing: result))") }
        #expect(error.line == 4)
        #expect(error.kind == .unknownField(label: String(repeating: "ж", count: CommandText.keptLimit)))
        #expect(error.description.count < 200)
        #expect(elapsed < Self.hangBound)
    }

    @Test func emptyTokenNeverOpensABlock() {
        let parser = StructuredRequestParser(token: "  ", types: [StructuredRequestParserTests.vpn])
        #expect(parser.parse("\n\nType: Accès VPN\n\n", sender: "a@example.test") == nil)
    }

    /// Out-of-order combining marks (U+0301 is class 230, U+0316 class 220): Swift's `==` and hashing normalize
    /// such a run by sorting it, quadratically, so no label, type, choice or name from mail may reach them long.
    static let markRun = "x" + String(repeating: "\u{0301}\u{0316}", count: 150_000)

    @Test func longCombiningMarkRunsInTypeLabelChoiceAndPeople() {
        let cases: [(String, (StructuredRequestError.Kind) -> Bool)] = [
            ("CreateSR\nType: \(Self.markRun)\nCreateSR", { if case .unknownType = $0 { true } else { false } }),
            (
                "CreateSR\nType: Accès VPN\nRequérant: a\n- \(Self.markRun): v\nCreateSR",
                { if case .unknownField = $0 { true } else { false } }
            ),
            (
                "CreateSR\nType: Accès VPN\nRequérant: a\nUtilisateur: a\n- Profil: \(Self.markRun)\nCreateSR",
                { if case .unknownChoice = $0 { true } else { false } }
            ),
            (
                "CreateSR\nType: Accès VPN\nRequérant: \(Self.markRun);b\nUtilisateur: a\nCreateSR",
                { $0 == .tooLong(limit: StructuredRequestParser.maximumPersonBytes) }
            ),
        ]
        for (text, expected) in cases {
            let (result, elapsed) = parsed(text)
            guard case .invalid(let error) = result else {
                Issue.record("expected an error, got \(String(describing: result).prefix(200))")
                continue
            }
            #expect(expected(error.kind), "\(String(describing: error.kind).prefix(200))")
            #expect(error.description.unicodeScalars.count < 400)
            #expect(elapsed < Self.hangBound)
        }
    }

    /// A requester or user is a login or an address: over 254 bytes it is neither, and the request is refused.
    @Test func peopleAreBounded() {
        let longest = String(repeating: "a", count: StructuredRequestParser.maximumPersonBytes - 12) + "@example.test"
        let text = { (requester: String) in
            "CreateSR\nType: Badge\nRequester: \(requester); b\nUser: b\nCreateSR"
        }
        guard
            case .request(let request) = parser.parse(text(String(longest.dropLast())), sender: "guard@elsewhere.test")
        else { return #expect(Bool(false)) }
        #expect(request.requester.first?.utf8.count == StructuredRequestParser.maximumPersonBytes)
        guard case .invalid(let error) = parser.parse(text(longest + "t"), sender: "guard@elsewhere.test") else {
            return #expect(Bool(false))
        }
        #expect(error.kind == .tooLong(limit: StructuredRequestParser.maximumPersonBytes))
        #expect(error.field == "Requester")
        #expect(error.line == 3)
    }
}
