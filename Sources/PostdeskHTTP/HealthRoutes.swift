import Foundation
import Hummingbird
import TicketStoreSQLite

/// `/healthz` (the process answers) and `/readyz` (see `HTTPReadiness`), both without a token: they say
/// nothing about the mail, only whether to send traffic.
struct HealthRoutes: Sendable {
    let readiness: HTTPReadiness
    let store: SQLiteTicketStore
    let reader: any TicketDatabaseReading

    struct Health: Encodable, Sendable {
        var status: String
        var problems: [String]
    }

    func register(on router: Router<APIRequestContext>) {
        router.get("healthz") { _, _ in try APIResponse.json(Health(status: "alive", problems: [])) }
        router.get("readyz") { _, _ in
            let problems = await readiness.problems(store: store, reader: reader)
            return try APIResponse.json(
                Health(status: problems.isEmpty ? "ready" : "unready", problems: problems),
                status: problems.isEmpty ? .ok : .serviceUnavailable)
        }
    }
}
