/// The `<PostdeskResponse version="1">` document sent back to a transaction's response address: the external
/// reference echoed, then either one `<Result>` per operation in order, or one `<Error>` when the whole
/// transaction was refused (not parsed, wrong password, not allowed). Schema: docs/xml-api/postdesk-transaction.xsd.
public struct XMLTransactionResponse: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        case processed([XMLOperationResult])
        case refused(code: String, message: String, line: Int?)
    }

    public var externalReference: String?
    public var outcome: Outcome

    public init(externalReference: String?, results: [XMLOperationResult]) {
        self.externalReference = externalReference
        self.outcome = .processed(results)
    }

    public init(externalReference: String?, refusalCode: String, message: String, line: Int? = nil) {
        self.externalReference = externalReference
        self.outcome = .refused(code: refusalCode, message: message, line: line)
    }

    /// The response to a transaction the parser refused, with the error's code, description and line.
    public init(externalReference: String? = nil, refusal error: XMLTransactionError) {
        self.init(
            externalReference: externalReference, refusalCode: error.code, message: error.description, line: error.line)
    }

    /// The document, UTF-8, every value escaped (`XMLTextEscaping`). O(n) in the values' lengths.
    public func rendered() -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostdeskResponse version=\"1\">\n"
        if let externalReference {
            xml += "  <ExternalReference>\(text(externalReference))</ExternalReference>\n"
        }
        switch outcome {
        case .processed(let results):
            for (index, result) in results.enumerated() {
                xml += "  <Result index=\"\(index + 1)\" operation=\"\(result.operation.rawValue)\""
                switch result.outcome {
                case .succeeded(let ticket):
                    xml += " status=\"ok\" ticket=\"\(ticket)\"/>\n"
                case .failed(let ticket, let code, let message):
                    xml += " status=\"error\"" + (ticket.map { " ticket=\"\($0)\"" } ?? "") + ">\n"
                    xml += "    <Error code=\"\(attribute(code))\">\(text(message))</Error>\n  </Result>\n"
                }
            }
        case .refused(let code, let message, let line):
            xml += "  <Error code=\"\(attribute(code))\"" + (line.map { " line=\"\($0)\"" } ?? "")
            xml += ">\(text(message))</Error>\n"
        }
        return xml + "</PostdeskResponse>\n"
    }

    /// `rendered()` as the bytes of a `text/xml; charset=utf-8` body.
    public var bytes: [UInt8] { Array(rendered().utf8) }

    private func text(_ value: String) -> String { XMLTextEscaping.escaped(value, inAttribute: false) }
    private func attribute(_ value: String) -> String { XMLTextEscaping.escaped(value, inAttribute: true) }
}
