import Foundation
import Generation
import Testing

@Suite struct GenerationTypesTests {
    @Test func usageAddsEveryCount() {
        let sum = TokenUsage(promptTokens: 10, cachedPromptTokens: 4, completionTokens: 3)
            + TokenUsage(promptTokens: 5, cachedPromptTokens: 1, completionTokens: 7)
        #expect(sum == TokenUsage(promptTokens: 15, cachedPromptTokens: 5, completionTokens: 10))
    }

    @Test func usageIsJournaledWithSnakeCaseKeysAndOldJournalsStillRead() throws {
        let usage = TokenUsage(promptTokens: 12, cachedPromptTokens: 4, completionTokens: 3)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(usage), as: UTF8.self)
        #expect(text == #"{"cached_prompt_tokens":4,"completion_tokens":3,"prompt_tokens":12}"#)
        #expect(try JSONDecoder().decode(TokenUsage.self, from: Data(text.utf8)) == usage)
        let legacy = #"{"promptTokens":12,"cachedPromptTokens":4,"completionTokens":3}"#
        #expect(try JSONDecoder().decode(TokenUsage.self, from: Data(legacy.utf8)) == usage)
    }

    @Test func objectSubscriptFindsMembersInOrder() {
        let value = JSONValue.object([.init("type", .string("object")), .init("maxItems", .number(3))])
        #expect(value["maxItems"] == .number(3))
        #expect(value["missing"] == nil)
        #expect(JSONValue.array([]).self["type"] == nil)
    }

    @Test func errorsNameTheRequest() {
        let error = GenerationError.contextOverflow(requestID: "r1", promptTokens: 900, maxTokens: 200, contextLength: 1024)
        #expect(error.description == "request r1: 900 prompt tokens + 200 answer tokens exceed the context of 1024")
    }
}
