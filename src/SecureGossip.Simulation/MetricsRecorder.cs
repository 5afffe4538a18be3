using System.Diagnostics;
using System.Numerics;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Simulation;

/// <summary>
/// The measuring half of a run: what was sent, lost, verified and delivered, per message and in total, and the
/// <see cref="SimulationResult"/> made of it at the end. The engine tells it what happens; it never schedules,
/// draws or calls a protocol, so measuring cannot change a run.
/// </summary>
/// <remarks>Per message it keeps a few counters and a bit per node.</remarks>
internal sealed class MetricsRecorder
{
    private readonly SimulationOptions _options;
    private readonly SimulationScenario _scenario;
    private readonly Topology _topology;
    private readonly int _n;
    private readonly int _messages;
    private readonly bool[] _aliveAtEnd;
    private readonly int[] _component;
    private readonly int[] _publisher;
    private readonly MessageId[] _ids;
    private readonly int[] _reachable;

    private readonly long[] _publishedAt;
    private readonly int[] _reached;
    private readonly int[] _lastHop;
    private readonly long[] _timeTo99;
    private readonly long[] _timeTo100;
    private readonly long[] _payloadSends;
    private readonly long[] _hopSum;
    private readonly ulong[][] _delivered;
    private readonly long[] _prunesWhileLatest;
    private readonly long[] _graftsWhileLatest;
    private ControlFrameCounts _control;
    private readonly List<long> _deliveryTimes = [];

    private long _framesSent;
    private long _payloadsSent;
    private long _bytesSent;
    private long _framesLost;
    private long _verifies;
    private long _deliveries;
    private long _duplicateDeliveries;
    private long _payloadsUnattributed;
    private int _published;
    private int _complete;
    private long _completeAt = -1;

    public MetricsRecorder(SimulationOptions options, SimulationScenario scenario)
    {
        _options = options;
        _scenario = scenario;
        _topology = scenario.Topology;
        _n = scenario.NodeCount;
        _messages = scenario.Messages;
        _aliveAtEnd = scenario.AliveAtEnd;
        _component = scenario.Component;
        _publisher = scenario.Publisher;
        _ids = scenario.Ids;
        _reachable = scenario.Reachable;

        _publishedAt = new long[_messages];
        _reached = new int[_messages];
        _lastHop = new int[_messages];
        _timeTo99 = new long[_messages];
        _timeTo100 = new long[_messages];
        _payloadSends = new long[_messages];
        _hopSum = new long[_messages];
        _delivered = new ulong[_messages][];
        _prunesWhileLatest = new long[_messages];
        _graftsWhileLatest = new long[_messages];
        Array.Fill(_publishedAt, -1);
        Array.Fill(_timeTo99, -1);
        Array.Fill(_timeTo100, -1);
        for (int m = 0; m < _messages; m++)
        {
            _delivered[m] = new ulong[(_n + 63) / 64];
        }
    }

    /// <summary>Every message has been published.</summary>
    public bool AllPublished => _published == _messages;

    /// <summary>Every message has reached every receiver it can reach.</summary>
    public bool AllComplete => _complete == _messages;

    /// <summary>When the last message became complete, in ticks; -1: not yet.</summary>
    public long CompletedAt => _completeAt;

    /// <summary>Counts a frame handed to a link, whether or not it arrives.</summary>
    public void FrameSent(IGossipFrame frame)
    {
        _framesSent++;
        int payloads = frame.PayloadCount;
        _payloadsSent += payloads;
        if (payloads != 0)
        {
            Attribute(frame, payloads);
        }
        else
        {
            CountControl(frame);
        }

        _bytesSent += frame.SizeBytes;
    }

    /// <summary>Counts a control frame by kind; prunes and grafts also against the latest message published (a timeline).</summary>
    private void CountControl(IGossipFrame frame)
    {
        int latest = _published - 1;
        switch (frame)
        {
            case PlumtreePrune:
                _control = _control with { Prunes = _control.Prunes + 1 };
                if (latest >= 0)
                {
                    _prunesWhileLatest[latest]++;
                }

                break;
            case PlumtreeGraft:
                _control = _control with { Grafts = _control.Grafts + 1 };
                if (latest >= 0)
                {
                    _graftsWhileLatest[latest]++;
                }

                break;
            case PlumtreeIHave ihave:
                _control = _control with { IHaveFrames = _control.IHaveFrames + 1, IHaveIds = _control.IHaveIds + ihave.Ids.Length };
                break;
            case PlumtreeSync:
                _control = _control with { Syncs = _control.Syncs + 1 };
                break;
            case PlumtreeWant:
                _control = _control with { Wants = _control.Wants + 1 };
                break;
            case PlumtreeBeacon:
                _control = _control with { Beacons = _control.Beacons + 1 };
                break;
        }
    }

