import MailParser
import Testing

@testable import TicketStoreSQLite

@Suite("Article columns: addresses and lists in one column each")
struct ArticleColumnsTests {
    @Test func addressesRoundTripByRoleInOrder() {
        let to = [
            MailAddress(name: "Support", address: "support@localhost"), MailAddress(name: nil, address: "b@x.test"),
        ]
        let cc = [MailAddress(name: "Ré\tné\ne", address: "c@x.test")]
        let replyTo = [MailAddress(name: "", address: "r@x.test")]
        let column = AddressColumn.encode(to: to, cc: cc, replyTo: replyTo)
        let decoded = AddressColumn.decode(column)
        #expect(decoded["to"] == to)
        // Tabs and line breaks inside a decoded display name cannot break the column apart.
        #expect(decoded["cc"] == [MailAddress(name: "Ré né e", address: "c@x.test")])
        #expect(decoded["reply-to"] == [MailAddress(name: nil, address: "r@x.test")])
        #expect(AddressColumn.decode("") == [:])
        #expect(AddressColumn.encode(to: [], cc: [], replyTo: []) == "")
    }

    @Test func listsRoundTrip() {
        #expect(ListColumn.decode(ListColumn.encode(["a@x", "b@y"])) == ["a@x", "b@y"])
        #expect(ListColumn.decode(ListColumn.encode([])) == [])
    }
}
