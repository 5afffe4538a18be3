namespace SecureGossip.Simulation;

/// <summary>
/// The discrete-event queue: a <see cref="PriorityQueue{TElement, TPriority}"/> of <see cref="SimEvent"/> structs
/// ordered by (time, scheduling order), plus the peak length the result reports.
/// </summary>
/// <remarks>
/// <see cref="PriorityQueue{TElement, TPriority}"/> is not stable: two events at the same instant could come out in
/// either order. The scheduling counter in the priority makes every priority distinct, so events at the same
/// instant run first-in first-out and a run is reproducible. No allocation per event (both halves are structs).
/// </remarks>
internal sealed class EventQueue
{
    private readonly PriorityQueue<SimEvent, EventPriority> _heap = new(initialCapacity: 256);
    private long _nextOrder;

    public int Count => _heap.Count;

    public int PeakCount { get; private set; }

    public void Enqueue(long time, in SimEvent item)
    {
        _heap.Enqueue(item, new EventPriority(time, _nextOrder++));
        PeakCount = Math.Max(PeakCount, _heap.Count);
    }

    /// <summary>The time of the earliest event, without removing it; <see langword="false"/> when the queue is empty.</summary>
    public bool TryPeekTime(out long time)
    {
        bool any = _heap.TryPeek(out _, out EventPriority priority);
        time = priority.Time;
        return any;
    }

    public SimEvent Dequeue() => _heap.Dequeue();

    /// <summary>(time, scheduling order), compared in that order; a struct with its own comparison, so the queue's
    /// default-comparer path for value types applies (no comparer object called per comparison).</summary>
    private readonly record struct EventPriority(long Time, long Order) : IComparable<EventPriority>
    {
        public int CompareTo(EventPriority other)
        {
            int byTime = Time.CompareTo(other.Time);
            return byTime != 0 ? byTime : Order.CompareTo(other.Order);
        }
    }
}
