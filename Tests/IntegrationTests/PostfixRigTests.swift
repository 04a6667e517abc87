import Foundation
import TestSupport
import Testing

extension EndToEndTests {
    /// Proves the Postfix half of the rig on its own, against Postfix's smtp-sink as the LMTP
    /// receiver: if these fail, the daemon tests cannot be trusted either.
    @Suite("Postfix rig")
    struct PostfixRigTests {
        @Test("Postfix relays a 3-recipient message over LMTP to smtp-sink and empties its queue")
        func postfixDeliversToSmtpSink() async throws {
            try PostfixInstance.requireInstalled()
            let scratch = try ScratchDirectory(label: "sink")
            let socket = scratch.file("sink.sock")
            let sinkTool = try #require(findExecutable("smtp-sink"))
            // smtp-sink refuses to run as root without -u.
            let sink = try ChildProcess(
                executable: sinkTool, arguments: ["-u", "nobody", "-L", "unix:" + socket, "100"],
                outputPrefix: scratch.file("smtp-sink"))
            var postfix: PostfixInstance?
            do {
                let listening = await waitUntil(seconds: 10) { LoopbackSockets.acceptsConnections(unixPath: socket) }
                try #require(listening, "smtp-sink did not listen on \(socket): \(sink.standardError)")
                chmod(socket, 0o666)  // Postfix's lmtp client runs as user postfix.
                let instance = try PostfixInstance(
                    in: scratch, lmtpSocket: socket, relayDomains: EndToEndRig.relayDomains)
                postfix = instance
                try await instance.start()

                let clients = try MailClients(scratch: scratch)
                let recipients = ["support@support.test", "help@support.test", "sales@sales.test"]
                let queueIDs = try await clients.inject(
                    [OutgoingMail(to: recipients, subject: "rig check", messageID: "<rig-check@rig.test>")],
                    port: instance.smtpPort, label: "inject")
                try await instance.waitForEmptyQueue(seconds: 60)

                let deliveries = instance.deliveryStatuses(queueID: queueIDs[0])
                #expect(Set(deliveries.map(\.recipient)) == Set(recipients))
                #expect(deliveries.map(\.status) == ["sent", "sent", "sent"])
                #expect(instance.queuedMessageCount() == 0)
            } catch {
                await postfix?.stop()
                await sink.stop()
                throw RigFailure(underlying: error, scratch: scratch.path)
            }
            await postfix?.stop()
            await sink.stop()
            #expect(!sink.isRunning)
            scratch.remove()
        }

        @Test("Relaying to a domain with no configured queue is refused at RCPT (no open relay in the rig)")
        func postfixRefusesUnknownDomains() async throws {
            try PostfixInstance.requireInstalled()
            let scratch = try ScratchDirectory(label: "relay")
            let instance = try PostfixInstance(
                in: scratch, lmtpSocket: scratch.file("absent.sock"), relayDomains: EndToEndRig.relayDomains)
            do {
                try await instance.start()
                let clients = try MailClients(scratch: scratch)
                await #expect(throws: RigError.self) {
                    try await clients.inject(
                        [OutgoingMail(to: ["someone@elsewhere.test"], subject: "relay", messageID: "<r@rig.test>")],
                        port: instance.smtpPort, label: "inject")
                }
                #expect(instance.queuedMessageCount() == 0)
            } catch {
                await instance.stop()
                throw RigFailure(underlying: error, scratch: scratch.path)
            }
            await instance.stop()
            scratch.remove()
        }
    }
}
