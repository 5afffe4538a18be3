using System.Buffers;
using System.Collections.Concurrent;

namespace SecureGossip.Transports;

/// <summary>
/// The memory the node's pipes and stream adapters write into: 4 KiB blocks, kept in one process-wide pool up to a
/// bound (<see cref="MaxRetainedBlocks"/>).
/// </summary>
/// <remarks>
/// <para>
/// A pipe rents a block for each segment and returns it once its reader has consumed it, usually on another thread.
/// <see cref="ArrayPool{T}.Shared"/> keeps only a few dozen arrays of a size per core, so a node with many busy links
/// (or many nodes in one process) handing small frames across them rented faster than the shared pool held, and a
/// burst allocated (and collected) most of its segments anew: the largest allocation on a v2 node's receive path.
/// This pool keeps up to <see cref="MaxRetainedBlocks"/> blocks (16 MiB) whatever thread returns them, and lets
/// go of the rest, so its memory is bounded by the bound or by the peak of blocks in use, whichever is lower.
/// </para>
/// <para>Thread-safe. A block must be disposed once; the pipe does that.</para>
/// </remarks>
internal sealed class BlockPool : MemoryPool<byte>
{
    /// <summary>The size of every block: the pipes' default segment size.</summary>
    public const int BlockSize = 4096;

    /// <summary>The most free blocks kept (4,096 × 4 KiB = 16 MiB).</summary>
    public const int MaxRetainedBlocks = 4096;

    private readonly ConcurrentQueue<Block> _free = new();
    private readonly int _maxRetained;
    private int _freeCount;

    /// <summary>A pool that keeps at most <paramref name="maxRetainedBlocks"/> free blocks (the shared one: <see cref="MaxRetainedBlocks"/>).</summary>
    internal BlockPool(int maxRetainedBlocks = MaxRetainedBlocks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetainedBlocks);
        _maxRetained = maxRetainedBlocks;
    }

    /// <summary>The pool every transport of this process uses.</summary>
    public static new BlockPool Shared { get; } = new();

    /// <summary>Options for an in-process <see cref="System.IO.Pipelines.Pipe"/> that pauses its writer past <paramref name="pauseWriterThreshold"/> bytes.</summary>
    public static System.IO.Pipelines.PipeOptions PipeOptions(long pauseWriterThreshold, bool inline = false) =>
        new(
            pool: Shared,
            readerScheduler: inline ? System.IO.Pipelines.PipeScheduler.Inline : null,
            writerScheduler: inline ? System.IO.Pipelines.PipeScheduler.Inline : null,
            pauseWriterThreshold: pauseWriterThreshold,
            resumeWriterThreshold: pauseWriterThreshold / 2,
            minimumSegmentSize: BlockSize,
            useSynchronizationContext: false);

    /// <inheritdoc/>
    public override int MaxBufferSize => BlockSize;

    /// <summary>Free blocks held now (for tests).</summary>
    public int FreeBlocks => Volatile.Read(ref _freeCount);

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minBufferSize"/> is more than <see cref="BlockSize"/>.</exception>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_free.TryDequeue(out Block? block))
        {
            Interlocked.Decrement(ref _freeCount);
            block.Rented();
            return block;
        }

        return new Block(this);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        // The shared pool lives as long as the process; blocks already returned are simply dropped.
    }

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _freeCount) <= _maxRetained)
        {
            _free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _freeCount); // over the bound: left to the collector
        }
    }

    private sealed class Block(BlockPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize);
        private int _returned;

        public Memory<byte> Memory
        {
            get
            {
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _returned) != 0, this);
                return _array;
            }
        }

        public void Rented() => Volatile.Write(ref _returned, 0);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0)
            {
                pool.Return(this);
            }
        }
    }
}
