import Foundation
import TicketPipeline
import Yams

/// Where a configuration value came from, as `postdesk check-config` shows it.
public enum ConfigurationOrigin: String, Sendable, Equatable {
    /// A `POSTDESK_*` environment variable.
    case environment
    /// The configuration file.
    case file
    /// The built-in sample (`conf/postdesk.yaml`), used only when no file is given.
    case sample = "built-in sample"
    /// The key's own default.
    case `default`
}

/// One value of the configuration in effect and where it came from.
public struct ConfiguredValue: Sendable, Equatable {
    public var key: String
    /// The value as written (lists comma-separated); `(secret)` for secrets, `(unset)` when nothing set it.
    public var value: String
    public var origin: ConfigurationOrigin
}

/// A value as a configuration source holds it: YAML scalars and environment variables are text, YAML sequences
/// are lists. Literals let the defaults table read like the sample file.
enum ConfigurationEntry: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral
{
    case scalar(String)
    case list([String])

    init(stringLiteral value: String) { self = .scalar(value) }
    init(integerLiteral value: Int) { self = .scalar(String(value)) }
    init(arrayLiteral elements: String...) { self = .list(elements) }

    var displayText: String {
        switch self {
        case .scalar(let text): text
        case .list(let items): "[" + items.joined(separator: ", ") + "]"
        }
    }
}

/// The configuration's sources in precedence order — environment, file, built-in sample (only without a file),
/// key defaults — with a record of every key the validator asked for, so that keys nobody asked for can be
/// reported as unknown (a typo must never silently become a default).
struct ConfigurationLayers {
    /// Environment variables that are not configuration keys (the file's path, test and rig switches).
    static let nonConfigurationVariables: Set<String> = [
        "POSTDESK_CONFIG", "POSTDESK_EXECUTABLE", "POSTDESK_KEEP_RIG", "POSTDESK_UPDATE_GOLDEN",
        "POSTDESK_FUZZ_ITERATIONS", StageFaultInjection.environmentVariable,
    ]

    /// `POSTDESK_*` variables only, by name.
    let environment: [String: String]
    let file: [String: ConfigurationEntry]
    let sample: [String: ConfigurationEntry]
    let defaults: [String: ConfigurationEntry]
    /// Keys asked for, in the order first asked.
    private(set) var accessed: [String] = []
    private var accessedSet: Set<String> = []

    init(
        environment: [String: String], file: [String: ConfigurationEntry]?, sample: [String: ConfigurationEntry],
        defaults: [String: ConfigurationEntry]
    ) {
        self.environment = environment.filter { $0.key.hasPrefix("POSTDESK_") }
        self.file = file ?? [:]
        // The sample stands in for a file only when there is none: a queue or listener in a file takes nothing
        // from it.
        self.sample = file == nil ? sample : [:]
        self.defaults = defaults
    }

