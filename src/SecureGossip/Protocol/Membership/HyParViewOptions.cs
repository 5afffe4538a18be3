namespace SecureGossip.Protocol.Membership;

/// <summary>
/// Sizes, walk lengths and periods of the <see cref="HyParView{TPeer}"/> membership protocol (docs/PROTOCOL.md §19).
/// The defaults are the HyParView paper's (Leitão, Pereira, Rodrigues 2007, §5: active view 5, passive view 30, walks of
/// 6 and 3, shuffles of 3 active and 4 passive entries), which it measured to keep 10,000 nodes connected after 80 %
/// of them failed at once.
/// </summary>
public sealed record HyParViewOptions
{
    /// <summary>
    /// The most neighbours a node links to for dissemination (5): the paper's fanout of 4 plus one, about
    /// log10(N) + 1 for networks up to 10,000 nodes. Each is an open link kept alive.
    /// </summary>
    public int ActiveViewSize { get; init; } = 5;

    /// <summary>
    /// The most addresses kept in reserve to replace failed neighbours (30, six times the active view as in the
    /// paper). Costs one entry of memory each, no link.
    /// </summary>
    public int PassiveViewSize { get; init; } = 30;

    /// <summary>
    /// How far a join is walked before the node at its end takes the newcomer as a neighbour (6, the paper's ARWL):
    /// long enough that a newcomer's neighbours are spread over the network, not clustered around its contact.
    /// </summary>
    public int ActiveRandomWalkLength { get; init; } = 6;

    /// <summary>Where on a join's walk the newcomer is put in a passive view (at 3 steps left, the paper's PRWL).</summary>
    public int PassiveRandomWalkLength { get; init; } = 3;

    /// <summary>
    /// How often a node swaps a sample of its views with a node at the end of a random walk (10 s): the exchange
    /// that keeps passive views fresh and mixed. A shorter period heals faster after mass failures and costs
    /// one walk and one short-lived link per period.
    /// </summary>
    public TimeSpan ShuffleInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Active neighbours named in a shuffle (3, the paper's ka).</summary>
    public int ShuffleActiveCount { get; init; } = 3;

    /// <summary>Passive entries named in a shuffle (4, the paper's kp).</summary>
    public int ShufflePassiveCount { get; init; } = 4;

    /// <summary>
    /// How often a node with fewer than <see cref="ActiveViewSize"/> neighbours tries to fill its view again, and
    /// a node with none and nothing in reserve goes back to its bootstrap addresses (1 s). Failures are repaired at
    /// once; this is the retry when that did not work.
    /// </summary>
    public TimeSpan RepairInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a dial, a neighbour request, or an inbound link that has not said what it wants may take before
    /// the node gives up on it (5 s): a peer that stalls cannot hold a slot.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks every value; throws <see cref="ArgumentOutOfRangeException"/> naming the first bad one.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ActiveViewSize, 1, nameof(ActiveViewSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(PassiveViewSize, 1, nameof(PassiveViewSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(ActiveRandomWalkLength, 1, nameof(ActiveRandomWalkLength));
        ArgumentOutOfRangeException.ThrowIfNegative(PassiveRandomWalkLength, nameof(PassiveRandomWalkLength));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(PassiveRandomWalkLength, ActiveRandomWalkLength, nameof(PassiveRandomWalkLength));
        ArgumentOutOfRangeException.ThrowIfNegative(ShuffleActiveCount, nameof(ShuffleActiveCount));
        ArgumentOutOfRangeException.ThrowIfNegative(ShufflePassiveCount, nameof(ShufflePassiveCount));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ShuffleInterval, TimeSpan.Zero, nameof(ShuffleInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RepairInterval, TimeSpan.Zero, nameof(RepairInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RequestTimeout, TimeSpan.Zero, nameof(RequestTimeout));
    }
}
