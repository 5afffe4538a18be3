namespace SecureGossip.Simulation;

/// <summary>
/// The discrete-event queue: a <see cref="PriorityQueue{TElement, TPriority}"/> of event structs ordered by (time,
/// scheduling order), plus the peak length the result reports. <see cref="EventQueue"/> holds the gossip engine's
/// <see cref="SimEvent"/>s; the overlay simulation has events of its own.
/// </summary>
/// <remarks>
/// <para><see cref="PriorityQueue{TElement, TPriority}"/> is not stable: two events at the same instant could come out
/// in either order. So the priority is one <see cref="long"/>: the time (in ticks) in the high bits and the scheduling
/// counter in the low <see cref="OrderBits"/>, which makes events at the same instant run first-in first-out — unless
/// more than 2^23 events were scheduled between them, when the counter has wrapped; either way the order depends on
/// nothing but the run's own events, so a seed reproduces its run. One integer comparison per step of the heap (a
/// struct priority with its own comparison measured about a tenth slower on a v1 simulation), and no allocation per
/// event.</para>
/// <para>That leaves the time 40 bits: 2^40 ticks, about 30 hours of virtual time, beyond any
/// <see cref="SimulationOptions.MaxTime"/> the options accept.</para>
/// </remarks>
internal class EventQueue<T>
    where T : struct
{
    /// <summary>Bits of the priority that hold the scheduling counter.</summary>
    public const int OrderBits = 23;

    /// <summary>The first virtual time (ticks) the queue cannot hold.</summary>
    public const long TimeLimit = 1L << (63 - OrderBits);

    private const long OrderMask = (1L << OrderBits) - 1;

    private readonly PriorityQueue<T, long> _heap = new(initialCapacity: 256);
    private long _nextOrder;

    public int Count => _heap.Count;

    public int PeakCount { get; private set; }

    /// <exception cref="InvalidOperationException"><paramref name="time"/> is negative or not below <see cref="TimeLimit"/>.</exception>
    public void Enqueue(long time, in T item)
    {
        if ((ulong)time >= TimeLimit)
        {
            throw new InvalidOperationException($"An event at {TimeSpan.FromTicks(time)} of virtual time is outside what the simulator's event queue holds (0 to {TimeSpan.FromTicks(TimeLimit)}).");
        }

        _heap.Enqueue(item, (time << OrderBits) | (_nextOrder++ & OrderMask));
        PeakCount = Math.Max(PeakCount, _heap.Count);
    }

    /// <summary>The time of the earliest event, without removing it; <see langword="false"/> when the queue is empty.</summary>
    public bool TryPeekTime(out long time)
    {
        bool any = _heap.TryPeek(out _, out long priority);
        time = priority >> OrderBits;
        return any;
    }

    public T Dequeue() => _heap.Dequeue();
}

/// <summary>The gossip engine's queue of <see cref="SimEvent"/>s.</summary>
internal sealed class EventQueue : EventQueue<SimEvent>;
