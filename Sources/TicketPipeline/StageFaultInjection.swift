import Foundation
import MessageSpool

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A test-only fault: makes one stage of the pipeline hang or crash the process for messages that carry a marker,
/// so tests can prove what happens to a message that breaks Postdesk. Not a configuration key: in-process tests
/// pass it through `TicketIntake`'s `@_spi(StageFaults)` initializer, and a test that runs the real daemon sets
/// `POSTDESK_TEST_STAGE_FAULT=<stage>:<hang|crash|trap|overflow>:<marker>`, which only DEBUG builds read.
public struct StageFaultInjection: Sendable, Hashable {
    public enum Fault: String, Sendable, Hashable {
        /// The stage never returns (it sleeps; a stuck thread need not spin to be stuck).
        case hang
        /// The stage calls `abort()`: the process dies as on a crash.
        case crash
        /// The stage hits a Swift runtime trap (`fatalError`), as a failed precondition or overflow would.
        case trap
        /// The stage recurses without end until its thread's stack overflows (a segmentation fault).
        case overflow
    }

    public var stage: PipelineStage
    public var fault: Fault
    /// Only messages whose raw bytes contain this (e.g. a word of the subject) are hit; the others pass.
    public var marker: [UInt8]

    public init(stage: PipelineStage, fault: Fault, marker: String) {
        self.stage = stage
        self.fault = fault
        self.marker = Array(marker.utf8)
    }

    /// The environment variable a DEBUG build reads.
    public static let environmentVariable = "POSTDESK_TEST_STAGE_FAULT"

    /// `stage:fault:marker`, e.g. `classify:hang:POISON-7`; nil for anything else.
    public init?(specification: String) {
        let parts = specification.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let stage = PipelineStage(name: String(parts[0])),
            let fault = Fault(rawValue: String(parts[1])), !parts[2].isEmpty
        else { return nil }
        self.init(stage: stage, fault: fault, marker: String(parts[2]))
    }

    /// The fault the environment asks for; always nil in a release build.
    static func fromEnvironment() -> StageFaultInjection? {
        #if DEBUG
            guard let value = ProcessInfo.processInfo.environment[environmentVariable] else { return nil }
            return StageFaultInjection(specification: value)
        #else
            return nil
        #endif
    }

    /// Hangs or crashes if `stage` is this fault's and `raw` carries the marker. O(n × marker length) in the raw
    /// bytes, one pass, and only at the one stage.
    func trigger(at stage: PipelineStage, raw: RawMessage) {
        guard stage == self.stage, contains(raw) else { return }
        switch fault {
        case .hang:
            while true { sleep(3600) }
        case .crash:
            abort()
        case .trap:
            fatalError("test stage fault in \(stage)")
        case .overflow:
            _ = Self.recurse(depth: 0)
        }
    }

    /// Uses 4 KiB of stack a level and adds after the call, so it is no tail call the optimizer could loop.
    @inline(never)
    private static func recurse(depth: Int) -> Int {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { frame in
            frame.initialize(repeating: UInt8(truncatingIfNeeded: depth))
            return Int(frame[depth % 4096]) + recurse(depth: depth + 1)
        }
    }

    private func contains(_ raw: RawMessage) -> Bool {
        raw.withUnsafeBytes { $0.firstRange(of: marker) != nil }
    }
}
