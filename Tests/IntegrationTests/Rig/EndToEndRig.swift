import Foundation

/// One test's world: a scratch directory, the real `postdesk serve`, and (optionally) a private
/// Postfix instance whose relay domains deliver to postdesk's LMTP socket.
final class EndToEndRig {
    let scratch: ScratchDirectory
    let postdesk: PostdeskServer
    let clients: MailClients
    private(set) var postfix: PostfixInstance?

    /// The domains the test Postfix relays to postdesk; both have a queue in postdesk's config.
    static let relayDomains = ["support.test", "sales.test"]

    private init(label: String) throws {
        scratch = try ScratchDirectory(label: label)
        do {
            postdesk = try PostdeskServer(in: scratch)
            clients = try MailClients(scratch: scratch)
        } catch {
            scratch.remove()
            throw error
        }
    }

    /// Runs `body` with postdesk started (and Postfix too when `withPostfix`), then stops every
    /// process it started, by pid, whether `body` succeeded or not.
    /// - Parameter postdeskEnvironment: added to `postdesk serve`'s environment (e.g. a test's stage fault).
    static func run(
        label: String, withPostfix: Bool = true, postdeskEnvironment: [String: String] = [:],
        _ body: (EndToEndRig) async throws -> Void
    ) async throws {
        if withPostfix { try PostfixInstance.requireInstalled() }
        let rig = try EndToEndRig(label: label)
        do {
            // The receiver first: mail for a missing socket would only be retried after a backoff.
            try await rig.postdesk.start(environment: postdeskEnvironment)
            if withPostfix {
                let postfix = try PostfixInstance(
                    in: rig.scratch, lmtpSocket: rig.postdesk.socketPath, relayDomains: relayDomains)
                rig.postfix = postfix
                try await postfix.start()
            }
            try await body(rig)
        } catch {
            await rig.shutDown(keepScratch: true)
            throw RigFailure(underlying: error, scratch: rig.scratch.path)
        }
        await rig.shutDown(keepScratch: false)
    }

    /// The Postfix instance of a rig started `withPostfix`.
    func requirePostfix() throws -> PostfixInstance {
        guard let postfix else { throw RigError.missingPeer("this rig was started without Postfix") }
        return postfix
    }

    private func shutDown(keepScratch: Bool) async {
        await postfix?.stop()
        await postdesk.stop()
        // A failed test's directory holds every log (postdesk's stderr, the maillog): keep it.
        if !keepScratch { scratch.remove() }
    }
}

/// A failure inside a rig, pointing at the directory that keeps its logs.
struct RigFailure: Error, CustomStringConvertible {
    let underlying: any Error
    let scratch: String

    var description: String { "\(underlying)\n(logs kept in \(scratch))" }
}
