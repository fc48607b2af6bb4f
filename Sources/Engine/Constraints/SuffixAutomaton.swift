/// The suffix automaton of a text: its states recognise exactly the byte strings that occur in the text, so
/// "the decoded string is a substring of this file" is one transition per byte (Blumer et al. 1985; the
/// construction is the classic online one, linear in the text).
///
/// Every state is accepting (each prefix of a substring is a substring). State 0 is the empty string.
///
/// Built with `unique: true` it also knows, per state, whether its strings occur exactly once in the text, and
/// what it costs to get there: a search/replace edit must name one place in the file (`x-sparrow-unique-substring-
/// of`). All strings of one state have the same end positions, so "occurs once" and "how far to extend until it
/// occurs once" are properties of the state. The extension used is the canonical one — the text that follows the
/// string's first occurrence —, which always ends in a unique string (the rest of the text from the first
/// occurrence cannot occur again), so the cost is an upper bound of the cheapest way to close: never too low.
final class SuffixAutomaton: Sendable {
    /// `edgeStart[s]..<edgeStart[s + 1]` are the outgoing edges of state `s`, sorted by byte.
    private let edgeStart: [Int32]
    private let edgeBytes: [UInt8]
    private let edgeTargets: [Int32]
    /// Bytes a JSON string needs for the cheapest character that occurs in the text (nil: none can be written).
    let cheapestFirstCharBytes: Int?
    /// Number of states.
    var stateCount: Int { edgeStart.count - 1 }
    /// Whether strings must occur exactly once in the text to close (`unique: true`).
    let requiresUnique: Bool
    /// Unique mode: whether the strings of each state occur exactly once in the text.
    private let occursOnce: [Bool]
    /// Unique mode: JSON bytes of the canonical extension from each state to a string that occurs once and ends on
    /// a character boundary (0 when the state's strings already do; `Int32.max` when the extension holds a
    /// character a constrained string cannot spell).
    private let extensionCost: [Int32]
    /// Unique mode: the fewest JSON bytes of a non-empty string that occurs once (`Int32.max`: none can be spelled).
    let uniqueStartCost: Int32

    init(text: [UInt8], unique: Bool = false) {
        var length: [Int32] = [0]
        var link: [Int32] = [-1]
        // End index of each state's first occurrence, and whether it is a clone (clones add no end position).
        var firstEnd: [Int32] = [-1]
        var isClone: [Bool] = [false]
        var edges: [[(byte: UInt8, target: Int32)]] = [[]]
        var last: Int32 = 0
        func target(_ state: Int32, _ byte: UInt8) -> Int32? {
            edges[Int(state)].first { $0.byte == byte }?.target
        }
        func setTarget(_ state: Int32, _ byte: UInt8, _ value: Int32) {
            if let index = edges[Int(state)].firstIndex(where: { $0.byte == byte }) {
                edges[Int(state)][index].target = value
            } else {
                edges[Int(state)].append((byte, value))
            }
        }
        for (index, byte) in text.enumerated() {
            let current = Int32(length.count)
            length.append(length[Int(last)] + 1)
            link.append(-1)
            edges.append([])
            firstEnd.append(Int32(index))
            isClone.append(false)
            var state = last
            while state != -1, target(state, byte) == nil {
                setTarget(state, byte, current)
                state = link[Int(state)]
            }
            if state == -1 {
                link[Int(current)] = 0
            } else if let next = target(state, byte) {
                if length[Int(state)] + 1 == length[Int(next)] {
                    link[Int(current)] = next
                } else {
                    let clone = Int32(length.count)
                    length.append(length[Int(state)] + 1)
                    link.append(link[Int(next)])
                    edges.append(edges[Int(next)])
                    firstEnd.append(firstEnd[Int(next)])
                    isClone.append(true)
                    while state != -1, target(state, byte) == next {
                        setTarget(state, byte, clone)
                        state = link[Int(state)]
                    }
                    link[Int(next)] = clone
                    link[Int(current)] = clone
                }
            }
            last = current
        }
        var starts: [Int32] = [0]
        var bytes: [UInt8] = []
        var targets: [Int32] = []
        for list in edges {
            for edge in list.sorted(by: { $0.byte < $1.byte }) {
                bytes.append(edge.byte)
                targets.append(edge.target)
            }
            starts.append(Int32(bytes.count))
        }
        edgeStart = starts
        edgeBytes = bytes
        edgeTargets = targets
        var cheapest: Int?
        for scalar in String(decoding: text, as: UTF8.self).unicodeScalars where scalar.value != 0xFFFD {
            if let cost = JSONStringEncoding.encodedLength(ofScalar: scalar.value) { cheapest = min(cheapest ?? cost, cost) }
        }
        cheapestFirstCharBytes = cheapest
        requiresUnique = unique
        guard unique else {
            occursOnce = []
            extensionCost = []
            uniqueStartCost = Int32.max
            return
        }
        let computed = Self.uniqueness(text: text, length: length, link: link, firstEnd: firstEnd, isClone: isClone,
                                       edgeStart: starts, edgeBytes: bytes, edgeTargets: targets)
        occursOnce = computed.once
        extensionCost = computed.cost
        uniqueStartCost = computed.start
    }

