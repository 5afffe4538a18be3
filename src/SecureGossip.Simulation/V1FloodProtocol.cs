using SecureGossip.Protocol.Core;
namespace SecureGossip.Simulation;

/// <summary>
/// The secure-gossip 0.3.1 flood as <see cref="GossipNode"/> runs it (protocol <c>v1</c>): every round each
/// stored line goes to every neighbour, the one it came from included, and the store is emptied.
/// </summary>
/// <remarks>
/// <para>Rounds every <see cref="Interval"/>, the first one at a random phase in [0, interval) per node.</para>
/// <para>As our .NET node does, and unlike the JS package: a round with no live neighbour keeps the store; a copy
/// whose (author, seq) is not above the highest accepted seq of that author is dropped before its signature is
/// verified, so each accepted message costs exactly one verification.</para>
/// <para>On receive: own message, dropped; old seq, dropped; otherwise one verification, accept, deliver,
/// remember the seq and store the line for the next round.</para>
/// </remarks>
public sealed class V1FloodProtocol : IGossipProtocol
{
    private const long RoundTimer = 0;

    private int[] _neighbours = [];
    private int _neighbourCount;
    private V1Line[]? _store;
    private int _storeCount;
    private SequenceTable _highest;

    /// <summary>Creates one node's state.</summary>
    /// <param name="interval">Time between rounds (the JS <c>interval</c>, default 100 ms).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is not positive.</exception>
    public V1FloodProtocol(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        Interval = interval;
    }

    /// <summary>The JS package's default round interval, 100 ms.</summary>
    public static TimeSpan DefaultInterval { get; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Time between rounds.</summary>
    public TimeSpan Interval { get; }

    /// <summary>Lines waiting for the next round.</summary>
    public int PendingLines => _storeCount;

    /// <summary>A factory for <see cref="SimulationOptions.Protocol"/>: one v1 node per simulated node.</summary>
    public static Func<int, IGossipProtocol> Factory(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        return _ => new V1FloodProtocol(interval);
    }

    /// <inheritdoc/>
    public void Start(IGossipContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.SetTimer(TimeSpan.FromTicks((long)(context.Random.NextDouble() * Interval.Ticks)), RoundTimer);
    }

    /// <inheritdoc/>
    public void Publish(IGossipContext context, MessageId message, int payloadBytes) =>
        Store(new V1Line(message, payloadBytes, hops: 1));

    /// <inheritdoc/>
    public void FrameReceived(IGossipContext context, int fromNeighbour, IGossipFrame frame)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (frame is not V1Line line || line.Message.Author == context.Self)
        {
            return;
        }

        // The seq check comes before the signature check, as in GossipNode.Check: copies cost no verification.
        if (_highest.TryGet(line.Message.Author, out long highest) && line.Message.Sequence <= highest)
        {
            return;
        }

        context.CountVerify();
        _highest.Set(line.Message.Author, line.Message.Sequence);
        context.Deliver(line.Message, line.Hops);
        Store(new V1Line(line.Message, line.PayloadBytes, line.Hops + 1));
    }

    /// <inheritdoc/>
    public void Timer(IGossipContext context, long timerId)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (timerId != RoundTimer)
        {
            return;
        }

        context.SetTimer(Interval, RoundTimer);
        if (_storeCount == 0 || _neighbourCount == 0)
        {
            return; // nothing to say, or nobody to say it to: keep the store (GossipNode.Gossip)
        }

        for (int i = 0; i < _storeCount; i++)
        {
            for (int n = 0; n < _neighbourCount; n++)
            {
                context.Send(_neighbours[n], _store![i]);
            }

            _store![i] = null!;
        }

        _storeCount = 0;
        if (_store!.Length > 16)
        {
            _store = null; // a burst's buffer is not kept for the node's lifetime
        }
    }

    /// <inheritdoc/>
    public void NeighbourUp(IGossipContext context, int neighbour)
    {
        if (Array.IndexOf(_neighbours, neighbour, 0, _neighbourCount) >= 0)
        {
            return;
        }

        if (_neighbourCount == _neighbours.Length)
        {
            Array.Resize(ref _neighbours, Math.Max(4, _neighbourCount * 2));
        }

        _neighbours[_neighbourCount++] = neighbour;
    }

    /// <inheritdoc/>
    public void NeighbourDown(IGossipContext context, int neighbour)
    {
        int i = Array.IndexOf(_neighbours, neighbour, 0, _neighbourCount);
        if (i >= 0)
        {
            // Keep the order of the others: it is the order lines are written in, which tests may rely on.
            Array.Copy(_neighbours, i + 1, _neighbours, i, _neighbourCount - i - 1);
            _neighbourCount--;
        }
    }

    private void Store(V1Line line)
    {
        if (_store is null || _storeCount == _store.Length)
        {
            Array.Resize(ref _store, Math.Max(4, _storeCount * 2));
        }

        _store[_storeCount++] = line;
    }
}
