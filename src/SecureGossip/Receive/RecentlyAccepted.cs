using System.Numerics;

namespace SecureGossip.Receive;

/// <summary>
/// The keys of the messages this node accepted most recently, readable from every read loop without a lock: a copy of
/// one of them (the common duplicate: the same line from another neighbour a moment later) is dropped on its link's
/// thread, without a trip through the actor. The actor adds each message it accepts. What is not found here still
/// reaches the engine, which decides as before; and a key counts only while it is among the last
/// <c>capacity</c> accepted, at most half the ids the engine remembers, so this drops only what the engine would
/// drop (or, for an author the node has forgotten to bound its memory, what secure-gossip 0.3.1, which never forgets
/// an author, would drop).
/// </summary>
/// <remarks>
/// <para>A key is <see cref="Engine.NodeServices.RecentKey"/>: the message's id, or under the v1 seq rule its id, seq
/// and author spelling, since one signature under two seqs or two spellings is two messages to secure-gossip 0.3.1.
/// Only v1 lines are dropped here; a copy in a v2 <c>msg</c> frame still goes to the actor, because the Plumtree core
/// prunes the link it came on.</para>
/// <para>A direct-mapped table: each key has one slot (by its low bits: ids are hashes or signatures, evenly spread),
/// and a later key in the same slot replaces it, which only sends that message's copies the long way. A slot holds an
/// immutable entry, so a reader sees a whole key or none.</para>
/// </remarks>
internal sealed class RecentlyAccepted
{
    private readonly Entry?[] _slots;
    private readonly int _capacity;
    private long _added; // written by the actor alone

    public RecentlyAccepted(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _slots = new Entry?[(int)BitOperations.RoundUpToPowerOf2((uint)capacity)];
    }

    public bool Contains(UInt128 key)
    {
        Entry? entry = Volatile.Read(ref _slots[SlotOf(key)]);
        return entry is not null && entry.Key == key && Volatile.Read(ref _added) - entry.Number < _capacity;
    }

    /// <summary>Adds <paramref name="key"/> as the latest accepted (one caller at a time: the actor).</summary>
    public void Add(UInt128 key)
    {
        long number = _added + 1;
        Volatile.Write(ref _slots[SlotOf(key)], new Entry(key, number));
        Volatile.Write(ref _added, number);
    }

    private int SlotOf(UInt128 key) => (int)((ulong)key & (ulong)(_slots.Length - 1));

    private sealed record Entry(UInt128 Key, long Number);
}
