/// Runs a `ConstraintProgram` over bytes: a pushdown matcher whose suspended frames live in an append-only arena,
/// so trying a byte copies one small frame, and the token-trie walk can undo a whole subtree by truncating the arena.
struct ByteMatcher {
    let program: ConstraintProgram
    /// Suspended frames. Entries up to `committed` belong to the accepted answer; the rest are scratch.
    var arena: [SuspendedFrame] = []

    init(program: ConstraintProgram) {
        self.program = program
        arena.reserveCapacity(1024)
    }

    /// The state before the first byte.
    var initialState: MatcherState {
        MatcherState(top: frame(for: program.root), parent: -1)
    }

    /// A fresh frame for a value of `node`.
    func frame(for node: Int32) -> Frame {
        switch program.nodes[Int(node)] {
        case let .object(index): .object(ObjectFrame(node: Int32(index), phase: .start))
        case let .oneOf(index):
            .object(ObjectFrame(node: Int32(index), phase: .branchStart, candidates: Self.mask(program.oneOfs[index].branches.count)))
        case let .array(index): .array(ArrayFrame(node: Int32(index), phase: .start))
        case let .string(index): .string(StringFrame(node: Int32(index), phase: .start))
        case let .literal(index):
            .literal(LiteralFrame(node: Int32(index), candidates: Self.mask(program.literals[index].literals.count)))
        case let .integer(index): .integer(IntegerFrame(node: Int32(index)))
        }
    }

    static func mask(_ count: Int) -> UInt64 { count >= 64 ? ~0 : (1 << UInt64(count)) - 1 }

    /// What a frame did with a byte.
    enum StepResult {
        /// Took the byte and stays open.
        case consumed
        case rejected
        /// Took the byte and is complete (`}`, `]`, closing quote, last byte of a literal).
        case closed
        /// Is complete and did not take the byte (an integer followed by a delimiter): the parent gets it.
        case ended
        /// Took nothing; the byte starts a child value of this node (the frame already moved past it).
        case push(Int32)
    }

    /// Feeds one byte. On false the state is garbage (callers keep a copy).
    @inline(__always)
    mutating func step(_ state: inout MatcherState, _ byte: UInt8) -> Bool {
        while true {
            let result: StepResult
            switch state.top {
            case .done:
                return false
            case var .object(frame):
                result = stepObject(&frame, byte)
                state.top = .object(frame)
            case var .array(frame):
                result = stepArray(&frame, byte)
                state.top = .array(frame)
            case var .string(frame):
                result = stepString(&frame, byte)
                state.top = .string(frame)
            case var .literal(frame):
                result = stepLiteral(&frame, byte)
                state.top = .literal(frame)
            case var .integer(frame):
                result = stepInteger(&frame, byte)
                state.top = .integer(frame)
            }
            switch result {
            case .consumed:
                return true
            case .rejected:
                return false
            case .closed:
                pop(&state)
                return true
            case .ended:
                pop(&state)
            case let .push(child):
                let below = state.parent >= 0 ? arena[Int(state.parent)].closingCost : 0
                arena.append(SuspendedFrame(frame: state.top, parent: state.parent, closingCost: below + frameCost(state.top)))
                state.parent = Int32(arena.count - 1)
                state.top = frame(for: child)
            }
        }
    }

    @inline(__always)
    private func pop(_ state: inout MatcherState) {
        if state.parent < 0 {
            state.top = .done
        } else {
            let entry = arena[Int(state.parent)]
            state.top = entry.frame
            state.parent = entry.parent
        }
    }

    /// True when the bytes so far are a complete answer (an integer at the root may still grow).
    func isAccepting(_ state: MatcherState) -> Bool {
        switch state.top {
        case .done: true
        case let .integer(frame): state.parent < 0 && integerIsComplete(frame)
        default: false
        }
    }

    // MARK: Objects and oneOf

    private func stepObject(_ frame: inout ObjectFrame, _ byte: UInt8) -> StepResult {
        switch frame.phase {
        case .start:
            guard byte == UInt8(ascii: "{") else { return .rejected }
            frame.phase = .afterOpen
            return .consumed
        case .afterOpen:
            let object = program.objects[Int(frame.node)]
            if byte == UInt8(ascii: "}"), object.canClose[0] { return .closed }
            guard byte == UInt8(ascii: "\""), !object.properties.isEmpty else { return .rejected }
            frame.phase = .key
            frame.candidates = object.candidates[0]
            frame.offset = 0
            return .consumed
        case .afterValue:
            let object = program.objects[Int(frame.node)]
            let next = Int(frame.next)
            if byte == UInt8(ascii: ","), next < object.properties.count {
                frame.phase = .afterComma
                return .consumed
            }
            return byte == UInt8(ascii: "}") && object.canClose[next] ? .closed : .rejected
        case .afterComma:
            guard byte == UInt8(ascii: "\"") else { return .rejected }
            frame.phase = .key
            frame.candidates = program.objects[Int(frame.node)].candidates[Int(frame.next)]
            frame.offset = 0
            return .consumed
        case .key:
            let properties = program.objects[Int(frame.node)].properties
            let chosen = matchKey(&frame, byte) { properties[$0].key }
            guard chosen != -2 else { return .rejected }
            if chosen >= 0 {
                frame.phase = .afterKey
                frame.next = chosen
            }
            return .consumed
        case .afterKey:
            guard byte == UInt8(ascii: ":") else { return .rejected }
            frame.phase = .beforeValue
            return .consumed
        case .beforeValue:
            let property = Int(frame.next)
            frame.phase = .afterValue
            frame.next += 1
            return .push(program.objects[Int(frame.node)].properties[property].value)
        case .branchStart:
            guard byte == UInt8(ascii: "{") else { return .rejected }
            frame.phase = .branchAfterOpen
            return .consumed
        case .branchAfterOpen:
            guard byte == UInt8(ascii: "\"") else { return .rejected }
            frame.phase = .branchKey
            frame.offset = 0
            return .consumed
        case .branchKey:
            let oneOf = program.oneOfs[Int(frame.node)]
            let chosen = matchKey(&frame, byte) { oneOf.firstKeys[$0] }
            guard chosen != -2 else { return .rejected }
            if chosen >= 0, case let .object(objectIndex) = program.nodes[Int(oneOf.branches[Int(chosen)])] {
                frame.node = Int32(objectIndex)
                frame.phase = .afterKey
                frame.next = 0
            }
            return .consumed
        }
    }

