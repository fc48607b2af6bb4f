import Foundation
import Generation
import Tokenizers

/// Continuous batching: every request in flight advances in the same forward call — prompts in chunks aligned to
/// absolute positions (so a prompt is split the same way whatever runs beside it), then one token per step —
/// and requests wait for memory instead of running out of it. Runs on its own thread (the forward pass is long,
/// blocking work that would otherwise hold a cooperative thread).
final class BatchScheduler: @unchecked Sendable {
    struct Limits: Sendable {
        /// Prompt tokens per sequence per step; chunk boundaries fall on multiples of it.
        var prefillChunk = 256
        /// Tokens per forward call (a decode step always fits).
        var maxBatchTokens = 512
        /// Sequences decoded together.
        var maxSequences = 16
        /// Bytes of sequence state (KV caches) the scheduler may hold at once.
        var memoryBudget = Int.max
        /// Bytes of computed prompt blocks kept for later requests with the same first tokens (0: no prefix cache).
        var prefixCacheBytes = 0
    }

    /// One request being served.
    final class Job: @unchecked Sendable {
        let request: GenerationRequest
        let prompt: [TokenID]
        let reservedBytes: Int
        let finish: @Sendable (Result<GenerationResponse, GenerationError>) -> Void
        var state: (any SequenceState)?
        var prefilled = 0
        /// Prompt tokens taken from the prefix cache instead of computed.
        var cachedTokens = 0
        /// Whether its prefill has begun (the prefix cache was consulted).
        var started = false
        var nextInput: TokenID?
        var generated: [TokenID] = []
        var sampler: Sampler
        var decoder: StreamingDecoder
        var text = ""
        var constraint: (any TokenConstraintSession)?
        var cancelled = false
        private let once = NSLock()
        private var resolved = false

        /// Hands the result to the caller exactly once.
        func resolve(_ result: Result<GenerationResponse, GenerationError>) {
            once.lock()
            let first = !resolved
            resolved = true
            once.unlock()
            if first { finish(result) }
        }

        init(
            request: GenerationRequest, prompt: [TokenID], reservedBytes: Int, tokenizer: Tokenizer,
            constraint: (any TokenConstraintSession)?, finish: @escaping @Sendable (Result<GenerationResponse, GenerationError>) -> Void
        ) {
            self.request = request
            self.prompt = prompt
            self.reservedBytes = reservedBytes
            self.finish = finish
            sampler = Sampler(request.sampling)
            decoder = StreamingDecoder(tokenizer: tokenizer)
            self.constraint = constraint
        }
    }

    let model: any LanguageModel
    let tokenizer: Tokenizer
    let limits: Limits
    private let condition = NSCondition()
    private var waiting: [Job] = []
    private var active: [Job] = []
    private var usedBytes = 0
    private var started = false
    /// Owned by the scheduler thread.
    private let prefixCache: PrefixCache

    init(model: any LanguageModel, tokenizer: Tokenizer, limits: Limits) {
        self.model = model
        self.tokenizer = tokenizer
        self.limits = limits
        prefixCache = PrefixCache(byteLimit: max(0, limits.prefixCacheBytes))
    }

    func submit(_ job: Job) {
        condition.lock()
        waiting.append(job)
        if !started {
            started = true
            let thread = Thread { [weak self] in self?.loop() }
            thread.name = "sparrow-engine"
            thread.stackSize = 8 << 20
            thread.start()
        }
        condition.signal()
        condition.unlock()
    }

    func cancel(_ job: Job) {
        condition.lock()
        job.cancelled = true
        condition.signal()
        condition.unlock()
    }

    private struct Step {
        var job: Job
        var tokens: [TokenID]
        var completesPrefill: Bool
    }

    private func loop() {
        while true {
            condition.lock()
            while waiting.isEmpty && active.isEmpty { condition.wait() }
            var cancelled: [Job] = []
            for job in waiting + active where job.cancelled { cancelled.append(job) }
            waiting.removeAll { $0.cancelled }
            active.removeAll { job in
                guard job.cancelled else { return false }
                usedBytes -= job.reservedBytes
                return true
            }
            // Admission in arrival order, within the memory budget (one sequence always runs).
            while let next = waiting.first, active.count < limits.maxSequences,
                  active.isEmpty || usedBytes + next.reservedBytes <= limits.memoryBudget {
                waiting.removeFirst()
                usedBytes += next.reservedBytes
                active.append(next)
            }
            let batch = active
            condition.unlock()
            for job in cancelled { job.resolve(.failure(.cancelled(requestID: job.request.id))) }
            if batch.isEmpty { continue }
            run(batch)
        }
    }

