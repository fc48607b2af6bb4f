internal import CKernels

/// A persistent pool of worker threads (plus the calling thread) that the matrix kernels split rows across.
/// Threads are started once; each job wakes them. Jobs from several threads are serialised; a job must not start
/// another job on the same pool.
public final class ThreadPool: @unchecked Sendable {
    // The C pool synchronises its own state; this class only owns the handle.
    let handle: OpaquePointer
    /// Threads taking part in each job, the caller included.
    public let threadCount: Int

    /// Starts `threads - 1` workers.
    public init(threads: Int) throws(KernelError) {
        guard threads >= 1, let handle = sparrow_pool_create(Int32(clamping: threads)) else {
            throw .threadPoolUnavailable(threads: threads)
        }
        self.handle = handle
        self.threadCount = threads
    }

    deinit { sparrow_pool_destroy(handle) }

    /// Calls `job(context, i)` once for every `i` in `0..<count`, spread over `pool`'s threads (the caller included)
    /// in one job of the persistent pool, or every index in order on this thread when `pool` is nil. Indices are
    /// handed out one at a time through a shared counter, so which thread runs an index (and in which order) varies:
    /// each index's work must not depend on the others'. Allocates nothing (`job` is a plain C function and
    /// `context` the caller's), which is what the decode loop uses. Must not be called from inside a job of the
    /// same pool.
    public static func run(_ pool: ThreadPool?, count: Int, context: UnsafeMutableRawPointer?,
                           job: @convention(c) (UnsafeMutableRawPointer?, Int64) -> Void)
    {
        guard count > 0 else { return }
        sparrow_pool_for(pool?.handle, Int64(count), job, context)
    }

    /// `run(_:count:context:job:)` with a closure: `body(i)` for every `i` in `0..<count`. Converting the closure
    /// for the C pool costs two small allocations per call; loops that run every token use the context form.
    public static func run(_ pool: ThreadPool?, count: Int, body: (Int) -> Void) {
        guard count > 0 else { return }
        guard let pool, pool.threadCount > 1, count > 1 else {
            for index in 0..<count { body(index) }
            return
        }
        withoutActuallyEscaping(body) { body in
            withUnsafePointer(to: body) { pointer in
                run(pool, count: count, context: UnsafeMutableRawPointer(mutating: pointer)) { context, index in
                    context?.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(index))
                }
            }
        }
    }

    /// `ThreadPool.run(self, count:body:)`.
    public func run(count: Int, body: (Int) -> Void) {
        Self.run(self, count: count, body: body)
    }
}
