import Foundation
import Logging
import MailServerClient
import NIOCore
import TicketPipeline

/// `postdesk mailboxes test NAME`: walks a mailbox's connection step by step — DNS, connect, TLS (with the
/// certificate's names and expiry), greeting, capabilities, login, folders and their counts — and says which step
/// failed and why, in the server's own words. It reads nothing from the mailbox and changes nothing on it.
public enum MailboxCheck {
    public struct Step: Sendable {
        public var step: MailboxError.Step
        public var passed: Bool
        public var detail: String
    }

    public static func run(_ settings: MailboxSettings, tokens: (any AccessTokenSource)?) -> AsyncStream<Step> {
        AsyncStream { continuation in
            let task = Task {
                await check(settings, tokens: tokens) { continuation.yield($0) }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private static func check(
        _ settings: MailboxSettings, tokens: (any AccessTokenSource)?, report: (Step) -> Void
    ) async {
        let addresses: [SocketAddress]
        do {
            addresses = try resolve(settings.host, port: settings.port)
            report(Step(step: .connect, passed: true, detail: "\(settings.host) is \(addresses.map(\.description))"))
        } catch {
            report(Step(step: .connect, passed: false, detail: "cannot resolve \(settings.host): \(error)"))
            return
        }
        do throws(MailboxError) {
            let connection = try await MailServerConnection.connect(for: settings)
            report(Step(step: .connect, passed: true, detail: "connected to \(settings.host):\(settings.port)"))
            if settings.tls == .implicit {
                // The handshake completes before the first byte of the greeting can be read.
                _ = try await connection.receive()
                let certificate = await connection.peerCertificate
                let expiry = certificate.map { Date(timeIntervalSince1970: TimeInterval($0.notValidAfter)) }
                report(
                    Step(
                        step: .tls, passed: true,
                        detail: "TLS verified: \(certificate.map { "\($0)" } ?? "(no certificate)")"
                            + (expiry.map { ", valid until \($0.formatted(.iso8601))" } ?? "")))
            }
            await connection.close()
        } catch {
            report(Step(step: error.step, passed: false, detail: error.detail))
            return
        }
        let session: any MailServerSession
        do throws(MailboxError) {
            let credentials = try await MailboxCredentials.resolve(settings, tokens: tokens)
            let logger = Logger(label: "postdesk.mailboxes.test")
            let spool = SpoolSettings(directory: NSTemporaryDirectory(), threshold: 1 << 20)
            let store = NothingStored()
            switch settings.mailProtocol {
            case .imap:
                let imap = try await IMAPMailboxSession.open(
                    settings: settings, credentials: credentials, store: store, spool: spool, logger: logger)
                report(Step(step: .greeting, passed: true, detail: imap.greeting))
                report(Step(step: .capabilities, passed: true, detail: imap.capabilities.names.joined(separator: " ")))
                session = imap
            case .pop3:
                let pop3 = try await POP3MailboxSession.open(
                    settings: settings, credentials: credentials, store: store, spool: spool, logger: logger)
                report(Step(step: .greeting, passed: true, detail: pop3.greeting))
                report(
                    Step(
                        step: .capabilities, passed: true,
                        detail: pop3.capabilities.map(\.description).joined(separator: ", ")))
                session = pop3
            }
            report(
                Step(
                    step: .authentication, passed: true,
                    detail: "logged in as \(settings.username)" + (settings.tls == .starttls ? " after STARTTLS" : "")))
        } catch {
            report(Step(step: error.step, passed: false, detail: error.detail))
            return
        }
        do throws(MailboxError) {
            if let imap = session as? IMAPMailboxSession {
                for folder in settings.folders + [settings.oversizeFolder].compactMap({ $0 }) {
                    let summary = try await imap.examine(folder)
                    report(
                        Step(
                            step: .folder, passed: true,
                            detail: "\(folder): \(summary.messages) messages, UIDVALIDITY \(summary.validity)"))
                }
                if case .move(let folder) = settings.afterCommit {
                    let summary = try await imap.examine(folder)
                    report(
                        Step(step: .folder, passed: true, detail: "\(folder) (move_to): \(summary.messages) messages"))
                }
            } else if let pop3 = session as? POP3MailboxSession {
                let summary = try await pop3.statistics()
                report(
                    Step(step: .folder, passed: true, detail: "\(summary.messages) messages, \(summary.bytes) bytes"))
            }
        } catch {
            report(Step(step: error.step, passed: false, detail: error.detail))
        }
        await session.close()
    }

    private static func resolve(_ host: String, port: Int) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw MailboxError(.connect, String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(result) }
        var addresses: [SocketAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let address = current.pointee.ai_addr,
                let socketAddress = try? SocketAddress(
                    ipAddress: numericHost(address, current.pointee.ai_addrlen), port: port),
                !addresses.contains(socketAddress)
            {
                addresses.append(socketAddress)
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }

    private static func numericHost(_ address: UnsafeMutablePointer<sockaddr>, _ length: socklen_t) -> String {
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        getnameinfo(address, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The store of a check: it only reads, so nothing is ever recorded.
private struct NothingStored: MailboxStateStore {
    func mailboxItems(_ folder: MailboxFolderKey) async throws -> [String: MailboxItemState] { [:] }
    func setMailboxItems(_ items: [String], state: MailboxItemState?, in folder: MailboxFolderKey) async throws {}
    func forgetMailboxItems(in folder: MailboxFolderKey, notIn present: Set<String>) async throws {}
    func saveMailboxStatus(_ status: MailboxStatus) async throws {}
    func mailboxStatuses() async throws -> [MailboxStatus] { [] }
}
