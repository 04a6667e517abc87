import NIOCore
import NIOHTTP1
import NIOPosix

/// The redirect target of a browser consent: an HTTP listener on 127.0.0.1 with a port the kernel picks
/// (RFC 8252 §7.3; Microsoft and Google accept any port on a loopback redirect URI). Only loopback is bound,
/// so nothing outside this machine can reach it.
final class OAuthLoopbackListener: Sendable {
    /// `http://127.0.0.1:PORT/`.
    let redirectURI: String
    /// Each judged redirect, in arrival order.
    let verdicts: AsyncStream<Result<String, OAuthError>>
    private let channel: any Channel

    private init(redirectURI: String, verdicts: AsyncStream<Result<String, OAuthError>>, channel: any Channel) {
        self.redirectURI = redirectURI
        self.verdicts = verdicts
        self.channel = channel
    }

    /// Binds the listener; `judge` turns a request target into the code or an error (it checks `state`).
    static func start(
        mailbox: String, judge: @escaping @Sendable (String) -> Result<String, OAuthError>
    ) async throws(OAuthError) -> OAuthLoopbackListener {
        let (verdicts, continuation) = AsyncStream.makeStream(of: Result<String, OAuthError>.self)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 8)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        OAuthLoopbackRedirectHandler(judge: judge, verdicts: continuation))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
            guard let port = channel.localAddress?.port else {
                try? await channel.close()
                throw OAuthError(
                    kind: .unavailable, mailbox: mailbox, endpoint: "127.0.0.1", detail: "loopback listener has no port"
                )
            }
            channel.closeFuture.whenComplete { _ in continuation.finish() }
            return OAuthLoopbackListener(redirectURI: "http://127.0.0.1:\(port)/", verdicts: verdicts, channel: channel)
        } catch let error as OAuthError {
            throw error
        } catch {
            throw OAuthError(
                kind: .unavailable, mailbox: mailbox, endpoint: "127.0.0.1",
                detail: "cannot listen for the redirect: \(error)")
        }
    }

    /// Stops listening (connections already accepted finish their answer).
    func close() async {
        try? await channel.close()
    }
}
