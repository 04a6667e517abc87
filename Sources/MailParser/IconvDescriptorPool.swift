import Glibc
import Synchronization

/// Keeps iconv descriptors open between conversions: opening one makes glibc load (and closing one
/// unload) a gconv module, which costs far more than converting a typical mail body. A descriptor is
/// stateful and not thread-safe, so each is handed to one caller at a time.
final class IconvDescriptorPool: Sendable {
    /// An open descriptor. `@unchecked Sendable` is safe because the pool gives each descriptor to exactly one
    /// caller at a time (it is removed from the pool under the lock and only returned after use).
    struct Descriptor: @unchecked Sendable {
        let raw: iconv_t
    }

    private struct State {
        var idle: [String: [Descriptor]] = [:]
        var unknown: Set<String> = []
    }

    static let shared = IconvDescriptorPool()
    private static let maxIdlePerCharset = 8
    private static let maxCharsets = 64
    private static let maxUnknownNames = 256
    private let state = Mutex(State())

    /// A descriptor converting `name` to UTF-8, in its initial shift state; nil when iconv does not know
    /// `name`.
    func take(_ name: String) -> Descriptor? {
        enum Lookup { case pooled(Descriptor), unknown, open }
        let lookup: Lookup = state.withLock { state in
            if state.unknown.contains(name) { return .unknown }
            if let descriptor = state.idle[name]?.popLast() { return .pooled(descriptor) }
            return .open
        }
        switch lookup {
        case .pooled(let descriptor):
            _ = iconv(descriptor.raw, nil, nil, nil, nil)
            return descriptor
        case .unknown:
            return nil
        case .open:
            let raw = iconv_open("UTF-8", name)
            guard let raw, raw != iconv_t(bitPattern: -1) else {
                state.withLock { state in
                    if state.unknown.count < Self.maxUnknownNames { state.unknown.insert(name) }
                }
                return nil
            }
            return Descriptor(raw: raw)
        }
    }

    /// Returns a descriptor obtained from `take(_:)`.
    func give(_ descriptor: Descriptor, for name: String) {
        let kept = state.withLock { state in
            guard state.idle[name] != nil || state.idle.count < Self.maxCharsets else { return false }
            guard state.idle[name, default: []].count < Self.maxIdlePerCharset else { return false }
            state.idle[name, default: []].append(descriptor)
            return true
        }
        if !kept { iconv_close(descriptor.raw) }
    }
}
