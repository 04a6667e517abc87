/// One element as the reader saw it: small and bounded by `XMLTransactionLimits` (elements, depth, text), so the
/// decoder can check the format on a whole element at once.
struct XMLElementNode {
    var name: String
    var attributes: [(name: String, value: String)]
    /// The element's own text (text, CDATA and white-space nodes joined), not its children's.
    var text: String
    var children: [XMLElementNode]
    var line: Int

    func attribute(_ name: String) -> String? {
        attributes.first { $0.name == name }?.value
    }
}
