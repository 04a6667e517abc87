internal import CLibXML2

/// Streams a document through libxml2's xmlTextReader and keeps only our bounded element tree: libxml2 frees its
/// own nodes as the reader moves on, and every element, nesting level and text byte is counted against the
/// limits as it arrives, so a hostile document is refused at the first element over a limit (libxml2 reads at
/// most one 512-byte chunk ahead). O(n) in the document's bytes, one pass.
///
/// Options (`postdesk_xml_reader_options` in the CLibXML2 shim): `XML_PARSE_NONET` (no network), plus
/// `XML_PARSE_NO_XXE` on libxml2 2.13 and later (Debian 12 has 2.9.14, which lacks it) — never `NOENT` (entity
/// substitution), `DTDLOAD`, `DTDATTR`, `DTDVALID`, `XINCLUDE` or `HUGE` (which lifts libxml2's own depth and size
/// limits). The prolog scanner has already refused any DOCTYPE; a DOCTYPE or entity-reference node met here is
/// refused again (defence in depth).
enum LibXMLTreeReader {
    /// libxml2's global state (its character-encoding handlers, memory functions, thread keys) is set up by
    /// `xmlInitParser`, which libxml2 2.9 documents as not safe to call concurrently for the first time. A Swift
    /// `static let` is initialised exactly once, under `swift_once`, with concurrent first callers waiting, so
    /// every reader starts after one complete initialisation. `xmlCleanupParser` is never called: other users of
    /// libxml2 in the process (FoundationXML) share that state.
    private static let libxmlInitialised: Bool = {
        xmlInitParser()
        return true
    }()

    static let parseOptions = postdesk_xml_reader_options()

    static func read(
        _ bytes: UnsafeBufferPointer<UInt8>, limits: XMLTransactionLimits
    ) throws(XMLTransactionError) -> XMLElementNode {
        precondition(libxmlInitialised)
        guard let base = bytes.baseAddress, bytes.count > 0, let size = Int32(exactly: bytes.count) else {
            throw XMLTransactionError(.notXML(reason: "the document is empty"))
        }
        // libxml2 reads the memory in place (no copy): `bytes` outlives the reader, which is freed below.
        let pointer = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
        guard let reader = xmlReaderForMemory(pointer, size, nil, nil, parseOptions) else {
            throw XMLTransactionError(.notXML(reason: "libxml2 could not start a reader"))
        }
        defer { xmlFreeTextReader(reader) }
        let errors = LibXMLErrorCapture()
        return try withExtendedLifetime(errors) { () throws(XMLTransactionError) -> XMLElementNode in
            xmlTextReaderSetStructuredErrorHandler(
                reader,
                { context, error in
                    guard let context, let error else { return }
                    Unmanaged<LibXMLErrorCapture>.fromOpaque(context).takeUnretainedValue().record(error.pointee)
                },
                Unmanaged.passUnretained(errors).toOpaque())
            return try readTree(reader, limits: limits, errors: errors)
        }
    }

