using SecureGossip.Protocol.Core;

namespace SecureGossip.Engine;

/// <summary>
/// The ids one node has accepted (bounded: the oldest are forgotten first) and the ids whose first copy is being
/// verified. Owned by whoever drives the <see cref="GossipEngine"/>: one caller at a time.
/// </summary>
/// <remarks>Lent to the Plumtree core as its <see cref="PlumtreeOptions.SeenDigests"/>, so each id is kept once. An id
/// in verification counts as seen there: the core must not graft or want what is already here (docs/PROTOCOL.md §8.4).</remarks>
internal sealed class MessageMemory(int capacity) : IDigestSet
{
    // Made on first use: a node under the v1 seq rule (most of a v1 simulation's thousand nodes) never needs them.
    private HashSet<UInt128>? _seen;
    private Queue<UInt128>? _order;
    private HashSet<UInt128>? _inFlight;

    public int Count => _seen?.Count ?? 0;

    public bool IsSeen(UInt128 digest) => _seen is not null && _seen.Contains(digest);

    public bool IsInFlight(UInt128 digest) => _inFlight is not null && _inFlight.Contains(digest);

    /// <summary>Claims <paramref name="digest"/> for verification; false when another copy holds the claim.</summary>
    public bool Claim(UInt128 digest) => (_inFlight ??= []).Add(digest);

    public void Release(UInt128 digest) => _inFlight?.Remove(digest);

    public void Remember(UInt128 digest)
    {
        if ((_seen ??= []).Add(digest))
        {
            _order ??= new Queue<UInt128>();
            _order.Enqueue(digest);
            if (_order.Count > capacity)
            {
                _seen.Remove(_order.Dequeue());
            }
        }
    }

    bool IDigestSet.Contains(UInt128 digest) => IsSeen(digest) || IsInFlight(digest);

    void IDigestSet.Add(UInt128 digest) => Remember(digest);
}