    /// Occurrence counts (capped at 2) from the end positions — each non-clone state adds one to itself and every
    /// state on its suffix-link path —, then the canonical extension costs, longest states first (a transition
    /// always leads to a longer state, so each cost only needs costs already computed).
    private static func uniqueness(text: [UInt8], length: [Int32], link: [Int32], firstEnd: [Int32], isClone: [Bool],
                                   edgeStart: [Int32], edgeBytes: [UInt8], edgeTargets: [Int32])
        -> (once: [Bool], cost: [Int32], start: Int32)
    {
        let count = length.count
        var byLength = [[Int32]](repeating: [], count: text.count + 1)
        for state in 0..<count { byLength[Int(length[state])].append(Int32(state)) }
        var occurrences = [Int32](repeating: 0, count: count)
        for state in 0..<count where !isClone[state] && state != 0 { occurrences[state] = 1 }
        for bucket in byLength.reversed() {
            for state in bucket where link[Int(state)] >= 0 {
                let parent = Int(link[Int(state)])
                occurrences[parent] = min(2, occurrences[parent] + occurrences[Int(state)])
            }
        }
        func target(_ state: Int, _ byte: UInt8) -> Int? {
            for edge in Int(edgeStart[state])..<Int(edgeStart[state + 1]) where edgeBytes[edge] == byte {
                return Int(edgeTargets[edge])
            }
            return nil
        }
        /// JSON bytes of one text byte: ASCII by its spelling, bytes of longer characters one each.
        func weight(_ byte: UInt8) -> Int32? {
            byte < 0x80 ? JSONStringEncoding.encodedLength(ofScalar: UInt32(byte)).map(Int32.init) : 1
        }
        func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }
        var cost = [Int32](repeating: Int32.max, count: count)
        for bucket in byLength.reversed() {
            for state in bucket.map(Int.init) where state != 0 {
                let after = Int(firstEnd[state]) + 1
                let boundary = after == text.count || !isContinuation(text[after])
                if occurrences[state] == 1 && boundary {
                    cost[state] = 0
                } else if after < text.count, let w = weight(text[after]), let next = target(state, text[after]),
                          cost[next] != Int32.max
                {
                    cost[state] = w + cost[next]
                }
            }
        }
        var start = Int32.max
        for edge in Int(edgeStart[0])..<Int(edgeStart[1]) where !isContinuation(edgeBytes[edge]) {
            let next = Int(edgeTargets[edge])
            if let w = weight(edgeBytes[edge]), cost[next] != Int32.max { start = min(start, w + cost[next]) }
        }
        var once = occurrences.map { $0 == 1 }
        once[0] = false  // the empty string is never an answer (a one-byte text would otherwise count it once)
        return (once, cost, start)
    }

    /// Unique mode: whether the strings of `state` occur exactly once in the text.
    @inline(__always)
    func occursOnce(_ state: Int32) -> Bool { occursOnce[Int(state)] }

    /// Unique mode: JSON bytes to extend the strings of `state` to one that occurs once (`Int32.max`: impossible
    /// along the canonical extension).
    @inline(__always)
    func extensionCost(_ state: Int32) -> Int32 { extensionCost[Int(state)] }

    /// The state after reading `byte` in `state`, or -1 when the text has no such substring.
    @inline(__always)
    func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        var low = Int(edgeStart[Int(state)])
        var high = Int(edgeStart[Int(state) + 1])
        while low < high {
            let middle = (low + high) >> 1
            let value = edgeBytes[middle]
            if value == byte { return edgeTargets[middle] }
            if value < byte { low = middle + 1 } else { high = middle }
        }
        return -1
    }
}
