import Foundation

/// Hands mail to the local MTA's `sendmail` command (`outbound.sendmail`): `sendmail -i -f SENDER -- RCPT…`,
/// the message on standard input. Exit 0 is accepted for every recipient; EX_TEMPFAIL (75) and other failures
/// are temporary except the sysexits that mean the data or an address is wrong (65, 67, 68), which are
/// permanent. The command is killed after `timeout`.
public struct SendmailTransport: MailTransport {
    public var path: String
    /// Options before ours, e.g. `["-C", "/etc/postfix-out"]` for another Postfix instance.
    public var options: [String]
    public var timeout: Duration

    public init(path: String = "/usr/sbin/sendmail", options: [String] = [], timeout: Duration = .seconds(120)) {
        self.path = path
        self.options = options
        self.timeout = timeout
    }

    public func submit(
        _ message: [UInt8], from sender: String, to recipients: [String]
    ) async throws(SubmissionError) -> SubmissionResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = options + ["-i", "-f", sender, "--"] + recipients
        let input = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        let status: Int32
        let stderr: String
        do {
            (status, stderr) = try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { finished in
                    let text = (try? errors.fileHandleForReading.readToEnd()).map {
                        String(decoding: $0, as: UTF8.self)
                    }
                    continuation.resume(returning: (finished.terminationStatus, text ?? ""))
                }
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: error)
                    return
                }
                // Written from a dispatch thread: a large message must not block a task while the pipe drains.
                DispatchQueue.global().async {
                    try? input.fileHandleForWriting.write(contentsOf: Data(message))
                    try? input.fileHandleForWriting.close()
                }
                let pid = process.processIdentifier
                DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(timeout.components.seconds))) {
                    if process.isRunning, process.processIdentifier == pid { process.terminate() }
                }
            }
        } catch {
            throw SubmissionError(.sendmail, "cannot run \(path): \(error)")
        }
        let detail = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        let code: Int
        switch status {
        case 0: code = 250
        case 65, 67, 68: code = 550
        default: code = 451
        }
        let reply = SMTPReply(
            code: code, lines: ["\(path) exited with \(status)" + (detail.isEmpty ? "" : ": \(detail)")])
        guard code == 250 else { throw SubmissionError(.sendmail, "\(reply)", reply: reply) }
        return SubmissionResult(
            recipients: recipients.map { .init(address: $0, reply: SMTPReply(code: 250, lines: ["queued"])) },
            data: reply)
    }
}
