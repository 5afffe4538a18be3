using System.Buffers;
using System.IO.Pipelines;

namespace SecureGossip.Tests.TestSupport;

/// <summary>
/// A node's side of a pipe that counts the bytes the node has consumed. A read loop advances past a line only once it
/// has handled it, so "consumed more" is the fact that the node read something new (a keepalive, which reaches
/// nothing else a test could await).
/// </summary>
internal sealed class CountingPipeReader(PipeReader inner) : PipeReader
{
    private readonly Lock _gate = new();
    private readonly List<(long Bytes, TaskCompletionSource Done)> _waiters = [];
    private ReadOnlySequence<byte> _last;
    private long _consumed;

    /// <summary>Bytes consumed so far.</summary>
    public long Consumed
    {
        get
        {
            lock (_gate)
            {
                return _consumed;
            }
        }
    }

    /// <summary>Waits until at least <paramref name="bytes"/> have been consumed in all, up to <see cref="Gossip.Timeout"/>.</summary>
    public Task WaitForConsumedAsync(long bytes)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_consumed >= bytes)
            {
                return Task.CompletedTask;
            }

            _waiters.Add((bytes, done));
        }

        return done.Task.WaitAsync(Gossip.Timeout);
    }

    public override bool TryRead(out ReadResult result)
    {
        bool read = inner.TryRead(out result);
        if (read)
        {
            _last = result.Buffer;
        }

        return read;
    }

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        ReadResult result = await inner.ReadAsync(cancellationToken);
        _last = result.Buffer;
        return result;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        long bytes = _last.Slice(_last.Start, consumed).Length; // measured before the inner reader releases the buffer
        inner.AdvanceTo(consumed, examined);
        lock (_gate)
        {
            _consumed += bytes;
            long total = _consumed;
            _waiters.RemoveAll(w => total >= w.Bytes && w.Done.TrySetResult());
        }
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
}
