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
}
