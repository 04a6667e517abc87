import Foundation
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
/// A message is known by the SHA-256 of its raw bytes: Postfix's LMTP/SMTP client sends a queue file's content
/// unchanged on every attempt (it adds no trace header; only smtpd and cleanup do, once, when the message
/// enters the queue), so a redelivery of the same queue file has the same bytes.
///
/// `@unchecked Sendable` is safe: the mapping's bytes of one slot are written only by the delivery that owns the
/// slot (its stage byte) or under `state`'s lock (everything else); the mapping lives as long as the ledger.
final class InFlightLedger: @unchecked Sendable {
    /// How an earlier delivery of a message ended.
    enum Cause: UInt8, Sendable {
        /// It was still being processed when the daemon stopped: a crash, a kill, an abandoned shutdown.
        case interrupted = 1
        /// Its processing deadline passed.
        case deadline = 2

        var text: String {
            switch self {
            case .interrupted: "the daemon stopped while it was being processed: a crash or a kill"
            case .deadline: "its processing deadline passed"
            }
        }
    }

    /// A message an earlier delivery did not finish: its next delivery is quarantined.
    struct Suspect: Sendable, Hashable {
        var stage: PipelineStage
        var cause: Cause
        var since: Date
    }

    private enum SlotState: UInt8 {
        case free = 0
        case processing = 1
        case poison = 2
    }

    private static let magic = Array("postdesk in-flight ledger v1\n".utf8)
    static let slotSize = 128
    private static let headerSize = 128
    private static let keyOffset = 16
    private static let keyLength = 64
    /// Suspects older than this are forgotten at start-up: Postfix gives up on a message after 5 days.
    static let suspectLifetime: TimeInterval = 7 * 86_400

    private struct State {
        var free: [Int]
        /// By key: the slot and what is known.
        var suspects: [String: (slot: Int, suspect: Suspect)]
    }

    let path: String
    let capacity: Int
    private let descriptor: Int32
    private let base: UnsafeMutableRawPointer
    private let state: Mutex<State>

    /// Opens or creates the ledger. Every entry a previous run left in progress becomes a suspect (cause
    /// `.interrupted`), with the stage it was in.
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
        // O(slots), once at start-up.
        for slot in (0..<slots).reversed() {
            let bytes = mapping + Self.headerSize + slot * Self.slotSize
            let slotState = SlotState(rawValue: bytes.load(as: UInt8.self)) ?? .free
            let stage = PipelineStage(rawValue: bytes.load(fromByteOffset: 1, as: UInt8.self)) ?? .received
            let seconds = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: Int64.self))
            let since = Date(timeIntervalSince1970: TimeInterval(seconds))
            let key = String(
                decoding: UnsafeRawBufferPointer(start: bytes + Self.keyOffset, count: Self.keyLength), as: UTF8.self)
            switch slotState {
            case .processing:
                bytes.storeBytes(of: SlotState.poison.rawValue, as: UInt8.self)
                bytes.storeBytes(of: Cause.interrupted.rawValue, toByteOffset: 2, as: UInt8.self)
                suspects[key] = (slot, Suspect(stage: stage, cause: .interrupted, since: since))
            case .poison where now.timeIntervalSince(since) < Self.suspectLifetime:
                let cause = Cause(rawValue: bytes.load(fromByteOffset: 2, as: UInt8.self)) ?? .interrupted
                suspects[key] = (slot, Suspect(stage: stage, cause: cause, since: since))
            case .poison, .free:
                bytes.storeBytes(of: SlotState.free.rawValue, as: UInt8.self)
                free.append(slot)
            }
        }
        state = Mutex(State(free: free, suspects: suspects))
    }

    deinit {
        munmap(base, Self.headerSize + capacity * Self.slotSize)
        close(descriptor)
    }

    /// The ledger file for the store at `storePath`.
    static func path(forStore storePath: String) -> String { storePath + ".inflight" }

    /// The suspects, by key (for start-up logging and tests).
    var suspects: [String: Suspect] { state.withLock { $0.suspects.mapValues(\.suspect) } }

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
    /// every slot holds a message in progress (it is then processed without a record).
    func begin(_ key: String, now: Date = Date()) -> Int? {
        precondition(key.utf8.count == Self.keyLength, "the key is a hex SHA-256")
        return state.withLock { state -> Int? in
            var slot = state.free.popLast()
            if slot == nil, let oldest = state.suspects.min(by: { $0.value.suspect.since < $1.value.suspect.since }) {
                // Full of suspects: the oldest one goes (a delivery in progress matters more).
                state.suspects.removeValue(forKey: oldest.key)
                slot = oldest.value.slot
            }
            guard let slot else { return nil }
            let bytes = slotPointer(slot)
            bytes.storeBytes(of: PipelineStage.received.rawValue, toByteOffset: 1, as: UInt8.self)
            bytes.storeBytes(of: 0, toByteOffset: 2, as: UInt8.self)
            bytes.storeBytes(of: Int64(now.timeIntervalSince1970).littleEndian, toByteOffset: 8, as: Int64.self)
            var key = key
            key.withUTF8 { (bytes + Self.keyOffset).copyMemory(from: $0.baseAddress!, byteCount: Self.keyLength) }
            // The state byte last: a slot is never seen in progress with a half-written key.
            bytes.storeBytes(of: SlotState.processing.rawValue, as: UInt8.self)
            return slot
        }
    }

    /// The message in `slot` enters `stage`: one byte stored, no lock (the slot belongs to its delivery).
    func record(_ stage: PipelineStage, slot: Int) {
        slotPointer(slot).storeBytes(of: stage.rawValue, toByteOffset: 1, as: UInt8.self)
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
