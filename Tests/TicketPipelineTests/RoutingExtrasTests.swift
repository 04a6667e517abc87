import Foundation
import Logging
import MailParser
import Testing

@testable import TicketPipeline
@testable import TicketStoreSQLite

@Suite("Routing extras: sub-queues, triage, ticket defaults, forwarded mail")
struct RoutingExtrasTests {
    static let queues = [
        QueueDefinition(
            name: "support", tag: "Support", addresses: ["support@localhost"],
            policy: QueuePolicy(
                ticketDefaults: TicketDefaults(category: "general", priority: "normal", type: "incident")),
            subQueues: ["billing": "billing"]),
        QueueDefinition(
            name: "billing", tag: "Billing", addresses: ["billing@localhost"],
            policy: QueuePolicy(
                agentAddresses: ["agent@localhost"], ticketDefaults: TicketDefaults(priority: "high"))),
        QueueDefinition(name: "triage", tag: "Triage", addresses: ["triage@localhost"]),
    ]

    @Test(
        arguments: [
            ("support@localhost", "support"), ("support+billing@localhost", "billing"),
            ("Support+BILLING@LocalHost", "billing"), ("support+other@localhost", "support"),
            ("billing+x@localhost", "billing"), ("nobody@localhost", nil),
        ] as [(String, String?)])
    func plusAddressingSelectsSubQueue(_ recipient: String, _ queue: String?) {
        #expect(QueueRouter(queues: Self.queues).queue(for: recipient)?.name == queue)
    }

    func intake(_ store: SQLiteTicketStore) -> TicketIntake {
        TicketIntake(
            router: QueueRouter(queues: Self.queues), store: store, logger: Logger(label: "test"),
            settings: PipelineSettings(triageQueue: "triage"))
    }

    @Test func triageOnlyWherePathsCannotRefuse() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test"))
        defer { try? store.close() }
        let intake = intake(store)
        let raw = Array(rawMail(to: "lost@elsewhere.test").utf8)
        let pushed = await intake.process(
            InboundMessage(sender: "a@example.com", recipients: ["lost@elsewhere.test"], raw: raw, source: .lmtp))
        #expect(pushed.map(\.result) == [.unknownRecipient])
        let delivered = await intake.process(
            InboundMessage(sender: "a@example.com", recipients: ["lost@elsewhere.test"], raw: raw, source: .deliver))
        #expect(delivered.map(\.result) == [.created(ticket: 1)])
        #expect(delivered.first?.queue == "triage")
        let ticket = try #require(try await store.ticket(number: 1))
        #expect(ticket.queue == "triage")
        #expect(ticket.activities.map(\.kind) == ["triage"])
        #expect(ticket.activities.first?.text.contains("lost@elsewhere.test") == true)
    }

    @Test func headersRouteWhereTheEnvelopeDoesNotAndThePathCannotRefuse() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test"))
        defer { try? store.close() }
        let intake = intake(store)
        // A catch-all mailbox hands over mail for billing: the MTA's Delivered-To names it, To names support.
        let raw = Array(
            rawMail(to: "Support <support@localhost>", headers: ["Delivered-To: <billing@localhost>"]).utf8)
        let delivered = await intake.process(
            InboundMessage(sender: "a@example.com", recipients: ["catchall@localhost"], raw: raw, source: .deliver))
        #expect(delivered.map(\.result) == [.created(ticket: 1)])
        #expect(delivered.first?.queue == "billing")
        let ticket = try #require(try await store.ticket(number: 1))
        #expect(ticket.activities.map(\.kind) == ["routing"])
        #expect(ticket.activities.first?.text.contains("the Delivered-To header names <billing@localhost>") == true)

        // Without trace headers, To and then Cc decide.
        let byCc = Array(rawMail(to: "someone@elsewhere.test", cc: "support@localhost").utf8)
        let viaCc = await intake.process(
            InboundMessage(sender: "a@example.com", recipients: ["catchall@localhost"], raw: byCc, source: .deliver))
        #expect(viaCc.first?.queue == "support")
        #expect(
            try await store.ticket(number: 2)?.activities.first?.text.contains(
                "the Cc header names <support@localhost>")
                == true)

        // LMTP still refuses what its envelope does not name, whatever the headers say.
        let pushed = await intake.process(
            InboundMessage(sender: "a@example.com", recipients: ["catchall@localhost"], raw: raw, source: .lmtp))
        #expect(pushed.map(\.result) == [.unknownRecipient])
    }

    @Test func queueDefaultsAndForwardedMail() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test"))
        defer { try? store.close() }
        let intake = intake(store)
        let plain = await intake.process(
            InboundMessage(
                sender: "a@example.com", recipients: ["support@localhost"], raw: Array(rawMail().utf8), source: .lmtp))
        #expect(plain.map(\.result) == [.created(ticket: 1)])
        #expect(
            try await store.ticket(number: 1)?.defaults
                == TicketDefaults(category: "general", priority: "normal", type: "incident"))

        let forward = rawMail(
            from: "Agent <agent@localhost>", to: "billing@localhost", subject: "Fwd: invoice",
            body: "See below.\n\n---------- Forwarded message ---------\nFrom: Erin Customer <erin@customer.test>\n"
                + "Date: Mon, 23 Nov 2026\nSubject: invoice\n\nMy invoice is wrong.\n")
        let outcomes = await intake.process(
            InboundMessage(
                sender: "agent@localhost", recipients: ["support+billing@localhost"], raw: Array(forward.utf8),
                source: .smtp))
        #expect(outcomes.map(\.result) == [.created(ticket: 2)])
        let ticket = try #require(try await store.ticket(number: 2))
        #expect(ticket.queue == "billing")
        #expect(ticket.defaults.priority == "high")
        #expect(ticket.requester == MailAddress(name: "Erin Customer", address: "erin@customer.test"))
        #expect(ticket.activities.first?.text.contains("forwarded by agent agent@localhost") == true)
    }

    @Test(
        arguments: [
            ("Begin forwarded message:\n\nFrom: bob@example.org\nSubject: x\n", "bob@example.org"),
            ("-----Original Message-----\nFrom: \"Carol C\" <carol@example.org>\n", "carol@example.org"),
            ("From: not-forwarded@example.org\n", nil), ("---------- Forwarded message ---------\nno from\n", nil),
        ] as [(String, String?)])
    func inlineForwardedSender(_ text: String, _ address: String?) {
        #expect(ForwardedMessage.originalSender(of: ParsedMessage(text: text))?.address == address)
    }
}
