namespace SecureGossip.Simulation;

/// <summary>
/// The discrete-event queue: a binary min-heap of <see cref="SimEvent"/> structs ordered by (time, scheduling
/// order). No allocation per event; the array doubles when full.
/// </summary>
internal sealed class EventQueue
{
    private SimEvent[] _heap = new SimEvent[256];
    private int _count;
    private long _nextOrder;

    public int Count => _count;

    public int PeakCount { get; private set; }

    /// <summary>The time of the earliest event; the queue must not be empty.</summary>
    public long PeekTime => _heap[0].Time;

    public void Enqueue(SimEvent item)
    {
        item.Order = _nextOrder++;
        if (_count == _heap.Length)
        {
            Array.Resize(ref _heap, _heap.Length * 2);
        }

        int i = _count++;
        PeakCount = Math.Max(PeakCount, _count);
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Before(item, _heap[parent]))
            {
                break;
            }

            _heap[i] = _heap[parent];
            i = parent;
        }

        _heap[i] = item;
    }

    public SimEvent Dequeue()
    {
        SimEvent top = _heap[0];
        SimEvent last = _heap[--_count];
        _heap[_count] = default;
        if (_count > 0)
        {
            int i = 0;
            while (true)
            {
                int child = (2 * i) + 1;
                if (child >= _count)
                {
                    break;
                }

                if (child + 1 < _count && Before(_heap[child + 1], _heap[child]))
                {
                    child++;
                }

                if (!Before(_heap[child], last))
                {
                    break;
                }

                _heap[i] = _heap[child];
                i = child;
            }

            _heap[i] = last;
        }

        return top;
    }

    private static bool Before(in SimEvent a, in SimEvent b) => a.Time < b.Time || (a.Time == b.Time && a.Order < b.Order);
}
