/// Builds command segments: text, atoms, quoted strings and literals. O(bytes written).
struct CommandWriter {
    let literalMode: IMAPCommandEncoder.LiteralMode
    var segments: [[UInt8]] = []
    var current: [UInt8] = []

    init(literalMode: IMAPCommandEncoder.LiteralMode) {
        self.literalMode = literalMode
    }

    mutating func append(_ text: String) {
        current.append(contentsOf: text.utf8)
    }

    /// CRLF, then a new segment (the server's `+` comes in between).
    mutating func endSegment() {
        current.append(contentsOf: [.cr, .lf])
        segments.append(current)
        current = []
    }

    /// An astring (or a list-mailbox with `wildcards`): atom, quoted or literal, the shortest that is valid.
    mutating func appendString(_ bytes: [UInt8], argument: String, wildcards: Bool = false)
        throws(IMAPCommandEncodingError)
    {
        guard !bytes.contains(0) else {
            throw IMAPCommandEncodingError(argument: argument, reason: "contains a NUL byte")
        }
        let atomOK =
            !bytes.isEmpty
            && bytes.allSatisfy {
                $0.isAtomChar || $0 == .closeBracket || (wildcards && ($0 == 0x25 || $0 == .asterisk))
            }
        if atomOK {
            current.append(contentsOf: bytes)
            return
        }
        let needsLiteral =
            bytes.count > IMAPCommandEncoder.maxQuotedLength || bytes.contains { $0 == .cr || $0 == .lf || $0 >= 0x80 }
        if !needsLiteral {
            current.append(.quote)
            for byte in bytes {
                if byte == .quote || byte == .backslash { current.append(.backslash) }
                current.append(byte)
            }
            current.append(.quote)
            return
        }
        let nonSynchronizing: Bool
        switch literalMode {
        case .synchronizing: nonSynchronizing = false
        case .nonSynchronizing: nonSynchronizing = true
        case .nonSynchronizingUpTo4096: nonSynchronizing = bytes.count <= 4096
        }
        if nonSynchronizing {
            append("{\(bytes.count)+}\r\n")
        } else {
            append("{\(bytes.count)}")
            endSegment()
        }
        current.append(contentsOf: bytes)
    }

    mutating func finish() -> [[UInt8]] {
        endSegment()
        return segments
    }
}
