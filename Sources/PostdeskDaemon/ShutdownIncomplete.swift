/// The daemon stopped without finishing every delivery: after `limits.shutdown_grace` it gave some up (their
/// clients got `421 4.3.2`, nothing of them was stored; the MTA retries them), or a stage was still running.
/// `postdesk serve` then exits with `exitStatus`, so a supervisor can tell this from a clean stop.
public struct ShutdownIncomplete: Error, Sendable, Hashable, CustomStringConvertible {
    /// EX_TEMPFAIL: the messages are safe with the MTA, which retries them.
    public static let exitStatus: Int32 = 75

    public var abandonedDeliveries: Int
    public var stagesStillRunning: Int

    public var description: String {
        "shutdown incomplete: \(abandonedDeliveries) delivery(ies) given up after the grace period, "
            + "\(stagesStillRunning) stage(s) still running at exit; nothing of them was committed"
    }
}
