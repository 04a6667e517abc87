import Synchronization

/// Whether intake writes outbox events, as a switch that copies of `PipelineSettings` share: a configuration
/// reload turns it on or off for the running pipeline without rebuilding it. Each message reads it once.
public final class EventRecording: Sendable {
    private let flag: Atomic<Bool>

    public init(_ isOn: Bool) {
        flag = Atomic(isOn)
    }

    public var isOn: Bool {
        get { flag.load(ordering: .acquiring) }
        set { flag.store(newValue, ordering: .releasing) }
    }
}
