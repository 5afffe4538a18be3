using System.Diagnostics;
using SecureGossip.Storage;

namespace SecureGossip.Harness;

/// <summary>
/// Passes every call on to a real store and notes what each group commit cost: how many messages were added since
/// the previous <see cref="Flush"/> and how long the flush took. The node's own counters keep only the number of
/// commits and the last one's duration.
/// </summary>
/// <remarks>Calls come from one thread at a time (<see cref="IGossipStore"/>), so the lists need no lock.</remarks>
internal sealed class TimedStore(IGossipStore inner) : IGossipStore
{
    private int _added;

    /// <summary>Every <see cref="Flush"/>: messages added since the previous one, and its duration in ms.</summary>
    public List<(int Messages, double Ms)> Flushes { get; } = [];

    /// <summary>Every durable <see cref="Add"/> (the node's own messages): its duration in ms.</summary>
    public List<double> DurableAdds { get; } = [];

    public GossipStoreSnapshot Load(DateTimeOffset now, GossipRetention retention) => inner.Load(now, retention);

    public void Add(StoredMessage message, bool durable)
    {
        if (!durable)
        {
            inner.Add(message, durable);
            _added++;
            return;
        }

        long start = Stopwatch.GetTimestamp();
        inner.Add(message, durable);
        DurableAdds.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    public void Flush()
    {
        long start = Stopwatch.GetTimestamp();
        inner.Flush();
        Flushes.Add((_added, Stopwatch.GetElapsedTime(start).TotalMilliseconds));
        _added = 0;
    }

    public void Dispose() => inner.Dispose();
}
