import Foundation
import MailParser
import MessageSpool
import Synchronization
import TicketPipeline

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which messages are being processed right now and in which stage, kept in a small memory-mapped file next to
/// the store (`<store>.inflight`), so that after a crash the daemon knows the messages that were in the middle of
/// it. Entries live in the kernel's page cache: they survive the process being killed (not a power cut) and cost
/// no fsync and no system call per message, only a few stores into the mapping.
///
/// A message is known by a hash of its raw bytes (`key(for:)`): Postfix's LMTP/SMTP client sends a queue file's
/// content unchanged on every attempt (it adds no trace header; only smtpd and cleanup do, once, when the message
/// enters the queue), so a redelivery of the same queue file has the same bytes, and the same key.
///
/// What an entry left in progress means depends on how the run ended. A fatal signal on the thread working on a
/// message (`FatalSignalAttribution`) marks that message *crashed*: its next delivery is quarantined. Every other
/// message in progress was only *interrupted* (a `kill -9`, an OOM kill, another message's crash): it is
/// processed once more, and quarantined only if a second run also stops while it is in progress, so a message
/// that kills the daemon in a way no handler sees costs two restarts, not a loop.
///
/// `@unchecked Sendable` is safe: the mapping's bytes of one slot are written only by the delivery that owns the
/// slot (its stage, thread and sequence) or under `state`'s lock (everything else); the fatal-signal handler only
/// writes the crash mark of a slot in progress on its own thread; the mapping lives as long as the ledger.
final class InFlightLedger: @unchecked Sendable {
    /// Why a message's next delivery is quarantined.
    enum Cause: UInt8, Sendable {
        /// A second run stopped while it was being processed (the first time it was given another chance).
        case interrupted = 1
        /// Its processing deadline passed.
        case deadline = 2
        /// The daemon died of a fatal signal on the thread that was processing it.
        case crashed = 3
    }

    /// A message an earlier delivery did not finish: its next delivery is quarantined.
    struct Suspect: Sendable, Hashable {
        var stage: PipelineStage
        var cause: Cause
        var since: Date
        /// For `.crashed`: the fatal signal.
        var signal: Int32 = 0

        /// What happened, for the log and the quarantine entry.
        var text: String {
            switch cause {
            case .interrupted:
                "the daemon stopped twice while it was being processed (a crash or a kill each time)"
            case .deadline: "its processing deadline passed"
            case .crashed: "the daemon crashed while processing it (\(FatalSignalAttribution.name(of: signal)))"
            }
        }
    }

    /// A message that was in progress when an earlier run stopped, without blame: processed once more.
    struct Interruption: Sendable, Hashable {
        var stage: PipelineStage
        var since: Date
    }

    private enum SlotState: UInt8 {
        case free = 0
        case processing = 1
        case poison = 2
        /// In progress when a run stopped, not blamed: its next delivery is processed and counts as a retry.
        case interrupted = 3
    }

    /// Slot layout: 0 state, 1 stage, 2 cause or crash mark, 3 interruptions so far, 4 fatal signal,
    /// 8 start time (Int64), 16 key (64 hex bytes), 80 stage-entry sequence (Int64), 88 thread (pthread_t).
    private static let magic = Array("postdesk in-flight ledger v1\n".utf8)
    static let slotSize = 128
    private static let headerSize = 128
    private static let keyOffset = 16
    private static let keyLength = 64
    private static let sequenceOffset = 80
    private static let threadOffset = 88
    /// Suspects older than this are forgotten at start-up: Postfix gives up on a message after 5 days.
    static let suspectLifetime: TimeInterval = 7 * 86_400

    private struct State {
        var free: [Int]
        /// By key: the slot and what is known.
        var suspects: [String: (slot: Int, suspect: Suspect)]
        var interrupted: [String: (slot: Int, interruption: Interruption)]
    }

    let path: String
    let capacity: Int
    private let descriptor: Int32
    private let base: UnsafeMutableRawPointer
    private let state: Mutex<State>
    /// Orders stage entries, so that the fatal-signal handler blames the message a thread worked on last.
    private let sequence = Atomic<Int64>(0)

