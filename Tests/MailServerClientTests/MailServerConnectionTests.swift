import Foundation
import MailServerClient
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The connection over real loopback sockets: a server that stops reading or answering holds no caller beyond
/// the connection's timeout.
@Suite struct MailServerConnectionTests {
    /// A loopback listener that never accepts: the kernel completes connections into its backlog and buffers what
    /// the client sends until the buffers are full, and nobody ever reads or answers.
    final class DeafListener: Sendable {
        let descriptor: Int32
        let port: Int

        init() throws {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
            }
            guard bound == 0, listen(descriptor, 4) == 0 else {
                close(descriptor)
                throw POSIXError(.EADDRINUSE)
            }
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
            }
            self.descriptor = descriptor
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit { close(descriptor) }
    }

    /// Runs `body`, or records an issue after `limit` if it has not returned: a hang fails the test instead of
    /// holding the suite.
    static func within(_ limit: Duration, _ body: @escaping @Sendable () async -> Void) async {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await body()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            if await group.next() == false { Issue.record("still waiting after \(limit)") }
            group.cancelAll()
        }
    }

    /// A plain connection to the listener on `port`, or nil with the failure recorded.
    static func connect(_ port: Int, timeout: Duration) async -> MailServerConnection? {
        do {
            return try await MailServerConnection.connect(
                host: "127.0.0.1", port: port, tls: .none, caFile: nil, timeout: timeout)
        } catch {
            Issue.record("cannot connect to the listener: \(error)")
            return nil
        }
    }

    @Test func aServerThatStopsReadingCannotHoldAWriter() async throws {
        let listener = try DeafListener()
        let started = ContinuousClock.now
        await Self.within(.seconds(60)) {
            guard let connection = await Self.connect(listener.port, timeout: .seconds(1)) else { return }
            do throws(MailServerConnectionError) {
                // More than the socket buffers on both sides hold: the later writes wait for a reader.
                let chunk = [UInt8](repeating: 0x61, count: 1 << 20)
                for _ in 0..<256 { try await connection.write(chunk) }
                Issue.record("256 MiB written to a server that reads nothing")
            } catch {
                #expect(error.step == .timeout, "\(error)")
                #expect(error.detail.contains("read nothing we sent within"), "\(error)")
            }
            await connection.close()
        }
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test func aServerThatNeverAnswersTimesOutAReader() async throws {
        let listener = try DeafListener()
        await Self.within(.seconds(60)) {
            guard let connection = await Self.connect(listener.port, timeout: .seconds(5)) else { return }
            do throws(MailServerConnectionError) {
                _ = try await connection.read(within: .milliseconds(300))
                Issue.record("read something from a server that sends nothing")
            } catch {
                #expect(error.step == .timeout, "\(error)")
                #expect(error.detail.contains("no answer from 127.0.0.1 within"), "\(error)")
            }
            await connection.close()
        }
    }

    @Test func nothingListeningIsAConnectError() async throws {
        let port = try DeafListener().port  // closed again: nothing listens there now
        do throws(MailServerConnectionError) {
            _ = try await MailServerConnection.connect(
                host: "127.0.0.1", port: port, tls: .none, caFile: nil, timeout: .seconds(5))
            Issue.record("connected to a closed port")
        } catch {
            #expect(error.step == .connect, "\(error)")
            #expect(error.detail.hasPrefix("cannot connect to 127.0.0.1:\(port)"), "\(error)")
        }
    }
}
