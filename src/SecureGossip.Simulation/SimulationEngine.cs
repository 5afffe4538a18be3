using SecureGossip.Engine;
using SecureGossip.Protocol.Flood;
using System.Diagnostics;
using System.Numerics;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Simulation;

/// <summary>
/// One run: the nodes' protocol states, the links and the event queue on a virtual clock, and the context each
/// protocol call acts through (one object, re-aimed at the current node before each call).
/// </summary>
/// <remarks>
/// Per node it keeps one protocol object and a few array slots; per directed link, one <see cref="long"/>; per
/// message, a few counters and a bit per node.
/// </remarks>
internal sealed class SimulationEngine : IGossipContext
{
    private readonly SimulationOptions _options;
    private readonly Topology _topology;
    private readonly int _n;
    private readonly IGossipProtocol?[] _nodes;
    private readonly bool[] _alive;
    private readonly bool[] _aliveAtEnd;
    private readonly int[] _component;
    private readonly long[] _linkBusyUntil;
    private readonly EventQueue _queue = new();
    private readonly Random _linkRandom;
    private readonly Random _protocolRandom;
    private readonly long _minLatency;
    private readonly long _latencySpan;

    private readonly int _messages;
    private readonly MessageId[] _ids;
    private readonly Dictionary<MessageId, int> _messageIndex;
    private readonly int[] _publisher;
    private readonly long[] _publishedAt;
    private readonly int[] _reachable;
    private readonly int[] _reached;
    private readonly int[] _lastHop;
    private readonly long[] _timeTo99;
    private readonly long[] _timeTo100;
    private readonly long[] _payloadSends;
    private readonly long[] _hopSum;
    private readonly ulong[][] _delivered;
    private readonly List<long> _deliveryTimes = [];

    private readonly bool[]? _side; // the partition's side of each node (null: no partition)
    private readonly long _partitionTime = -1;
    private readonly long _healTime = -1;

    private int _self;
    private long _now;
    private long _events;
    private long _framesSent;
    private long _payloadsSent;
    private long _bytesSent;
    private long _framesLost;
    private long _verifies;
    private long _deliveries;
    private long _duplicateDeliveries;
    private long _payloadsUnattributed;
    private bool _cut; // the links between the two sides are down
    private bool _partitioned; // the partition has happened (frames sent before it and arriving after are lost)
    private int _published;
    private int _complete;
    private long _completeAt = -1;
    private long _lastActivity;
    private string _stopReason = "queue_empty";

