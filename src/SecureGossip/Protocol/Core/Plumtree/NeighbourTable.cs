namespace SecureGossip.Protocol.Core;

/// <summary>
/// One node's neighbours as dense slots: which links are up, what each may cost (its <see cref="NeighbourBudget"/>,
/// docs/PROTOCOL.md §16a), and the authors that only neighbours' unsigned frames made the core keep. A neighbour keeps
/// its slot for the node's life (a link that comes back gets the same one), so sets of links stay small bit sets;
/// what a neighbour may cost starts afresh with each link session.
/// </summary>
internal sealed class NeighbourTable(PlumtreeOptions options)
{
    private readonly Dictionary<int, int> _slotOf = [];
    private readonly List<int> _neighbourOf = [];
    private readonly List<bool> _up = [];
    private readonly List<NeighbourBudget> _budgets = [];
    private readonly Dictionary<int, int> _introducedBy = [];

    /// <summary>Slots handed out so far (up or not).</summary>
    public int Count => _neighbourOf.Count;

    /// <summary>Frames ignored whole: control frames naming an author past the neighbour's share, <c>msg</c> frames of unknown messages.</summary>
    public long FramesIgnored { get; private set; }

    /// <summary>Reports made through <see cref="IGossipContext.Misbehaved"/>.</summary>
    public long Reported { get; private set; }

    /// <summary>Authors kept only because a neighbour's unsigned frames named them.</summary>
    public int IntroducedAuthors => _introducedBy.Count;

    /// <summary>Answers queued for response budget, over all neighbours.</summary>
    public int DeferredResponses => _budgets.Sum(b => b.Deferred.Count);

    /// <summary>The neighbour's slot, handed out on first sight.</summary>
    public int SlotOf(int neighbour)
    {
        if (!_slotOf.TryGetValue(neighbour, out int slot))
        {
            slot = _neighbourOf.Count;
            _slotOf[neighbour] = slot;
            _neighbourOf.Add(neighbour);
            _up.Add(false);
            _budgets.Add(new NeighbourBudget(options));
        }

        return slot;
    }

    /// <summary>Counts a frame ignored whole.</summary>
    public void Ignore() => FramesIgnored++;

    public bool TryGetSlot(int neighbour, out int slot) => _slotOf.TryGetValue(neighbour, out slot);

    public bool IsUp(int slot) => _up[slot];

    public void SetUp(int slot, bool up) => _up[slot] = up;

    /// <summary>The budget of the slot's current link session (replaced when the link goes down).</summary>
    public NeighbourBudget Budget(int slot) => _budgets[slot];

    /// <summary>The slot whose current session <paramref name="budget"/> is, or -1 if that session has ended.</summary>
    public int SlotOfBudget(NeighbourBudget budget) => _budgets.IndexOf(budget);

    public void Send(IGossipContext context, int slot, IGossipFrame frame) => context.Send(_neighbourOf[slot], frame);

    /// <summary>
    /// Whether an unsigned frame of <paramref name="slot"/>'s naming <paramref name="author"/> may make the core keep
    /// state for it: always for authors of verified messages (<paramref name="verified"/>); otherwise within the
    /// neighbour's share of new authors, which are forgotten with its link unless a verified message of theirs
    /// arrives meanwhile.
    /// </summary>
    public bool Introduce(int slot, int author, bool verified)
    {
        NeighbourBudget budget = _budgets[slot];
        if (verified || budget.Introduced?.Contains(author) == true)
        {
            return true;
        }

        if ((budget.Introduced ??= []).Count >= options.MaxAuthorsPerNeighbour)
        {
            Ignore();
            return false;
        }

        budget.Introduced.Add(author);
        _introducedBy[author] = _introducedBy.GetValueOrDefault(author) + 1;
        return true;
    }

    public bool IsIntroduced(int author) => _introducedBy.ContainsKey(author);

    /// <summary>
    /// Ends the slot's link session: its budgets and deferred answers go, and so do its introductions. Returns the
    /// authors no neighbour introduces any more (null: none), for the caller to forget unless a verified message of
    /// theirs arrived meanwhile.
    /// </summary>
    public List<int>? EndSession(int slot)
    {
        List<int>? released = null;
        foreach (int author in _budgets[slot].Introduced ?? [])
        {
            if (--_introducedBy[author] == 0)
            {
                _introducedBy.Remove(author);
                (released ??= []).Add(author);
            }
        }

        _budgets[slot] = new NeighbourBudget(options);
        return released;
    }

    /// <summary>Reports a neighbour that asked <see cref="PlumtreeOptions.MisbehaviourFactor"/> times a budget within its window.</summary>
    public void CheckBudget(IGossipContext context, int slot, TokenBucket bucket, string reason)
    {
        if (bucket.AskedInWindow >= options.MisbehaviourFactor * bucket.Rate)
        {
            Report(context, slot, reason);
        }
    }

    /// <summary>Reports the neighbour through <see cref="IGossipContext.Misbehaved"/>, once per reason and link session.</summary>
    public void Report(IGossipContext context, int slot, string reason)
    {
        NeighbourBudget budget = _budgets[slot];
        if ((budget.Reported ??= []).Add(reason))
        {
            Reported++;
            context.Misbehaved(_neighbourOf[slot], reason);
        }
    }
}
