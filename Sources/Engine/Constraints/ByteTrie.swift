/// A set of tokens as a byte trie in preorder. Walking it in array order with a per-depth stack of matcher states
/// visits each shared prefix once, and a rejected byte skips its whole subtree (`subtreeEnd`).
struct ByteTrie: Sendable {
    /// Node 0 is the root (empty prefix).
    let nodeByte: [UInt8]
    let nodeDepth: [UInt16]
    let subtreeEnd: [Int32]
    /// `terminalIDs[terminalStart[i]..<terminalStart[i + 1]]`: tokens whose bytes end at node `i`.
    let terminalStart: [Int32]
    let terminalIDs: [Int32]

    var nodeCount: Int { nodeByte.count }

    /// Builds the trie of `ids`, whose bytes are `pieces[id]` (all non-empty).
    init(ids: [Int], pieces: [[UInt8]]) {
        let order = ids.sorted { pieces[$0].lexicographicallyPrecedes(pieces[$1]) }
        var bytes: [UInt8] = [0]
        var depths: [UInt16] = [0]
        var subtreeEnds: [Int32] = [0]
        var terminalCounts: [Int32] = [0]
        var terminals: [Int32] = []
        var path: [Int] = [0]  // node index per depth of the current prefix
        var previous: [UInt8] = []
        for id in order {
            let piece = pieces[id]
            var common = 0
            while common < previous.count, common < piece.count, previous[common] == piece[common] { common += 1 }
            while path.count > common + 1 {
                subtreeEnds[path.removeLast()] = Int32(bytes.count)
            }
            for depth in common..<piece.count {
                bytes.append(piece[depth])
                depths.append(UInt16(depth + 1))
                subtreeEnds.append(0)
                terminalCounts.append(0)
                path.append(bytes.count - 1)
            }
            terminalCounts[path[piece.count]] += 1
            terminals.append(Int32(id))
            previous = piece
        }
        while let node = path.popLast() { subtreeEnds[node] = Int32(bytes.count) }
        // Tokens were appended in preorder of their end node, so a prefix sum gives each node's slice.
        var terminalStart = [Int32](repeating: 0, count: bytes.count + 1)
        for node in 0..<bytes.count { terminalStart[node + 1] = terminalStart[node] + terminalCounts[node] }
        nodeByte = bytes
        nodeDepth = depths
        subtreeEnd = subtreeEnds
        self.terminalStart = terminalStart
        terminalIDs = terminals
    }
}
