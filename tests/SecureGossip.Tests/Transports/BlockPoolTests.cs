using System.Buffers;
using System.IO.Pipelines;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Transports;

public sealed class BlockPoolTests
{
    [Fact]
    public void A_returned_block_is_rented_again_instead_of_a_new_one()
    {
        var pool = new BlockPool(maxRetainedBlocks: 8);
        IMemoryOwner<byte> first = pool.Rent(100);
        first.Memory.Span[0] = 42;
        Memory<byte> memory = first.Memory;
        first.Dispose();
        Assert.Equal(1, pool.FreeBlocks);

        using IMemoryOwner<byte> second = pool.Rent();
        Assert.True(second.Memory.Span.Overlaps(memory.Span), "the free block is reused");
        Assert.Equal(BlockPool.BlockSize, second.Memory.Length);
        Assert.Equal(0, pool.FreeBlocks);
    }

    [Fact]
    public void Disposing_a_block_twice_returns_it_once_and_its_memory_is_gone()
    {
        var pool = new BlockPool(maxRetainedBlocks: 8);
        IMemoryOwner<byte> block = pool.Rent();
        block.Dispose();
        block.Dispose();
        Assert.Equal(1, pool.FreeBlocks);
        Assert.Throws<ObjectDisposedException>(() => block.Memory);

        // Two renters never share a block.
        using IMemoryOwner<byte> a = pool.Rent();
        using IMemoryOwner<byte> b = pool.Rent();
        Assert.False(a.Memory.Span.Overlaps(b.Memory.Span));
    }

    [Fact]
    public void Free_blocks_past_the_bound_are_let_go()
    {
        var pool = new BlockPool(maxRetainedBlocks: 3);
        IMemoryOwner<byte>[] rented = [.. Enumerable.Range(0, 10).Select(_ => pool.Rent())];
        foreach (IMemoryOwner<byte> block in rented)
        {
            block.Dispose();
        }

        Assert.Equal(3, pool.FreeBlocks);
    }

    [Fact]
    public void A_request_larger_than_a_block_is_refused_with_the_size()
    {
        var pool = new BlockPool();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(BlockPool.BlockSize + 1));
        Assert.Equal("minBufferSize", e.ParamName);
    }

    [Fact]
    public async Task A_pipe_over_the_pool_carries_more_than_a_block_and_gives_its_blocks_back()
    {
        var pool = new BlockPool(maxRetainedBlocks: 64);
        var pipe = new Pipe(new PipeOptions(pool: pool, minimumSegmentSize: BlockPool.BlockSize, useSynchronizationContext: false));
        byte[] sent = [.. Enumerable.Range(0, 3 * BlockPool.BlockSize + 17).Select(i => (byte)i)];
        await pipe.Writer.WriteAsync(sent);
        await pipe.Writer.CompleteAsync();

        var received = new List<byte>();
        while (true)
        {
            ReadResult read = await pipe.Reader.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in read.Buffer)
            {
                received.AddRange(segment.ToArray());
            }

            pipe.Reader.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }

        await pipe.Reader.CompleteAsync();
        Assert.Equal(sent, received);
        Assert.True(pool.FreeBlocks >= 4, $"the pipe's {pool.FreeBlocks} returned blocks (it used 4)");
    }
}
