import Logging
import MessageSpool
import NIOCore
import NIOPosix
import NIOSSL
import SMTPProtocol

/// Asks a session to finish its transaction in flight and then close with 421.
struct SMTPShutdownRequest: Sendable {
    /// Close even a session in the middle of DATA (the shutdown grace period is over); a delivery already
    /// handed to the backend still completes first.
    var immediately: Bool
}

/// Drives one `SMTPServerSession` over a channel: frames input through the state machine, writes replies once
/// per read batch, writes large messages to a spool file as they arrive, calls the backend, stops reading while
/// a delivery or a spool write is in flight or while the client does not read its replies, and enforces idle
/// timeouts and absolute deadlines.
final class SMTPSessionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Bounds on what a slow or greedy client may cost, besides the idle timeouts.
    struct ClientLimits: Sendable {
        /// See `SMTPServerConfiguration.commandDeadline`.
        var commandDeadline: Duration = .seconds(300)
        /// See `SMTPServerConfiguration.transactionDeadline`.
        var transactionDeadline: Duration = .seconds(3600)
        /// See `SMTPServerConfiguration.maxPendingOutput`.
        var maxPendingOutput = 1 << 20
    }

    /// The channel's write buffer high water mark (set by `SMTPServer`): above it the channel is not writable.
    static let writeBufferHighMark = 64 * 1024
    /// Replies of one read batch are flushed once this many octets are waiting, so that the channel's
    /// writability reflects them while the batch is still being processed.
    private static let outputFlushThreshold = 16 * 1024

    private var session: SMTPServerSession
    private let backend: any SMTPBackend
    private let logger: Logger
    private let tls: NIOSSLContext?
    private let commandTimeout: TimeAmount
    private let dataTimeout: TimeAmount
    /// Set for the connection over the limit (or arriving during shutdown): sent instead of the greeting.
    private let refusal: SMTPReply?
    private let spoolDirectory: String?
    private let limits: ClientLimits
    /// Messages up to this size are delivered on the event loop, larger ones on the thread pool.
    private let inlineDeliveryLimit: Int
    /// The spool file of the message in progress, once it outgrew the session's spool threshold.
    private var spool: SpoolFileWriter?
    /// Why the message in progress could not be spooled: the rest of it is read and dropped, then refused 451.
    private var spoolFailure: SpoolError?
    /// A chunk is being appended to `spool` on the thread pool.
    private var spoolWriteInFlight = false

    private var context: ChannelHandlerContext?
    private var output: ByteBuffer?
    /// Input received while a delivery or a spool write is in flight, processed once it completes.
    private var deferredInput: ByteBuffer?
    /// A delivery or a spool write is in flight: input waits, reads are held.
    private var delivering = false
    /// The client does not read its replies fast enough (the channel is not writable): input waits, reads
    /// are held, until the channel drains below its low water mark.
    private var waitingForWritability = false
    /// Set while `startDelivery` registers its callback: then a delivery that already completed is finished
    /// on the next loop tick, not inside `process`.
    private var registeringDeliveryCallback = false
    private var readHeld = false
    private var closing = false
    private var shutdownRequested = false
    /// The grace period is over: DATA in progress no longer keeps the session open.
    private var shutdownImmediately = false
    private var lastActivity = NIODeadline.now()
    private var timeoutTask: Scheduled<Void>?
    /// When `timeoutTask` fires.
    private var timeoutScheduledAt: NIODeadline?

    init(
        session: SMTPServerSession, backend: any SMTPBackend, logger: Logger, tls: NIOSSLContext?,
        commandTimeout: Duration, dataTimeout: Duration, refusal: SMTPReply?, spoolDirectory: String? = nil,
        inlineDeliveryLimit: Int = 64 * 1024, limits: ClientLimits = ClientLimits()
    ) {
        self.inlineDeliveryLimit = inlineDeliveryLimit
        self.limits = limits
        self.session = session
        self.backend = backend
        self.logger = logger
        self.tls = tls
        self.commandTimeout = TimeAmount(commandTimeout)
        self.dataTimeout = TimeAmount(dataTimeout)
        self.refusal = refusal
        self.spoolDirectory = spoolDirectory
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
        // A spool write still running on the thread pool uses the file until it returns, and the file is released
        // then: closing its descriptor now could hand the number to another file in the middle of that write.
        if !spoolWriteInFlight { discardSpool() }
        logger.debug("session end", metadata: ["session": "\(session.info.sessionID)"])
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let input = unwrapInboundIn(data)
        guard !closing else { return }
        lastActivity = .now()
        if !context.channel.isWritable { waitingForWritability = true }
        if delivering || waitingForWritability {
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
        scheduleEarlierDeadline()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushOutput()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if delivering || waitingForWritability || !context.channel.isWritable {
            readHeld = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            // On the next tick: this event may come from inside a flush in the middle of `process`.
            context.eventLoop.assumeIsolated().execute { self.writabilityRestored() }
        }
        context.fireChannelWritabilityChanged()
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
                if repliesBackedUp() {
                    if buffer.readableBytes > 0 { deferredInput = buffer }
                    return
                }
            case .validateRecipient(let address):
                write(session.recipientValidated(backend.validateRecipient(address, session: session.info)))
            case .spool(let octets):
                if startSpoolWrite(octets) {
                    if buffer.readableBytes > 0 { deferredInput = buffer }
                    return
                }
            case .discardSpool:
                discardSpool()
            case .deliver(let delivery, let body):
                if buffer.readableBytes > 0 { deferredInput = buffer }
                startDelivery(delivery, body: body)
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

    /// Appends octets of the message in progress to its spool file on NIO's thread pool (a disk write must not
    /// stall the event loop's other sessions). Returns true when a write was started: input then waits for it.
    private func startSpoolWrite(_ octets: [UInt8]) -> Bool {
        guard spoolFailure == nil, let context, let spoolDirectory else { return false }
        let writer: SpoolFileWriter
        if let spool {
            writer = spool
        } else {
            do {
                writer = try SpoolFileWriter(directory: spoolDirectory)
                spool = writer
            } catch {
                spoolFailed(error)
                return false
            }
        }
        delivering = true
        spoolWriteInFlight = true
        NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop) { try writer.append(octets) }
            .assumeIsolated().whenComplete { result in
                self.spoolWriteInFlight = false
                if case .failure(let error) = result { self.spoolFailed(error) }
                if self.closing { self.discardSpool() }
                self.resume()
            }
        return true
    }

    private func spoolFailed(_ error: any Error) {
        let failure = error as? SpoolError ?? SpoolError(operation: "write", path: spool?.path, code: EIO)
        logger.error(
            "cannot spool message; it will be refused with 451",
            metadata: ["session": "\(session.info.sessionID)", "error": "\(failure)"])
        spoolFailure = failure
        discardSpool(keepFailure: true)
    }

    private func discardSpool(keepFailure: Bool = false) {
        spool?.discard()
        spool = nil
        if !keepFailure { spoolFailure = nil }
    }

    private func startDelivery(_ delivery: SMTPDelivery, body: [UInt8]) {
        guard let context else { return }
        delivering = true
        // The client waits for our reply: flush what it is owed so far (e.g. RCPT replies) first.
        flushOutput()
        if let failure = spoolFailure {
            discardSpool()
            let reply = SMTPReply.temporaryFailure("Cannot spool the message: \(failure)")
            deliveryFinished(Array(repeating: reply, count: delivery.recipients.count))
            return
        }
        let promise = context.eventLoop.makePromise(of: [SMTPReply].self)
        if let spool {
            // The rest of the message joins its spool file, which is then mapped: the backend reads it from there.
            self.spool = nil
            let backend = self.backend
            let inlineDeliveryLimit = self.inlineDeliveryLimit
            NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop) { () throws -> RawMessage in
                try spool.append(body)
                return try spool.finish()
            }.whenComplete { [delivery] result in
                switch result {
                case .success(let message) where message.count <= inlineDeliveryLimit:
                    backend.deliver(delivery, message: message) { promise.succeed($0) }
                case .success(let message):
                    Self.deliverOnThreadPool(delivery, message: message, backend: backend, promise: promise)
                case .failure(let error):
                    let reply = SMTPReply.temporaryFailure("Cannot spool the message: \(error)")
                    promise.succeed(Array(repeating: reply, count: delivery.recipients.count))
                }
            }
        } else {
            let message = RawMessage(body)
            if message.count <= inlineDeliveryLimit {
                // The backend's synchronous part (parsing, classification) runs right here; its completion comes
                // from the thread that committed, and the promise brings the replies back to this loop.
                backend.deliver(delivery, message: message) { promise.succeed($0) }
            } else {
                Self.deliverOnThreadPool(delivery, message: message, backend: backend, promise: promise)
            }
        }
        let eventLoop = context.eventLoop
        registeringDeliveryCallback = true
        defer { registeringDeliveryCallback = false }
        promise.futureResult.assumeIsolated().whenSuccess { replies in
            if self.registeringDeliveryCallback {
                // Completed before `startDelivery` returned (no store was involved): finishing here would process
                // the waiting input from inside `process`, one stack frame deeper per pipelined transaction.
                eventLoop.assumeIsolated().execute { self.deliveryFinished(replies) }
            } else {
                self.deliveryFinished(replies)
            }
        }
    }

    /// Hands a message too large to parse on the event loop to the backend on NIO's thread pool.
    private static func deliverOnThreadPool(
        _ delivery: SMTPDelivery, message: RawMessage, backend: any SMTPBackend,
        promise: EventLoopPromise<[SMTPReply]>
    ) {
        NIOThreadPool.singleton.submit { state in
            guard case .active = state else {
                let reply = SMTPReply.temporaryFailure("The server is shutting down")
                promise.succeed(Array(repeating: reply, count: delivery.recipients.count))
                return
            }
            backend.deliver(delivery, message: message) { promise.succeed($0) }
        }
    }

    private func deliveryFinished(_ replies: [SMTPReply]) {
        guard !closing, context != nil else {
            delivering = false
            return
        }
        for reply in session.deliveryCompleted(replies) { write(reply) }
        resume()
    }

    /// A delivery or spool write completed: input that waited is processed and reading resumes.
    private func resume() {
        delivering = false
        guard !closing, context != nil else { return }
        lastActivity = .now()
        // After a delivery, input that waited is the next transaction: shutting down, it is dropped. After a spool
        // write it is the rest of this message's DATA, which the grace period lets finish.
        if shutdownRequested, session.phase != .data {
            deferredInput = nil
            closeIfShuttingDownAndIdle()
            return
        }
        continueInput()
    }

    /// Processes input that waited (for a delivery, a spool write or a writable channel), then reads again
    /// unless something holds input back once more.
    private func continueInput() {
        guard !closing, !delivering, !waitingForWritability, let context else { return }
        if let input = deferredInput {
            deferredInput = nil
            process(input)
            scheduleEarlierDeadline()
        }
        flushOutput()
        if readHeld && !delivering && !waitingForWritability && !closing && context.channel.isWritable {
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
        closeIfRepliesPileUp(context: context)
    }

    private func close() {
        guard !closing, let context else { return }
        closing = true
        flushOutput()
        timeoutTask?.cancel()
        context.close(promise: nil)
    }

    // MARK: - Clients that do not read their replies

    /// Flushes the replies of the batch in progress once they reach `outputFlushThreshold` octets, and tells
    /// whether the channel stopped taking them: then the rest of the input waits for `writabilityRestored`.
    /// Without this, a client that pipelines commands and never reads would have its replies pile up for as
    /// long as it keeps sending.
    private func repliesBackedUp() -> Bool {
        guard let context, let waiting = output?.readableBytes, waiting >= Self.outputFlushThreshold else {
            return false
        }
        flushOutput()
        guard !closing, !context.channel.isWritable else { return closing }
        waitingForWritability = true
        return true
    }

    /// The client read enough of its replies: input that waited is processed and reading resumes.
    private func writabilityRestored() {
        guard !closing, let context, context.channel.isWritable else { return }
        waitingForWritability = false
        continueInput()
    }

    /// The last bound on memory held for a client that sends but does not read. Input normally waits as soon as
    /// the channel is not writable (`writeBufferHighMark`), so only the replies to one read batch can pass it.
    private func closeIfRepliesPileUp(context: ChannelHandlerContext) {
        guard !closing, !context.channel.isWritable || limits.maxPendingOutput < Self.writeBufferHighMark,
            let buffered = try? context.channel.syncOptions?.getOption(.bufferedWritableBytes),
            buffered > limits.maxPendingOutput
        else { return }
        logger.warning(
            "closing session: the client does not read its replies",
            metadata: [
                "session": "\(session.info.sessionID)", "pending_bytes": "\(buffered)",
                "limit": "\(limits.maxPendingOutput)",
            ])
        closing = true
        timeoutTask?.cancel()
        context.close(promise: nil)
    }

    // MARK: - Timeouts (RFC 5321 §4.5.3.2) and deadlines

    private func scheduleTimeout(at deadline: NIODeadline) {
        guard let context else { return }
        timeoutScheduledAt = deadline
        timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.checkTimeout()
        }
    }

    private func checkTimeout() {
        timeoutScheduledAt = nil
        guard !closing else { return }
        let limit = session.phase == .data ? dataTimeout : commandTimeout
        if delivering {
            // Our own backend is working; the client is not idle.
            scheduleTimeout(at: .now() + limit)
            return
        }
        let now = NIODeadline.now()
        let idleDeadline = lastActivity + limit
        if idleDeadline <= now {
            logger.debug("session timeout", metadata: ["session": "\(session.info.sessionID)"])
            write(.timeout(hostname: session.configuration.hostname))
            close()
            return
        }
        if let deadline = clientDeadline(), deadline.at <= now {
            logger.info(
                "closing session: \(deadline.name) deadline exceeded",
                metadata: [
                    "session": "\(session.info.sessionID)", "limit": "\(deadline.limit)",
                    "remote": "\(session.info.remoteAddress ?? "-")",
                ])
            write(.timeout(hostname: session.configuration.hostname))
            close()
            return
        }
        scheduleTimeout(at: min(idleDeadline, clientDeadline()?.at ?? idleDeadline))
    }

    /// The earlier of the absolute deadlines running now: the command line in progress must be complete
    /// `commandDeadline` after its first octet, the transaction in progress must reach the end of its DATA
    /// `transactionDeadline` after its MAIL. Unlike the idle timeouts, input does not extend them.
    private func clientDeadline() -> (name: String, limit: Duration, at: NIODeadline)? {
        // Once DATA ended, the time is our backend's, not the client's.
        let transactionSince = session.phase == .awaitingDelivery ? nil : session.transactionSince
        let commandSince = session.partialCommandSince
        guard commandSince != nil || transactionSince != nil else { return nil }
        let clock = ContinuousClock.now
        let now = NIODeadline.now()
        var earliest: (name: String, limit: Duration, at: NIODeadline)?
        if let since = commandSince {
            earliest = ("command", limits.commandDeadline, now + TimeAmount(limits.commandDeadline - (clock - since)))
        }
        if let since = transactionSince {
            let at = now + TimeAmount(limits.transactionDeadline - (clock - since))
            if earliest == nil || at < earliest!.at { earliest = ("transaction", limits.transactionDeadline, at) }
        }
        return earliest
    }

    /// After input was processed: a deadline that just started running may fall before the scheduled check.
    private func scheduleEarlierDeadline() {
        guard !closing, let deadline = clientDeadline(), deadline.at < (timeoutScheduledAt ?? .distantFuture)
        else { return }
        timeoutTask?.cancel()
        scheduleTimeout(at: deadline.at)
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
