import Generation
import Testing

@Suite struct GenerationTypesTests {
    @Test func usageAddsEveryCount() {
        let sum = TokenUsage(promptTokens: 10, cachedPromptTokens: 4, completionTokens: 3)
            + TokenUsage(promptTokens: 5, cachedPromptTokens: 1, completionTokens: 7)
        #expect(sum == TokenUsage(promptTokens: 15, cachedPromptTokens: 5, completionTokens: 10))
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