    /// Opens or creates the ledger. An entry a previous run left in progress becomes a suspect when that run
    /// crashed on it or it had been interrupted before; otherwise it is remembered as interrupted once.
    /// - Parameter capacity: slots in a new file; at least the connection limit (each session has at most one
    ///   delivery in flight) plus room for suspects.
    init(path: String, capacity: Int, now: Date = Date()) throws(InFlightLedgerError) {
        self.path = path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw InFlightLedgerError(operation: "open", path: path, code: errno) }
        // One daemon per store: a second one would hand out the same slots.
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(descriptor)
            throw InFlightLedgerError(operation: "flock", path: path, code: code)
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            close(descriptor)
            throw InFlightLedgerError(operation: "fstat", path: path, code: code)
        }
        let fileSize = Int(status.st_size)
        let existingSlots = fileSize >= Self.headerSize ? (fileSize - Self.headerSize) / Self.slotSize : 0
        let slots = max(capacity, existingSlots)
        let size = Self.headerSize + slots * Self.slotSize
        if fileSize != size, ftruncate(descriptor, off_t(size)) != 0 {
            let code = errno
            close(descriptor)
            throw InFlightLedgerError(operation: "ftruncate", path: path, code: code)
        }
        guard let mapping = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0),
            mapping != UnsafeMutableRawPointer(bitPattern: -1)
        else {
            let code = errno
            close(descriptor)
            throw InFlightLedgerError(operation: "mmap", path: path, code: code)
        }
        self.descriptor = descriptor
        self.base = mapping
        self.capacity = slots
        let header = UnsafeMutableRawBufferPointer(start: mapping, count: Self.headerSize)
        let valid = header.prefix(Self.magic.count).elementsEqual(Self.magic)
        if !valid {
            // A new file (or one of another format): nothing in it can be trusted.
            memset(mapping, 0, size)
            header.copyBytes(from: Self.magic)
        }
        var free: [Int] = []
        var suspects: [String: (slot: Int, suspect: Suspect)] = [:]
        var interrupted: [String: (slot: Int, interruption: Interruption)] = [:]
        // O(slots), once at start-up.
        for slot in (0..<slots).reversed() {
            let bytes = mapping + Self.headerSize + slot * Self.slotSize
            let slotState = SlotState(rawValue: bytes.load(as: UInt8.self)) ?? .free
            let stage = PipelineStage(rawValue: bytes.load(fromByteOffset: 1, as: UInt8.self)) ?? .received
            let mark = bytes.load(fromByteOffset: 2, as: UInt8.self)
            let interruptions = bytes.load(fromByteOffset: 3, as: UInt8.self)
            let signal = Int32(bytes.load(fromByteOffset: 4, as: UInt8.self))
            let seconds = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: Int64.self))
            let since = Date(timeIntervalSince1970: TimeInterval(seconds))
            let key = String(
                decoding: UnsafeRawBufferPointer(start: bytes + Self.keyOffset, count: Self.keyLength), as: UTF8.self)
            let recent = now.timeIntervalSince(since) < Self.suspectLifetime
            switch slotState {
            case .processing where mark == Cause.crashed.rawValue || interruptions >= 1:
                let cause: Cause = mark == Cause.crashed.rawValue ? .crashed : .interrupted
                bytes.storeBytes(of: cause.rawValue, toByteOffset: 2, as: UInt8.self)
                bytes.storeBytes(of: SlotState.poison.rawValue, as: UInt8.self)
                suspects[key] = (slot, Suspect(stage: stage, cause: cause, since: since, signal: signal))
            case .processing:
                bytes.storeBytes(of: 1, toByteOffset: 3, as: UInt8.self)
                bytes.storeBytes(of: SlotState.interrupted.rawValue, as: UInt8.self)
                interrupted[key] = (slot, Interruption(stage: stage, since: since))
            case .poison where recent:
                let cause = Cause(rawValue: mark) ?? .interrupted
                suspects[key] = (slot, Suspect(stage: stage, cause: cause, since: since, signal: signal))
            case .interrupted where recent:
                interrupted[key] = (slot, Interruption(stage: stage, since: since))
            case .poison, .interrupted, .free:
                bytes.storeBytes(of: SlotState.free.rawValue, as: UInt8.self)
                free.append(slot)
            }
        }
        state = Mutex(State(free: free, suspects: suspects, interrupted: interrupted))
    }

    deinit {
        FatalSignalAttribution.forget(firstSlot)
        munmap(base, Self.headerSize + capacity * Self.slotSize)
        close(descriptor)
    }

    /// Bytes hashed from each end of a message for its key.
    static let keySample = 8192

    /// The key a message is known by: the lower-case hex SHA-256 of its size (8 bytes, little-endian), its first
    /// `keySample` bytes and its last `keySample` bytes (the whole message when it is at most twice that). O(1) in
    /// the message's size: at most 16 KiB are hashed, where a hash of every byte cost a 100 KB message about 60 µs
    /// and a 50 MB one 30 ms on an intake thread. Two distinct messages of one size that agree on both ends are
    /// not told apart, which matters only if one of them is a suspect; mail that went through Postfix starts with
    /// its own `Received:` line, whose queue id differs from one queue file to the next.
    static func key(for raw: RawMessage) -> String {
        raw.withUnsafeBytes { buffer in
            let bytes = UnsafeRawBufferPointer(buffer)
            var size = UInt64(bytes.count).littleEndian
            return withUnsafeBytes(of: &size) { sizeBytes in
                guard bytes.count > 2 * keySample else { return sha256Hex(concatenating: [sizeBytes, bytes]) }
                return sha256Hex(
                    concatenating: [
                        sizeBytes, UnsafeRawBufferPointer(rebasing: bytes.prefix(keySample)),
                        UnsafeRawBufferPointer(rebasing: bytes.suffix(keySample)),
                    ])
            }
        }
    }

    /// The ledger file for the store at `storePath`.
    static func path(forStore storePath: String) -> String { storePath + ".inflight" }

    /// The suspects, by key (for start-up logging and tests).
    var suspects: [String: Suspect] { state.withLock { $0.suspects.mapValues(\.suspect) } }

    /// Messages an earlier run stopped on without blame, by key: their next delivery is processed as usual.
    var interruptions: [String: Interruption] { state.withLock { $0.interrupted.mapValues(\.interruption) } }

    /// If `key` is a suspect, forgets it and returns what is known: the caller quarantines the message.
    func takeSuspect(_ key: String) -> Suspect? {
        state.withLock { state in
            guard let entry = state.suspects.removeValue(forKey: key) else { return nil }
            slotPointer(entry.slot).storeBytes(of: SlotState.free.rawValue, as: UInt8.self)
            state.free.append(entry.slot)
            return entry.suspect
        }
    }

    /// Records that the message `key` is being processed, in stage `.received`; returns its slot, or nil when
    /// every slot holds a message in progress (it is then processed without a record). A message an earlier run
    /// was interrupted on gets its old slot back, interruption count included.
    func begin(_ key: String, now: Date = Date()) -> Int? {
        precondition(key.utf8.count == Self.keyLength, "the key is a hex SHA-256")
        return state.withLock { state -> Int? in
            var interruptions: UInt8 = 0
            var slot: Int?
            if let earlier = state.interrupted.removeValue(forKey: key) {
                slot = earlier.slot
                interruptions = 1
            } else {
                slot = state.free.popLast()
            }
            if slot == nil,
                let oldest = state.interrupted.min(by: { $0.value.interruption.since < $1.value.interruption.since })
            {
                // Full: an interruption is forgotten first (that message just gets one retry more), then a suspect.
                state.interrupted.removeValue(forKey: oldest.key)
                slot = oldest.value.slot
            }
            if slot == nil, let oldest = state.suspects.min(by: { $0.value.suspect.since < $1.value.suspect.since }) {
                // Full of suspects: the oldest one goes (a delivery in progress matters more).
                state.suspects.removeValue(forKey: oldest.key)
                slot = oldest.value.slot
            }
            guard let slot else { return nil }
            let bytes = slotPointer(slot)
            bytes.storeBytes(of: PipelineStage.received.rawValue, toByteOffset: 1, as: UInt8.self)
            bytes.storeBytes(of: 0, toByteOffset: 2, as: UInt8.self)
            bytes.storeBytes(of: interruptions, toByteOffset: 3, as: UInt8.self)
            bytes.storeBytes(of: 0, toByteOffset: 4, as: UInt8.self)
            bytes.storeBytes(of: Int64(now.timeIntervalSince1970).littleEndian, toByteOffset: 8, as: Int64.self)
            var key = key
            key.withUTF8 { (bytes + Self.keyOffset).copyMemory(from: $0.baseAddress!, byteCount: Self.keyLength) }
            stamp(bytes)
            // The state byte last: a slot is never seen in progress with a half-written key.
            bytes.storeBytes(of: SlotState.processing.rawValue, as: UInt8.self)
            return slot
        }
    }

    /// The message in `slot` enters `stage` on the calling thread: a few stores, no lock (the slot belongs to its
    /// delivery).
    func record(_ stage: PipelineStage, slot: Int) {
        let bytes = slotPointer(slot)
        bytes.storeBytes(of: stage.rawValue, toByteOffset: 1, as: UInt8.self)
        stamp(bytes)
    }

    /// Names the calling thread as the one working on the slot's message, after every message it worked on before.
    private func stamp(_ bytes: UnsafeMutableRawPointer) {
        let order = sequence.wrappingAdd(1, ordering: .relaxed).newValue
        bytes.storeBytes(of: order, toByteOffset: Self.sequenceOffset, as: Int64.self)
        bytes.storeBytes(
            of: FatalSignalAttribution.currentThread(), toByteOffset: Self.threadOffset, as: UInt64.self)
    }

    /// The message in `slot` is done (committed, quarantined, or failed in an ordinary way): the slot is free.
    func finish(slot: Int) {
        state.withLock { state in
            slotPointer(slot).storeBytes(of: SlotState.free.rawValue, as: UInt8.self)
            state.free.append(slot)
        }
    }

    /// The message in `slot` is poison: its next delivery is quarantined, in this run or after a restart. The
    /// slot stays taken until then (`takeSuspect`).
    func markPoison(slot: Int, key: String, stage: PipelineStage, cause: Cause, now: Date = Date()) {
        state.withLock { state in
            let bytes = slotPointer(slot)
            bytes.storeBytes(of: stage.rawValue, toByteOffset: 1, as: UInt8.self)
            bytes.storeBytes(of: cause.rawValue, toByteOffset: 2, as: UInt8.self)
            bytes.storeBytes(of: SlotState.poison.rawValue, as: UInt8.self)
            state.suspects[key] = (slot, Suspect(stage: stage, cause: cause, since: now))
        }
    }

    /// Lets `FatalSignalAttribution` mark, from a signal handler, the message the crashing thread worked on.
    func watchFatalSignals() {
        FatalSignalAttribution.watch(firstSlot, slots: capacity)
    }

    /// Where the slots start: what the fatal-signal handler scans.
    var firstSlot: UnsafeMutableRawPointer { base + Self.headerSize }

    /// From a fatal-signal handler: marks crashed the slot in progress that `thread` entered a stage of last.
    /// O(slots); no allocation, no lock, only loads and stores into the mapping (async-signal-safe).
    static func markCrashed(slots first: UnsafeMutableRawPointer, count: Int, thread: UInt64, signal: Int32) {
        var blamed: UnsafeMutableRawPointer?
        var latest = Int64.min
        var slot = 0
        while slot < count {
            let bytes = first + slot * slotSize
            if bytes.load(as: UInt8.self) == SlotState.processing.rawValue,
                bytes.load(fromByteOffset: threadOffset, as: UInt64.self) == thread
            {
                let order = bytes.load(fromByteOffset: sequenceOffset, as: Int64.self)
                if order > latest {
                    latest = order
                    blamed = bytes
                }
            }
            slot += 1
        }
        guard let blamed else { return }
        blamed.storeBytes(of: UInt8(truncatingIfNeeded: signal), toByteOffset: 4, as: UInt8.self)
        blamed.storeBytes(of: Cause.crashed.rawValue, toByteOffset: 2, as: UInt8.self)
    }

    private func slotPointer(_ slot: Int) -> UnsafeMutableRawPointer {
        precondition(slot >= 0 && slot < capacity)
        return base + Self.headerSize + slot * Self.slotSize
    }
}

/// The ledger file could not be opened or mapped.
struct InFlightLedgerError: Error, Sendable, Hashable, CustomStringConvertible {
    var operation: String
    var path: String
    var code: Int32

    var description: String {
        if operation == "flock", code == EWOULDBLOCK {
            return "\(path) is locked: another postdesk serve uses this store"
        }
        return "\(operation)(\(path)) failed: \(String(cString: strerror(code))) (errno \(code))"
    }
}
