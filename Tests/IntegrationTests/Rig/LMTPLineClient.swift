import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What one LMTP transaction got: the reply after DATA for each recipient, how long after the final dot they
/// came, and how the exchange ended if it ended early (connection closed, timeout).
struct LMTPExchange {
    struct Reply {
        var code: Int
        var text: String
    }
    var dataReplies: [Reply] = []
    var secondsAfterDot: Double?
    var error: String?
}

/// A minimal LMTP client over a unix socket, in Swift with blocking I/O on a thread of its own, for tests that
/// time the replies to the millisecond and must see a connection that the daemon drops (a crash).
enum LMTPLineClient {
    static func deliver(
        socket path: String, from sender: String, to recipients: [String], message: String, timeout: Double
    ) async -> LMTPExchange {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(
                    returning: exchange(
                        socket: path, from: sender, to: recipients, message: message, timeout: timeout))
            }
            thread.start()
        }
    }

    private static func exchange(
        socket path: String, from sender: String, to recipients: [String], message: String, timeout: Double
    ) -> LMTPExchange {
        var result = LMTPExchange()
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else {
            result.error = "socket: errno \(errno)"
            return result
        }
        defer { close(descriptor) }
        var wait = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            result.error = "connect: errno \(errno)"
            return result
        }
        var reader = LineReader(descriptor: descriptor)
        func send(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes {
                    Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                if written <= 0 { return false }
                offset += written
            }
            return true
        }
        func expect(_ code: Int, after command: String?) -> Bool {
            if let command, !send(command + "\r\n") {
                result.error = "send \(command) failed: errno \(errno)"
                return false
            }
            guard let reply = reader.reply() else {
                result.error = "no reply to \(command ?? "the greeting"): \(reader.failure)"
                return false
            }
            guard reply.code == code else {
                result.error = "\(command ?? "greeting"): \(reply.code) \(reply.text)"
                return false
            }
            return true
        }
        guard expect(220, after: nil), expect(250, after: "LHLO test.example"),
            expect(250, after: "MAIL FROM:<\(sender)>")
        else { return result }
        for recipient in recipients {
            guard expect(250, after: "RCPT TO:<\(recipient)>") else { return result }
        }
        guard expect(354, after: "DATA") else { return result }
        let lines = message.replacingOccurrences(of: "\r\n", with: "\n").split(
            separator: "\n", omittingEmptySubsequences: false)
        let body = lines.map { $0.hasPrefix(".") ? "." + $0 : String($0) }.joined(separator: "\r\n")
        guard send(body + (body.hasSuffix("\r\n") ? "" : "\r\n") + ".\r\n") else {
            result.error = "sending the message failed: errno \(errno)"
            return result
        }
        let dot = Date()
        for _ in recipients {
            guard let reply = reader.reply() else {
                result.error = "after DATA: \(reader.failure)"
                result.secondsAfterDot = Date().timeIntervalSince(dot)
                return result
            }
            result.dataReplies.append(reply)
        }
        result.secondsAfterDot = Date().timeIntervalSince(dot)
        _ = send("QUIT\r\n")
        return result
    }

    /// Reads CRLF lines and multi-line replies (`250-…` continued, `250 …` last).
    private struct LineReader {
        let descriptor: Int32
        var buffer: [UInt8] = []
        var failure = ""

        init(descriptor: Int32) { self.descriptor = descriptor }

        mutating func line() -> String? {
            while true {
                if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = buffer[..<newline].filter { $0 != UInt8(ascii: "\r") }
                    buffer.removeSubrange(...newline)
                    return String(decoding: line, as: UTF8.self)
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                if count == 0 {
                    failure = "the connection was closed"
                    return nil
                }
                if count < 0 {
                    failure = errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : "recv failed: errno \(errno)"
                    return nil
                }
                buffer += chunk[..<count]
            }
        }

        mutating func reply() -> LMTPExchange.Reply? {
            var text: [String] = []
            while let line = line() {
                guard line.count >= 3, let code = Int(line.prefix(3)) else {
                    failure = "not a reply line: \(line)"
                    return nil
                }
                text.append(String(line.dropFirst(4)))
                if line.count < 4 || line[line.index(line.startIndex, offsetBy: 3)] != "-" {
                    return LMTPExchange.Reply(code: code, text: text.joined(separator: "\n"))
                }
            }
            return nil
        }
    }
}
