/// One element as the reader saw it: small and bounded by `XMLTransactionLimits` (elements, depth, text), so the
/// decoder can check the format on a whole element at once.
struct XMLElementNode: Sendable, Hashable {
    var name: String
    var attributes: [(name: String, value: String)]
    /// The element's own text (text, CDATA and white-space nodes joined), not its children's.
    var text: String
    var children: [XMLElementNode]
    var line: Int

    static func == (lhs: XMLElementNode, rhs: XMLElementNode) -> Bool {
        lhs.name == rhs.name && lhs.text == rhs.text && lhs.children == rhs.children && lhs.line == rhs.line
            && lhs.attributes.map(\.name) == rhs.attributes.map(\.name)
            && lhs.attributes.map(\.value) == rhs.attributes.map(\.value)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(text)
        hasher.combine(line)
    }

    func attribute(_ name: String) -> String? {
        attributes.first { $0.name == name }?.value
    }
}
