import Foundation
import MessageSpool
import Testing

@Suite("A secret file is created once, private and durable, whoever asks first")
struct SecretFileTests {
    @Test func createdOncePrivateAndReadBackUnchanged() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID())/nested").path
        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
        let path = directory + "/schlüssel.key"
        let first = try SecretFile.readOrCreate(at: path) { Array("geheim-€\n".utf8) }
        #expect(first == Array("geheim-€\n".utf8))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let again = try SecretFile.readOrCreate(at: path) {
            Issue.record("an existing secret is never made again")
            return []
        }
        #expect(again == first)
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["schlüssel.key"])
    }

    @Test func concurrentCreatorsAllEndWithTheOneThatWon() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/race.key"
        let all = await withTaskGroup(of: [UInt8].self) { group in
            for index in 0..<16 {
                group.addTask {
                    (try? SecretFile.readOrCreate(at: path) { Array("creator \(index)\n".utf8) }) ?? []
                }
            }
            var all: [[UInt8]] = []
            for await content in group { all.append(content) }
            return all
        }
        #expect(all.count == 16)
        #expect(
            Set(all).count == 1,
            "every creator reads the same secret: \(all.map { String(decoding: $0, as: UTF8.self) })")
        #expect(try SecretFile.read(at: path) == all.first)
    }
}
