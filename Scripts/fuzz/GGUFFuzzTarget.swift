// libFuzzer target for Sparrow's GGUF reader. Built by Scripts/fuzz/run-gguf-fuzz together with
// Sources/GGUF/*.swift into one module, with -sanitize=fuzzer,address (REFERENCE.md §0).
//
// For each input: parse it from memory; on success touch the first and last byte of every tensor view (ASan
// catches a view outside the buffer); on failure the error must be a GGUFError whose message names a byte
// offset. During the parse an ASan malloc hook records the largest single allocation, which must stay within
// `allocationFactor` × the input size (+ a fixed slack for the runtime's own small allocations): a count or
// length taken from the file without a bounds check would allocate far beyond that.
import Foundation

/// Largest single allocation allowed per byte of input (metadata in memory is a few times larger than its
/// encoding: a 13-byte key/value pair becomes a String, an enum and a dictionary slot).
let allocationFactor = 8
let allocationSlack = 64 * 1024

nonisolated(unsafe) var tracking = false
nonisolated(unsafe) var largestAllocation = 0
nonisolated(unsafe) var largestRatioSeen = 0.0
nonisolated(unsafe) var casesParsed = 0
nonisolated(unsafe) var casesRefused = 0

@_silgen_name("__sanitizer_install_malloc_and_free_hooks")
func installHooks(
    _ onMalloc: @convention(c) (UnsafeRawPointer?, Int) -> Void,
    _ onFree: @convention(c) (UnsafeRawPointer?) -> Void
) -> CInt

nonisolated(unsafe) var hooksInstalled = false

func report() {
    let line = "gguf-fuzz summary: parsed \(casesParsed), refused \(casesRefused), "
        + "largest allocation / input size seen: \(String(format: "%.2f", largestRatioSeen))\n"
    FileHandle.standardError.write(Data(line.utf8))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if !hooksInstalled {
        hooksInstalled = true
        _ = installHooks({ _, size in if tracking, size > largestAllocation { largestAllocation = size } }, { _ in })
        atexit { report() }
    }
    let input = data.map { Data(bytes: $0, count: size) } ?? Data()
    largestAllocation = 0
    tracking = true
    let result = Result { try GGUFFile(bytes: input) }
    tracking = false
    // The copy of the input itself is one allocation of `size` bytes.
    let limit = allocationFactor * max(size, 1) + allocationSlack
    if largestAllocation > limit {
        FileHandle.standardError.write(Data("allocation of \(largestAllocation) bytes for a \(size)-byte input\n".utf8))
        abort()
    }
    if size >= 1024 {
        largestRatioSeen = max(largestRatioSeen, Double(largestAllocation) / Double(max(size, 1)))
    }
    switch result {
    case .success(let file):
        casesParsed += 1
        var checksum: UInt8 = 0
        for info in file.tensors {
            guard let view = try? file.view(of: info) else { abort() }
            if let first = view.bytes.first, let last = view.bytes.last { checksum &+= first &+ last }
            if let row = view.row(info.rowCount - 1), let last = row.last { checksum &+= last }
            if info.rowCount * info.rowByteCount != info.byteCount || info.elementCount < 0 { abort() }
        }
        if let summary = try? GGUFModelSummary(file) {
            _ = summary.text()
            _ = try? summary.json()
        }
        withExtendedLifetime(checksum) {}
    case .failure(let error):
        casesRefused += 1
        guard let gguf = error as? GGUFError, gguf.description.contains("byte") else {
            FileHandle.standardError.write(Data("error without a byte offset: \(error)\n".utf8))
            abort()
        }
    }
    return 0
}