    /// `queues.my-queue.addresses` → `POSTDESK_QUEUES_MY_QUEUE_ADDRESSES`.
    static func environmentName(of key: String) -> String {
        "POSTDESK_" + String(key.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// The value of `key` from the first source that has it, and records that `key` is known.
    mutating func lookup(_ key: String) -> (entry: ConfigurationEntry, origin: ConfigurationOrigin)? {
        if accessedSet.insert(key).inserted { accessed.append(key) }
        if let text = environment[Self.environmentName(of: key)] { return (.scalar(text), .environment) }
        if let entry = file[key] { return (entry, .file) }
        if let entry = sample[key] { return (entry, .sample) }
        if let entry = defaults[key] { return (entry, .default) }
        return nil
    }

    /// File keys and environment variables that no part of the configuration reads, each with the nearest known
    /// key suggested. Call after every key has been read.
    func unknownKeys(queueNames: Set<String>, mailboxNames: Set<String> = []) -> [ConfigurationIssue] {
        var issues: [ConfigurationIssue] = []
        for key in file.keys.sorted() where !accessedSet.contains(key) {
            let parts = key.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count > 2, parts[0] == "queues", !queueNames.contains(String(parts[1])) {
                issues.append(
                    ConfigurationIssue(
                        key: key, message: "queue '\(parts[1])' is not listed in queues.names, so this is not read"))
                continue
            }
            if parts.count > 2, parts[0] == "mailboxes", !mailboxNames.contains(String(parts[1])) {
                issues.append(
                    ConfigurationIssue(
                        key: key,
                        message: "mailbox '\(parts[1])' is not listed in mailboxes.names, so this is not read"))
                continue
            }
            issues.append(ConfigurationIssue(key: key, message: Self.unknownMessage(key, candidates: accessed)))
        }
        let knownNames = accessed.map(Self.environmentName(of:))
        let known = Set(knownNames)
        for name in environment.keys.sorted()
        where !known.contains(name) && !Self.nonConfigurationVariables.contains(name) {
            issues.append(
                ConfigurationIssue(
                    key: name, message: "unknown environment variable" + Self.suggestion(name, candidates: knownNames)))
        }
        return issues
    }

    private static func unknownMessage(_ key: String, candidates: [String]) -> String {
        "unknown key" + suggestion(key, candidates: candidates)
    }

    /// `; did you mean `x`?` for the candidate nearest to `word` by edit distance, when it is near enough to be
    /// a plausible typo (at most a third of the word's length, and at least 2).
    static func suggestion(_ word: String, candidates: [String]) -> String {
        let limit = max(2, word.count / 3)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(word, candidate)
            if distance <= limit, distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        return best.map { "; did you mean `\($0.candidate)`?" } ?? ""
    }

    /// Levenshtein distance; O(n·m) in the two keys' characters, which are short.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// Flattens a YAML document into dotted keys: mappings nest, sequences of scalars become lists, null values
    /// are left out (a section whose keys are all commented out is simply empty).
    ///
    /// - Throws: `ConfigurationIssue` for a document that is not a mapping, or a value Postdesk has no use for
    ///   (a list of mappings, a non-text key).
    static func flatten(yaml text: String) throws -> [String: ConfigurationEntry] {
        let document: Node?
        do {
            document = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationIssue(key: "(file)", message: "not valid YAML: \(error)")
        }
        guard let document else { return [:] }
        guard let mapping = document.mapping else {
            throw ConfigurationIssue(key: "(file)", message: "not valid YAML for Postdesk: the top level must be keys")
        }
        var result: [String: ConfigurationEntry] = [:]
        var pending: [(prefix: String, mapping: Node.Mapping)] = [("", mapping)]
        while let (prefix, mapping) = pending.popLast() {
            for (keyNode, value) in mapping {
                guard let name = keyNode.scalar?.string, !name.isEmpty else {
                    throw ConfigurationIssue(key: prefix.isEmpty ? "(file)" : prefix, message: "a key is not text")
                }
                let key = prefix.isEmpty ? name : prefix + "." + name
                switch value {
                case .mapping(let inner): pending.append((key, inner))
                case .scalar(let scalar):
                    if !isNull(scalar) { result[key] = .scalar(scalar.string) }
                case .sequence(let sequence) where sequence.contains(where: { $0.mapping != nil }):
                    // A list of mappings, each with its `name` (`mailboxes:`, `webhooks:`, a queue's command types and
                    // alert rules): the same keys as `<key>.names` + `<key>.<name>.*`.
                    let noun =
                        switch key {
                        case "mailboxes": "mailbox"
                        case "webhooks": "webhook"
                        default: "item of \(key)"
                        }
                    var names: [String] = []
                    for item in sequence {
                        guard let inner = item.mapping, let name = inner["name"]?.scalar?.string, !name.isEmpty else {
                            throw ConfigurationIssue(key: key, message: "each \(noun) must be a mapping with a `name`")
                        }
                        guard !name.contains(".") else {
                            throw ConfigurationIssue(key: key, message: "\(noun) name '\(name)' must not contain '.'")
                        }
                        guard !names.contains(name) else {
                            throw ConfigurationIssue(key: key, message: "\(noun) '\(name)' is listed twice")
                        }
                        names.append(name)
                        var rest = inner
                        rest["name"] = nil
                        pending.append(("\(key).\(name)", rest))
                    }
                    result["\(key).names"] = .list(names)
                case .sequence(let sequence):
                    var items: [String] = []
                    for item in sequence {
                        guard let scalar = item.scalar else {
                            throw ConfigurationIssue(key: key, message: "must be a list of plain values")
                        }
                        items.append(scalar.string)
                    }
                    result[key] = .list(items)
                case .alias:
                    throw ConfigurationIssue(key: key, message: "YAML aliases are not supported")
                }
            }
        }
        return result
    }

    private static func isNull(_ scalar: Node.Scalar) -> Bool {
        scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }
}
