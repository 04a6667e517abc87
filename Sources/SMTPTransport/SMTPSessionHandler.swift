import Logging
import NIOCore
import NIOSSL
import SMTPProtocol

/// Asks a session to finish its transaction in flight and then close with 421.
struct SMTPShutdownRequest: Sendable {
    /// Close even a session in the middle of DATA (the shutdown grace period is over); a delivery already
    /// handed to the backend still completes first.
    var immediately: Bool
}

/// Drives one `SMTPServerSession` over a channel: frames input through the state machine, writes replies once
/// per read batch, calls the backend, stops reading while a delivery is in flight, and enforces idle timeouts.
final class SMTPSessionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var session: SMTPServerSession
    private let backend: any SMTPBackend
    private let logger: Logger
    private let tls: NIOSSLContext?
    private let commandTimeout: TimeAmount
    private let dataTimeout: TimeAmount
    /// Set for the connection over the limit (or arriving during shutdown): sent instead of the greeting.
    private let refusal: SMTPReply?

    private var context: ChannelHandlerContext?
    private var output: ByteBuffer?
    /// Input received while a delivery is in flight, processed once it completes.
    private var deferredInput: ByteBuffer?
    private var delivering = false
    private var readHeld = false
    private var closing = false
    private var shutdownRequested = false
    /// The grace period is over: DATA in progress no longer keeps the session open.
    private var shutdownImmediately = false
    private var lastActivity = NIODeadline.now()
    private var timeoutTask: Scheduled<Void>?

    init(
        session: SMTPServerSession, backend: any SMTPBackend, logger: Logger, tls: NIOSSLContext?,
        commandTimeout: Duration, dataTimeout: Duration, refusal: SMTPReply?
    ) {
        self.session = session
        self.backend = backend
        self.logger = logger
        self.tls = tls
        self.commandTimeout = TimeAmount(commandTimeout)
        self.dataTimeout = TimeAmount(dataTimeout)
        self.refusal = refusal
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        output = context.channel.allocator.buffer(capacity: 512)
        if context.channel.isActive { start(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeoutTask?.cancel()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private var started = false

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        if let refusal {
            write(refusal)
            close()
            return
        }
        logger.debug("session start", metadata: ["session": "\(session.info.sessionID)"])
        write(session.greeting)
        flushOutput()
        lastActivity = .now()
        scheduleTimeout(at: lastActivity + commandTimeout)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        timeoutTask?.cancel()
        timeoutTask = nil
        deferredInput = nil
        logger.debug("session end", metadata: ["session": "\(session.info.sessionID)"])
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let input = unwrapInboundIn(data)
        guard !closing else { return }
        lastActivity = .now()
        if delivering {
            // A read already under way when input was paused.
            if deferredInput == nil {
                deferredInput = input
            } else {
                var more = input
                deferredInput!.writeBuffer(&more)
            }
            return
        }
        process(input)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushOutput()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if delivering {
            readHeld = true
        } else {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let request = event as? SMTPShutdownRequest {
            shutdownRequested = true
            if request.immediately { shutdownImmediately = true }
            closeIfShuttingDownAndIdle()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug(
            "session error", metadata: ["session": "\(session.info.sessionID)", "error": "\(error)"])
        closing = true
        context.close(promise: nil)
    }

    // MARK: - Driving the state machine

    private func process(_ input: ByteBuffer) {
        var buffer = input
        while !closing {
            let (consumed, action) = buffer.withUnsafeReadableBytes { session.process($0) }
            buffer.moveReaderIndex(forwardBy: consumed)
            guard let action else { break }
            switch action {
            case .reply(let reply):
                write(reply)
            case .validateRecipient(let address):
                let refusal = backend.validateRecipient(address, session: session.info)
                write(session.recipientValidated(refusal))
            case .deliver(let delivery):
                if buffer.readableBytes > 0 { deferredInput = buffer }
                startDelivery(delivery)
                return
            case .startTLS:
                startTLS()
                return
            case .close:
                close()
                return
            }
        }
        closeIfShuttingDownAndIdle()
    }

    private func startDelivery(_ delivery: SMTPDelivery) {
        guard let context else { return }
        delivering = true
        // The client waits for our reply: flush what it is owed so far (e.g. RCPT replies) first.
        flushOutput()
        let backend = self.backend
        let promise = context.eventLoop.makePromise(of: [SMTPReply].self)
        promise.completeWithTask { await backend.deliver(delivery) }
        promise.futureResult.assumeIsolated().whenSuccess { replies in
            self.deliveryFinished(replies)
        }
    }

    private func deliveryFinished(_ replies: [SMTPReply]) {
        delivering = false
        guard !closing, let context else { return }
        for reply in session.deliveryCompleted(replies) { write(reply) }
        lastActivity = .now()
        if shutdownRequested {
            deferredInput = nil
            closeIfShuttingDownAndIdle()
            return
        }
        if let input = deferredInput {
            deferredInput = nil
            process(input)
        }
        flushOutput()
        if readHeld && !delivering && !closing {
            readHeld = false
            context.read()
        }
    }

    private func startTLS() {
        guard let context, let tls else {
            close()
            return
        }
        // The 220 must leave in clear text before the TLS handler sits in front of us.
        flushOutput()
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
            session.tlsStarted()
        } catch {
            logger.debug("STARTTLS failed", metadata: ["session": "\(session.info.sessionID)", "error": "\(error)"])
            close()
        }
    }

    private func closeIfShuttingDownAndIdle() {
        guard shutdownRequested, !closing, !delivering else { return }
        switch session.phase {
        case .command, .awaitingTLS:
            write(.shuttingDown(hostname: session.configuration.hostname))
            close()
        case .data, .awaitingRecipientValidation:
            // DATA in progress finishes first, until the grace period ends (or the data timeout).
            guard shutdownImmediately else { return }
            logger.info(
                "closing a session in mid-transaction: shutdown grace period over",
                metadata: ["session": "\(session.info.sessionID)"])
            write(.shuttingDown(hostname: session.configuration.hostname))
            close()
        case .awaitingDelivery, .closed:
            break
        }
    }

    // MARK: - Output and lifecycle

    private func write(_ reply: SMTPReply) {
        if reply.code >= 400 {
            logger.debug(
                "reply", metadata: ["session": "\(session.info.sessionID)", "reply": "\(reply)"])
        }
        output?.writeSMTPReply(reply)
    }

    private func flushOutput() {
        guard let context, let pending = output?.readableBytes, pending > 0 else { return }
        context.writeAndFlush(wrapOutboundOut(output!), promise: nil)
        // Reuses the storage when the socket took the bytes at once (the usual case); copy-on-write otherwise.
        output!.clear()
    }

    private func close() {
        guard !closing, let context else { return }
        closing = true
        flushOutput()
        timeoutTask?.cancel()
        context.close(promise: nil)
    }

    // MARK: - Timeouts (RFC 5321 §4.5.3.2)

    private func scheduleTimeout(at deadline: NIODeadline) {
        guard let context else { return }
        timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.checkTimeout()
        }
    }

    private func checkTimeout() {
        guard !closing else { return }
        let limit = session.phase == .data ? dataTimeout : commandTimeout
        if delivering {
            // Our own backend is working; the client is not idle.
            scheduleTimeout(at: .now() + limit)
            return
        }
        let deadline = lastActivity + limit
        if deadline <= .now() {
            logger.debug("session timeout", metadata: ["session": "\(session.info.sessionID)"])
            write(.timeout(hostname: session.configuration.hostname))
            close()
        } else {
            scheduleTimeout(at: deadline)
        }
    }
}

extension ByteBuffer {
    /// Writes the reply as `SMTPReply.wireText` does, without building an intermediate String for the common
    /// single-line reply.
    mutating func writeSMTPReply(_ reply: SMTPReply) {
        let utf8 = reply.text.utf8
        guard !utf8.contains(UInt8(ascii: "\n")), !utf8.contains(UInt8(ascii: "\r")) else {
            writeString(reply.wireText)
            return
        }
        writeString(String(reply.code))
        writeInteger(UInt8(ascii: " "))
        if let status = reply.enhancedStatus {
            writeString(status)
            writeInteger(UInt8(ascii: " "))
        }
        writeString(reply.text)
        writeStaticString("\r\n")
    }
}
