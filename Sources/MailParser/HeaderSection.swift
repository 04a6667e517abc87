/// The header fields of a message or MIME part, unfolded, stored in one byte buffer so a section costs
/// two allocations however many fields it has.
struct HeaderSection: Sendable {
    struct Field: Sendable {
        var name: Range<Int>
        var value: Range<Int>
    }

    var storage: [UInt8] = []
    var fields: [Field] = []

    @inline(__always) func name(of field: Field) -> ArraySlice<UInt8> { storage[field.name] }
    @inline(__always) func value(of field: Field) -> ArraySlice<UInt8> { storage[field.value] }

    /// The first field named `lowercaseName` (ASCII case-insensitive).
    func first(_ lowercaseName: StaticString) -> ArraySlice<UInt8>? {
        for field in fields where ByteText.equalsIgnoringCase(storage[field.name], lowercaseName) {
            return storage[field.value]
        }
        return nil
    }

    /// Every field named `lowercaseName`, in order.
    func all(_ lowercaseName: StaticString) -> [ArraySlice<UInt8>] {
        var values: [ArraySlice<UInt8>] = []
        for field in fields where ByteText.equalsIgnoringCase(storage[field.name], lowercaseName) {
            values.append(storage[field.value])
        }
        return values
    }

    /// Reads the header section starting at `range.lowerBound`; returns it with the offset where the body
    /// starts. Lines end at LF, CR LF or a bare CR (`LineScanner.LineEnds.anyBreak`): mail with CR-only line
    /// ends is split into fields as Python's `email` splits it, and so is a stray CR inside a value; CR LF and
    /// mixed CR LF/LF mail read as before, and CR CR LF (mail converted twice) is one line end. (The body's text
    /// reads bare CRs as line ends too: `ByteText.normalizingNewlines`.) Lines are unfolded by removing the line break only (RFC 5322 §2.2.3). O(n) in the header
    /// section's bytes: one `LineScanner` pass that stops at the blank line, each line read once more for its
    /// name.
    static func parse(
        _ buffer: UnsafeBufferPointer<UInt8>, in range: Range<Int>, limits: ParserLimits,
        defects: inout [String]
    ) -> (section: HeaderSection, bodyStart: Int) {
        var section = HeaderSection()
        section.storage.reserveCapacity(min(range.count, 4096))
        section.fields.reserveCapacity(24)
        guard buffer.baseAddress != nil else { return (section, range.upperBound) }
        var position = range.lowerBound
        let end = range.upperBound
        var openField: (name: Range<Int>, valueStart: Int)?
        var skippedFields = 0
        var skippingField = false
        var isFirstLine = true

        func closeField(_ section: inout HeaderSection) {
            guard let field = openField else { return }
            var valueEnd = section.storage.count
            while valueEnd > field.valueStart, section.storage[valueEnd - 1].isWhitespace { valueEnd -= 1 }
            section.fields.append(Field(name: field.name, value: field.valueStart..<valueEnd))
            openField = nil
        }

        var lines = LineScanner(buffer, in: position..<end, lineEnds: .anyBreak)
        while let line = lines.next() {
            let lineStart = line.content.lowerBound
            let lineEnd = line.content.upperBound
            position = line.next
            defer { isFirstLine = false }

            if lineEnd == lineStart {
                closeField(&section)
                if skippedFields > 0 {
                    defects.append(
                        "\(skippedFields) header fields beyond the limit of \(limits.maxHeaderCount) were skipped")
                }
                return (section, position)
            }
            let first = buffer[lineStart]
            if first.isBlank {
                if skippingField { continue }
                if openField != nil {
                    section.storage.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[lineStart..<lineEnd]))
                } else if isFirstLine {
                    defects.append("the first header line is a continuation line")
                }
                continue
            }
            closeField(&section)
            skippingField = false
            // Find the colon and check the field name is printable ASCII without spaces (obsolete syntax
            // allows blanks before the colon).
            var colon = lineStart
            var nameEnd = -1
            var validName = true
            while colon < lineEnd {
                let byte = buffer[colon]
                if byte == ASCIIByte.colon { break }
                if byte.isBlank {
                    if nameEnd < 0 { nameEnd = colon }
                } else if nameEnd >= 0 || byte < 0x21 || byte > 0x7E {
                    validName = false
                    break
                }
                colon += 1
            }
            if nameEnd < 0 { nameEnd = colon }
            if colon >= lineEnd || !validName || nameEnd == lineStart {
                if isFirstLine, lineEnd - lineStart >= 5, buffer[lineStart] == 0x46,  // "From " (mbox)
                    buffer[lineStart + 1] == 0x72, buffer[lineStart + 2] == 0x6F,
                    buffer[lineStart + 3] == 0x6D, buffer[lineStart + 4] == ASCIIByte.space
                {
                    continue
                }
                defects.append("header section ended without a blank line (line \(lineStart - range.lowerBound))")
                return (section, lineStart)
            }
            if section.fields.count >= limits.maxHeaderCount {
                skippedFields += 1
                skippingField = true
                continue
            }
            let nameStart = section.storage.count
            section.storage.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[lineStart..<nameEnd]))
            let nameRange = nameStart..<section.storage.count
            var valueStart = colon + 1
            while valueStart < lineEnd, buffer[valueStart].isBlank { valueStart += 1 }
            let storedValueStart = section.storage.count
            section.storage.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[valueStart..<lineEnd]))
            openField = (nameRange, storedValueStart)
        }
        closeField(&section)
        if skippedFields > 0 {
            defects.append("\(skippedFields) header fields beyond the limit of \(limits.maxHeaderCount) were skipped")
        }
        return (section, end)
    }
}
