/// Told as one message enters each stage of the pipeline, so that a message that never leaves a stage can be
/// named and given up on. The daemon records the stage where it survives a crash (`InFlightLedger`).
public protocol StageProgress: Sendable {
    /// The message enters `stage`. Throws `ProcessingAbandoned` when the message was already given up (its
    /// processing deadline passed, or the daemon is shutting down): the pipeline then stops, and inside the
    /// store's transaction the throw rolls the message's writes back, so a message the client was told to retry
    /// is never also committed.
    func enter(_ stage: PipelineStage) throws(ProcessingAbandoned)
}

/// The message was given up while it was still being processed; its client has its 4xx reply already.
public struct ProcessingAbandoned: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stage it was about to enter.
    public var stage: PipelineStage
    /// Why it was given up, e.g. "the processing deadline of 60 s passed".
    public var reason: String

    public init(stage: PipelineStage, reason: String) {
        self.stage = stage
        self.reason = reason
    }

    public var description: String { "abandoned before stage \(stage): \(reason)" }
}