    /// <summary>Counts a frame that a link lost or a cut dropped.</summary>
    public void FrameLost() => _framesLost++;

    /// <summary>Counts one signature verification.</summary>
    public void Verified() => _verifies++;

    /// <summary>Message <paramref name="m"/> is published at <paramref name="now"/>.</summary>
    public void Published(int m, long now)
    {
        _publishedAt[m] = now;
        _published++;
        if (_reachable[m] == 0)
        {
            _timeTo99[m] = 0;
            Complete(m, now);
        }
    }

    /// <summary>
    /// Counts <paramref name="node"/> delivering <paramref name="message"/> at <paramref name="now"/>, after
    /// <paramref name="hops"/> hops.
    /// </summary>
    /// <returns><see langword="true"/> for the node's first delivery of the message; <see langword="false"/> for a duplicate.</returns>
    /// <exception cref="InvalidOperationException">The message was never published.</exception>
    public bool Deliver(int node, MessageId message, int hops, long now)
    {
        if (!_scenario.TryGetIndex(message, out int m) || _publishedAt[m] < 0)
        {
            throw new InvalidOperationException($"Node {node} delivered {message}, which was never published.");
        }

        ulong[] bits = _delivered[m];
        ulong mask = 1UL << (node & 63);
        if ((bits[node >> 6] & mask) != 0)
        {
            _duplicateDeliveries++;
            return false;
        }

        bits[node >> 6] |= mask;
        _deliveries++;
        int author = _publisher[m];
        if (node == author || !_aliveAtEnd[node] || _component[node] != _component[author])
        {
            return true; // counted as a delivery, but not towards reaching the nodes that should have it
        }

        _lastHop[m] = Math.Max(_lastHop[m], hops);
        _hopSum[m] += hops;
        _deliveryTimes.Add(now);
        int reached = ++_reached[m];
        if (reached == Threshold99(_reachable[m]))
        {
            _timeTo99[m] = now - _publishedAt[m];
        }

        if (reached == _reachable[m])
        {
            Complete(m, now);
        }

        return true;
    }

    /// <summary>The metrics of the finished run.</summary>
    public SimulationResult Result(in RunTotals run)
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
            WallTime = run.WallTime,
            PeakMemoryBytes = run.PeakMemoryBytes,
            MemoryPerNodeBytes = run.MemoryPerNodeBytes,
            Seed = _options.Seed,
            MinLatency = _options.MinLatency,
            MaxLatency = _options.MaxLatency,
            Loss = _options.Loss,
            KillFraction = _options.KilledNodes is null ? _options.KillFraction : (double)(_n - liveCount) / _n,
            KillTime = _options.KillTime,
            Events = run.Events,
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
            PeakQueuedEvents = run.PeakQueuedEvents,
            VirtualTime = run.VirtualTime,
            StopReason = run.StopReason,
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
            ControlFrames = _control,
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
                PrunesWhileLatest = _prunesWhileLatest[m],
                GraftsWhileLatest = _graftsWhileLatest[m],
            };
        }

        return perMessage;
    }

    /// <summary>⌈0.99 × reachable⌉: how many receivers make 99 %.</summary>
    private static int Threshold99(int reachable) => (int)(((99L * reachable) + 99) / 100);

    private static TimeSpan? Mean(long[] times) =>
        times.Contains(-1) ? null : TimeSpan.FromTicks((long)Math.Round(times.Average(t => (double)t)));

    /// <summary>Charges a frame's payloads to its message, when the frame says which one it carries.</summary>
    private void Attribute(IGossipFrame frame, int payloads)
    {
        MessageId? message = frame switch
        {
            IGossipPayloadFrame payload => payload.Message,
            _ => null,
        };
        if (message is { } id && _scenario.TryGetIndex(id, out int m))
        {
            _payloadSends[m] += payloads;
        }
        else
        {
            _payloadsUnattributed += payloads;
        }
    }

    private void Complete(int m, long now)
    {
        _timeTo100[m] = now - _publishedAt[m];
        if (++_complete == _messages)
        {
            _completeAt = now;
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
