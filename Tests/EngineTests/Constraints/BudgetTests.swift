import Engine
import Generation
import Testing
import Tokenizers

/// The budget: a constrained answer is always complete within max_tokens, and closing is forced exactly when needed.
@Suite struct BudgetTests {
    static let schema = schemaObject(
        ("type", .string("object")),
        ("properties", schemaObject(
            ("summary", schemaObject(("type", .string("string")))),
            ("findings", schemaObject(("type", .string("array")), ("minItems", .number(1)),
                                      ("items", schemaObject(("type", .string("integer")), ("minimum", .number(100))))))
        )),
        ("required", .array([.string("summary"), .string("findings")]))
    )

    @Test func tooSmallABudgetIsRefusedUpFront() throws {
        let program = try ConstraintProgram(schema: Self.schema)
        // {"summary":"","findings":[100]}
        #expect(program.shortestAnswerBytes == 31)
        #expect(throws: SchemaConstraintError.budgetTooSmall(needed: 31, maxTokens: 30)) {
            try ConstraintSession(program: program, trie: ByteVocabulary.trie, maxTokens: 30)
        }
        #expect(throws: Never.self) { try ConstraintSession(program: program, trie: ByteVocabulary.trie, maxTokens: 31) }
    }

    /// With the exact budget, every step allows only bytes of a shortest completion; a greedy walk that always
    /// takes the highest allowed byte still ends complete at exactly max_tokens.
    @Test(arguments: [31, 32, 40, 64])
    func greedyHighestByteStillCloses(budget: Int) throws {
        let session = try ConstraintSession(program: try ConstraintProgram(schema: Self.schema), trie: ByteVocabulary.trie, maxTokens: budget)
        var text: [UInt8] = []
        while !session.mustEnd {
            let mask = session.allowedTokens()
            var highest: Int32 = -1
            mask.forEachAllowed { if $0 < 256 { highest = $0 } }
            guard highest >= 0 else { break }
            try session.advance(highest)
            text.append(UInt8(highest))
            #expect(session.bytesToClose <= session.remainingTokens)
        }
        #expect(session.canEnd, "\(String(decoding: text, as: UTF8.self))")
        #expect(text.count <= budget)
        let parsed = try ParsedJSON.parse(text)
        #expect(IndependentValidator.violation(parsed, Self.schema) == nil, "\(String(decoding: text, as: UTF8.self))")
    }

    @Test func aTokenThatWouldOverrunIsRefused() throws {
        let session = try ConstraintSession(program: try ConstraintProgram(schema: Self.schema), trie: ByteVocabulary.trie, maxTokens: 31)
        for byte in #"{"summary":""#.utf8 { try session.advance(TokenID(byte)) }
        // 12 tokens used, 19 left, `","findings":[100]}` needs 19 bytes: another content byte must be refused.
        #expect(session.remainingTokens == 19)
        #expect(session.bytesToClose == 19)
        #expect(!session.allows(TokenID(UInt8(ascii: "x"))))
        #expect(throws: SchemaConstraintError.tokenNotAllowed(token: 120, position: 12)) { try session.advance(120) }
        #expect(session.allowedTokens().count == 1)
        #expect(session.allowedTokens().contains(TokenID(UInt8(ascii: "\""))))
    }
}
