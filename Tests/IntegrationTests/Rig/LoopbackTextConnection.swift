import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A blocking client for line-based protocols (IMAP, POP3) on a 127.0.0.1 TCP port, written byte by byte
/// by the test: an independent client, so the rig is not checked with the poller's own codecs. Every read
/// has a timeout, so a silent server fails the test instead of hanging it.
final class LoopbackTextConnection {
    let port: UInt16
    let readTimeoutSeconds: Int
    private let fd: Int32
    private var buffered: [UInt8] = []
    /// Bytes before `cursor` in `buffered` have been handed out already.
    private var cursor = 0

    init(port: UInt16, readTimeoutSeconds: Int = 10) throws {
        self.port = port
        self.readTimeoutSeconds = readTimeoutSeconds
        guard let fd = LoopbackSockets.connectedDescriptor(port: port) else {
            throw RigError.launchFailed(command: "connect(127.0.0.1:\(port))", reason: "errno \(errno)")
        }
        self.fd = fd
        var timeout = timeval(tv_sec: readTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Sends `line` and CRLF.
    func send(_ line: String) throws {
        let bytes = Array((line + "\r\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else {
                throw RigError.unexpectedOutput(
                    command: "write to 127.0.0.1:\(port)", reason: "errno \(errno)", output: "")
            }
            offset += written
        }
    }

    /// The next line without its CRLF (or bare LF), decoded as UTF-8. O(n) in the line's bytes.
    func readLine() throws -> String {
        var searched = cursor
        while true {
            if let newline = buffered[searched...].firstIndex(of: 0x0A) {
                var end = newline
                if end > cursor, buffered[end - 1] == 0x0D { end -= 1 }
                let line = String(decoding: buffered[cursor..<end], as: UTF8.self)
                cursor = newline + 1
                return line
            }
            searched = buffered.count
            try fill()
        }
    }

    /// Lines up to and including the first one `isLast` accepts.
    func readLines(until isLast: (String) -> Bool) throws -> [String] {
        var lines: [String] = []
        while true {
            let line = try readLine()
            lines.append(line)
            if isLast(line) { return lines }
        }
    }

    /// Exactly `count` bytes (an IMAP literal).
    func readBytes(count: Int) throws -> [UInt8] {
        while buffered.count - cursor < count { try fill() }
        let bytes = Array(buffered[cursor..<cursor + count])
        cursor += count
        return bytes
    }

    /// Reads and discards until the server closes the connection; false if it is still open after `seconds`.
    func waitForClose(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            do { try fill() } catch RigError.unexpectedOutput(_, "connection closed", _) { return true } catch {}
        }
        return false
    }

    /// Appends one read to the buffer, first dropping what was handed out (amortised O(1) per byte).
    private func fill() throws {
        if cursor > 65536, cursor * 2 > buffered.count {
            buffered.removeSubrange(..<cursor)
            cursor = 0
        }
        var chunk = [UInt8](repeating: 0, count: 16384)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count == 0 {
            throw RigError.unexpectedOutput(
                command: "read from 127.0.0.1:\(port)", reason: "connection closed",
                output: String(decoding: buffered[cursor...], as: UTF8.self))
        }
        guard count > 0 else {
            throw RigError.timedOut(
                what: "a line from 127.0.0.1:\(port)", seconds: Double(readTimeoutSeconds), detail: "errno \(errno)")
        }
        buffered += chunk[..<count]
    }
}
