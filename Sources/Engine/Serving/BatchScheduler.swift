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
        /// Bytes of sequence state (KV caches) and prefix cache the scheduler may hold at once.
        var memoryBudget = Int.max
        /// Bytes of computed prompt blocks kept for later requests with the same first tokens (0: no prefix cache);
        /// the cache also keeps within what the running sequences leave of `memoryBudget`.
        var prefixCacheBytes = 0
    }

    /// What the scheduler holds against its memory budget (for tests and reports).
    struct MemoryReport: Sendable, Equatable {
        /// Bytes reserved by the running sequences, and held by the prefix cache, now.
        var sequenceBytes = 0, prefixCacheBytes = 0
        /// The largest sum of the two seen so far, and the most sequences that ran at once.
        var peakBytes = 0, peakSequences = 0
        /// Requests submitted and not yet admitted, and requests admitted and not yet finished.
        var waitingRequests = 0, runningRequests = 0
    }

    /// One request being served.
    final class Job: @unchecked Sendable {
        let request: GenerationRequest
        let prompt: [TokenID]
        let reservedBytes: Int
        /// Where the prompt's stable prefix ends (its leading system messages, which requests of one run share), or
        /// 0. For states with hidden state a prefill chunk also ends there and it becomes a resume point, so a
        /// request with the same prefix computes none of it again; cache on or off, the prompt is split the same way.
        let stablePrefix: Int
        let finish: @Sendable (Result<GenerationResponse, GenerationError>) -> Void
        var state: (any SequenceState)?
        var prefilled = 0
        /// Prompt tokens taken from the prefix cache instead of computed.
        var cachedTokens = 0
        /// Whether its prefill has begun (the prefix cache was consulted).
        var started = false
        var nextInput: TokenID?
        /// The one-token input of its decode steps, overwritten each step (so a step allocates no token array).
        var decodeInput: [TokenID] = [0]
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
            request: GenerationRequest, prompt: [TokenID], reservedBytes: Int, stablePrefix: Int = 0,
            tokenizer: Tokenizer,
            constraint: (any TokenConstraintSession)?, finish: @escaping @Sendable (Result<GenerationResponse, GenerationError>) -> Void
        ) {
            self.request = request
            self.prompt = prompt
            self.reservedBytes = reservedBytes
            self.stablePrefix = stablePrefix > 0 && stablePrefix < prompt.count ? stablePrefix : 0
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
    /// Guarded by `condition`, like `usedBytes`.
    private var memory = MemoryReport()
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
        memory.waitingRequests = waiting.count
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

    /// The memory held now and its peaks.
    var memoryReport: MemoryReport {
        condition.lock()
        defer { condition.unlock() }
        return memory
    }

    /// Records the current memory and its peaks; called with `condition` held, on the scheduler thread.
    private func noteMemory() {
        memory.sequenceBytes = usedBytes
        memory.prefixCacheBytes = prefixCache.bytes
        memory.peakBytes = max(memory.peakBytes, usedBytes + prefixCache.bytes)
        memory.peakSequences = max(memory.peakSequences, active.count)
        memory.waitingRequests = waiting.count
        memory.runningRequests = active.count
    }

    /// Tokens between the points a prefix of `state` can be resumed from: every block end for states that are
    /// pages alone; for states with hidden state (`needsSnapshots`), only block ends where a prefill
    /// chunk ends — the snapshot points — so that resuming there repeats an uncached run's forward calls exactly.
    private func resumeInterval(_ state: any PrefixSharingState) -> Int {
        let block = state.blockSize, chunk = limits.prefillChunk
        guard state.needsSnapshots else { return block }
        var (a, b) = (block, chunk)
        while b != 0 { (a, b) = (b, a % b) }
        return block / a * chunk
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
            for job in waiting where job.cancelled { cancelled.append(job) }
            for job in active where job.cancelled { cancelled.append(job) }
            waiting.removeAll { $0.cancelled }
            active.removeAll { job in
                guard job.cancelled else { return false }
                usedBytes -= job.reservedBytes
                return true
            }
            noteMemory()
            // Admission in arrival order, within the memory budget, which the prefix cache shares: a request is
            // admitted when its state fits beside the running ones, the cache giving way (evicting) to make room
            // before a request waits (one sequence always runs). The cache's blocks that running sequences adopted
            // are counted twice (in their reservations too): conservative.
            while let next = waiting.first, active.count < limits.maxSequences {
                let needed = usedBytes + next.reservedBytes
                guard active.isEmpty || needed <= limits.memoryBudget else { break }
                if prefixCache.bytes > limits.memoryBudget - needed {
                    prefixCache.touch(next.prompt, stablePrefix: next.stablePrefix)  // what it will adopt goes last
                    prefixCache.shrink(toFit: limits.memoryBudget - needed)
                }
                waiting.removeFirst()
                usedBytes = needed
                active.append(next)
                noteMemory()
            }
            let batch = active
            condition.unlock()
            for job in cancelled { job.resolve(.failure(.cancelled(requestID: job.request.id))) }
            if batch.isEmpty { continue }
            run(batch)
        }
    }

    /// The steps and forward items of `run`, kept between steps so a decode step reuses their storage (emptied at
    /// the end of each step, so they hold no job or state beyond it). Owned by the scheduler thread.
    private var steps: [Step] = []
    private var items: [ForwardItem] = []

    private func run(_ batch: [Job]) {
        defer {
            steps.removeAll(keepingCapacity: true)
            items.removeAll(keepingCapacity: true)
        }
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
                job.decodeInput[0] = input
                steps.append(Step(job: job, tokens: job.decodeInput, completesPrefill: false))
                tokensInStep += 1
            } else if job.prefilled < job.prompt.count {
                let end = chunkEnd(job)
                let count = end - job.prefilled
                guard steps.isEmpty || tokensInStep + count <= limits.maxBatchTokens else { continue }
                steps.append(Step(job: job, tokens: Array(job.prompt[job.prefilled..<end]), completesPrefill: end == job.prompt.count))
                tokensInStep += count
            }
        }
        for (job, error) in failed { complete(job, .failure(error)) }
        guard !steps.isEmpty else { return }
        for step in steps {
            if let state = step.job.state { items.append(ForwardItem(state: state, tokens: step.tokens)) }
        }
        let logits: [[Float]]
        do {
            logits = try model.forward(items, allPositions: false)
        } catch {
            for step in steps { complete(step.job, .failure(.backend(requestID: step.job.request.id, reason: "\(error)"))) }
            return
        }
        var inserted = false
        for (index, step) in steps.enumerated() {
            let job = step.job
            if job.nextInput == nil {
                job.prefilled += step.tokens.count
                if prefixCache.byteLimit > 0, let state = job.state as? any PrefixSharingState {
                    share(job, state: state)
                    inserted = true
                }
                guard step.completesPrefill else { continue }
            }
            job.nextInput = nil
            sampleAndCheck(job, logits: logits[index])
        }
        if inserted {
            // The cache keeps within what the running sequences leave of the budget.
            condition.lock()
            prefixCache.shrink(toFit: limits.memoryBudget - usedBytes)
            noteMemory()
            condition.unlock()
        }
    }

    /// Where `job`'s next prefill chunk ends: the next multiple of the chunk size, the prompt's end, or — for states
    /// with hidden state — the end of its stable prefix, whichever comes first. It depends on the request alone
    /// (not on the cache or the batch), so every run of it makes the same forward calls.
    private func chunkEnd(_ job: Job) -> Int {
        let boundary = (job.prefilled / limits.prefillChunk + 1) * limits.prefillChunk
        var end = min(job.prompt.count, boundary)
        if job.prefilled < job.stablePrefix, (job.state as? any PrefixSharingState)?.needsSnapshots == true {
            end = min(end, job.stablePrefix)
        }
        return end
    }

    /// Offers the prompt blocks `job` has computed to the prefix cache. A state with hidden state snapshots it here
    /// when its prefill has just reached a resume point, and offers only blocks up to its last resume point (later
    /// ones could never be resumed from); the snapshots then live on in the cache's blocks only, where they are
    /// counted and evicted, not in the sequence.
    private func share(_ job: Job, state: any PrefixSharingState) {
        var shareable = job.prefilled, tail = 0
        if state.needsSnapshots {
            let interval = resumeInterval(state)
            shareable -= shareable % interval
            if job.prefilled % interval == 0 || job.prefilled == job.stablePrefix { state.takeSnapshot() }
            if job.prefilled == job.stablePrefix {
                shareable = job.prefilled - job.prefilled % state.blockSize
                tail = job.prefilled - shareable
            }
        }
        prefixCache.insert(job.prompt, state: state, blocks: shareable / state.blockSize, tail: tail,
                           stablePrefix: job.stablePrefix)
        state.discardSnapshots()
    }

    /// Starts `job`'s prefill from the longest cached prefix of its prompt (always leaving its last token to
    /// compute: its logits give the first answer token); false when an earlier job is computing more of the same
    /// prefix than the cache holds yet, so this one should wait for it.
    private func begin(_ job: Job, state: any SequenceState, leaders: [Job]) -> Bool {
        guard prefixCache.byteLimit > 0, let sharing = state as? any PrefixSharingState, sharing.length == 0 else {
            job.started = true
            return true
        }
        let size = sharing.blockSize, interval = resumeInterval(sharing)
        let reusable = job.prompt.count - 1
        // Only states with hidden state split their prefill at the stable prefix (`chunkEnd`).
        let stable = sharing.needsSnapshots ? job.stablePrefix : 0
        let cached = prefixCache.lookup(job.prompt, blockSize: size, maxTokens: reusable,
                                        resume: .init(stablePrefix: stable, interval: interval))
        let pending = leaders.filter { $0 !== job }.map {
            prefixLeft(by: $0, for: job, stable: stable, needsSnapshots: sharing.needsSnapshots, interval: interval)
        }.max() ?? 0
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

    /// How many of `job`'s first tokens `leader`, still prefilling, will leave in the cache for `job` to resume
    /// from (`stable`: `job`'s stable prefix as its state splits at it): the common part of their prompts' whole
    /// blocks up to the leader's last resume point; pages can be resumed inside a block, recurrent state only at a
    /// resume point or at the end of a stable prefix both share. Where their stable prefixes differ, their chunks
    /// split differently after the first of them, and so do the bits.
    private func prefixLeft(by leader: Job, for job: Job, stable: Int, needsSnapshots: Bool, interval: Int) -> Int {
        let leaderStable = needsSnapshots ? leader.stablePrefix : 0
        var limit = min(max(leader.prompt.count / interval * interval, leaderStable == stable ? stable : 0),
                        job.prompt.count - 1)
        if leaderStable != stable, let first = [leaderStable, stable].filter({ $0 > 0 }).min() {
            limit = min(limit, first)
        }
        var common = 0
        while common < limit && leader.prompt[common] == job.prompt[common] { common += 1 }
        guard needsSnapshots else { return common }
        if stable > 0, leaderStable == stable, common >= stable { return max(common / interval * interval, stable) }
        return common / interval * interval
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
            noteMemory()
        }
        job.state = nil
        condition.unlock()
        job.resolve(result)
    }
}
