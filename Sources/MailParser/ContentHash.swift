import Crypto

/// Lower-case hex SHA-256 of `bytes`: the content address of attachments and raw messages.
public func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
    var hasher = SHA256()
    let hashedContiguously: Void? = bytes.withContiguousStorageIfAvailable {
        hasher.update(bufferPointer: UnsafeRawBufferPointer($0))
    }
    if hashedContiguously == nil { hasher.update(data: Array(bytes)) }
    return HexEncoding.lowercase(hasher.finalize())
}

/// Lower-case hex SHA-256 of a large buffer, hashed in chunks with `relief` told of each (for file mappings).
public func sha256Hex(_ bytes: UnsafeBufferPointer<UInt8>, relief: ScanRelief?) -> String {
    var hasher = SHA256()
    var offset = 0
    let step = relief?.interval ?? bytes.count
    while offset < bytes.count {
        let end = min(bytes.count, offset + max(step, 1))
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[offset..<end]))
        relief?.scanned(end - offset)
        offset = end
    }
    return HexEncoding.lowercase(hasher.finalize())
}

/// Lower-case hex SHA-256 of `parts` one after the other, without joining them first.
public func sha256Hex(concatenating parts: [UnsafeRawBufferPointer]) -> String {
    var hasher = SHA256()
    for part in parts { hasher.update(bufferPointer: part) }
    return HexEncoding.lowercase(hasher.finalize())
}
