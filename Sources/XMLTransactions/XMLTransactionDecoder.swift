import MailCommands
import MailParser

/// Checks the element tree against the transaction format (docs/xml-api/postdesk-transaction.xsd) and builds the
/// value. Strict where the schema is (unknown or repeated elements and attributes, missing ones, invalid values);
/// lenient in one place: the header elements may come in any order, as long as they come before the first
/// operation. O(elements + text bytes), each node visited once.
enum XMLTransactionDecoder {
    static let root = "PostdeskTransaction"
    private static let headerElements: Set<String> = [
        "Password", "ResponseAddress", "ResponseBcc", "ExternalReference",
    ]
    /// Longest `<ExternalReference>`, in characters (Unicode scalars, as the schema's `maxLength` counts): it is
    /// echoed in the response and kept in the record.
    static let maxReferenceLength = 256

    static func decode(_ node: XMLElementNode) throws(XMLTransactionError) -> XMLTransaction {
        guard node.name == root else { throw XMLTransactionError(.unknownElement(node.name), line: node.line) }
        try allowOnly(["version"], on: node)
        guard let version = node.attribute("version"), trimmed(version) == "1" else {
            throw XMLTransactionError(.wrongVersion(found: node.attribute("version")), element: root, line: node.line)
        }
        try requireNoText(node)
        var header: [String: XMLElementNode] = [:]
        var operations: [XMLOperation] = []
        for child in node.children {
            if headerElements.contains(child.name) {
                guard operations.isEmpty else {
                    throw XMLTransactionError(
                        .invalidValue("<\(child.name)> must come before the first operation"), element: root,
                        line: child.line)
                }
                guard header[child.name] == nil else {
                    throw XMLTransactionError(.duplicateElement(child.name), element: root, line: child.line)
                }
                try allowOnly([], on: child)
                try requireLeaf(child)
                header[child.name] = child
                continue
            }
            switch XMLOperationKind(rawValue: child.name) {
            case .createTicket: operations.append(.createTicket(try createTicket(child)))
            case .addArticle: operations.append(.addArticle(try addArticle(child)))
            case .changeTicket: operations.append(.changeTicket(try changeTicket(child)))
            case nil: throw XMLTransactionError(.unknownElement(child.name), element: root, line: child.line)
            }
        }
        guard let passwordNode = header["Password"] else {
            throw XMLTransactionError(.missingElement("Password"), element: root, line: node.line)
        }
        let password = trimmed(passwordNode.text)
        guard !password.isEmpty else {
            throw XMLTransactionError(
                .invalidValue("the password is empty"), element: "Password", line: passwordNode.line)
        }
        guard !operations.isEmpty else {
            throw XMLTransactionError(
                .missingElement("CreateTicket, AddArticle or ChangeTicket"), element: root, line: node.line)
        }
        var reference: String?
        if let referenceNode = header["ExternalReference"] {
            let value = try nonEmpty(referenceNode)
            guard value.unicodeScalars.count <= maxReferenceLength else {
                throw XMLTransactionError(
                    .invalidValue("the reference is longer than \(maxReferenceLength) characters"),
                    element: "ExternalReference", line: referenceNode.line)
            }
            reference = value
        }
        return XMLTransaction(
            password: password, responseAddress: try header["ResponseAddress"].map(address),
            responseBcc: try header["ResponseBcc"].map(address), externalReference: reference, operations: operations)
    }

    private static func createTicket(_ node: XMLElementNode) throws(XMLTransactionError) -> XMLCreateTicket {
        try allowOnly([], on: node)
        let children = try singleChildren(
            of: node, allowed: ["Queue", "Subject", "Text", "Requester", "Priority", "Category", "Type"])
        guard let subject = children["Subject"] else {
            throw XMLTransactionError(.missingElement("Subject"), element: node.name, line: node.line)
        }
        guard let text = children["Text"] else {
            throw XMLTransactionError(.missingElement("Text"), element: node.name, line: node.line)
        }
        guard let requesterNode = children["Requester"] else {
            throw XMLTransactionError(.missingElement("Requester"), element: node.name, line: node.line)
        }
        try allowOnly(["name"], on: requesterNode)
        let name = requesterNode.attribute("name").map { trimmed($0) }
        let requester = XMLRequester(address: try address(requesterNode), name: name?.isEmpty == true ? nil : name)
        return XMLCreateTicket(
            queue: try children["Queue"].map(nonEmpty), subject: try nonEmpty(subject), text: try articleText(text),
            requester: requester, priority: try children["Priority"].map(nonEmpty),
            category: try children["Category"].map(nonEmpty), type: try children["Type"].map(nonEmpty),
            fields: try fields(of: node))
    }

