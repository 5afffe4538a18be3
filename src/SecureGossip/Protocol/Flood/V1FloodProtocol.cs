using SecureGossip.Protocol.Core;

namespace SecureGossip.Protocol.Flood;

/// <summary>
/// The secure-gossip 0.3.1 flood as a protocol module of the <see cref="Engine.GossipEngine"/>: every round each
/// line accepted or published since the last round goes to every neighbour on a v1 link, the one it came from
/// included, and the round's store is emptied.
/// </summary>
/// <remarks>
/// <para>The engine decides what is accepted (own messages, copies and old seqs are dropped before any verification,
/// so each accepted message costs one); this module only decides where accepted lines go next, and when.</para>
/// <para>Rounds come from <see cref="Round"/> (a real node's <see cref="GossipNode.Gossip"/> and its interval timer) or,
/// with an <see cref="Interval"/>, from the module's own timer, the first at a random phase in [0, interval) per node
/// (the simulator).</para>
/// <para>As our .NET node does, and unlike the JS package: a round while the node has no link at all keeps the store,
/// up to <see cref="MaxStoredLines"/> and <see cref="MaxStoredBytes"/> (the newest are kept; a node offline for long does
/// not grow without bound, and the round that finds a link gives it no more than its queue holds).</para>
/// </remarks>
public sealed class V1FloodProtocol
{
    /// <summary>The id of the round timer (the Plumtree core's timer ids are positive).</summary>
    public const long RoundTimer = -1;

    private int[] _neighbours = [];
    private int _neighbourCount;
    private List<V1Line> _store = [];
    private long _storedBytes;

