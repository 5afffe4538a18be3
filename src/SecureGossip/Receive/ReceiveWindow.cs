namespace SecureGossip.Receive;

/// <summary>
/// Bounds the messages between the read loops and the actor's commit (parsed, admitted, verifying or waiting to be
/// committed): a read loop that finds the window full waits until it has drained to half, so a slow consumer (a full
/// subscriber, a long verification backlog) slows the links instead of growing memory. Resuming at half rather than
/// at the first free slot lets a read loop handle a batch per wake-up instead of one line per context switch.
/// </summary>
internal sealed class ReceiveWindow(int size)
{
    private readonly Lock _gate = new();
    private int _inFlight;
    private int _waiting;
    private TaskCompletionSource? _open;

    /// <summary>The default: 256 messages per core, at least two cores' worth.</summary>
    public static int DefaultSize { get; } = 256 * Math.Max(2, Environment.ProcessorCount);

    public int Size => size;

    /// <summary>Messages taken in and not yet committed: verifying, or verified and waiting for their turn.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Takes a slot if one is free now, without waiting.</summary>
    public bool TryEnter()
    {
        int inFlight = Volatile.Read(ref _inFlight);
        while (inFlight < size)
        {
            int seen = Interlocked.CompareExchange(ref _inFlight, inFlight + 1, inFlight);
            if (seen == inFlight)
            {
                return true;
            }

            inFlight = seen;
        }

        return false;
    }

    /// <summary>Takes a slot, waiting first while the window is full.</summary>
    public async ValueTask EnterAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _inFlight) >= size)
        {
            await WaitAsync(cancellationToken);
        }

        Interlocked.Increment(ref _inFlight);
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _inFlight) <= size / 2 && Volatile.Read(ref _waiting) != 0)
        {
            lock (_gate)
            {
                _waiting = 0;
                _open?.TrySetResult();
                _open = null;
            }
        }
    }

    private Task WaitAsync(CancellationToken cancellationToken)
    {
        Task open;
        lock (_gate)
        {
            Interlocked.Exchange(ref _waiting, 1);
            if (Volatile.Read(ref _inFlight) <= size / 2)
            {
                _waiting = 0;
                return Task.CompletedTask;
            }

            _open ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            open = _open.Task;
        }

        return open.WaitAsync(cancellationToken);
    }
}
