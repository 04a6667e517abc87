import Foundation

@testable import PostdeskDaemon

/// A scratch directory for one test's configuration files, removed when the test's suite instance lets it go,
/// and the loading every configuration suite does: `head` (the store, listener and queue a test's own keys need
/// around them) and the test's YAML in `postdesk.yaml`, its issues as a list or by key.
final class ConfigurationScratch: Sendable {
    let directory: URL
    let head: String

    init(label: String, head: String = "") {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pd-\(label)-\(UUID())")
        self.head = head
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes `contents` to `name` in the scratch directory; returns its path.
    func file(_ name: String, _ contents: String) throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent(name).path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Writes `head` and `yaml` to `postdesk.yaml`; returns its path.
    func configurationFile(_ yaml: String) throws -> String {
        try file("postdesk.yaml", head + yaml)
    }

    func load(_ yaml: String, environment: [String: String] = [:]) async throws -> PostdeskConfiguration {
        try await PostdeskConfiguration.load(path: try configurationFile(yaml), environment: environment)
    }

    /// What loading `yaml` reports, in order; empty when it loads.
    func issues(_ yaml: String, environment: [String: String] = [:]) async throws -> [ConfigurationIssue] {
        do {
            _ = try await load(yaml, environment: environment)
            return []
        } catch let errors as ConfigurationErrors {
            return errors.issues
        }
    }

    /// `issues` by key, the messages of a key joined with "; ".
    func issuesByKey(_ yaml: String, environment: [String: String] = [:]) async throws -> [String: String] {
        Dictionary(
            try await issues(yaml, environment: environment).map { ($0.key, $0.message) },
            uniquingKeysWith: { $0 + "; " + $1 })
    }
}
