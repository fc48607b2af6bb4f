import Foundation
import Testing

@testable import Annotations
import Hashing

/// Digests from Python's hashlib (Scripts/fixtures/annotations_sha256_vectors.py → Fixtures/sha256-vectors.json).
@Suite struct SHA256Tests {
    private struct Vectors: Decodable {
        struct Patterned: Decodable { let length: Int; let seed: Int; let sha256: String }
        struct Text: Decodable { let text: String; let sha256: String }
        let patterned: [Patterned]
        let texts: [Text]
    }

    private func vectors() throws -> Vectors {
        let url = FixtureFiles.directory.appendingPathComponent("sha256-vectors.json")
        return try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }

    @Test func matchesHashlibAcrossPaddingBoundaries() throws {
        let vectors = try vectors()
        #expect(vectors.patterned.count >= 10)
        for vector in vectors.patterned {
            let bytes = (0..<vector.length).map { UInt8(($0 * 31 + vector.seed) % 256) }
            #expect(SHA256.hexDigest(bytes) == vector.sha256, "length \(vector.length)")
        }
    }

    @Test func matchesHashlibOnUTF8Text() throws {
        for vector in try vectors().texts {
            #expect(SHA256.hexDigest(Array(vector.text.utf8)) == vector.sha256, "\(vector.text.debugDescription)")
        }
    }
}
