import Foundation
import MessageSpool
import Testing

@Suite struct SpoolFileTests {
    private static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "spool-" + UUID().uuidString
        try SpoolDirectory.prepare(path)
        return path
    }

    /// Resident file-backed memory of this process, in KiB (`RssFile` of /proc/self/status).
    private static func residentFileKiB() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("RssFile:") })
        return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    }

    @Test func spooledBytesReadBackExactlyAndTheFileLeavesNoName() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try SpoolFileWriter(directory: directory)
        let first = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try writer.append(first)
        try writer.append(Array("tail\r\n".utf8))
        // Unlinked at creation: a crash can leave nothing behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
        let message = try writer.finish()
        #expect(message.isSpooled)
        #expect(message.count == first.count + 6)
        #expect(message.bytes == first + Array("tail\r\n".utf8))
        var chunked: [UInt8] = []
        var offsets: [Int] = []
        message.forEachChunk(of: 65_536) { offset, chunk in
            offsets.append(offset)
            chunked += chunk
        }
        #expect(chunked == message.bytes)
        #expect(offsets == Array(stride(from: 0, to: message.count, by: 65_536)))
    }

    @Test func anEmptySpoolIsAnEmptyMessage() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let message = try SpoolFileWriter(directory: directory).finish()
        #expect(message.isEmpty)
        #expect(message.bytes == [])
    }

    @Test func aMissingDirectoryIsAnErrorThatNamesIt() throws {
        let missing = NSTemporaryDirectory() + "no-such-spool-" + UUID().uuidString
        #expect {
            _ = try SpoolFileWriter(directory: missing)
        } throws: { error in
            let spoolError = error as? SpoolError
            return spoolError?.operation == "create" && spoolError?.code == ENOENT
                && "\(error)".contains("no-such-spool")
        }
    }

    @Test func releasingPagesDropsThemFromTheResidentSetButKeepsTheContent() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try SpoolFileWriter(directory: directory)
        let block = [UInt8](repeating: 0x5A, count: 1 << 20)
        for _ in 0..<64 { try writer.append(block) }
        let message = try writer.finish()
        let before = try Self.residentFileKiB()
        var sum = 0
        message.withUnsafeBytes { bytes in
            for index in stride(from: 0, to: bytes.count, by: 4096) { sum &+= Int(bytes[index]) }
        }
        let touched = try Self.residentFileKiB()
        message.releaseResidentPages()
        let released = try Self.residentFileKiB()
        #expect(sum == 0x5A * (64 << 20) / 4096)
        #expect(touched - before > 48 * 1024, "reading 64 MiB maps it in: \(before) → \(touched) KiB")
        #expect(touched - released > 48 * 1024, "released: \(touched) → \(released) KiB")
        message.withUnsafeBytes { bytes in
            #expect(bytes[0] == 0x5A && bytes[bytes.count - 1] == 0x5A)
        }
    }

    @Test func aMessageInMemoryIsNotSpooled() {
        let message = RawMessage(Array("Subject: x\r\n\r\nbody\r\n".utf8))
        #expect(!message.isSpooled)
        #expect(message.count == 20)
        message.releaseResidentPages()
        #expect(message.bytes == Array("Subject: x\r\n\r\nbody\r\n".utf8))
    }
}
