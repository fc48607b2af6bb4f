public import GGUF
import Foundation
import Kernels

/// What a `repacked` load of a model file will hold in memory, estimated from its tensor records before loading:
/// the file read into memory, plus the repacked copies of its Q4_K and Q6_K matrices, less the originals of the
/// Q4_K expert tensors that the loader gives back once copied (`TensorSource.experts`); at its peak, while a tensor
/// is copied, also the original about to be given back (at most the largest one tensor gives back). An upper bound:
/// every 2-D and 3-D Q4_K or Q6_K tensor whose shape has the layout is counted as copied, the token embedding only
/// when the file has no separate output matrix (it is then also the output matrix, and copied for it); the
/// repacker's regions are counted with a partly used huge page each.
public struct RepackedFootprint: Sendable, Equatable {
    /// The file's size.
    public let fileBytes: Int
    /// Bytes of repacked copies.
    public let copyBytes: Int
    /// Bytes of originals given back (whole huge pages inside Q4_K expert tensors).
    public let discardedBytes: Int
    /// The most one tensor gives back (held beside its copy until the copy is made).
    public let largestDiscardBytes: Int
    /// The unit memory is given back and reserved in.
    public let hugePageBytes: Int

    /// Bytes held once the model is loaded (with the repacker's slack: a partly used huge page at the end of each of
    /// its regions, `WeightRepacker.regionBytes`).
    public var heldBytes: Int {
        let regions = (copyBytes + WeightRepacker.regionBytes - 1) / WeightRepacker.regionBytes
        return fileBytes + copyBytes - discardedBytes + regions * hugePageBytes
    }
    /// Bytes held at most while loading.
    public var peakBytes: Int { heldBytes + largestDiscardBytes }

    /// The estimate for `file` (its records; the data is not read). `hugePageBytes`: the unit memory is given back
    /// in (`HugePageRegion.pageBytes`).
    public init(file: GGUFFile, hugePageBytes: Int = HugePageRegion.pageBytes) {
        let tied = file.tensorInfo(named: "output.weight") == nil
        var copies = 0, discarded = 0, largest = 0
        for info in file.tensors {
            guard let type = info.type.ggmlType, type == .q4_K || type == .q6_K,
                  info.dimensions.count == 2 || info.dimensions.count == 3,
                  info.name != "token_embd.weight" || tied
            else { continue }
            let matrices = info.dimensions.count == 3 ? info.dimensions[2] : 1
            let copy = WeightRepacker.repackedBytes(type: type, rows: info.dimensions[1], columns: info.dimensions[0])
                * matrices
            guard copy > 0 else { continue }
            copies += copy
            // Expert tensors (llama.cpp's `*_exps` names, read only through `TensorSource.experts`) of a type whose
            // copies serve every product give back the huge pages wholly inside them (the file is read into memory
            // starting on a huge-page boundary, so file offsets place them).
            if info.dimensions.count == 3, info.name.hasSuffix("_exps.weight"),
               WeightRepacker.copyServesEveryProduct(type)
            {
                let end = info.absoluteOffset + info.byteCount
                let given = HugePageRegion.wholePages(from: info.absoluteOffset, to: end, pageBytes: hugePageBytes).count
                discarded += given
                largest = max(largest, given)
            }
        }
        self.init(fileBytes: file.fileSize, copyBytes: copies, discardedBytes: discarded, largestDiscardBytes: largest,
                  hugePageBytes: hugePageBytes)
    }

    public init(fileBytes: Int, copyBytes: Int, discardedBytes: Int, largestDiscardBytes: Int,
                hugePageBytes: Int = HugePageRegion.pageBytes)
    {
        self.hugePageBytes = hugePageBytes
        self.fileBytes = fileBytes
        self.copyBytes = copyBytes
        self.discardedBytes = discardedBytes
        self.largestDiscardBytes = largestDiscardBytes
    }

    /// The estimate for the file at `path`, or nil when it cannot be opened or parsed (loading it says why).
    public init?(path: String) {
        guard let file = try? GGUFFile(contentsOf: URL(fileURLWithPath: path)) else { return nil }
        self.init(file: file)
    }
}