    private static func addArticle(_ node: XMLElementNode) throws(XMLTransactionError) -> XMLAddArticle {
        try allowOnly(["ticket", "internal"], on: node)
        let children = try singleChildren(of: node, allowed: ["Text"])
        guard let text = children["Text"] else {
            throw XMLTransactionError(.missingElement("Text"), element: node.name, line: node.line)
        }
        var isInternal = false
        if let value = node.attribute("internal") {
            switch trimmed(value) {
            case "true", "1": isInternal = true
            case "false", "0": isInternal = false
            default:
                throw XMLTransactionError(
                    .invalidValue("internal=\"\(value.prefix(20))\" is not true or false"), element: node.name,
                    line: node.line)
            }
        }
        return XMLAddArticle(ticket: try ticketNumber(node), text: try articleText(text), isInternal: isInternal)
    }

    private static func changeTicket(_ node: XMLElementNode) throws(XMLTransactionError) -> XMLChangeTicket {
        try allowOnly(["ticket"], on: node)
        let children = try singleChildren(
            of: node, allowed: ["Status", "Priority", "Category", "Type", "Assignee"])
        let change = XMLChangeTicket(
            ticket: try ticketNumber(node), status: try children["Status"].map(nonEmpty),
            priority: try children["Priority"].map(nonEmpty), category: try children["Category"].map(nonEmpty),
            type: try children["Type"].map(nonEmpty), assignee: try children["Assignee"].map(nonEmpty),
            fields: try fields(of: node))
        guard !children.isEmpty || !change.fields.isEmpty else {
            throw XMLTransactionError(.invalidValue("the change changes nothing"), element: node.name, line: node.line)
        }
        return change
    }

    /// The operation's leaf children by name, each at most once; `<Field>` children are left to `fields(of:)`.
    private static func singleChildren(
        of node: XMLElementNode, allowed: Set<String>
    ) throws(XMLTransactionError) -> [String: XMLElementNode] {
        try requireNoText(node)
        var found: [String: XMLElementNode] = [:]
        for child in node.children where child.name != "Field" || !node.allowsFields {
            guard allowed.contains(child.name) else {
                throw XMLTransactionError(.unknownElement(child.name), element: node.name, line: child.line)
            }
            guard found[child.name] == nil else {
                throw XMLTransactionError(.duplicateElement(child.name), element: node.name, line: child.line)
            }
            if child.name != "Requester" { try allowOnly([], on: child) }
            try requireLeaf(child)
            found[child.name] = child
        }
        return found
    }

    private static func fields(of node: XMLElementNode) throws(XMLTransactionError) -> [TicketField] {
        var fields: [TicketField] = []
        var names: Set<String> = []
        for child in node.children where child.name == "Field" {
            try allowOnly(["name", "kind"], on: child)
            try requireLeaf(child)
            guard let rawName = child.attribute("name") else {
                throw XMLTransactionError(.missingAttribute("name"), element: "Field", line: child.line)
            }
            let name = trimmed(rawName)
            guard !name.isEmpty else {
                throw XMLTransactionError(
                    .invalidValue("the field's name is empty"), element: "Field", line: child.line)
            }
            guard let rawKind = child.attribute("kind") else {
                throw XMLTransactionError(.missingAttribute("kind"), element: "Field", line: child.line)
            }
            guard let kind = TicketFieldKind(rawValue: trimmed(rawKind)) else {
                let kinds = TicketFieldKind.allCases.map(\.rawValue).joined(separator: ", ")
                throw XMLTransactionError(
                    .invalidValue("field \"\(name)\": kind \"\(rawKind.prefix(20))\" is not one of \(kinds)"),
                    element: "Field", line: child.line)
            }
            guard names.insert(name).inserted else {
                throw XMLTransactionError(
                    .duplicateElement("Field name=\"\(name)\""), element: node.name, line: child.line)
            }
            fields.append(TicketField(name: name, kind: kind, value: try fieldValue(child, name: name, kind: kind)))
        }
        return fields
    }

