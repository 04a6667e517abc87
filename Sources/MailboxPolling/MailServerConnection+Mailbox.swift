import MailServerClient
import NIOCore

extension MailServerConnection {
    /// Connects to `settings`' server; a failure is the poll's `connect` or `tls` step.
    static func connect(for settings: MailboxSettings) async throws(MailboxError) -> MailServerConnection {
        try await MailboxError.fromConnection { () throws(MailServerConnectionError) in
            try await connect(
                host: settings.host, port: settings.port, tls: settings.tls, caFile: settings.caFile,
                timeout: settings.timeout)
        }
    }

    /// `write(_:)` as a step of the poll.
    func send(_ bytes: [UInt8]) async throws(MailboxError) {
        try await MailboxError.fromConnection { () throws(MailServerConnectionError) in try await write(bytes) }
    }

    /// `read(within:)` as a step of the poll: nil when the server closed the connection.
    func receive(within limit: Duration? = nil) async throws(MailboxError) -> ByteBuffer? {
        try await MailboxError.fromConnection { () throws(MailServerConnectionError) in try await read(within: limit) }
    }

    /// `startTLS()` as a step of the poll.
    func startTLSForMailbox() async throws(MailboxError) {
        try await MailboxError.fromConnection { () throws(MailServerConnectionError) in try await startTLS() }
    }

    /// Runs `body` (a session's opening steps); if it fails, the connection is closed before the error goes on.
    func closingOnFailure(_ body: () async throws(MailboxError) -> Void) async throws(MailboxError) {
        do throws(MailboxError) {
            try await body()
        } catch {
            await close()
            throw error
        }
    }
}
