import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A minimal blocking LMTP client over a unix socket that sends a message's exact bytes (8-bit, invalid UTF-8,
/// NUL) and measures how long the replies to DATA take. Every read times out, so a daemon that never answers
/// fails the test instead of hanging it.
final class RawLMTPClient {
    struct Reply: CustomStringConvertible {
        let code: Int
        let text: String
        var description: String { "\(code) \(text)" }
    }

    private let fd: Int32
    private var buffered: [UInt8] = []

    init(socketPath: String, readTimeoutSeconds: Int = 30) throws {
        #if canImport(Glibc)
            let streamType = Int32(SOCK_STREAM.rawValue)
        #else
            let streamType = SOCK_STREAM
        #endif
        fd = socket(AF_UNIX, streamType, 0)
        guard fd >= 0 else { throw RigError.launchFailed(command: "socket(AF_UNIX)", reason: "errno \(errno)") }
        var timeout = timeval(tv_sec: readTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw RigError.launchFailed(command: "connect(\(socketPath))", reason: "path too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw RigError.launchFailed(command: "connect(\(socketPath))", reason: "errno \(errno)")
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else {
                throw RigError.unexpectedOutput(command: "LMTP write", reason: "errno \(errno)", output: "")
            }
            offset += written
        }
    }

    func send(_ line: String) throws { try send(Array((line + "\r\n").utf8)) }

    /// One reply, multi-line replies joined (`250-...` lines up to the `250 ...` line).
    func readReply() throws -> Reply {
        var texts: [String] = []
        while true {
            let line = try readLine()
            guard line.utf8.count >= 3, let code = Int(line.prefix(3)) else {
                throw RigError.unexpectedOutput(command: "LMTP read", reason: "not a reply line", output: line)
            }
            texts.append(String(line.dropFirst(4)))
            if line.utf8.count == 3 || line.dropFirst(3).first == " " {
                return Reply(code: code, text: texts.joined(separator: "\n"))
            }
        }
    }

    private func readLine() throws -> String {
        while true {
            if let newline = buffered.firstIndex(of: 0x0A) {
                var line = Array(buffered[..<newline])
                buffered.removeSubrange(...newline)
                if line.last == 0x0D { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else {
                throw RigError.timedOut(
                    what: "LMTP reply", seconds: 30, detail: count == 0 ? "connection closed" : "errno \(errno)")
            }
            buffered += chunk[..<count]
        }
    }

    /// LHLO, MAIL, RCPT for each recipient, DATA with `message` dot-stuffed; returns the replies to the
    /// recipients and to DATA, and the seconds from the end of the data to the last DATA reply.
    func deliver(from sender: String, to recipients: [String], message: [UInt8]) throws
        -> (rcpt: [Reply], data: [Reply], seconds: Double)
    {
        _ = try readReply()
        try send("LHLO robustness.test")
        _ = try readReply()
        try send("MAIL FROM:<\(sender)>")
        _ = try readReply()
        var rcptReplies: [Reply] = []
        for recipient in recipients {
            try send("RCPT TO:<\(recipient)>")
            rcptReplies.append(try readReply())
        }
        try send("DATA")
        let start = try readReply()
        guard start.code == 354 else { return (rcptReplies, [start], 0) }
        try send(Self.dotStuffed(message) + Array(".\r\n".utf8))
        let clock = ContinuousClock()
        let began = clock.now
        var dataReplies: [Reply] = []
        for _ in rcptReplies.filter({ $0.code == 250 }) { dataReplies.append(try readReply()) }
        let elapsed = clock.now - began
        try? send("QUIT")
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (rcptReplies, dataReplies, seconds)
    }

    /// `message` with a `.` doubled at the start of every CRLF-ended line (only CRLF ends a line in DATA) and a
    /// final CRLF. O(n), one pass.
    static func dotStuffed(_ message: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(message.count + 64)
        var atLineStart = true
        var previous: UInt8 = 0
        for byte in message {
            if atLineStart, byte == 0x2E { result.append(0x2E) }
            result.append(byte)
            atLineStart = byte == 0x0A && previous == 0x0D
            previous = byte
        }
        if !atLineStart { result += [0x0D, 0x0A] }
        return result
    }
}
