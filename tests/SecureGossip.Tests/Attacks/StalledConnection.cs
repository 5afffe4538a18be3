using System.Buffers;
using System.IO.Pipelines;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Attacks;

/// <summary>
/// A peer that never reads: every flush of what the node writes to it waits until the connection is disposed. It
/// sends nothing until <see cref="Leave"/> ends its side, as a peer that hangs up would.
/// </summary>
internal sealed class StalledConnection : GossipConnection
{
    private readonly Pipe _inbound = new();
    private readonly StalledWriter _output = new();

    public override PipeReader Input => _inbound.Reader;

    public override PipeWriter Output => _output;

    /// <summary>Bytes the node has written (and never got flushed).</summary>
    public long BytesWritten => _output.Written;

    /// <summary>The peer hangs up: the node reads the end of its stream.</summary>
    public void Leave() => _inbound.Writer.Complete();

    protected override async ValueTask DisposeCoreAsync()
    {
        await _inbound.Reader.CompleteAsync();
        await _output.CompleteAsync();
    }

    private sealed class StalledWriter : PipeWriter
    {
        private readonly ArrayBufferWriter<byte> _buffer = new();
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Written { get; private set; }

        public override void Advance(int bytes)
        {
            _buffer.Advance(bytes);
            Written += bytes;
            _buffer.ResetWrittenCount();
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => _buffer.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => _buffer.GetSpan(sizeHint);

        public override void CancelPendingFlush() => _released.TrySetResult();

        public override void Complete(Exception? exception = null) => _released.TrySetResult();

        public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            await _released.Task.WaitAsync(cancellationToken);
            return new FlushResult(isCanceled: false, isCompleted: true);
        }
    }
}
