import Crypto

/// Lower-case hex SHA-256 of `bytes` (attachment hashes, idempotency keys).
public func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
    var hasher = SHA256()
    let hashedContiguously: Void? = bytes.withContiguousStorageIfAvailable {
        hasher.update(bufferPointer: UnsafeRawBufferPointer($0))
    }
    if hashedContiguously == nil { hasher.update(data: Array(bytes)) }
    let digest = hasher.finalize()
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var hex: [UInt8] = []
    hex.reserveCapacity(64)
    for byte in digest {
        hex.append(digits[Int(byte >> 4)])
        hex.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: hex, as: UTF8.self)
}
