import Testing

/// Every end-to-end suite nests here so they run one at a time: each starts real daemons, and the
/// machine has two cores.
@Suite("End to end with real peers", .serialized)
struct EndToEndTests {}
