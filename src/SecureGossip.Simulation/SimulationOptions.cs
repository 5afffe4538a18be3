using SecureGossip.Engine;
using SecureGossip.Protocol.Flood;
using SecureGossip.Protocol.Core;
namespace SecureGossip.Simulation;

/// <summary>
/// One simulated run: the network, the link model, node failures, the publishing schedule and when to stop.
/// Every default is the CLI's default.
/// </summary>
public sealed class SimulationOptions
{
    /// <summary>The network (required); build it with <see cref="Simulation.Topology.Create"/>.</summary>
    public required Topology Topology { get; init; }

    /// <summary>How many messages are published (default 1).</summary>
    public int Messages { get; init; } = 1;

    /// <summary>The seed of every random choice: timer phases, latencies, losses, failures, publishers (default 1).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>
    /// The protocol's name in the report (default <c>v1</c>); when <see cref="Protocol"/> is not set, also the
    /// <see cref="ProtocolRegistry"/> entry that makes each node's state.
    /// </summary>
    public string ProtocolName { get; init; } = "v1";

    /// <summary>
    /// Makes the protocol state of node <c>i</c> (default <see langword="null"/>: the registered protocol named
    /// <see cref="ProtocolName"/>, so <see cref="V1FloodProtocol"/> with 100 ms rounds unless told otherwise).
    /// </summary>
    public Func<int, IGossipProtocol>? Protocol { get; init; }

    /// <summary>
    /// The round or tick interval handed to a registered protocol as <see cref="ProtocolSetup.Interval"/> (default
    /// <see langword="null"/>: the protocol's own default, 100 ms for <c>v1</c>). Ignored when <see cref="Protocol"/> is set.
    /// </summary>
    public TimeSpan? ProtocolInterval { get; init; }

