using System.Diagnostics;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Simulation;

/// <summary>
/// One run's event loop: the nodes' protocol states, the links (latency, loss, FIFO order, the partition's cut)
/// and failures on a virtual clock, and the context each protocol call acts through (one object, re-aimed at the
/// current node before each call). What is fixed before the run is a <see cref="SimulationScenario"/>; what is
/// measured goes to a <see cref="MetricsRecorder"/>.
/// </summary>
/// <remarks>
/// Per node it keeps one protocol object and a few array slots; per directed link, one <see cref="long"/>.
/// </remarks>
internal sealed class SimulationEngine : IGossipContext
{
    private readonly SimulationOptions _options;
    private readonly SimulationScenario _scenario;
    private readonly MetricsRecorder _metrics;
    private readonly Topology _topology;
    private readonly int _n;
    private readonly IGossipProtocol?[] _nodes;
    private readonly bool[] _alive;
    private readonly bool[] _aliveAtEnd;
    private readonly int[] _publisher;
    private readonly MessageId[] _ids;
    private readonly long[] _linkBusyUntil;
    private readonly EventQueue _queue = new();
    private readonly Random _linkRandom;
    private readonly Random _protocolRandom;
    private readonly long _minLatency;
    private readonly long _latencySpan;

    private readonly bool[]? _side; // the partition's side of each node (null: no partition)
    private readonly long _partitionTime;
    private readonly long _healTime;

    private int _self;
    private long _now;
    private long _events;
    private bool _cut; // the links between the two sides are down
    private bool _partitioned; // the partition has happened (frames sent before it and arriving after are lost)
    private long _lastActivity;
    private string _stopReason = "queue_empty";

    public SimulationEngine(SimulationOptions options)
    {
        _options = options;
        _scenario = new SimulationScenario(options);
        _metrics = new MetricsRecorder(options, _scenario);
        _topology = _scenario.Topology;
        _n = _scenario.NodeCount;
        _aliveAtEnd = _scenario.AliveAtEnd;
        _publisher = _scenario.Publisher;
        _ids = _scenario.Ids;
        _side = _scenario.Side;
        _partitionTime = _scenario.PartitionTime;
        _healTime = _scenario.HealTime;
        _linkRandom = new Random(SeedStreams.Derive(options.Seed, SeedStreams.Links));
        _protocolRandom = new Random(SeedStreams.Derive(options.Seed, SeedStreams.Protocol));
        _minLatency = options.MinLatency.Ticks;
        _latencySpan = options.MaxLatency.Ticks - options.MinLatency.Ticks;
        _linkBusyUntil = new long[_topology.EdgeCount * 2];
        _alive = options.KillTime == TimeSpan.Zero ? (bool[])_aliveAtEnd.Clone() : Enumerable.Repeat(true, _n).ToArray();
        _cut = _partitioned = _partitionTime == 0; // apart from the start

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
        while (_queue.TryPeekTime(out long time))
        {
            if (time > maxTime)
            {
                _stopReason = "max_time";
                break;
            }

            if (_metrics.AllPublished && (_healTime < 0 || time > _healTime))
            {
                if (_metrics.AllComplete && time > _metrics.CompletedAt + quiet)
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

        _metrics.FrameSent(frame);
        _lastActivity = _now;
        if (IsCut(_self, neighbour))
        {
            _metrics.FrameLost(); // the link is down
            return;
        }

        if (_options.Loss > 0 && _linkRandom.NextDouble() < _options.Loss)
        {
            _metrics.FrameLost();
            return;
        }

        long arrival = _now + _minLatency + (_latencySpan > 0 ? (long)(_linkRandom.NextDouble() * _latencySpan) : 0);
        if (!_options.Reorder)
        {
            arrival = Math.Max(arrival, _linkBusyUntil[link]); // FIFO link: no overtaking
            _linkBusyUntil[link] = arrival;
        }

        _queue.Enqueue(arrival, new SimEvent { Kind = EventKind.Frame, Node = neighbour, Other = _self, Frame = frame, TimerId = _now });
    }

    public void SetTimer(TimeSpan delay, long timerId)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        long time = delay.Ticks > long.MaxValue - _now ? long.MaxValue : _now + delay.Ticks;
        _queue.Enqueue(time, new SimEvent { Kind = EventKind.Timer, Node = _self, TimerId = timerId });
    }

    public void Deliver(MessageId message, int hops)
    {
        if (_metrics.Deliver(_self, message, hops, _now))
        {
            _lastActivity = _now; // a duplicate is no progress
        }
    }

    public void CountVerify() => _metrics.Verified();

    /// <summary>The metrics of the finished run.</summary>
    public SimulationResult Result(TimeSpan wallTime, long peakMemoryBytes, long memoryPerNodeBytes) =>
        _metrics.Result(new RunTotals(_events, _queue.PeakCount, TimeSpan.FromTicks(_now), _stopReason, wallTime, peakMemoryBytes, memoryPerNodeBytes));

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
                    _queue.Enqueue(_now, new SimEvent { Kind = kind, Node = v, Other = u });
                }
            }
        }
    }

    private void Schedule()
    {
        for (int v = 0; v < _n; v++)
        {
            if (_alive[v])
            {
                _queue.Enqueue(0, new SimEvent { Kind = EventKind.Start, Node = v });
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
                    _queue.Enqueue(0, new SimEvent { Kind = EventKind.NeighbourUp, Node = v, Other = u });
                }
            }
        }

        if (_partitionTime > 0)
        {
            _queue.Enqueue(_partitionTime, new SimEvent { Kind = EventKind.Partition });
        }

        if (_healTime >= 0)
        {
            _queue.Enqueue(_healTime, new SimEvent { Kind = EventKind.Heal });
        }

        if (_options.KillTime > TimeSpan.Zero)
        {
            for (int v = 0; v < _n; v++)
            {
                if (!_aliveAtEnd[v])
                {
                    _queue.Enqueue(_options.KillTime.Ticks, new SimEvent { Kind = EventKind.Kill, Node = v });
                }
            }
        }

        for (int m = 0; m < _ids.Length; m++)
        {
            long time = _options.PublishStart.Ticks + (m * _options.PublishSpacing.Ticks);
            _queue.Enqueue(time, new SimEvent { Kind = EventKind.Publish, Node = _publisher[m], Other = m });
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
                    _queue.Enqueue(_now, new SimEvent { Kind = EventKind.NeighbourDown, Node = u, Other = v });
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
                    _metrics.FrameLost(); // in flight across the cut when it happened: the connection is gone
                    break;
                }

                node.FrameReceived(this, item.Other, item.Frame!);
                break;
            case EventKind.Timer:
                node.Timer(this, item.TimerId);
                break;
            case EventKind.Publish:
                int m = item.Other;
                _metrics.Published(m, _now);
                _lastActivity = _now;
                node.Publish(this, _ids[m], _options.PayloadBytes);
                break;
            default:
                Debug.Fail($"Unknown event {item.Kind}");
                break;
        }
    }

    /// <summary>
    /// A simulated message's id: its author and seq, and a digest made of them, so messages are known by digest as on
    /// real links (docs/PROTOCOL.md §3.3, §13) and the engine runs the same code paths as there.
    /// </summary>
    internal static MessageId SimulatedId(int author, long sequence) =>
        new(author, sequence) { Digest = new UInt128((ulong)author + 1, (ulong)sequence) };
}
