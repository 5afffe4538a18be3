namespace SecureGossip.Protocol.Membership;

/// <summary>What one <see cref="HyParView{TPeer}"/> did, counted since it was created. Read on the driver's loop.</summary>
public sealed class HyParViewCounters
{
    /// <summary>Joins sent to a bootstrap contact.</summary>
    public long JoinsSent { get; internal set; }

    /// <summary>Joins taken as a contact.</summary>
    public long JoinsAccepted { get; internal set; }

    /// <summary>Neighbour requests made (to fill the active view, or at the end of a join's walk).</summary>
    public long NeighbourRequests { get; internal set; }

    /// <summary>Low-priority neighbour requests refused for want of room.</summary>
    public long RequestsRefused { get; internal set; }

    /// <summary>Neighbours dropped to make room for another.</summary>
    public long NeighboursEvicted { get; internal set; }

    /// <summary>Neighbours that dropped this node (it keeps them in reserve).</summary>
    public long NeighboursDropped { get; internal set; }

    /// <summary>Neighbour links that went down (failed or cut).</summary>
    public long NeighboursFailed { get; internal set; }

    /// <summary>Dials that failed.</summary>
    public long DialsFailed { get; internal set; }

    /// <summary>Shuffles started.</summary>
    public long ShufflesSent { get; internal set; }

    /// <summary>Shuffles answered (this node was the end of the walk).</summary>
    public long ShufflesAnswered { get; internal set; }
}