    /// <summary>Shortest one-way latency of a frame (default 10 ms).</summary>
    public TimeSpan MinLatency { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Longest one-way latency of a frame (default 50 ms). Each frame's latency is uniform in
    /// [<see cref="MinLatency"/>, <see cref="MaxLatency"/>], but links are FIFO like the TCP streams they stand
    /// for: a frame never overtakes an earlier one on the same link (it arrives no earlier than that one), unless
    /// <see cref="Reorder"/>.
    /// </summary>
    public TimeSpan MaxLatency { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Non-FIFO links (default <see langword="false"/>): each frame's latency is drawn independently and it
    /// arrives at send time + latency, so a later frame may overtake an earlier one on the same link.
    /// </summary>
    public bool Reorder { get; init; }

    /// <summary>Probability that a frame is lost, independently per frame (default 0).</summary>
    public double Loss { get; init; }

    /// <summary>
    /// Fraction of nodes that fail (default 0): ⌊fraction × candidates⌋ nodes drawn uniformly from the candidates
    /// (every node, or every node not listed in <see cref="Publishers"/>), failing at <see cref="KillTime"/>.
    /// Random publishers are then drawn from the survivors, so a publisher never fails. A failed node neither
    /// sends nor receives.
    /// </summary>
    public double KillFraction { get; init; }

    /// <summary>
    /// When the failed nodes fail (default 0: dead from the start, their links never come up). Later, their
    /// neighbours get <see cref="IGossipProtocol.NeighbourDown"/> at that instant; frames already in flight from
    /// them still arrive.
    /// </summary>
    public TimeSpan KillTime { get; init; }

    /// <summary>Exactly which nodes fail (overrides <see cref="KillFraction"/>); must not include a publisher.</summary>
    public IReadOnlyList<int>? KilledNodes { get; init; }

    /// <summary>Exactly who publishes: message i comes from <c>Publishers[i % Count]</c> (default: a uniformly random node that does not fail, per message).</summary>
    public IReadOnlyList<int>? Publishers { get; init; }

    /// <summary>
    /// K fixed publishers (default <see langword="null"/>: a random survivor per message): K distinct nodes drawn
    /// uniformly from the nodes that do not fail, after the failures are drawn; message i comes from the
    /// (i mod K)-th of them. Not together with <see cref="Publishers"/>; more than the survivors is an error.
    /// </summary>
    public int? PublisherCount { get; init; }

    /// <summary>
    /// The first W messages (default 0) are a warm-up: they are published, delivered and counted in every
    /// overall metric, but left out of the steady-state ones (<see cref="SimulationResult.RmrSteady"/>,
    /// <see cref="SimulationResult.LdhSteady"/>, <see cref="SimulationResult.TimeTo100Steady"/> and the distance
    /// metrics). Must be less than <see cref="Messages"/>.
    /// </summary>
    public int WarmupMessages { get; init; }

    /// <summary>
    /// When the network splits in two (default <see langword="null"/>: never): every link between the two sides
    /// goes down, both ends get <see cref="IGossipProtocol.NeighbourDown"/> at that instant, frames in flight on
    /// those links are lost and frames sent over them are lost until <see cref="HealTime"/>. 0 means the sides
    /// start apart (those links first come up at the heal). Requires <see cref="HealTime"/>.
    /// </summary>
    public TimeSpan? PartitionTime { get; init; }

    /// <summary>
    /// When the cut links come back (required with <see cref="PartitionTime"/>, and later than it): both ends of
    /// each cut link between live nodes get <see cref="IGossipProtocol.NeighbourUp"/>. The run does not stop
    /// before the heal, and reachability (R(m), <c>delivered_reachable_ratio</c>) is that of the healed graph.
    /// </summary>
    public TimeSpan? HealTime { get; init; }

    /// <summary>
    /// One side of the partition (default <see langword="null"/>: the first ⌊N/2⌋ nodes reached by a
    /// breadth-first search of the whole topology from a node drawn with the seed, so each side is mostly one
    /// contiguous region and the cut is small); the other side is every other node.
    /// </summary>
    public IReadOnlyList<int>? PartitionSide { get; init; }

    /// <summary>Payload bytes of each message (default 100; a v1 line adds about 200 bytes of envelope).</summary>
    public int PayloadBytes { get; init; } = 100;

    /// <summary>When the first message is published (default 1 s, after every node's first round).</summary>
    public TimeSpan PublishStart { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Time between consecutive publishes (default 10 ms: 100 messages are published within 1 s).</summary>
    public TimeSpan PublishSpacing { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// How long to keep running once everything is published and either every message has reached every node it
    /// can reach, or nothing has been sent or delivered (default 1 s, ten v1 rounds: redundant copies still in
    /// the stores are sent and counted).
    /// </summary>
    public TimeSpan QuietTime { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The virtual time at which the run stops whatever happens (default 600 s; at most 24 hours).</summary>
    public TimeSpan MaxTime { get; init; } = TimeSpan.FromSeconds(600);

    /// <summary>The longest <see cref="MaxTime"/> accepted: the event queue holds about 30 hours of virtual time.</summary>
    public static TimeSpan MaxTimeLimit { get; } = TimeSpan.FromHours(24);

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Topology);
        ArgumentNullException.ThrowIfNull(ProtocolName);
        if (Protocol is null && !ProtocolRegistry.IsRegistered(ProtocolName))
        {
            throw new ArgumentException(ProtocolRegistry.UnknownProtocolMessage(ProtocolName), nameof(ProtocolName));
        }

        if (ProtocolInterval is { } interval)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero, nameof(ProtocolInterval));
        }
        int n = Topology.NodeCount;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Messages);
        ArgumentOutOfRangeException.ThrowIfNegative(PayloadBytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(MinLatency, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxLatency, MinLatency);
        ArgumentOutOfRangeException.ThrowIfLessThan(PublishStart, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(PublishSpacing, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(KillTime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(QuietTime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MaxTime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxTime, MaxTimeLimit);
        if (!(Loss >= 0 && Loss < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Loss), Loss, "The loss probability must be in [0, 1).");
        }

        if (!(KillFraction >= 0 && KillFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(KillFraction), KillFraction, "The fraction of failed nodes must be in [0, 1).");
        }

        if (Publishers is { Count: 0 })
        {
            throw new ArgumentException("Publishers must name at least one node, or be null.", nameof(Publishers));
        }

        foreach (int node in (IEnumerable<int>?)Publishers ?? [])
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)node, (uint)n, nameof(Publishers));
        }

        foreach (int node in (IEnumerable<int>?)KilledNodes ?? [])
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)node, (uint)n, nameof(KilledNodes));
            if (Publishers?.Contains(node) == true)
            {
                throw new ArgumentException($"Node {node} both publishes and fails.", nameof(KilledNodes));
            }
        }

        if (KilledNodes is not null && KilledNodes.Distinct().Count() >= n)
        {
            throw new ArgumentException("At least one node must stay alive.", nameof(KilledNodes));
        }

        if (PublisherCount is { } k)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k, nameof(PublisherCount));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(k, n, nameof(PublisherCount));
            if (Publishers is not null)
            {
                throw new ArgumentException("Give either Publishers or PublisherCount, not both.", nameof(PublisherCount));
            }
        }

        ArgumentOutOfRangeException.ThrowIfNegative(WarmupMessages);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(WarmupMessages, Messages, nameof(WarmupMessages));
        ValidatePartition(n);
    }

    private void ValidatePartition(int n)
    {
        if (PartitionTime is null)
        {
            if (HealTime is not null || PartitionSide is not null)
            {
                throw new ArgumentException("HealTime and PartitionSide need a PartitionTime.", nameof(PartitionTime));
            }

            return;
        }

        if (HealTime is not { } heal)
        {
            throw new ArgumentException("A partition needs a HealTime.", nameof(HealTime));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(PartitionTime.Value, TimeSpan.Zero, nameof(PartitionTime));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(heal, PartitionTime.Value, nameof(HealTime));
        if (PartitionSide is { } side)
        {
            foreach (int node in side)
            {
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)node, (uint)n, nameof(PartitionSide));
            }

            int distinct = side.Distinct().Count();
            if (distinct == 0 || distinct == n)
            {
                throw new ArgumentException("PartitionSide must name at least one node and not all of them.", nameof(PartitionSide));
            }
        }
    }
}
