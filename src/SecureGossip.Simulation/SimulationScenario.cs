using SecureGossip.Protocol.Core;

namespace SecureGossip.Simulation;

/// <summary>
/// What a run's options and seed fix before it starts: the nodes that survive and the components they form at the
/// end, each message's publisher and id and how many receivers it can reach, and the partition's two sides.
/// Built once, read by the engine and the metrics, written by neither.
/// </summary>
/// <remarks>
/// The draws come from the scenario and partition streams (<see cref="SeedStreams"/>) in the same order whatever
/// the protocol, so a seed names the same failures and publishers under v1 and v2.
/// </remarks>
internal sealed class SimulationScenario
{
    private readonly Dictionary<MessageId, int> _messageIndex;

    public SimulationScenario(SimulationOptions options)
    {
        Topology = options.Topology;
        NodeCount = Topology.NodeCount;
        Messages = options.Messages;
        int n = NodeCount;

        var scenario = new Random(SeedStreams.Derive(options.Seed, SeedStreams.Scenario));
        AliveAtEnd = ChooseSurvivors(options, n, scenario);
        int[] componentSizes = GraphStatistics.Components(Topology, AliveAtEnd, out int[] component);
        Component = component;

        Ids = new MessageId[Messages];
        _messageIndex = new Dictionary<MessageId, int>(Messages);
        Publisher = new int[Messages];
        Reachable = new int[Messages];
        IReadOnlyList<int>? fixedPublishers = options.Publishers
            ?? (options.PublisherCount is { } k ? ChoosePublishers(k, scenario) : null);
        var nextSequence = new Dictionary<int, long>();
        for (int m = 0; m < Messages; m++)
        {
            int author = fixedPublishers is { } publishers ? publishers[m % publishers.Count] : RandomSurvivor(scenario);
            long sequence = nextSequence.GetValueOrDefault(author);
            nextSequence[author] = sequence + 1;
            Publisher[m] = author;
            Ids[m] = SimulationEngine.SimulatedId(author, sequence);
            _messageIndex.Add(Ids[m], m);
            Reachable[m] = componentSizes[Component[author]] - 1;
        }

        if (options.PartitionTime is { } partitionTime)
        {
            PartitionTime = partitionTime.Ticks;
            HealTime = options.HealTime!.Value.Ticks;
            if (options.PartitionSide is { } side)
            {
                Side = new bool[n];
                foreach (int v in side)
                {
                    Side[v] = true;
                }
            }
            else
            {
                var random = new Random(SeedStreams.Derive(options.Seed, SeedStreams.Partition));
                Side = GraphStatistics.GrowHalf(Topology, random.Next(n));
            }
        }
    }

    public Topology Topology { get; }

    public int NodeCount { get; }

    public int Messages { get; }

    /// <summary>Per node: alive when the run ends (the nodes killed at <see cref="SimulationOptions.KillTime"/> are not).</summary>
    public bool[] AliveAtEnd { get; }

    /// <summary>Per node: its component in the live graph at the end.</summary>
    public int[] Component { get; }

    /// <summary>Per message: the node that publishes it.</summary>
    public int[] Publisher { get; }

    /// <summary>Per message: its id, (publisher, that publisher's sequence number from 0).</summary>
    public MessageId[] Ids { get; }

    /// <summary>Per message: R(m), the live nodes at the end in its publisher's component, less the publisher.</summary>
    public int[] Reachable { get; }

    /// <summary>Per node: its side of the partition; <see langword="null"/> when there is none.</summary>
    public bool[]? Side { get; }

    /// <summary>When the partition happens, in ticks; -1: never.</summary>
    public long PartitionTime { get; } = -1;

    /// <summary>When the partition heals, in ticks; -1: never.</summary>
    public long HealTime { get; } = -1;

    /// <summary>The index of the message with id <paramref name="message"/>, if it is one of the run's.</summary>
    public bool TryGetIndex(MessageId message, out int index) => _messageIndex.TryGetValue(message, out index);

    /// <summary>
    /// Nodes that stay alive: all but the explicitly killed ones, or all but ⌊fraction × candidates⌋ drawn
    /// uniformly from the candidates (the nodes not named as publishers).
    /// </summary>
    private static bool[] ChooseSurvivors(SimulationOptions options, int n, Random scenario)
    {
        var alive = new bool[n];
        Array.Fill(alive, true);
        if (options.KilledNodes is { } killed)
        {
            foreach (int v in killed)
            {
                alive[v] = false;
            }

            return alive;
        }

        int[] candidates = [.. Enumerable.Range(0, n).Where(v => options.Publishers?.Contains(v) != true)];
        int count = (int)Math.Floor(options.KillFraction * candidates.Length);
        for (int i = 0; i < count; i++)
        {
            int j = scenario.Next(i, candidates.Length);
            (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
            alive[candidates[i]] = false;
        }

        return alive;
    }

    /// <summary>K distinct survivors, uniformly (a partial shuffle of the survivors with the scenario stream).</summary>
    private int[] ChoosePublishers(int k, Random scenario)
    {
        int[] live = [.. Enumerable.Range(0, NodeCount).Where(v => AliveAtEnd[v])];
        if (k > live.Length)
        {
            throw new ArgumentException($"{k} publishers asked for, but only {live.Length} nodes survive.", nameof(SimulationOptions.PublisherCount));
        }

        for (int i = 0; i < k; i++)
        {
            int j = scenario.Next(i, live.Length);
            (live[i], live[j]) = (live[j], live[i]);
        }

        return live[..k];
    }

    private int RandomSurvivor(Random scenario)
    {
        int v;
        do
        {
            v = scenario.Next(NodeCount);
        }
        while (!AliveAtEnd[v]);
        return v;
    }
}
