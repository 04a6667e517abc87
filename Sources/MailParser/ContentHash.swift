import Crypto

/// Lower-case hex SHA-256 of `bytes`: the content address of attachments and raw messages.
public func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
    var hasher = SHA256()
    let hashedContiguously: Void? = bytes.withContiguousStorageIfAvailable {
        hasher.update(bufferPointer: UnsafeRawBufferPointer($0))
    }
    if hashedContiguously == nil { hasher.update(data: Array(bytes)) }
    return hexDigest(hasher.finalize())
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
    return hexDigest(hasher.finalize())
}

/// Lower-case hex of a digest.
public func hexDigest(_ digest: some Sequence<UInt8>) -> String {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var hex: [UInt8] = []
    hex.reserveCapacity(64)
    for byte in digest {
        hex.append(digits[Int(byte >> 4)])
        hex.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: hex, as: UTF8.self)
}