    public SimulationEngine(SimulationOptions options)
    {
        _options = options;
        _topology = options.Topology;
        _n = _topology.NodeCount;
        _messages = options.Messages;
        _linkRandom = new Random(SeedStreams.Derive(options.Seed, SeedStreams.Links));
        _protocolRandom = new Random(SeedStreams.Derive(options.Seed, SeedStreams.Protocol));
        _minLatency = options.MinLatency.Ticks;
        _latencySpan = options.MaxLatency.Ticks - options.MinLatency.Ticks;
        _linkBusyUntil = new long[_topology.EdgeCount * 2];

        var scenario = new Random(SeedStreams.Derive(options.Seed, SeedStreams.Scenario));
        _aliveAtEnd = ChooseSurvivors(options, _n, scenario);
        _alive = options.KillTime == TimeSpan.Zero ? (bool[])_aliveAtEnd.Clone() : Enumerable.Repeat(true, _n).ToArray();
        int[] componentSizes = GraphStatistics.Components(_topology, _aliveAtEnd, out _component);

        _ids = new MessageId[_messages];
        _messageIndex = new Dictionary<MessageId, int>(_messages);
        _publisher = new int[_messages];
        _publishedAt = new long[_messages];
        _reachable = new int[_messages];
        _reached = new int[_messages];
        _lastHop = new int[_messages];
        _timeTo99 = new long[_messages];
        _timeTo100 = new long[_messages];
        _payloadSends = new long[_messages];
        _hopSum = new long[_messages];
        _delivered = new ulong[_messages][];
        Array.Fill(_publishedAt, -1);
        Array.Fill(_timeTo99, -1);
        Array.Fill(_timeTo100, -1);
        IReadOnlyList<int>? fixedPublishers = options.Publishers
            ?? (options.PublisherCount is { } k ? ChoosePublishers(k, scenario) : null);
        var nextSequence = new Dictionary<int, long>();
        for (int m = 0; m < _messages; m++)
        {
            int author = fixedPublishers is { } publishers ? publishers[m % publishers.Count] : RandomSurvivor(scenario);
            long sequence = nextSequence.GetValueOrDefault(author);
            nextSequence[author] = sequence + 1;
            _publisher[m] = author;
            _ids[m] = SimulatedId(author, sequence);
            _messageIndex.Add(_ids[m], m);
            _reachable[m] = componentSizes[_component[author]] - 1;
            _delivered[m] = new ulong[(_n + 63) / 64];
        }

        if (options.PartitionTime is { } partitionTime)
        {
            _partitionTime = partitionTime.Ticks;
            _healTime = options.HealTime!.Value.Ticks;
            if (options.PartitionSide is { } side)
            {
                _side = new bool[_n];
                foreach (int v in side)
                {
                    _side[v] = true;
                }
            }
            else
            {
                var random = new Random(SeedStreams.Derive(options.Seed, SeedStreams.Partition));
                _side = GraphStatistics.GrowHalf(_topology, random.Next(_n));
            }

            _cut = _partitioned = _partitionTime == 0; // apart from the start
        }

        _nodes = new IGossipProtocol?[_n];
        Func<ProtocolSetup, IGossipProtocol>? registered = options.Protocol is null ? ProtocolRegistry.Factory(options.ProtocolName) : null;
        var setupRandom = new Random(SeedStreams.Derive(options.Seed, SeedStreams.Setup));
        for (int v = 0; v < _n; v++)
        {
            if (_alive[v])
            {
                IGossipProtocol? node = options.Protocol is { } factory
                    ? factory(v)
                    : registered!(new ProtocolSetup
                    {
                        Node = v,
                        NodeCount = _n,
                        Topology = _topology,
                        Seed = options.Seed,
                        Interval = options.ProtocolInterval,
                        Random = setupRandom,
                    });
                _nodes[v] = node ?? throw new InvalidOperationException($"The protocol factory returned null for node {v}.");
            }
        }
    }

    public int Self => _self;

    public TimeSpan Now => TimeSpan.FromTicks(_now);

    public Random Random => _protocolRandom;

    public void Run()
    {
        Schedule();
        long maxTime = _options.MaxTime.Ticks;
        long quiet = _options.QuietTime.Ticks;
        while (_queue.Count > 0)
        {
            long time = _queue.PeekTime;
            if (time > maxTime)
            {
                _stopReason = "max_time";
                break;
            }

            if (_published == _messages && (_healTime < 0 || time > _healTime))
            {
                if (_complete == _messages && time > _completeAt + quiet)
                {
                    _stopReason = "delivered";
                    break;
                }

                if (time > _lastActivity + quiet)
                {
                    _stopReason = "quiet";
                    break;
                }
            }

            SimEvent item = _queue.Dequeue();
            _now = time;
            _events++;
            Dispatch(in item);
        }
    }

    public void Send(int neighbour, IGossipFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        int link = _topology.LinkIndex(_self, neighbour);
        if (link < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(neighbour), neighbour, $"Node {neighbour} is not a neighbour of node {_self}.");
        }

        _framesSent++;
        int payloads = frame.PayloadCount;
        _payloadsSent += payloads;
        if (payloads != 0)
        {
            Attribute(frame, payloads);
        }

        _bytesSent += frame.SizeBytes;
        _lastActivity = _now;
        if (_cut && _side![_self] != _side[neighbour])
        {
            _framesLost++; // the link is down
            return;
        }

        if (_options.Loss > 0 && _linkRandom.NextDouble() < _options.Loss)
        {
            _framesLost++;
            return;
        }