    private static func readTree(
        _ reader: xmlTextReaderPtr, limits: XMLTransactionLimits, errors: LibXMLErrorCapture
    ) throws(XMLTransactionError) -> XMLElementNode {
        var stack: [XMLElementNode] = []
        var root: XMLElementNode?
        var elementCount = 0
        while true {
            let status = xmlTextReaderRead(reader)
            if let failure = errors.failure { throw failure }
            if status == 0 { break }
            guard status == 1 else {
                throw XMLTransactionError(.notXML(reason: "libxml2 stopped reading"), line: currentLine(reader))
            }
            switch xmlTextReaderNodeType(reader) {
            case Int32(XML_READER_TYPE_ELEMENT.rawValue):
                elementCount += 1
                let name = string(xmlTextReaderConstName(reader))
                let line = currentLine(reader)
                guard elementCount <= limits.maxElements else {
                    throw XMLTransactionError(.tooManyElements(limit: limits.maxElements), element: name, line: line)
                }
                guard stack.count + 1 <= limits.maxDepth else {
                    throw XMLTransactionError(.tooDeep(limit: limits.maxDepth), element: name, line: line)
                }
                guard root == nil else {
                    throw XMLTransactionError(.notXML(reason: "content after the root element"), line: line)
                }
                let node = XMLElementNode(
                    name: name, attributes: try attributes(reader, element: name, line: line), text: "",
                    children: [], line: line)
                if xmlTextReaderIsEmptyElement(reader) == 1 {
                    close(node, stack: &stack, root: &root)
                } else {
                    stack.append(node)
                }
            case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
                guard let node = stack.popLast() else {
                    throw XMLTransactionError(.notXML(reason: "an end tag without a start"), line: currentLine(reader))
                }
                close(node, stack: &stack, root: &root)
            case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue),
                Int32(XML_READER_TYPE_WHITESPACE.rawValue), Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue):
                guard !stack.isEmpty else { continue }
                let text = string(xmlTextReaderConstValue(reader))
                guard stack[stack.count - 1].text.utf8.count + text.utf8.count <= limits.maxTextBytes else {
                    throw XMLTransactionError(
                        .textTooLong(limit: limits.maxTextBytes), element: stack[stack.count - 1].name,
                        line: currentLine(reader))
                }
                stack[stack.count - 1].text += text
            case Int32(XML_READER_TYPE_DOCUMENT_TYPE.rawValue):
                throw XMLTransactionError(.doctypeRefused, line: currentLine(reader))
            case Int32(XML_READER_TYPE_ENTITY_REFERENCE.rawValue), Int32(XML_READER_TYPE_ENTITY.rawValue):
                throw XMLTransactionError(
                    .notXML(reason: "entity references are not allowed"), line: currentLine(reader))
            default:
                continue  // comments and processing instructions carry nothing of ours
            }
        }
        guard let root, stack.isEmpty else { throw XMLTransactionError(.notXML(reason: "no root element")) }
        return root
    }

    /// Attaches a finished element to its parent, or makes it the root.
    private static func close(_ node: XMLElementNode, stack: inout [XMLElementNode], root: inout XMLElementNode?) {
        if stack.isEmpty {
            root = node
        } else {
            stack[stack.count - 1].children.append(node)
        }
    }

    /// The element's attributes, at most 16 (the format uses 2; libxml2 has already refused duplicates).
    private static func attributes(
        _ reader: xmlTextReaderPtr, element: String, line: Int
    ) throws(XMLTransactionError) -> [(name: String, value: String)] {
        var attributes: [(name: String, value: String)] = []
        while xmlTextReaderMoveToNextAttribute(reader) == 1 {
            guard attributes.count < 16 else {
                throw XMLTransactionError(.invalidValue("more than 16 attributes"), element: element, line: line)
            }
            attributes.append((string(xmlTextReaderConstName(reader)), string(xmlTextReaderConstValue(reader))))
        }
        xmlTextReaderMoveToElement(reader)
        return attributes
    }

    private static func currentLine(_ reader: xmlTextReaderPtr) -> Int {
        if let node = xmlTextReaderCurrentNode(reader) {
            let line = xmlGetLineNo(node)
            if line > 0 { return line }
        }
        return Int(xmlTextReaderGetParserLineNumber(reader))
    }

    /// libxml2 hands out UTF-8 whatever the document's encoding was.
    private static func string(_ pointer: UnsafePointer<xmlChar>?) -> String {
        guard let pointer else { return "" }
        return String(cString: pointer)
    }
}

/// Keeps libxml2's first error for the reader it is registered with. Used only on the thread that drives that
/// reader, during one `LibXMLTreeReader.read` call; the C callback reaches it through an unretained pointer.
final class LibXMLErrorCapture {
    private(set) var failure: XMLTransactionError?

    func record(_ error: xmlError) {
        guard failure == nil, error.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
        var message = error.message.map { String(cString: $0) } ?? "unknown libxml2 error \(error.code)"
        while let last = message.unicodeScalars.last, last == "\n" || last == " " { message.removeLast() }
        if message.utf8.count > 200 { message = String(message.prefix(200)) + "…" }
        failure = XMLTransactionError(.notXML(reason: message), line: error.line > 0 ? Int(error.line) : nil)
    }
}
