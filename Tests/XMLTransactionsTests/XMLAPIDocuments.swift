import Foundation

/// The repository's docs/xml-api (XSD and examples) and small documents the tests build.
enum XMLAPIDocuments {
    static let directory = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docs/xml-api")
    static let schema = directory.appendingPathComponent("postdesk-transaction.xsd")
    static let examples = directory.appendingPathComponent("examples")

    static func example(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: examples.appendingPathComponent(name)))
    }

    static func exampleNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: examples.path).filter { $0.hasSuffix(".xml") }.sorted()
    }

    /// A transaction with the given operations' XML after a password header.
    static func transaction(_ operations: String, header: String = "<Password>s3cret</Password>") -> [UInt8] {
        Array(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostdeskTransaction version=\"1\">\(header)\(operations)</PostdeskTransaction>\n"
                .utf8)
    }

    static let minimalCreate =
        "<CreateTicket><Subject>Hello</Subject><Text>Body</Text><Requester>a@example.test</Requester></CreateTicket>"
}

/// xmllint (Debian's libxml2-utils, from scripts/install-test-peers.sh), when installed.
enum XMLLint {
    static let path: String? = ["/usr/bin/xmllint", "/usr/local/bin/xmllint"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Validates a file against the schema; returns xmllint's exit status and its messages.
    static func validate(_ file: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path!)
        process.arguments = ["--noout", "--nonet", "--schema", XMLAPIDocuments.schema.path, file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// Validates bytes by writing them to a temporary file first.
    static func validate(bytes: [UInt8]) throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("xmltx-\(UUID().uuidString).xml")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try validate(file)
    }
}
