import Foundation
import Testing

extension EndToEndTests {
    /// Issue 12 point 3 through the real `postdesk serve` over LMTP: a message reusing a victim's Message-ID
    /// does not capture the victim's replies, and an outsider naming a ticket's Message-ID does not append to it.
    @Suite("Thread hijack over LMTP")
    struct ThreadHijackEndToEndTests {
        @Test("A reused Message-ID and a stranger's reference do not take a thread over")
        func hijackByMessageID() async throws {
            try await EndToEndRig.run(label: "hijack-id", withPostfix: false) { rig in
                var victim = PipelineMail(
                    from: "=?UTF-8?B?Wm/DqyDDhWxhbmRlcg==?= <zoe@victim.test>", subject: "Gehälter März",
                    messageID: "<payroll@victim.test>")
                victim.envelopeSender = "zoe@victim.test"
                var reuse = PipelineMail(
                    from: "=?ISO-8859-1?Q?Mall=F6ry?= <mallory@evil.test>", subject: "Gehälter März – neu",
                    messageID: "<payroll@victim.test>")
                reuse.envelopeSender = "mallory@evil.test"
                var followUp = PipelineMail(
                    from: "Zoë <zoe@victim.test>", subject: "Re: Gehälter März", messageID: "<f1@victim.test>",
                    headers: ["In-Reply-To: <payroll@victim.test>"])
                followUp.envelopeSender = "zoe@victim.test"
                var stranger = PipelineMail(
                    from: "mallory@evil.test", subject: "Re: Gehälter März", messageID: "<m2@evil.test>",
                    headers: ["In-Reply-To: <payroll@victim.test>"])
                stranger.envelopeSender = "mallory@evil.test"
                let codes = try await LMTPBatch.send([victim, reuse, followUp, stranger], rig: rig, label: "hijack")
                #expect(codes == [250, 250, 250, 250])
                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count == 3, "\(tickets)")
                let original = try await PipelineTicket.show(1, rig: rig)
                // The victim's first message and follow-up; nothing of Mallory's.
                #expect(original.articles.count == 2)
                let reused = try await PipelineTicket.show(2, rig: rig)
                #expect(reused.articles.count == 1)
                #expect(reused.activities.contains { $0.text.contains("already belongs to #1") })
                let separate = try await PipelineTicket.show(3, rig: rig)
                #expect(separate.activities.contains { $0.text.contains("neither the requester nor a participant") })
            }
        }
    }
}
