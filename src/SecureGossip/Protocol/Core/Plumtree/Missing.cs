namespace SecureGossip.Protocol.Core;

/// <summary>A message announced by <c>ihave</c> and not received yet: who announced it, and the grafts sent for it.</summary>
internal sealed class Missing(TimeSpan since)
{
    /// <summary>When it was first announced (it is given up <see cref="PlumtreeOptions.MissingTtl"/> later).</summary>
    public TimeSpan Since { get; } = since;

    /// <summary>Up to four announcers, with the hop count each offered.</summary>
    public List<(int Slot, int Hops)> Announcers { get; } = [];

    // Announcers grafted in the current round, as bits: most announced ids arrive before any graft.
    private SlotBits _tried;

    /// <summary>Whether the announcer in <paramref name="slot"/> was grafted in the current round.</summary>
    public bool WasTried(int slot) => _tried.Contains(slot);

    /// <summary>Marks the announcer in <paramref name="slot"/> grafted in the current round.</summary>
    public void MarkTried(int slot) => _tried.Add(slot);

    /// <summary>A new round: no announcer is marked.</summary>
    public void ClearTried() => _tried.Clear();

    /// <summary>Rounds over all announcers so far (each doubles the wait, up to <see cref="PlumtreeOptions.GraftTimeoutMax"/>).</summary>
    public int Round { get; set; }

    /// <summary>The budget of the neighbour the last graft went to, until it is settled.</summary>
    public NeighbourBudget? GraftedTo { get; set; }
}