    private func run(_ batch: [Job]) {
        var steps: [Step] = []
        var tokensInStep = 0
        var failed: [(Job, GenerationError)] = []
        // Jobs whose prompts are being computed this step or later: a new job that shares more blocks with one of
        // them than the cache holds waits for it instead of computing the same tokens again.
        var leaders = batch.filter { $0.started && $0.nextInput == nil && $0.prefilled < $0.prompt.count }
        for job in batch {
            if job.state == nil {
                do {
                    job.state = try model.makeState(capacity: job.prompt.count + job.request.maxTokens)
                } catch {
                    failed.append((job, .backend(requestID: job.request.id, reason: "\(error)")))
                    continue
                }
            }
            if !job.started {
                guard let state = job.state, begin(job, state: state, leaders: leaders) else { continue }
                leaders.append(job)
            }
            if let input = job.nextInput {
                steps.append(Step(job: job, tokens: [input], completesPrefill: false))
                tokensInStep += 1
            } else if job.prefilled < job.prompt.count {
                let boundary = (job.prefilled / limits.prefillChunk + 1) * limits.prefillChunk
                let end = min(job.prompt.count, boundary)
                let count = end - job.prefilled
                guard steps.isEmpty || tokensInStep + count <= limits.maxBatchTokens else { continue }
                steps.append(Step(job: job, tokens: Array(job.prompt[job.prefilled..<end]), completesPrefill: end == job.prompt.count))
                tokensInStep += count
            }
        }
        for (job, error) in failed { complete(job, .failure(error)) }
        guard !steps.isEmpty else { return }
        let items = steps.compactMap { step in step.job.state.map { ForwardItem(state: $0, tokens: step.tokens) } }
        let logits: [[Float]]
        do {
            logits = try model.forward(items, allPositions: false)
        } catch {
            for step in steps { complete(step.job, .failure(.backend(requestID: step.job.request.id, reason: "\(error)"))) }
            return
        }
        for (index, step) in steps.enumerated() {
            let job = step.job
            if job.nextInput == nil {
                job.prefilled += step.tokens.count
                if prefixCache.byteLimit > 0, let state = job.state as? any PrefixSharingState {
                    prefixCache.insert(job.prompt, state: state, blocks: job.prefilled / state.blockSize)
                }
                guard step.completesPrefill else { continue }
            }
            job.nextInput = nil
            sampleAndCheck(job, logits: logits[index])
        }
    }

    /// Starts `job`'s prefill from the longest cached prefix of its prompt (always leaving its last token to
    /// compute: its logits give the first answer token); false when an earlier job is computing more of the same
    /// prefix than the cache holds yet, so this one should wait for it.
    private func begin(_ job: Job, state: any SequenceState, leaders: [Job]) -> Bool {
        guard prefixCache.byteLimit > 0, let sharing = state as? any PrefixSharingState, sharing.length == 0 else {
            job.started = true
            return true
        }
        let size = sharing.blockSize
        let reusable = job.prompt.count - 1
        let cached = prefixCache.lookup(job.prompt, blockSize: size, maxTokens: reusable)
        var pending = 0
        for leader in leaders where leader !== job {
            // What the leader will leave in the cache: its prompt's whole blocks.
            let limit = min(leader.prompt.count / size * size, reusable)
            var common = 0
            while common < limit && leader.prompt[common] == job.prompt[common] { common += 1 }
            pending = max(pending, common)
        }
        if pending > cached.tokens { return false }
        job.started = true
        guard cached.tokens > 0 else { return true }
        do {
            try sharing.adopt(cached.blocks, length: cached.tokens)
            job.prefilled = cached.tokens
            job.cachedTokens = cached.tokens
        } catch {
            // A block that does not fit this state: compute the prompt instead (the cache is only an optimisation).
            job.prefilled = 0
            job.cachedTokens = 0
        }
        return true
    }

    /// Chooses the next token of `job` and ends it when it is done.
    private func sampleAndCheck(_ job: Job, logits: [Float]) {
        let remaining = job.request.maxTokens - job.generated.count
        if var constraint = job.constraint {
            if constraint.isComplete {
                finishText(job, reason: .endOfText)
                return
            }
            constraint.prepare(remainingTokens: remaining)
            job.constraint = constraint
        }
        guard let token = job.sampler.next(logits, constraint: job.constraint) else {
            complete(job, .failure(.constraintViolated(requestID: job.request.id, reason: "no token can continue the answer")))
            return
        }
        if tokenizer.isEndOfGeneration(token) {
            finishText(job, reason: .endOfText)
            return
        }
        if var session = job.constraint {
            do throws(GenerationError) {
                try session.advance(token)
            } catch {
                complete(job, .failure(error))
                return
            }
            job.constraint = session
        }
        job.generated.append(token)
        job.text += job.decoder.append(token)
        if let cut = StopMatcher(stops: job.request.stop).cut(job.text) {
            job.text = cut
            finishText(job, reason: .stopString, flush: false)
            return
        }
        if job.constraint?.isComplete == true {
            finishText(job, reason: .endOfText)
            return
        }
        if job.generated.count >= job.request.maxTokens || (job.state.map { $0.length + 1 > $0.capacity } ?? true) {
            finishText(job, reason: .length)
            return
        }
        job.nextInput = token
    }

    private func finishText(_ job: Job, reason: FinishReason, flush: Bool = true) {
        if flush { job.text += job.decoder.finish() }
        let usage = TokenUsage(promptTokens: job.prompt.count, cachedPromptTokens: job.cachedTokens, completionTokens: job.generated.count)
        complete(job, .success(GenerationResponse(requestID: job.request.id, text: job.text, finishReason: reason, usage: usage)))
    }

    private func complete(_ job: Job, _ result: Result<GenerationResponse, GenerationError>) {
        condition.lock()
        if let index = active.firstIndex(where: { $0 === job }) {
            active.remove(at: index)
            usedBytes -= job.reservedBytes
        }
        job.state = nil
        condition.unlock()
        job.resolve(result)
    }
}