    /// The canonical value for the kind (see `TicketField.value`). O(value's bytes).
    private static func fieldValue(
        _ node: XMLElementNode, name: String, kind: TicketFieldKind
    ) throws(XMLTransactionError) -> String {
        let value = trimmed(node.text)
        func invalid(_ what: String) -> XMLTransactionError {
            XMLTransactionError(
                .invalidValue("field \"\(name)\": \"\(value.prefix(40))\" is not \(what)"), element: "Field",
                line: node.line)
        }
        switch kind {
        case .number:
            let negative = value.hasPrefix("-")
            let digits = negative ? value.dropFirst() : Substring(value)
            guard !digits.isEmpty, digits.utf8.count <= 30, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw invalid("a whole number")
            }
            let significant = digits.drop { $0 == "0" }
            if significant.isEmpty { return "0" }
            return (negative ? "-" : "") + significant
        case .date:
            guard let date = calendarDate(value) else { throw invalid("a date YYYY-MM-DD") }
            return date
        case .text, .longText, .choice:
            guard !value.isEmpty else { throw invalid("a value") }
            return kind == .longText ? node.text : value
        }
    }

    /// `YYYY-MM-DD` naming a real day of the proleptic Gregorian calendar; nil otherwise.
    static func calendarDate(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        guard bytes.count == 10, bytes[4] == 0x2D, bytes[7] == 0x2D else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var result = 0
            for index in range {
                guard bytes[index] >= 0x30, bytes[index] <= 0x39 else { return nil }
                result = result * 10 + Int(bytes[index] - 0x30)
            }
            return result
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), (1...12).contains(month)
        else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return (1...days).contains(day) && year >= 1 ? value : nil
    }

    /// `ticket="N"`: a positive decimal number of at most 18 digits.
    private static func ticketNumber(_ node: XMLElementNode) throws(XMLTransactionError) -> Int {
        guard let raw = node.attribute("ticket") else {
            throw XMLTransactionError(.missingAttribute("ticket"), element: node.name, line: node.line)
        }
        let value = trimmed(raw)
        guard value.utf8.count <= 18, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let number = Int(value),
            number > 0
        else {
            throw XMLTransactionError(
                .invalidValue("ticket=\"\(raw.prefix(20))\" is not a ticket number"), element: node.name,
                line: node.line)
        }
        return number
    }

    /// An address as written (trimmed): one `@` with something on each side, no white space or control characters.
    private static func address(_ node: XMLElementNode) throws(XMLTransactionError) -> String {
        let value = try nonEmpty(node)
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        let clean = value.unicodeScalars.allSatisfy {
            $0.value > 0x20 && $0.value != 0x7F && !"<>,;\"".unicodeScalars.contains($0)
        }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, clean else {
            throw XMLTransactionError(
                .invalidValue("\"\(value.prefix(80))\" is not a mail address"), element: node.name, line: node.line)
        }
        return value
    }

    /// An article's text, exactly as written; it must not be blank.
    private static func articleText(_ node: XMLElementNode) throws(XMLTransactionError) -> String {
        guard !trimmed(node.text).isEmpty else {
            throw XMLTransactionError(.invalidValue("the text is empty"), element: node.name, line: node.line)
        }
        return node.text
    }

    private static func nonEmpty(_ node: XMLElementNode) throws(XMLTransactionError) -> String {
        let value = trimmed(node.text)
        guard !value.isEmpty else {
            throw XMLTransactionError(.invalidValue("the value is empty"), element: node.name, line: node.line)
        }
        return value
    }

    private static func allowOnly(_ names: Set<String>, on node: XMLElementNode) throws(XMLTransactionError) {
        for attribute in node.attributes where !names.contains(attribute.name) {
            throw XMLTransactionError(.unknownAttribute(attribute.name), element: node.name, line: node.line)
        }
    }

    private static func requireLeaf(_ node: XMLElementNode) throws(XMLTransactionError) {
        if let child = node.children.first {
            throw XMLTransactionError(.unknownElement(child.name), element: node.name, line: child.line)
        }
    }

    private static func requireNoText(_ node: XMLElementNode) throws(XMLTransactionError) {
        guard trimmed(node.text).isEmpty else {
            throw XMLTransactionError(.unexpectedText, element: node.name, line: node.line)
        }
    }

    /// XML white space (SP, HT, CR, LF) removed from both ends: MailParser's `ByteText.trimmed`. O(n).
    static func trimmed(_ text: String) -> String {
        String(ByteText.trimmed(text))
    }
}

extension XMLElementNode {
    /// Whether `<Field>` children belong to this element (the operations that set fields).
    fileprivate var allowsFields: Bool { name == "CreateTicket" || name == "ChangeTicket" }
}
