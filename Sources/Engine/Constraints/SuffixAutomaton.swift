/// The suffix automaton of a text: its states recognise exactly the byte strings that occur in the text, so
/// "the decoded string is a substring of this file" is one transition per byte (Blumer et al. 1985; the
/// construction is the classic online one, linear in the text).
///
/// Every state is accepting (each prefix of a substring is a substring). State 0 is the empty string.
final class SuffixAutomaton: Sendable {
    /// `edgeStart[s]..<edgeStart[s + 1]` are the outgoing edges of state `s`, sorted by byte.
    private let edgeStart: [Int32]
    private let edgeBytes: [UInt8]
    private let edgeTargets: [Int32]
    /// Bytes a JSON string needs for the cheapest character that occurs in the text (nil: none can be written).
    let cheapestFirstCharBytes: Int?
    /// Number of states.
    var stateCount: Int { edgeStart.count - 1 }

    init(text: [UInt8]) {
        var length: [Int32] = [0]
        var link: [Int32] = [-1]
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
        for byte in text {
            let current = Int32(length.count)
            length.append(length[Int(last)] + 1)
            link.append(-1)
            edges.append([])
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
    }

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
