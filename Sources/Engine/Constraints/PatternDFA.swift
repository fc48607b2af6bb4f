/// Thompson's construction: a pattern tree to an NFA with ε-moves and scalar-range moves.
struct ThompsonNFA {
    var epsilon: [[Int]] = []
    var moves: [[(range: ClosedRange<UInt32>, target: Int)]] = []
    var accept = 0
    static let maximumStates = 50_000

    private mutating func newState() throws(PatternError) -> Int {
        guard epsilon.count < Self.maximumStates else { throw PatternError(description: "the pattern is too large") }
        epsilon.append([])
        moves.append([])
        return epsilon.count - 1
    }

    /// Builds `node` and returns its entry and exit states.
    mutating func build(_ node: PatternNode) throws(PatternError) -> (Int, Int) {
        switch node {
        case let .set(ranges):
            let start = try newState()
            let end = try newState()
            for range in ranges { moves[start].append((range, end)) }
            return (start, end)
        case let .sequence(items):
            let start = try newState()
            var current = start
            for item in items {
                let (entry, exit) = try build(item)
                epsilon[current].append(entry)
                current = exit
            }
            return (start, current)
        case let .choice(options):
            let start = try newState()
            let end = try newState()
            for option in options {
                let (entry, exit) = try build(option)
                epsilon[start].append(entry)
                epsilon[exit].append(end)
            }
            return (start, end)
        case let .repetition(inner, minimum, maximum):
            let start = try newState()
            var current = start
            for _ in 0..<minimum {
                let (entry, exit) = try build(inner)
                epsilon[current].append(entry)
                current = exit
            }
            let end = try newState()
            if let maximum {
                for _ in minimum..<maximum {
                    epsilon[current].append(end)
                    let (entry, exit) = try build(inner)
                    epsilon[current].append(entry)
                    current = exit
                }
                epsilon[current].append(end)
            } else {
                let (entry, exit) = try build(inner)
                epsilon[current].append(entry)
                epsilon[current].append(end)
                epsilon[exit].append(entry)
                epsilon[exit].append(end)
            }
            return (start, end)
        }
    }

    /// The ε-closure of `states`, sorted.
    func closure(_ states: [Int]) -> [Int] {
        var seen = Set(states)
        var stack = states
        while let state = stack.popLast() {
            for next in epsilon[state] where seen.insert(next).inserted { stack.append(next) }
        }
        return seen.sorted()
    }
}

/// The subset construction over a partition of the scalars into classes no NFA move splits.
struct SubsetConstruction {
    /// Per DFA state: disjoint, sorted ranges and their target state.
    var transitions: [[(low: UInt32, high: UInt32, target: Int)]] = []
    var accepting: [Bool] = []

    init(nfa: ThompsonNFA, start: Int) throws(PatternError) {
        // Class boundaries: every move range, plus the edges of what a constrained string can spell.
        var cuts = Set<UInt32>([0, 0x08, 0x0B, 0x0C, 0x0E, 0x20, 0x22, 0x23, 0x5C, 0x5D, 0x80, 0xD800, 0xE000, 0x110000])
        for list in nfa.moves {
            for move in list {
                cuts.insert(move.range.lowerBound)
                cuts.insert(move.range.upperBound + 1)
            }
        }
        let bounds = cuts.sorted()
        var classes: [(low: UInt32, high: UInt32)] = []
        for index in 0..<(bounds.count - 1) where PatternAutomaton.cheapestLength(bounds[index], bounds[index + 1] - 1) != nil {
            // Uniform classes: cheapestLength is non-nil for the whole class or for none of it, thanks to the cuts.
            classes.append((bounds[index], bounds[index + 1] - 1))
        }
        var ids: [[Int]: Int] = [:]
        var sets: [[Int]] = []
        let first = nfa.closure([start])
        ids[first] = 0
        sets.append(first)
        var cursor = 0
        while cursor < sets.count {
            let set = sets[cursor]
            var targets = [[Int]](repeating: [], count: classes.count)
            for state in set {
                for move in nfa.moves[state] {
                    var low = 0
                    var high = classes.count
                    while low < high {
                        let middle = (low + high) / 2
                        if classes[middle].high < move.range.lowerBound { low = middle + 1 } else { high = middle }
                    }
                    var index = low
                    while index < classes.count, classes[index].low <= move.range.upperBound {
                        targets[index].append(move.target)
                        index += 1
                    }
                }
            }
            var list: [(low: UInt32, high: UInt32, target: Int)] = []
            for (index, raw) in targets.enumerated() where !raw.isEmpty {
                let closed = nfa.closure(raw)
                let id: Int
                if let known = ids[closed] {
                    id = known
                } else {
                    guard sets.count < PatternAutomaton.maximumStates else {
                        throw PatternError(description: "the pattern needs more than \(PatternAutomaton.maximumStates) automaton states")
                    }
                    id = sets.count
                    ids[closed] = id
                    sets.append(closed)
                }
                if let last = list.last, last.target == id, last.high + 1 == classes[index].low {
                    list[list.count - 1].high = classes[index].high
                } else {
                    list.append((classes[index].low, classes[index].high, id))
                }
            }
            transitions.append(list)
            accepting.append(set.contains(nfa.accept))
            cursor += 1
        }
    }
}
