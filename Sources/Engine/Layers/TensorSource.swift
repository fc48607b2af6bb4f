import GGUF
import Kernels

/// Reads an architecture's tensors out of a GGUF file (mapped or read into memory) by llama.cpp's names, checking
/// each one's shape against what the hyper-parameters say before any kernel touches it. Matrices are read in place,
/// and with a repacker also copied into the repacked layout (the Q4_K experts' originals then given back); only the
/// small 1-D vectors (norm weights) are dequantized to f32.
struct TensorSource: @unchecked Sendable {
    let file: GGUFFile
    let path: String
    /// Makes repacked copies of the matrices it can (`model.weights: repacked`), or nil.
    let repacker: WeightRepacker?

    init(file: GGUFFile, path: String, repacker: WeightRepacker? = nil) {
        self.file = file
        self.path = path
        self.repacker = repacker
    }

    /// What the model must hold for its weight views to stay valid: the file and any repacked copies.
    var owner: AnyObject { WeightMemory(file: file, repacker: repacker) }

    /// `[ne0, ne1, …]` as llama.cpp prints shapes.
    private static func shapeText(_ dims: [Int]) -> String { "[" + dims.map(String.init).joined(separator: ", ") + "]" }

    private func view(_ name: String, shape: [Int]) throws(EngineError) -> GGUFTensorView {
        guard let info = file.tensorInfo(named: name) else {
            throw .tensor(name: name, reason: "expected \(Self.shapeText(shape)), found no such tensor in \(path)")
        }
        // ggml pads shapes with 1s: {256} and {256, 1} are the same tensor (a converter drops trailing 1s).
        func trimmed(_ dims: [Int]) -> ArraySlice<Int> {
            var d = dims[...]
            while d.count > 1, d.last == 1 { d = d.dropLast() }
            return d
        }
        guard trimmed(info.dimensions) == trimmed(shape) else {
            throw .tensor(name: name, reason: "expected \(Self.shapeText(shape)), found \(Self.shapeText(info.dimensions))")
        }
        do {
            return try file.view(of: info)
        } catch {
            throw .tensor(name: name, reason: "\(error)")
        }
    }

    private func type(of view: GGUFTensorView) throws(EngineError) -> GGMLType {
        guard let type = view.info.type.ggmlType, GGMLTypeSupport.isSupported(type) else {
            throw .tensor(name: view.info.name, reason: "type \(view.info.type.name) has no kernels in Sparrow "
                          + "(expected one of \(GGMLTypeSupport.supported.map(\.name).joined(separator: ", ")))")
        }
        return type
    }

    /// Whether the file holds tensor `name`.
    func has(_ name: String) -> Bool { file.tensorInfo(named: name) != nil }

    /// A 2-D weight `{columns, rows}` (ggml order: ne0 = inputs, ne1 = outputs). `repack`: false for a matrix
    /// only read row by row (a token embedding), which gains nothing from a repacked copy.
    func matrix(_ name: String, columns: Int, rows: Int, repack: Bool = true) throws(EngineError) -> WeightMatrix {
        let view = try view(name, shape: [columns, rows])
        let type = try type(of: view)
        guard let base = view.bytes.baseAddress else { throw .tensor(name: name, reason: "expected data, found none") }
        do {
            let matrix = try WeightMatrix(name: name, type: type, rows: rows, columns: columns, base: base,
                                          byteCount: view.bytes.count)
            guard repack, let repacker else { return matrix }
            return try repacker.repack(matrix)
        } catch {
            throw .tensor(name: name, reason: error.description)
        }
    }

    /// A 3-D expert tensor `{columns, rows, experts}`: one matrix per expert, each a contiguous slab of the mapping.
    func experts(_ name: String, columns: Int, rows: Int, count: Int) throws(EngineError) -> [WeightMatrix] {
        let view = try view(name, shape: [columns, rows, count])
        let type = try type(of: view)
        guard let base = view.bytes.baseAddress, count > 0 else {
            throw .tensor(name: name, reason: "expected data for \(count) experts, found none")
        }
        let slab = view.bytes.count / count
        var matrices: [WeightMatrix] = []
        matrices.reserveCapacity(count)
        for expert in 0..<count {
            do {
                matrices.append(try WeightMatrix(name: "\(name)[\(expert)]", type: type, rows: rows, columns: columns,
                                                 base: base + expert * slab, byteCount: slab))
            } catch {
                throw .tensor(name: name, reason: error.description)
            }
        }
        guard let repacker else { return matrices }
        let repacked: [WeightMatrix]
        do {
            repacked = try repacker.repack(experts: matrices)
        } catch {
            throw .tensor(name: name, reason: error.description)
        }
        // Experts are read only by their products (never row by row, never tied to another tensor), so where the
        // copies serve every product the file's bytes of them are dead weight: given back (the file was read into
        // memory for `repacked`), which keeps a repacked load near one copy of the experts instead of two.
        if repacked.allSatisfy({ $0.repacked != nil }), repacker.copyServesEveryProduct(of: type) {
            let given = file.discard(view)
            repacker.noteOriginalsDiscarded(given)
            // Marked even when no whole page was given back, so that a use that would need the ggml rows fails the
            // same way on every file instead of only on the ones large enough to lose pages.
            return repacked.map { $0.withOriginalDiscarded() }
        }
        return repacked
    }

    /// A 1-D vector of `count` values, dequantized to f32 (norm weights).
    func vector(_ name: String, count: Int) throws(EngineError) -> [Float] {
        let view = try view(name, shape: [count])
        let type = try type(of: view)
        do {
            return try Dequantizer.dequantize(type, bytes: view.bytes, count: count, tensor: name)
        } catch {
            throw .tensor(name: name, reason: error.description)
        }
    }
}

/// The file a model's weight views point into and the repacked copies some of them use, held together.
final class WeightMemory: @unchecked Sendable {
    let file: GGUFFile
    let repacker: WeightRepacker?

    init(file: GGUFFile, repacker: WeightRepacker?) {
        self.file = file
        self.repacker = repacker
    }
}
