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

    /// <summary>The protocol's name in the report (default <c>v1</c>).</summary>
    public string ProtocolName { get; init; } = "v1";

    /// <summary>Makes the protocol state of node <c>i</c> (default: <see cref="V1FloodProtocol"/> with 100 ms rounds).</summary>
    public Func<int, IGossipProtocol> Protocol { get; init; } = V1FloodProtocol.Factory(V1FloodProtocol.DefaultInterval);

    /// <summary>Shortest one-way latency of a frame (default 10 ms).</summary>
    public TimeSpan MinLatency { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Longest one-way latency of a frame (default 50 ms). Each frame's latency is uniform in
    /// [<see cref="MinLatency"/>, <see cref="MaxLatency"/>], but links are FIFO like the TCP streams they stand
    /// for: a frame never overtakes an earlier one on the same link (it arrives no earlier than that one).
    /// </summary>
    public TimeSpan MaxLatency { get; init; } = TimeSpan.FromMilliseconds(50);

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

    /// <summary>The virtual time at which the run stops whatever happens (default 600 s).</summary>
    public TimeSpan MaxTime { get; init; } = TimeSpan.FromSeconds(600);

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Topology);
        ArgumentNullException.ThrowIfNull(Protocol);
        ArgumentNullException.ThrowIfNull(ProtocolName);
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
    }
}
