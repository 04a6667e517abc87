import NIOCore
import NIOHTTP1

/// Answers the browser's redirect to the loopback listener: `GET /?code=…&state=…` is judged (state checked),
/// the browser gets a short page saying whether it worked, and the verdict goes to the waiting consent. Other
/// paths (the browser's `/favicon.ico`) get 404 and are not judged.
final class OAuthLoopbackRedirectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let judge: @Sendable (String) -> Result<String, OAuthError>
    private let verdicts: AsyncStream<Result<String, OAuthError>>.Continuation
    private var target: String?

    init(
        judge: @escaping @Sendable (String) -> Result<String, OAuthError>,
        verdicts: AsyncStream<Result<String, OAuthError>>.Continuation
    ) {
        self.judge = judge
        self.verdicts = verdicts
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            target = head.uri
        case .body:
            break
        case .end:
            guard let target else { return }
            self.target = nil
            guard target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first == "/" else {
                respond(context, .notFound, "Not found.")
                return
            }
            let verdict = judge(target)
            switch verdict {
            case .success:
                respond(context, .ok, "Postdesk received the authorization. You can close this window.")
            case .failure(let error):
                respond(
                    context, .badRequest, "Postdesk could not use this answer: \(error.kind.rawValue), \(error.detail)."
                )
            }
            verdicts.yield(verdict)
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ text: String) {
        let escaped = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        let body = context.channel.allocator.buffer(
            string: "<!doctype html><meta charset=utf-8><title>Postdesk</title><p>\(escaped)</p>\n")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
