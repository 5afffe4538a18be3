using SecureGossip.Protocol.Membership;

namespace SecureGossip.Simulation;

/// <summary>
/// One run of <see cref="OverlaySimulation"/>: nodes that know only a bootstrap node build their overlay with HyParView
/// (the shipped <see cref="HyParView{TPeer}"/>), then some fail at once or churn, and messages are disseminated over
/// the active views, by flooding them or by protocol v2 (the shipped Plumtree core).
/// </summary>
public sealed record OverlaySimulationOptions
{
    /// <summary>The most nodes a run takes.</summary>
    public const int MaxNodes = 100_000;

    /// <summary>Nodes at the start (node 0 is the bootstrap node; the others join through it one after another).</summary>
    public int Nodes { get; init; } = 1000;

    /// <summary>Seed of every random choice.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Shortest one-way latency of a link (each pair of nodes has its own, uniform in [min, max]).</summary>
    public TimeSpan MinLatency { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Longest one-way latency of a link.</summary>
    public TimeSpan MaxLatency { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Time between two nodes' joins (5 ms: 1,000 nodes join within 5 s).</summary>
    public TimeSpan JoinSpacing { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>How long the overlay runs after the last join before failures start (30 s: three shuffles).</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Fraction of the nodes (not the bootstrap node) that fail at once when the settle time is over, in [0, 1).</summary>
    public double Kill { get; init; }

    /// <summary>
    /// Fraction of the live nodes that leave (fail) every second during <see cref="ChurnDuration"/>, each replaced
    /// by a new node that joins through a random live node; in [0, 1).
    /// </summary>
    public double Churn { get; init; }

    /// <summary>How long churn goes on, from the end of the settle time (30 s).</summary>
    public TimeSpan ChurnDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Messages published, each by a random live node, one every <see cref="MessageInterval"/> from the end of the settle time.</summary>
    public int Messages { get; init; } = 100;

    /// <summary>Time between two messages (100 ms).</summary>
    public TimeSpan MessageInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary><c>flood</c> (every node forwards a message's first copy on all its active links) or <c>v2</c> (protocol v2's Plumtree core over the active views).</summary>
    public string Dissemination { get; init; } = "flood";

    /// <summary>HyParView's options for every node.</summary>
    public HyParViewOptions Membership { get; init; } = new();

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Nodes, 2, nameof(Nodes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Nodes, MaxNodes, nameof(Nodes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MinLatency, TimeSpan.Zero, nameof(MinLatency));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxLatency, MinLatency, nameof(MaxLatency));
        ArgumentOutOfRangeException.ThrowIfLessThan(JoinSpacing, TimeSpan.Zero, nameof(JoinSpacing));
        ArgumentOutOfRangeException.ThrowIfLessThan(Settle, TimeSpan.Zero, nameof(Settle));
        if (Kill is < 0 or >= 1 || double.IsNaN(Kill))
        {
            throw new ArgumentOutOfRangeException(nameof(Kill), Kill, "The fraction killed must be in [0, 1).");
        }

        if (Churn is < 0 or >= 1 || double.IsNaN(Churn))
        {
            throw new ArgumentOutOfRangeException(nameof(Churn), Churn, "The churn fraction must be in [0, 1).");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(ChurnDuration, TimeSpan.Zero, nameof(ChurnDuration));
        ArgumentOutOfRangeException.ThrowIfNegative(Messages, nameof(Messages));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MessageInterval, TimeSpan.Zero, nameof(MessageInterval));
        if (Dissemination is not ("flood" or "v2"))
        {
            throw new ArgumentException($"Dissemination must be 'flood' or 'v2', got '{Dissemination}'.", nameof(Dissemination));
        }

        ArgumentNullException.ThrowIfNull(Membership);
        Membership.Validate();
    }
}
