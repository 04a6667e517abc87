import Dispatch
import Foundation
import MessageSpool
import NIOCore
import NIOPosix
import SMTPProtocol
import SMTPTransport
import Synchronization
import Testing

/// A backend that notes where `deliver` was called and completes either at once, on the
/// calling thread, or later from another thread (as a store's writer does).
private final class ThreadNotingBackend: SMTPBackend {
    enum Completion { case synchronous, fromAnotherThread }

    private struct Seen {
        var onEventLoop: [Bool] = []
        var sizes: [Int] = []
        var stackDepths: [Int] = []
    }

    let completion: Completion
    private let seen = Mutex(Seen())
    private let completer = DispatchQueue(label: "test.completer")

    init(completion: Completion) { self.completion = completion }

    var onEventLoop: [Bool] { seen.withLock { $0.onEventLoop } }
    var sizes: [Int] { seen.withLock { $0.sizes } }
    /// Frames on the stack at each call: they grow if the server handles pipelined transactions recursively.
    var stackDepths: [Int] { seen.withLock { $0.stackDepths } }

    func validateRecipient(_ address: String, session: SMTPSessionInfo) -> SMTPRecipientCheck {
        .accept(route: nil)
    }

    func deliver(
        _ delivery: SMTPDelivery, message: RawMessage, completion: @escaping @Sendable ([SMTPReply]) -> Void
    ) {
        let depth = Thread.callStackReturnAddresses.count
        let count = seen.withLock { seen in
            seen.stackDepths.append(depth)
            seen.onEventLoop.append(MultiThreadedEventLoopGroup.currentEventLoop != nil)
            seen.sizes.append(message.count)
            return seen.sizes.count
        }
        let replies = delivery.recipients.map {
            SMTPReply(code: 250, enhancedStatus: "2.0.0", "<\($0)> delivery \(count)")
        }
        switch self.completion {
        case .synchronous: completion(replies)
        case .fromAnotherThread: completer.asyncAfter(deadline: .now() + .milliseconds(2)) { completion(replies) }
        }
    }
}

@Suite("Where the server hands a message to the backend", .serialized, .timeLimit(.minutes(2)))
struct DeliveryThreadTests {
    @Test func smallMessagesOnTheEventLoopLargerOnesOnTheThreadPool() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let backend = ThreadNotingBackend(completion: .fromAnotherThread)
        var configuration = SMTPServerConfiguration(hostname: "mx.test")
        configuration.inlineDeliveryLimit = 1024
        let server = makeServer(configuration, backend: backend)
        let path = directory.path + "/lmtp.sock"
        try await server.listenUnix(path: path)
        let script = """
            import smtplib, sys
            s = smtplib.LMTP(sys.argv[1])
            def body(size):
                lines, rest = [b'Subject: s\\r\\n\\r\\n'], size - 14
                while rest > 100:
                    lines.append(b'x' * 98 + b'\\r\\n'); rest -= 100
                lines.append(b'x' * (rest - 2) + b'\\r\\n')
                return b''.join(lines)
            for size in (100, 5000, 1024):
                assert len(body(size)) == size, len(body(size))
                print(s.sendmail('a@x.test', ['b@x.test'], body(size)) == {})
            s.quit()
            """
        let result = try await runPython(script, arguments: [path])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "True\nTrue\nTrue\n")
        #expect(backend.sizes == [100, 5000, 1024])
        #expect(backend.onEventLoop == [true, false, true])
        await server.shutdownGracefully()
    }

    /// A backend that completes before `deliver` returns (a closed store does) must not make the session handle
    /// the next pipelined transaction from inside the previous one: every reply still comes, in order.
    @Test func synchronousCompletionsOfManyPipelinedTransactions() async throws {
        let backend = ThreadNotingBackend(completion: .synchronous)
        let server = makeServer(backend: backend)
        let port = try await server.listenTCP(host: "127.0.0.1", port: 0, dialect: .lmtp)
        let script =
            pythonRawClient + """
                import threading
                count = int(sys.argv[2])
                s, f = connect(('127.0.0.1', int(sys.argv[1])))
                reply(f)
                one = b'MAIL FROM:<s@x.test>\\r\\nRCPT TO:<a@x.test>\\r\\nDATA\\r\\nhi\\r\\n.\\r\\n'
                sender = threading.Thread(target=lambda: s.sendall(b'LHLO c\\r\\n' + one * count + b'QUIT\\r\\n'))
                sender.start()
                codes = [reply(f)[:3]]
                finals = []
                for _ in range(count):
                    codes += [reply(f)[:3] for _ in range(3)]
                    finals.append(reply(f))
                codes.append(reply(f)[:3])
                sender.join()
                print(' '.join(sorted(set(codes))), len(codes))
                print(all(line.endswith('delivery %d' % (i + 1)) for i, line in enumerate(finals)))
                """
        let count = 2000
        let result = try await runPython(script, arguments: [String(port), String(count)], timeout: 60)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "221 250 354 \(count * 3 + 2)\nTrue\n")
        #expect(backend.sizes.count == count)
        #expect(backend.onEventLoop.allSatisfy { $0 })
        let depths = backend.stackDepths
        #expect(depths.count == count && depths.max()! - depths.min()! < 30, "stack depths \(Set(depths).sorted())")
        await server.shutdownGracefully()
    }
}
