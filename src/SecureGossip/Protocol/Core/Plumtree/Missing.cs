namespace SecureGossip.Protocol.Core;

/// <summary>A message announced by <c>ihave</c> and not received yet: who announced it, and the grafts sent for it.</summary>
internal sealed class Missing(TimeSpan since)
{
    /// <summary>When it was first announced (it is given up <see cref="PlumtreeOptions.MissingTtl"/> later).</summary>
    public TimeSpan Since { get; } = since;

    /// <summary>Up to four announcers, with the hop count each offered.</summary>
    public List<(int Slot, int Hops)> Announcers { get; } = [];

    /// <summary>Announcers grafted in the current round.</summary>
    public HashSet<int> Tried { get; } = [];

    /// <summary>Rounds over all announcers so far (each doubles the wait, up to <see cref="PlumtreeOptions.GraftTimeoutMax"/>).</summary>
    public int Round { get; set; }

    /// <summary>The budget of the neighbour the last graft went to, until it is settled.</summary>
    public NeighbourBudget? GraftedTo { get; set; }
}
