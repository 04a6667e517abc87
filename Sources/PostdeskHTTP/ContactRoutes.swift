import Foundation
import HTTPTypes
import Hummingbird
import TicketPipeline
import TicketStoreSQLite

/// `/api/v1/contacts/bouncing`: the addresses our own mail bounced from (outbound mail to them is suppressed),
/// most recent first, a page at a time with an opaque cursor, and clearing one (`DELETE …/{address}`), as
/// `postdesk contacts bouncing|unbounce` do.
struct ContactRoutes: Sendable {
    let reader: any TicketDatabaseReading
    let store: SQLiteTicketStore

    func register(on router: Router<APIRequestContext>) {
        let bouncing = router.group("api/v1/contacts/bouncing")
        bouncing.get { request, _ in
            let limit = try APIInput.integer("limit", request, in: 1...1000, default: 200)
            let cursor = try PageCursor.from(APIInput.query("cursor", request), kind: PageCursor.bouncingAddresses)
            // The cursor's second key is the exact time (PageCursor checked that it reads as one).
            let position = cursor.flatMap { cursor in
                cursor.name.flatMap(Double.init).map { BouncingAddressPage.Position(since: $0, contactID: cursor.last) }
            }
            let page = try await reader.bouncingAddresses(limit: limit, after: position)
            let next = page.next.map {
                PageCursor(kind: PageCursor.bouncingAddresses, last: $0.contactID, name: "\($0.since)").encoded
            }
            return try APIResponse.json(RecordRoutes.Listing(items: page.items, nextCursor: next))
        }
        bouncing.delete(":address") { _, context in
            // The router hands path parameters over still percent-encoded (`zo%C3%AB@example.org`).
            let text = context.parameters.get("address") ?? ""
            let address = try APIInput.address(text.removingPercentEncoding ?? text, name: "address")
            guard try await store.write({ try $0.clearBouncing(address: address) }) else {
                throw ProblemDetails.notFound("\(address) is not bouncing")
            }
            return Response(status: .noContent)
        }
    }
}
