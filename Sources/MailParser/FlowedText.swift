/// RFC 3676 `format=flowed`: soft line breaks (a trailing space) are joined, space-stuffing undone,
/// `delsp=yes` honoured, quote depth respected.
enum FlowedText {
    static func unflow(_ text: String, deleteSpace: Bool) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        var paragraph: [UInt8] = []
        var paragraphDepth = -1

        func flush(_ output: inout [UInt8]) {
            guard paragraphDepth >= 0 else { return }
            if !output.isEmpty { output.append(ASCIIByte.lf) }
            if paragraphDepth > 0 {
                output.append(contentsOf: repeatElement(ASCIIByte.greaterThan, count: paragraphDepth))
                if !paragraph.isEmpty { output.append(ASCIIByte.space) }
            }
            output.append(contentsOf: paragraph)
            paragraph.removeAll(keepingCapacity: true)
            paragraphDepth = -1
        }

        for line in text.utf8.split(separator: ASCIIByte.lf, omittingEmptySubsequences: false) {
            var depth = 0
            var content = line[...]
            while content.first == ASCIIByte.greaterThan {
                depth += 1
                content = content.dropFirst()
            }
            if content.first == ASCIIByte.space { content = content.dropFirst() }
            let isSignature = content.elementsEqual("-- ".utf8)
            let isFlowed = content.last == ASCIIByte.space && !isSignature
            if paragraphDepth >= 0, paragraphDepth != depth { flush(&output) }
            if deleteSpace, isFlowed { content = content.dropLast() }
            paragraph.append(contentsOf: content)
            paragraphDepth = depth
            if !isFlowed { flush(&output) }
        }
        flush(&output)
        return String(decoding: output, as: UTF8.self)
    }
}
