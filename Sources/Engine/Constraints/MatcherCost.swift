/// Fewest bytes that complete the answer from a state: the basis of "close before max_tokens runs out".
///
/// Each cost is the length of one concrete completion whose first byte leads to a state costing one byte less, so
/// whenever `cost ≤ remaining tokens` a single-byte token keeps that true, and the answer can always be closed.
extension ByteMatcher {
    /// Fewest bytes to a complete answer.
    func cost(_ state: MatcherState) -> Int {
        frameCost(state.top) + (state.parent >= 0 ? arena[Int(state.parent)].closingCost : 0)
    }

    /// Fewest bytes that close this frame (its own part only).
    func frameCost(_ frame: Frame) -> Int {
        switch frame {
        case .done: return 0
        case let .object(frame): return objectCost(frame)
        case let .array(frame): return arrayCost(frame)
        case let .string(frame): return stringCost(frame)
        case let .literal(frame):
            let literals = program.literals[Int(frame.node)].literals
            var best = Int.max
            var remaining = frame.candidates
            while remaining != 0 {
                let index = remaining.trailingZeroBitCount
                remaining &= remaining - 1
                best = min(best, literals[index].count - Int(frame.offset))
            }
            return best
        case let .integer(frame):
            let node = program.integers[Int(frame.node)]
            if frame.digits > 0 { return integerDigitsToClose(frame, node: node) ?? 0 }
            if frame.negative { return String(min(node.maximum, -1)).utf8.count - 1 }
            if node.minimum <= 0, node.maximum >= 0 { return 1 }
            return String(node.minimum > 0 ? node.minimum : node.maximum).utf8.count
        }
    }

    private func objectCost(_ frame: ObjectFrame) -> Int {
        switch frame.phase {
        case .branchStart, .branchAfterOpen, .branchKey:
            let oneOf = program.oneOfs[Int(frame.node)]
            let opening = frame.phase == .branchStart ? 2 : frame.phase == .branchAfterOpen ? 1 : 0
            let offset = frame.phase == .branchKey ? Int(frame.offset) : 0
            let live = frame.phase == .branchKey ? frame.candidates : Self.mask(oneOf.branches.count)
            var best = Int.max
            var remaining = live
            while remaining != 0 {
                let index = remaining.trailingZeroBitCount
                remaining &= remaining - 1
                best = min(best, oneOf.firstKeys[index].count - offset + oneOf.costAfterFirstKey[index])
            }
            return opening + best
        default:
            break
        }
        let object = program.objects[Int(frame.node)]
        let next = Int(frame.next)
        switch frame.phase {
        case .start: return 1 + object.costAfterOpen
        case .afterOpen: return object.costAfterOpen
        case .afterValue: return object.closeAfter[next]
        case .afterComma:
            var best = Int.max
            var remaining = object.candidates[next]
            while remaining != 0 {
                let index = remaining.trailingZeroBitCount
                remaining &= remaining - 1
                best = min(best, object.memberCost[index] + object.closeAfter[index + 1])
            }
            return best
        case .key:
            var best = Int.max
            var remaining = frame.candidates
            while remaining != 0 {
                let index = remaining.trailingZeroBitCount
                remaining &= remaining - 1
                let property = object.properties[index]
                best = min(best, property.key.count - Int(frame.offset) + 2 + program.minCost[Int(property.value)] + object.closeAfter[index + 1])
            }
            return best
        case .afterKey:
            return 1 + program.minCost[Int(object.properties[next].value)] + object.closeAfter[next + 1]
        case .beforeValue:
            return program.minCost[Int(object.properties[next].value)] + object.closeAfter[next + 1]
        case .branchStart, .branchAfterOpen, .branchKey:
            return 0
        }
    }

    private func arrayCost(_ frame: ArrayFrame) -> Int {
        let array = program.arrays[Int(frame.node)]
        let item = program.minCost[Int(array.items)]
        let count = Int(frame.count)
        switch frame.phase {
        case .start: return 1 + (array.minItems == 0 ? 1 : array.minItems * (item + 1))
        case .afterOpen: return array.minItems == 0 ? 1 : array.minItems * (item + 1)
        case .afterValue: return max(0, array.minItems - count) * (item + 1) + 1
        case .afterComma: return item + max(0, array.minItems - count - 1) * (item + 1) + 1
        }
    }
}