    /// Matches one byte of a key against the candidates: -2 rejected, -1 still inside the key, otherwise the index
    /// of the key the closing quote completed.
    @inline(__always)
    private func matchKey(_ frame: inout ObjectFrame, _ byte: UInt8, key: (Int) -> [UInt8]) -> Int32 {
        let offset = Int(frame.offset)
        var remaining = frame.candidates
        // A quote ends the key when a candidate is complete; otherwise it can only be an escaped quote inside a
        // longer key (a complete JSON string content never ends in an unpaired backslash, so both cannot hold).
        if byte == UInt8(ascii: "\"") {
            while remaining != 0 {
                let index = remaining.trailingZeroBitCount
                remaining &= remaining - 1
                if key(index).count == offset { return Int32(index) }
            }
            remaining = frame.candidates
        }
        var kept: UInt64 = 0
        while remaining != 0 {
            let index = remaining.trailingZeroBitCount
            remaining &= remaining - 1
            let bytes = key(index)
            if offset < bytes.count, bytes[offset] == byte { kept |= 1 << UInt64(index) }
        }
        guard kept != 0 else { return -2 }
        frame.candidates = kept
        frame.offset += 1
        return -1
    }

    // MARK: Arrays, literals, integers

    private func stepArray(_ frame: inout ArrayFrame, _ byte: UInt8) -> StepResult {
        let array = program.arrays[Int(frame.node)]
        switch frame.phase {
        case .start:
            guard byte == UInt8(ascii: "[") else { return .rejected }
            frame.phase = .afterOpen
            return .consumed
        case .afterOpen:
            if byte == UInt8(ascii: "]") { return array.minItems == 0 ? .closed : .rejected }
            guard array.maxItems > 0 else { return .rejected }
            frame.phase = .afterValue
            frame.count = 1
            return .push(array.items)
        case .afterValue:
            if byte == UInt8(ascii: ","), Int(frame.count) < array.maxItems {
                frame.phase = .afterComma
                return .consumed
            }
            return byte == UInt8(ascii: "]") && Int(frame.count) >= array.minItems ? .closed : .rejected
        case .afterComma:
            frame.phase = .afterValue
            frame.count += 1
            return .push(array.items)
        }
    }

    private func stepLiteral(_ frame: inout LiteralFrame, _ byte: UInt8) -> StepResult {
        let literals = program.literals[Int(frame.node)].literals
        let offset = Int(frame.offset)
        var remaining = frame.candidates
        var kept: UInt64 = 0
        var complete = false
        while remaining != 0 {
            let index = remaining.trailingZeroBitCount
            remaining &= remaining - 1
            let literal = literals[index]
            if offset < literal.count, literal[offset] == byte {
                kept |= 1 << UInt64(index)
                if literal.count == offset + 1 { complete = true }
            }
        }
        guard kept != 0 else { return .rejected }
        frame.candidates = kept
        frame.offset += 1
        return complete ? .closed : .consumed
    }

    private func stepInteger(_ frame: inout IntegerFrame, _ byte: UInt8) -> StepResult {
        let node = program.integers[Int(frame.node)]
        if byte == UInt8(ascii: "-"), frame.digits == 0, !frame.negative {
            guard node.minimum < 0 else { return .rejected }
            frame.negative = true
            return .consumed
        }
        if byte >= 0x30, byte <= 0x39, frame.digits < 16, !(frame.digits > 0 && frame.magnitude == 0) {
            let digit = Int64(byte - 0x30)
            if !(frame.negative && frame.digits == 0 && digit == 0) {
                var candidate = frame
                candidate.magnitude = frame.magnitude * 10 + digit
                candidate.digits += 1
                if integerDigitsToClose(candidate, node: node) != nil {
                    frame = candidate
                    return .consumed
                }
            }
        }
        return integerIsComplete(frame) ? .ended : .rejected
    }

    func integerIsComplete(_ frame: IntegerFrame) -> Bool {
        guard frame.digits > 0 else { return false }
        let node = program.integers[Int(frame.node)]
        let value = frame.negative ? -frame.magnitude : frame.magnitude
        return value >= node.minimum && value <= node.maximum
    }

    /// Fewest further digits that make `frame` an integer in range, or nil when none do (at least one digit read).
    func integerDigitsToClose(_ frame: IntegerFrame, node: IntegerNode) -> Int? {
        var scale: Int64 = 1
        for extra in 0...16 {
            if extra > 0, frame.magnitude == 0 { return nil }
            let (low, overflow) = frame.magnitude.multipliedReportingOverflow(by: scale)
            if overflow || low > ProgramBuilder.safeInteger * 10 || Int(frame.digits) + extra > 16 { return nil }
            let high = low + scale - 1
            let (lower, upper) = frame.negative ? (-high, -low) : (low, high)
            if upper >= node.minimum, lower <= node.maximum { return extra }
            scale *= 10
        }
        return nil
    }
}
