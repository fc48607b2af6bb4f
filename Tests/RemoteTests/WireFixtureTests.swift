import Foundation
@testable import Remote
import Generation
import TestSupport
import Testing

/// Payloads built by the official OpenAI Python SDK and what the SDK itself reads from them
/// (Scripts/fixtures/remote_wire.py; see Fixtures/README.md).
@Suite("Wire fixtures from the OpenAI SDK")
struct WireFixtureTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    private struct StreamExpectation: Decodable {
        var events: [String]
        var text: String
        var finishReason: String
        var usage: Usage

        struct Usage: Decodable {
            var promptTokens: Int
            var completionTokens: Int
            var cachedTokens: Int
        }
    }

    private struct WholeExpectations: Decodable {
        var files: [String: WholeExpectation]
    }

    private struct WholeExpectation: Decodable {
        var text: String
        var finishReason: String
        var promptTokens: Int
        var completionTokens: Int
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: Data(contentsOf: directory.appendingPathComponent(name)))
    }

    @Test("The SSE parser reads the SDK's stream as the SDK's decoder does, whatever the chunking", arguments: [1, 7, 64, 100_000])
    func sseLikeTheSDK(pieceSize: Int) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent("chat-stream.sse")))
        let expected = try Self.decode(StreamExpectation.self, "chat-stream.expected.json")
        var parser = ServerSentEventParser()
        var events: [String] = []
        for start in stride(from: 0, to: bytes.count, by: pieceSize) {
            events += try parser.feed(bytes[start..<min(start + pieceSize, bytes.count)]).map(\.data)
        }
        #expect(events == expected.events)
    }

    @Test("The client turns the SDK's stream into the SDK's final text, finish reason and usage")
    func streamThroughClient() async throws {
        let bytes = try Data(contentsOf: Self.directory.appendingPathComponent("chat-stream.sse"))
        let expected = try Self.decode(StreamExpectation.self, "chat-stream.expected.json")
        // Sent in 5-byte pieces, so chunks split lines, line ends and UTF-8 sequences on the wire too.
        let pieces = stride(from: 0, to: bytes.count, by: 5).map { HTTPStubAction.send(bytes.subdata(in: $0..<min($0 + 5, bytes.count))) }
        let stub = try HTTPStub { _ in [.eventStreamHead()] + pieces + [.close] }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(stub)
        let response = try await client.generate(chatRequest("fixture-stream"))
        #expect(response.text == expected.text)
        #expect(response.finishReason.rawValue == expected.finishReason)
        #expect(response.usage == TokenUsage(
            promptTokens: expected.usage.promptTokens, cachedPromptTokens: expected.usage.cachedTokens,
            completionTokens: expected.usage.completionTokens
        ))
    }

    @Test("Whole answers: chat.completion and text_completion objects read as the SDK reads them", arguments: [
        ("chat-completion.json", true), ("completion.json", false),
    ])
    func wholeThroughClient(file: String, chat: Bool) async throws {
        let body = try String(contentsOf: Self.directory.appendingPathComponent(file), encoding: .utf8)
        let expected = try #require(try Self.decode(WholeExpectations.self, "whole.expected.json").files[file])
        let stub = try HTTPStub { _ in HTTPStubAction.response(status: 200, body: body) }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(stub, streaming: false)
        let request = chat ? chatRequest("fixture-whole") : GenerationRequest(id: "fixture-text", prompt: .text("hello"), maxTokens: 4)
        let response = try await client.generate(request)
        #expect(response.text == expected.text)
        #expect(response.finishReason.rawValue == expected.finishReason)
        #expect(response.usage == TokenUsage(promptTokens: expected.promptTokens, completionTokens: expected.completionTokens))
        #expect(stub.requests.first?.path == (chat ? "/v1/chat/completions" : "/v1/completions"))
    }
}
