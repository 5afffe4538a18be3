namespace SecureGossip.Receive;

/// <summary>
/// The keys of the messages this node accepted most recently, readable from every read loop: a copy of one of them
/// (the common duplicate: the same line from another neighbour a moment later) is dropped on its link's thread,
/// without a trip through the actor. The actor adds each message it accepts; the set forgets the oldest beyond its
/// capacity, and what it has forgotten still reaches the engine, which decides as before. It holds at most half the
/// ids the engine remembers, so it drops only what the engine would drop (or, for an author the node has forgotten
/// to bound its memory, what secure-gossip 0.3.1, which never forgets an author, would drop).
/// </summary>
/// <remarks>
/// A key is <see cref="Engine.NodeServices.RecentKey"/>: the message's id, or under the v1 seq rule its id, seq and
/// author spelling, since one signature under two seqs or two spellings is two messages to secure-gossip 0.3.1.
/// Only v1 lines are dropped here; a copy in a v2 <c>msg</c> frame still goes to the actor, because the Plumtree
/// core prunes the link it came on.
/// </remarks>
internal sealed class RecentlyAccepted
{
    private readonly Lock _gate = new();
    private readonly HashSet<UInt128> _keys = [];
    private readonly Queue<UInt128> _order = new();
    private readonly int _capacity;

    public RecentlyAccepted(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    /// <summary>How many keys it holds now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _keys.Count;
            }
        }
    }

    public bool Contains(UInt128 key)
    {
        lock (_gate)
        {
            return _keys.Contains(key);
        }
    }

    /// <summary>Adds <paramref name="key"/>, forgetting the oldest key when full (the actor's call).</summary>
    public void Add(UInt128 key)
    {
        lock (_gate)
        {
            if (!_keys.Add(key))
            {
                return;
            }

            _order.Enqueue(key);
            if (_order.Count > _capacity)
            {
                _keys.Remove(_order.Dequeue());
            }
        }
    }
}