        long arrival = _now + _minLatency + (_latencySpan > 0 ? (long)(_linkRandom.NextDouble() * _latencySpan) : 0);
        if (!_options.Reorder)
        {
            arrival = Math.Max(arrival, _linkBusyUntil[link]); // FIFO link: no overtaking
            _linkBusyUntil[link] = arrival;
        }

        _queue.Enqueue(new SimEvent { Time = arrival, Kind = EventKind.Frame, Node = neighbour, Other = _self, Frame = frame, TimerId = _now });
    }

    public void SetTimer(TimeSpan delay, long timerId)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        long time = delay.Ticks > long.MaxValue - _now ? long.MaxValue : _now + delay.Ticks;
        _queue.Enqueue(new SimEvent { Time = time, Kind = EventKind.Timer, Node = _self, TimerId = timerId });
    }

    public void Deliver(MessageId message, int hops)
    {
        if (!_messageIndex.TryGetValue(message, out int m) || _publishedAt[m] < 0)
        {
            throw new InvalidOperationException($"Node {_self} delivered {message}, which was never published.");
        }

        ulong[] bits = _delivered[m];
        ulong mask = 1UL << (_self & 63);
        if ((bits[_self >> 6] & mask) != 0)
        {
            _duplicateDeliveries++;
            return;
        }

        bits[_self >> 6] |= mask;
        _deliveries++;
        _lastActivity = _now;
        int author = _publisher[m];
        if (_self == author || !_aliveAtEnd[_self] || _component[_self] != _component[author])
        {
            return; // counted as a delivery, but not towards reaching the nodes that should have it
        }

        _lastHop[m] = Math.Max(_lastHop[m], hops);
        _hopSum[m] += hops;
        _deliveryTimes.Add(_now);
        int reached = ++_reached[m];
        if (reached == Threshold99(_reachable[m]))
        {
            _timeTo99[m] = _now - _publishedAt[m];
        }

        if (reached == _reachable[m])
        {
            Complete(m);
        }
    }

    public void CountVerify() => _verifies++;

    /// <summary>The metrics of the finished run.</summary>
    public SimulationResult Result(TimeSpan wallTime, long peakMemoryBytes, long memoryPerNodeBytes)
    {
        int liveCount = _aliveAtEnd.Count(a => a);
        var aliveBits = new ulong[(_n + 63) / 64];
        for (int v = 0; v < _n; v++)
        {
            if (_aliveAtEnd[v])
            {
                aliveBits[v >> 6] |= 1UL << (v & 63);
            }
        }

        long deliveredLive = 0, reachable = 0, reached = 0, lastHops = 0;
        for (int m = 0; m < _messages; m++)
        {
            ulong[] bits = _delivered[m];
            for (int w = 0; w < bits.Length; w++)
            {
                deliveredLive += BitOperations.PopCount(bits[w] & aliveBits[w]);
            }

            int author = _publisher[m];
            deliveredLive -= (int)((bits[author >> 6] >> (author & 63)) & 1);
            reachable += _reachable[m];
            reached += _reached[m];
            lastHops += _lastHop[m];
        }

        MessageMetrics[] perMessage = PerMessage();
        double? meanShortestPath = GraphStatistics.MeanShortestPath(_topology, _aliveAtEnd, SeedStreams.Derive(_options.Seed, SeedStreams.Sampling));

        // Steady state: the messages after the warm-up. Each mean is over the messages where it is defined.
        int warmup = _options.WarmupMessages;
        long steadySends = 0, steadyReachable = 0, steadyLastHops = 0, eccentricities = 0;
        double distances = 0, hops = 0;
        int withDistance = 0, withHop = 0;
        for (int m = warmup; m < _messages; m++)
        {
            MessageMetrics message = perMessage[m];
            steadySends += message.PayloadsSent;
            steadyReachable += message.Reachable;
            steadyLastHops += message.LastHop;
            eccentricities += message.PublisherEccentricity;
            if (message.PublisherMeanDistance is { } distance)
            {
                distances += distance;
                withDistance++;
            }

            if (message.MeanHop is { } hop)
            {
                hops += hop;
                withHop++;
            }
        }

        int steady = _messages - warmup;
        double ldhSteady = (double)steadyLastHops / steady;
        double meanEccentricity = (double)eccentricities / steady;
        double? meanDistance = withDistance > 0 ? distances / withDistance : null;
        double? meanHop = withHop > 0 ? hops / withHop : null;

        return new SimulationResult
        {
            Nodes = _n,
            Topology = _topology.Name,
            Protocol = _options.ProtocolName,
            Messages = _messages,
            DeliveredRatio = liveCount > 1 ? deliveredLive / ((liveCount - 1.0) * _messages) : null,
            DeliveredReachableRatio = reachable > 0 ? (double)reached / reachable : null,
            Rmr = reachable > 0 ? ((double)_payloadsSent / reachable) - 1 : null,
            Ldh = (double)lastHops / _messages,
            TimeTo99 = Mean(_timeTo99),
            TimeTo100 = Mean(_timeTo100),
            TimeTo100Max = _timeTo100.Contains(-1) ? null : TimeSpan.FromTicks(_timeTo100.Max()),
            VerifiesPerUnique = _deliveries > 0 ? (double)_verifies / _deliveries : null,
            WallTime = wallTime,
            PeakMemoryBytes = peakMemoryBytes,
            MemoryPerNodeBytes = memoryPerNodeBytes,
            Seed = _options.Seed,
            MinLatency = _options.MinLatency,
            MaxLatency = _options.MaxLatency,
            Loss = _options.Loss,
            KillFraction = _options.KilledNodes is null ? _options.KillFraction : (double)(_n - liveCount) / _n,
            KillTime = _options.KillTime,
            Events = _events,
            MeanShortestPath = meanShortestPath,
            LiveNodes = liveCount,
            MessagesFullyDelivered = _complete,
            Deliveries = _deliveries,
            DuplicateDeliveries = _duplicateDeliveries,
            Verifies = _verifies,
            FramesSent = _framesSent,
            PayloadsSent = _payloadsSent,
            BytesSent = _bytesSent,
            FramesLost = _framesLost,
            PeakQueuedEvents = _queue.PeakCount,
            VirtualTime = TimeSpan.FromTicks(_now),
            StopReason = _stopReason,
            DeliveryCurve = Curve(reachable),
            Reorder = _options.Reorder,
            PartitionTime = _options.PartitionTime,
            HealTime = _options.HealTime,
            Warmup = warmup,
            DistinctPublishers = _publisher.Distinct().Count(),
            PayloadsUnattributed = _payloadsUnattributed,
            RmrSteady = _payloadsUnattributed == 0 && steadyReachable > 0 ? ((double)steadySends / steadyReachable) - 1 : null,
            LdhSteady = ldhSteady,
            TimeTo100Steady = Mean(_timeTo100[warmup..]),
            MeanPublisherEccentricity = meanEccentricity,
            MeanPublisherDistance = meanDistance,
            MeanDeliveryHop = meanHop,
            LdhOverEccentricity = meanEccentricity > 0 ? ldhSteady / meanEccentricity : null,
            MeanHopOverDistance = meanHop is { } h && meanDistance is { } d && d > 0 ? h / d : null,
            LdhOverMeanShortestPath = meanShortestPath is { } path && path > 0 ? ldhSteady / path : null,
            PerMessage = perMessage,
        };
    }

    /// <summary>
    /// Each message's counters, with its publisher's eccentricity and mean distance in the live graph at the end
    /// (one breadth-first search per distinct publisher).
    /// </summary>
    private MessageMetrics[] PerMessage()
    {
        var perMessage = new MessageMetrics[_messages];
        var bySource = new Dictionary<int, (int Eccentricity, double? MeanDistance)>();
        var distance = new int[_n];
        var queue = new int[_n];
        for (int m = 0; m < _messages; m++)
        {
            int author = _publisher[m];
            if (!bySource.TryGetValue(author, out var stats))
            {
                (int eccentricity, long sum, int count) = GraphStatistics.FromSource(_topology, _aliveAtEnd, author, distance, queue);
                Debug.Assert(count == _reachable[m], "R(m) is the publisher's component less the publisher");
                stats = (eccentricity, count > 0 ? (double)sum / count : null);
                bySource.Add(author, stats);
            }

            perMessage[m] = new MessageMetrics
            {
                Message = _ids[m],
                PublishedAt = _publishedAt[m] >= 0 ? TimeSpan.FromTicks(_publishedAt[m]) : null,
                Reachable = _reachable[m],
                Reached = _reached[m],
                PayloadsSent = _payloadSends[m],
                LastHop = _lastHop[m],
                MeanHop = _reached[m] > 0 ? (double)_hopSum[m] / _reached[m] : null,
                PublisherEccentricity = stats.Eccentricity,
                PublisherMeanDistance = stats.MeanDistance,
                TimeTo99 = _timeTo99[m] >= 0 ? TimeSpan.FromTicks(_timeTo99[m]) : null,
                TimeTo100 = _timeTo100[m] >= 0 ? TimeSpan.FromTicks(_timeTo100[m]) : null,
            };
        }

        return perMessage;
    }

    /// <summary>⌈0.99 × reachable⌉: how many receivers make 99 %.</summary>
    private static int Threshold99(int reachable) => (int)(((99L * reachable) + 99) / 100);

    private static TimeSpan? Mean(long[] times) =>
        times.Contains(-1) ? null : TimeSpan.FromTicks((long)Math.Round(times.Average(t => (double)t)));

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
        int[] live = [.. Enumerable.Range(0, _n).Where(v => _aliveAtEnd[v])];
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

    /// <summary>
    /// A simulated message's id: its author and seq, and a digest made of them, so messages are known by digest as on
    /// real links (docs/PROTOCOL.md §3.3) and the engine runs the same code paths as there.
    /// </summary>
    internal static MessageId SimulatedId(int author, long sequence) =>
        new(author, sequence) { Digest = new UInt128((ulong)author + 1, (ulong)sequence) };

    /// <summary>Charges a frame's payloads to its message, when the frame says which one it carries.</summary>
    private void Attribute(IGossipFrame frame, int payloads)
    {
        MessageId? message = frame switch
        {
            IGossipPayloadFrame payload => payload.Message,
            _ => null,
        };
        if (message is { } id && _messageIndex.TryGetValue(id, out int m))
        {
            _payloadSends[m] += payloads;
        }
        else
        {
            _payloadsUnattributed += payloads;
        }
    }

    /// <summary>Whether the link between <paramref name="a"/> and <paramref name="b"/> is cut now.</summary>
    private bool IsCut(int a, int b) => _cut && _side![a] != _side[b];

    /// <summary>Tells both ends of every link across the partition between live nodes that it went down or up.</summary>
    private void ChangeCutLinks(EventKind kind)
    {
        for (int v = 0; v < _n; v++)
        {
            if (!_alive[v])
            {
                continue;
            }

            foreach (int u in _topology.Neighbours(v))
            {
                if (_alive[u] && _side![u] != _side[v])
                {
                    _queue.Enqueue(new SimEvent { Time = _now, Kind = kind, Node = v, Other = u });
                }
            }
        }
    }

    private int RandomSurvivor(Random scenario)
    {
        int v;
        do
        {
            v = scenario.Next(_n);
        }
        while (!_aliveAtEnd[v]);
        return v;
    }

    private void Schedule()
    {
        for (int v = 0; v < _n; v++)
        {
            if (_alive[v])
            {
                _queue.Enqueue(new SimEvent { Time = 0, Kind = EventKind.Start, Node = v });
            }
        }

        for (int v = 0; v < _n; v++)
        {
            if (!_alive[v])
            {
                continue;
            }

            foreach (int u in _topology.Neighbours(v))
            {
                if (_alive[u] && !IsCut(v, u))
                {
                    _queue.Enqueue(new SimEvent { Time = 0, Kind = EventKind.NeighbourUp, Node = v, Other = u });
                }
            }
        }

        if (_partitionTime > 0)
        {
            _queue.Enqueue(new SimEvent { Time = _partitionTime, Kind = EventKind.Partition });
        }

        if (_healTime >= 0)
        {
            _queue.Enqueue(new SimEvent { Time = _healTime, Kind = EventKind.Heal });
        }

        if (_options.KillTime > TimeSpan.Zero)
        {
            for (int v = 0; v < _n; v++)
            {
                if (!_aliveAtEnd[v])
                {
                    _queue.Enqueue(new SimEvent { Time = _options.KillTime.Ticks, Kind = EventKind.Kill, Node = v });
                }
            }
        }

        for (int m = 0; m < _messages; m++)
        {
            long time = _options.PublishStart.Ticks + (m * _options.PublishSpacing.Ticks);
            _queue.Enqueue(new SimEvent { Time = time, Kind = EventKind.Publish, Node = _publisher[m], Other = m });
        }
    }

    private void Dispatch(in SimEvent item)
    {
        int v = item.Node;
        if (item.Kind is EventKind.Partition or EventKind.Heal)
        {
            _cut = item.Kind == EventKind.Partition;
            _partitioned |= _cut;
            _lastActivity = _now;
            ChangeCutLinks(item.Kind == EventKind.Partition ? EventKind.NeighbourDown : EventKind.NeighbourUp);
            return;
        }

        if (item.Kind == EventKind.Kill)
        {
            _alive[v] = false;
            _nodes[v] = null; // a failed node's state is gone
            foreach (int u in _topology.Neighbours(v))
            {
                if (_alive[u] && !IsCut(u, v)) // a cut link is down already
                {
                    _queue.Enqueue(new SimEvent { Time = _now, Kind = EventKind.NeighbourDown, Node = u, Other = v });
                }
            }

            return;
        }

        if (!_alive[v])
        {
            return; // a failed node neither receives nor wakes up
        }

        _self = v;
        IGossipProtocol node = _nodes[v]!;
        switch (item.Kind)
        {
            case EventKind.Start:
                node.Start(this);
                break;
            case EventKind.NeighbourUp:
                node.NeighbourUp(this, item.Other);
                break;
            case EventKind.NeighbourDown:
                node.NeighbourDown(this, item.Other);
                break;
            case EventKind.Frame:
                if (_partitioned && item.TimerId < _partitionTime && _side![v] != _side[item.Other])
                {
                    _framesLost++; // in flight across the cut when it happened: the connection is gone
                    break;
                }

                node.FrameReceived(this, item.Other, item.Frame!);
                break;
            case EventKind.Timer:
                node.Timer(this, item.TimerId);
                break;
            case EventKind.Publish:
                int m = item.Other;
                _publishedAt[m] = _now;
                _published++;
                _lastActivity = _now;
                if (_reachable[m] == 0)
                {
                    _timeTo99[m] = 0;
                    Complete(m);
                }

                node.Publish(this, _ids[m], _options.PayloadBytes);
                break;
            default:
                Debug.Fail($"Unknown event {item.Kind}");
                break;
        }
    }

    private void Complete(int m)
    {
        _timeTo100[m] = _now - _publishedAt[m];
        if (++_complete == _messages)
        {
            _completeAt = _now;
        }
    }

    /// <summary>About 100 evenly spaced points from the first publish to the last delivery.</summary>
    private DeliveryPoint[] Curve(long reachable)
    {
        if (reachable == 0)
        {
            return [];
        }

        const int Steps = 100;
        long start = _options.PublishStart.Ticks;
        long end = _deliveryTimes.Count > 0 ? Math.Max(_deliveryTimes[^1], start) : start;
        var points = new DeliveryPoint[Steps + 1];
        int seen = 0;
        for (int k = 0; k <= Steps; k++)
        {
            long time = k == Steps ? end : start + ((end - start) * k / Steps);
            while (seen < _deliveryTimes.Count && _deliveryTimes[seen] <= time)
            {
                seen++;
            }

            points[k] = new DeliveryPoint(TimeSpan.FromTicks(time), (double)seen / reachable);
        }

        return points;
    }
}
