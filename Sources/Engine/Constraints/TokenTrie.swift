public import Tokenizers

/// The vocabulary as a byte trie in preorder, built once per tokenizer and shared (immutable, `Sendable`) by
/// every constrained request. Walking it in array order with a per-depth stack of matcher states visits each
/// prefix once, and a rejected byte skips its whole subtree (`subtreeEnd`).
///
/// Tokens with no bytes (control tokens) are never allowed inside an answer; end-of-generation tokens are
/// allowed exactly when the answer is complete.
public final class TokenTrie: Sendable {
    /// Number of token ids (mask width).
    public let vocabularySize: Int
    /// End-of-generation ids (EOS, end-of-turn).
    public let endOfGeneration: [TokenID]
    /// Bytes of the longest token.
    public let maximumTokenLength: Int
    /// Trie nodes in preorder; node 0 is the root (empty prefix).
    let nodeByte: [UInt8]
    let nodeDepth: [UInt16]
    let subtreeEnd: [Int32]
    /// `terminalIDs[terminalStart[i]..<terminalStart[i + 1]]`: tokens whose bytes end at node `i`.
    let terminalStart: [Int32]
    let terminalIDs: [TokenID]
    /// Bytes of every token: `tokenBytes[tokenStart[id]..<tokenStart[id + 1]]` (empty for control tokens).
    let tokenStart: [Int32]
    let tokenBytes: [UInt8]

    /// Indexes `tokenizer`'s vocabulary.
    public convenience init(tokenizer: Tokenizer) {
        var pieces: [[UInt8]] = []
        pieces.reserveCapacity(tokenizer.vocabularySize)
        var endOfGeneration: [TokenID] = []
        for id in 0..<tokenizer.vocabularySize {
            let token = TokenID(id)
            if tokenizer.isEndOfGeneration(token) {
                endOfGeneration.append(token)
                pieces.append([])
            } else {
                pieces.append(tokenizer.bytes(of: token))
            }
        }
        self.init(pieces: pieces, endOfGeneration: endOfGeneration)
    }

    /// Indexes a vocabulary given as the bytes of each id (empty: never allowed) and its end-of-generation ids.
    public init(pieces: [[UInt8]], endOfGeneration: [TokenID]) {
        vocabularySize = pieces.count
        let ends = Set(endOfGeneration.filter { $0 >= 0 && Int($0) < pieces.count })
        self.endOfGeneration = ends.sorted()
        var starts: [Int32] = [0]
        var flat: [UInt8] = []
        for piece in pieces {
            flat += piece
            starts.append(Int32(flat.count))
        }
        tokenStart = starts
        tokenBytes = flat
        let order = (0..<pieces.count).filter { !pieces[$0].isEmpty && !ends.contains(TokenID($0)) }
            .sorted { pieces[$0].lexicographicallyPrecedes(pieces[$1]) }
        var bytes: [UInt8] = [0]
        var depths: [UInt16] = [0]
        var subtreeEnds: [Int32] = [0]
        var terminalCounts: [Int32] = [0]
        var terminals: [TokenID] = []
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
            terminals.append(TokenID(id))
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
        maximumTokenLength = pieces.map(\.count).max() ?? 0
    }

    /// The bytes of `token` as the matcher reads them (empty for control and end-of-generation tokens).
    public func bytes(of token: TokenID) -> ArraySlice<UInt8> {
        guard token >= 0, Int(token) < vocabularySize else { return [] }
        return tokenBytes[Int(tokenStart[Int(token)])..<Int(tokenStart[Int(token) + 1])]
    }

    /// Number of trie nodes (the root included).
    public var nodeCount: Int { nodeByte.count }
}