    /// <summary>Creates one node's module.</summary>
    /// <param name="interval">Time between rounds on the module's own timer, or null when the driver calls <see cref="Round"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is not positive.</exception>
    /// <param name="maxStoredLines">The most lines kept for the next round (<see cref="DefaultMaxStoredLines"/>); past it the oldest go.</param>
    /// <param name="maxStoredBytes">The most bytes of lines kept for the next round (<see cref="DefaultMaxStoredBytes"/>); past it the oldest go.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxStoredLines"/> or <paramref name="maxStoredBytes"/> is less than 1.</exception>
    public V1FloodProtocol(TimeSpan? interval = null, int maxStoredLines = DefaultMaxStoredLines, long maxStoredBytes = DefaultMaxStoredBytes)
    {
        if (interval is { } value)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero, nameof(interval));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxStoredLines, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxStoredBytes, 1);
        Interval = interval;
        MaxStoredLines = maxStoredLines;
        MaxStoredBytes = maxStoredBytes;
    }

    /// <summary>
    /// The default of <see cref="MaxStoredBytes"/>: 8 MiB, half the queue a node allows each peer by default
    /// (<see cref="GossipNodeOptions.MaxQueuedBytesPerPeer"/>).
    /// </summary>
    public const long DefaultMaxStoredBytes = 8L * 1024 * 1024;

    /// <summary>
    /// The most bytes of lines kept for the next round: a round hands every v1 link the whole store at once, so a store
    /// larger than a link's queue (a node that published or accepted much while it had no link) would make the node cut
    /// its first link as if the peer were not reading. <see cref="GossipNode"/> sets half its
    /// <see cref="GossipNodeOptions.MaxQueuedBytesPerPeer"/> (and at least one line of
    /// <see cref="GossipNodeOptions.MaxLineLength"/>). Past it the oldest go, counted in <see cref="DroppedLines"/>.
    /// </summary>
    public long MaxStoredBytes { get; }

    /// <summary>The default of <see cref="MaxStoredLines"/>: 100,000 lines, as many as a node retains in all.</summary>
    public const int DefaultMaxStoredLines = 100_000;

    /// <summary>
    /// The most lines kept for the next round. A node with no link keeps what it publishes and accepts for the round that
    /// finds one; past this the oldest go (counted in <see cref="DroppedLines"/>). A v2 node loses nothing by it: its
    /// retained messages reach a v1 peer by catch-up when it connects.
    /// </summary>
    public int MaxStoredLines { get; }

    /// <summary>Lines the store let go, the oldest, because it held <see cref="MaxStoredLines"/> or <see cref="MaxStoredBytes"/>.</summary>
    public long DroppedLines { get; private set; }

    /// <summary>The JS package's default round interval, 100 ms.</summary>
    public static TimeSpan DefaultInterval { get; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Time between rounds on the module's own timer (null: rounds are driven from outside).</summary>
    public TimeSpan? Interval { get; }

    /// <summary>Lines waiting for the next round (at most <see cref="MaxStoredLines"/> and a quarter more).</summary>
    public int PendingLines => _store.Count;

    /// <summary>How many v1 neighbours a round sends to.</summary>
    public int NeighbourCount => _neighbourCount;

    /// <summary>Bytes of the lines waiting for the next round, newlines included (at most <see cref="MaxStoredBytes"/> and a quarter more).</summary>
    public long PendingBytes => _storedBytes;

    /// <summary>A factory for the simulator: one engine per node, flooding only, a round every <paramref name="interval"/>.</summary>
    public static Func<int, IGossipProtocol> Factory(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        return _ => Engine.GossipEngine.CreateV1(interval);
    }

    /// <summary>The node starts: with an <see cref="Interval"/>, the first round is set at a random phase.</summary>
    public void Start(IGossipContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Interval is { } interval)
        {
            context.SetTimer(TimeSpan.FromTicks((long)(context.Random.NextDouble() * interval.Ticks)), RoundTimer);
        }
    }

    /// <summary>A v1 link came up.</summary>
    public void NeighbourUp(int neighbour)
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

    /// <summary>A v1 link went down (or now speaks v2).</summary>
    public void NeighbourDown(int neighbour)
    {
        int i = Array.IndexOf(_neighbours, neighbour, 0, _neighbourCount);
        if (i >= 0)
        {
            // Keep the order of the others: it is the order lines are written in, which tests may rely on.
            Array.Copy(_neighbours, i + 1, _neighbours, i, _neighbourCount - i - 1);
            _neighbourCount--;
        }
    }

    /// <summary>The node published <paramref name="line"/>: it leaves in the next round.</summary>
    public void Publish(V1Line line)
    {
        ArgumentNullException.ThrowIfNull(line);
        Store(line);
    }

    /// <summary>The engine accepted the message <paramref name="line"/> carries: it goes on in the next round.</summary>
    public void Accepted(V1Line line)
    {
        ArgumentNullException.ThrowIfNull(line);
        Store(line.Forwarded());
    }

    private void Store(V1Line line)
    {
        _store.Add(line);
        _storedBytes += line.SizeBytes;
        if (_store.Count - MaxStoredLines >= Math.Max(1, MaxStoredLines / 4) || _storedBytes - MaxStoredBytes >= Math.Max(1, MaxStoredBytes / 4))
        {
            TrimOldest(); // a quarter at a time, so a long offline spell costs O(1) a line
        }
    }

    /// <summary>Lets the oldest lines go until the store holds at most <see cref="MaxStoredLines"/> and <see cref="MaxStoredBytes"/>.</summary>
    private void TrimOldest()
    {
        int excess = Math.Max(0, _store.Count - MaxStoredLines);
        long bytes = _storedBytes;
        for (int i = 0; i < excess; i++)
        {
            bytes -= _store[i].SizeBytes;
        }

        while (bytes > MaxStoredBytes && excess < _store.Count)
        {
            bytes -= _store[excess++].SizeBytes;
        }

        if (excess > 0)
        {
            _store.RemoveRange(0, excess);
            _storedBytes = bytes;
            DroppedLines += excess;
        }
    }

    /// <summary>
    /// Lines a link took in a round and never wrote go back to the front of the store, each once however many links
    /// failed to write it; receivers drop the copies other links already delivered.
    /// </summary>
    public void Requeue(IReadOnlyList<byte[]> lines)
    {
        var queued = new HashSet<byte[]>(_store.Where(l => l.Line is not null).Select(l => l.Line!), ReferenceEqualityComparer.Instance);
        V1Line[] requeued = [.. lines.Where(queued.Add).Select(l => new V1Line(default, l))];
        _store.InsertRange(0, requeued);
        _storedBytes += requeued.Sum(l => (long)l.SizeBytes);
    }

    /// <summary>The round timer fired.</summary>
    public void Timer(IGossipContext context, int links)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Interval is { } interval)
        {
            context.SetTimer(interval, RoundTimer);
        }

        Round(context, links);
    }

    /// <summary>
    /// A round: every stored line to every v1 neighbour, and the store emptied — unless the node has no link at all
    /// (<paramref name="links"/> counts links of every version), when the store is kept for a later round.
    /// </summary>
    public void Round(IGossipContext context, int links)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_store.Count == 0 || links == 0)
        {
            return; // nothing to say, or nobody to say it to: keep the store
        }

        TrimOldest(); // a link's round is at most MaxStoredBytes, whatever the slack of the store let in
        List<V1Line> lines = _store;
        _store = [];
        _storedBytes = 0;
        for (int n = 0; n < _neighbourCount; n++)
        {
            int neighbour = _neighbours[n];
            foreach (V1Line line in lines)
            {
                context.Send(neighbour, line);
            }
        }
    }
}
