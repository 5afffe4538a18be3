namespace SecureGossip.Protocol.Membership;

/// <summary>
/// The reserve of addresses a node replaces failed neighbours from. An entry is <em>proven</em> once the node has
/// had it as a neighbour: when the view is full, unproven entries go first, so names pushed at a node by newcomers
/// (joins walked to it, shuffles) cannot crowd out the peers it has known to work.
/// </summary>
internal sealed class PassiveView<TPeer>
    where TPeer : notnull
{
    private readonly List<TPeer> _peers = [];
    private readonly Dictionary<TPeer, bool> _proven = [];
    private readonly int _capacity;

    public PassiveView(int capacity) => _capacity = capacity;

    public int Count => _peers.Count;

    public IReadOnlyList<TPeer> Peers => _peers;

    public bool Contains(TPeer peer) => _proven.ContainsKey(peer);

    public bool IsProven(TPeer peer) => _proven.TryGetValue(peer, out bool proven) && proven;

    /// <summary>Adds <paramref name="peer"/> (or marks it proven); when full, first drops one of <paramref name="preferDrop"/>, else a random unproven entry, else a random one.</summary>
    public void Add(TPeer peer, bool proven, Random random, IReadOnlyCollection<TPeer>? preferDrop = null)
    {
        if (_proven.TryGetValue(peer, out bool was))
        {
            _proven[peer] = was || proven;
            return;
        }

        if (_peers.Count >= _capacity && !DropOne(random, preferDrop, proven))
        {
            return; // full of proven peers and this one is not: keep what works
        }

        _peers.Add(peer);
        _proven[peer] = proven;
    }

    public bool Remove(TPeer peer)
    {
        if (!_proven.Remove(peer))
        {
            return false;
        }

        int at = _peers.IndexOf(peer);
        _peers[at] = _peers[^1];
        _peers.RemoveAt(_peers.Count - 1);
        return true;
    }

    /// <summary>A random entry for which <paramref name="usable"/> holds, or false.</summary>
    public bool TryPick(Random random, Func<TPeer, bool> usable, out TPeer peer)
    {
        foreach (TPeer candidate in _peers.FromRandomStart(random))
        {
            if (usable(candidate))
            {
                peer = candidate;
                return true;
            }
        }

        peer = default!;
        return false;
    }

    /// <summary>Up to <paramref name="count"/> distinct random entries other than <paramref name="except"/>.</summary>
    public List<TPeer> Sample(Random random, int count, TPeer? except, IEqualityComparer<TPeer> comparer) =>
        [.. _peers.FromRandomStart(random).Where(p => except is null || !comparer.Equals(p, except)).Take(count)];

    private bool DropOne(Random random, IReadOnlyCollection<TPeer>? preferDrop, bool newIsProven)
    {
        if (preferDrop is not null)
        {
            foreach (TPeer peer in preferDrop)
            {
                if (_proven.TryGetValue(peer, out bool proven) && !proven)
                {
                    Remove(peer);
                    return true;
                }
            }
        }

        if (TryPick(random, p => !_proven[p], out TPeer unproven))
        {
            Remove(unproven);
            return true;
        }

        if (newIsProven)
        {
            Remove(_peers[random.Next(_peers.Count)]);
            return true;
        }

        return false;
    }
}
