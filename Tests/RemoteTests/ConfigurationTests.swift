import Foundation
@testable import Remote
import Testing

@Suite("Remote configuration, retry policy and Retry-After")
struct ConfigurationTests {
    @Test("Endpoints append /v1 once, whether or not the base URL has it", arguments: [
        "http://127.0.0.1:8080", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1/",
    ])
    func endpoints(base: String) throws {
        let configuration = RemoteConfiguration(baseURL: try #require(URL(string: base)), modelName: "m")
        #expect(configuration.endpoint("chat/completions").absoluteString == "http://127.0.0.1:8080/v1/chat/completions")
    }

    @Test("Settings a spec could get wrong are errors naming the spec key")
    func validation() throws {
        let base = try #require(URL(string: "http://h:1"))
        #expect(throws: RemoteError.invalidSetting(field: "model.parallel", reason: "expected at least 1, got 0")) {
            try RemoteConfiguration(baseURL: base, modelName: "m", parallel: 0).validate()
        }
        #expect(throws: RemoteError.invalidBaseURL("ftp://h:1")) {
            try RemoteConfiguration(baseURL: try #require(URL(string: "ftp://h:1")), modelName: "m").validate()
        }
        #expect(throws: RemoteError.self) {
            try RemoteConfiguration(baseURL: base, modelName: "m", limits: TimeLimits(total: 0)).validate()
        }
        #expect(throws: Never.self) { try RemoteConfiguration(baseURL: base, modelName: "m").validate() }
    }

    @Test("From the spec's model section: URL text, timeout into the total limit, errors naming the key")
    func fromSpec() throws {
        let configuration = try RemoteConfiguration(
            url: "https://gpu-1.internal:8000/v1", name: "Qwen3-Coder-Next", apiKeyEnv: "VLLM_KEY", timeout: 900, context: 32768, parallel: 16
        )
        #expect(configuration.limits.total == 900 && configuration.parallel == 16 && configuration.contextLength == 32768)
        #expect(configuration.endpoint("completions").absoluteString == "https://gpu-1.internal:8000/v1/completions")
        #expect(throws: RemoteError.invalidBaseURL("gpu-1:8000")) {
            try RemoteConfiguration(url: "gpu-1:8000", name: "m", apiKeyEnv: nil, timeout: nil, context: 1, parallel: 1)
        }
        #expect(throws: RemoteError.invalidSetting(field: "model.timeout", reason: "expected a positive number of seconds, got -1.0")) {
            try RemoteConfiguration(url: "http://h", name: "m", apiKeyEnv: nil, timeout: -1, context: 1, parallel: 1)
        }
    }

    @Test("Backoff doubles per attempt up to the cap; Retry-After wins but is capped")
    func backoff() {
        let policy = RetryPolicy(maxAttempts: 6, baseDelay: 0.5, maxDelay: 3)
        #expect((1...5).map { policy.delay(afterAttempt: $0, retryAfter: nil) } == [0.5, 1, 2, 3, 3])
        #expect(policy.delay(afterAttempt: 1, retryAfter: 2) == 2)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 120) == 3)
    }

    @Test("Retry-After: delta-seconds and the three HTTP-date forms of RFC 9110 §5.6.7's example")
    func retryAfter() throws {
        // RFC 9110 §5.6.7: "Sun, 06 Nov 1994 08:49:37 GMT" and its RFC 850 and asctime spellings.
        let now = Date(timeIntervalSince1970: 784_111_777 - 120)
        #expect(RetryAfter.seconds(from: "120") == 120)
        #expect(RetryAfter.seconds(from: "Sun, 06 Nov 1994 08:49:37 GMT", now: now) == 120)
        #expect(RetryAfter.seconds(from: "Sunday, 06-Nov-94 08:49:37 GMT", now: now) == 120)
        #expect(RetryAfter.seconds(from: "Sun Nov  6 08:49:37 1994", now: now) == 120)
        #expect(RetryAfter.seconds(from: "Sun, 06 Nov 1994 08:49:37 GMT", now: now.addingTimeInterval(500)) == 0)
        #expect(RetryAfter.seconds(from: "soon") == nil)
        #expect(RetryAfter.seconds(from: "-5") == nil)
    }
}
