using System.Diagnostics;
using SecureGossip.Engine;
using SecureGossip.Protocol.Core;
using SecureGossip.Protocol.Membership;

namespace SecureGossip.Simulation;

/// <summary>
/// Simulates a network that builds itself: every node runs the shipped <see cref="HyParView{TPeer}"/> (and, with
/// <c>v2</c> dissemination, the shipped Plumtree core over its active view) on a virtual clock, over an underlay
/// where any node can dial any other. Nodes join through node 0 one after another; then a share of them fail at once,
/// or churn, while messages are published; the result says whether the overlay stayed connected, how long it took to
/// heal, and what share of the live nodes each message reached, with its redundancy and last hop.
/// </summary>
public sealed class OverlaySimulation : IMembershipContext<int>, IGossipContext
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(10);

    // A node counts as part of the network (for connectivity, for publishing, and as a receiver) once it has had this
    // long to join: before that it is a newcomer whose join is in flight.
    private static readonly long JoinGrace = TimeSpan.FromSeconds(1).Ticks;

    private readonly OverlaySimulationOptions _options;
    private readonly EventQueue<OverlayEvent> _queue = new();
    private readonly List<Node> _nodes = [];
    private readonly Random _random; // the protocols' choices
    private readonly Random _scenario; // who fails, who publishes, who churns
    private readonly List<Message> _messages = [];
    private readonly Dictionary<MessageId, int> _messageIndex = [];
    private readonly List<(double AtMs, int Live, int Components, bool Connected)> _checks = [];
    private int _self;
    private long _now;
    private long _generation;
    private long _events;
    private long _frames;
    private long _membershipFrames;
    private long _membershipBytes;
    private long _verifications;
    private long _failTime = -1;
    private long _firstMessageTime;
    private long _end;

    /// <summary>Prepares a run; <see cref="Run"/> runs it.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public OverlaySimulation(OverlaySimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _random = new Random(SeedStreams.Derive(options.Seed, SeedStreams.Protocol));
        _scenario = new Random(SeedStreams.Derive(options.Seed, SeedStreams.Scenario));
    }

    /// <inheritdoc/>
    public int Self => _self;

    /// <inheritdoc cref="IGossipContext.Now"/>
    public TimeSpan Now => TimeSpan.FromTicks(_now);

    /// <inheritdoc cref="IGossipContext.Random"/>
    public Random Random => _random;

    /// <summary>Runs the whole scenario and returns its figures.</summary>
    public OverlaySimulationResult Run()
    {
        var wall = Stopwatch.StartNew();
        int n = _options.Nodes;
        long spacing = _options.JoinSpacing.Ticks;
        for (int v = 0; v < n; v++)
        {
            AddNode(v * spacing, v == 0 ? -1 : 0);
        }

        long settled = ((n - 1) * spacing) + _options.Settle.Ticks;
        _firstMessageTime = settled;
        if (_options.Kill > 0)
        {
            Schedule(settled, new OverlayEvent { Kind = OverlayEventKind.Kill });
            _failTime = settled;
        }

        long churnEnd = settled;
        if (_options.Churn > 0)
        {
            _failTime = settled;
            for (long t = settled; t < settled + _options.ChurnDuration.Ticks; t += TimeSpan.TicksPerSecond)
            {
                Schedule(t, new OverlayEvent { Kind = OverlayEventKind.Churn });
                churnEnd = t;
            }
        }

        for (int m = 0; m < _options.Messages; m++)
        {
            Schedule(settled + (m * _options.MessageInterval.Ticks), new OverlayEvent { Kind = OverlayEventKind.Publish, Other = m });
        }

        long lastMessage = settled + (Math.Max(0, _options.Messages - 1) * _options.MessageInterval.Ticks);
        _end = Math.Max(lastMessage, churnEnd) + Drain.Ticks;
        for (long t = 0; t <= _end; t += CheckInterval.Ticks)
        {
            Schedule(t, new OverlayEvent { Kind = OverlayEventKind.Check });
        }

        while (_queue.TryPeekTime(out long time) && time <= _end)
        {
            OverlayEvent e = _queue.Dequeue();
            _now = time;
            _events++;
            Dispatch(e);
        }

        return Result(wall.Elapsed);
    }

    private void AddNode(long at, int contact)
    {
        int v = _nodes.Count;
        // A newcomer joins through its contact and, should that one be gone, through node 0, the bootstrap node every
        // node was given (as a real node is started with a stable bootstrap address).
        int[] bootstrap = contact < 0 ? [] : contact == 0 ? [0] : [contact, 0];
        var node = new Node(new HyParView<int>(v, bootstrap, _options.Membership), at);
        if (_options.Dissemination == "v2")
        {
            node.Gossip = GossipEngine.CreateV2();
        }

        _nodes.Add(node);
        Schedule(at, new OverlayEvent { Kind = OverlayEventKind.Start, Node = v });
    }

    private void Dispatch(in OverlayEvent e)
    {
        switch (e.Kind)
        {
            case OverlayEventKind.Start:
                {
                    Node node = _nodes[e.Node];
                    node.Started = true;
                    _self = e.Node;
                    node.Gossip?.Start(this);
                    node.Membership.Start(this);
                    break;
                }

            case OverlayEventKind.DialArrive:
                {
                    // e.Other dialled e.Node.
                    Node callee = _nodes[e.Node];
                    if (!callee.Alive || !callee.Started)
                    {
                        Schedule(_now + Latency(e.Node, e.Other), new OverlayEvent { Kind = OverlayEventKind.DialFailed, Node = e.Other, Other = e.Node });
                        break;
                    }

                    // One link per pair: a dial that meets a link the callee already has (both dialled at once) is
                    // answered on it.
                    if (!callee.Open.TryGetValue(e.Other, out long gen))
                    {
                        gen = ++_generation;
                        Reopen(e.Node, e.Other, gen);
                        _self = e.Node;
                        callee.Membership.LinkUp(this, e.Other, outbound: false);
                    }

                    Schedule(_now + Latency(e.Node, e.Other), new OverlayEvent { Kind = OverlayEventKind.DialUp, Node = e.Other, Other = e.Node, Value = gen });
                    break;
                }

            case OverlayEventKind.DialUp:
                {
                    Node caller = _nodes[e.Node];
                    if (!caller.Alive)
                    {
                        break;
                    }

                    // If the peer's own dial reached us first, that link is the one and this dial is answered on it.
                    if (!caller.Open.TryGetValue(e.Other, out long open) || open == e.Value)
                    {
                        Reopen(e.Node, e.Other, e.Value);
                    }

                    _self = e.Node;
                    caller.Membership.LinkUp(this, e.Other, outbound: true);
                    break;
                }

            case OverlayEventKind.DialFailed:
                if (_nodes[e.Node].Alive)
                {
                    _self = e.Node;
                    _nodes[e.Node].Membership.DialFailed(this, e.Other);
                }

                break;
            case OverlayEventKind.Frame:
                Receive(e);
                break;
            case OverlayEventKind.LinkDown:
                {
                    Node node = _nodes[e.Node];
                    if (node.Alive && node.Open.TryGetValue(e.Other, out long gen) && gen == e.Value)
                    {
                        node.Open.Remove(e.Other);
                        _self = e.Node;
                        node.Membership.LinkDown(this, e.Other);
                    }

                    break;
                }

            case OverlayEventKind.MembershipTimer:
                if (_nodes[e.Node].Alive)
                {
                    _self = e.Node;
                    _nodes[e.Node].Membership.Timer(this, e.Value);
                }

                break;
            case OverlayEventKind.GossipTimer:
                if (_nodes[e.Node].Alive)
                {
                    _self = e.Node;
                    _nodes[e.Node].Gossip!.Timer(this, e.Value);
                }

                break;
            case OverlayEventKind.Publish:
                Publish(e.Other);
                break;
            case OverlayEventKind.Kill:
                {
                    int count = (int)(_options.Kill * _options.Nodes);
                    foreach (int v in PickLive(count, spareBootstrap: true))
                    {
                        Fail(v);
                    }

                    break;
                }

            case OverlayEventKind.Churn:
                {
                    int count = (int)Math.Round(_options.Churn * _nodes.Count(x => x.Alive && x.Started));
                    foreach (int v in PickLive(count, spareBootstrap: true))
                    {
                        Fail(v);
                    }

                    for (int i = 0; i < count; i++)
                    {
                        int contact = PickLive(1).FirstOrDefault();
                        AddNode(_now + (i * TimeSpan.TicksPerMillisecond), contact);
                    }

                    break;
                }

            case OverlayEventKind.Check:
                Check();
                break;
        }
    }

    private void Receive(in OverlayEvent e)
    {
        Node node = _nodes[e.Node];
        if (!node.Alive || !node.Open.TryGetValue(e.Other, out long gen) || gen != e.Value)
        {
            return; // the link was closed, or the node failed, while the frame was in flight
        }

        _self = e.Node;
        switch (e.Frame)
        {
            case MembershipFrame<int> frame:
                node.Membership.FrameReceived(this, e.Other, frame);
                break;
            case FloodFrame flood:
                OnFlood(e.Node, e.Other, flood);
                break;
            case IGossipFrame frame when node.Active.Contains(e.Other):
                if (frame is IGossipPayloadFrame payload && _messageIndex.TryGetValue(payload.Message, out int m))
                {
                    _messages[m].Copies++;
                }

                node.Gossip!.FrameReceived(this, e.Other, frame);
                break;
        }
    }

    private void Publish(int m)
    {
        int author = PickLive(1).FirstOrDefault(-1);
        if (author < 0)
        {
            return;
        }

        var message = new Message(author, _now, _nodes.Count);
        message.Reached[author] = true;
        _messages.Add(message);
        MessageId id = SimulationEngine.SimulatedId(author, _nodes[author].Published++);
        _messageIndex[id] = m;
        _self = author;
        if (_nodes[author].Gossip is { } gossip)
        {
            gossip.Publish(this, id, 100);
            return;
        }

        foreach (int peer in _nodes[author].Active)
        {
            SendFrame(author, peer, new FloodFrame(m, 1));
        }
    }

    private void OnFlood(int v, int from, FloodFrame frame)
    {
        Message message = _messages[frame.Message];
        message.Copies++;
        if (v < message.Reached.Length ? message.Reached[v] : !message.Late.Add(v))
        {
            return; // a duplicate (a node that joined after the message was published is tracked apart, and not counted)
        }

        _verifications++;
        Reach(message, v, frame.Hops);
        foreach (int peer in _nodes[v].Active)
        {
            if (peer != from)
            {
                SendFrame(v, peer, frame with { Hops = frame.Hops + 1 });
            }
        }
    }

    private void Reach(Message message, int v, int hops)
    {
        if (v >= message.Reached.Length || message.Reached[v])
        {
            return; // joined after the message was published, or a second delivery (counted as a copy)
        }

        message.Reached[v] = true;
        message.LastHop = Math.Max(message.LastHop, hops);
        message.LastTime = Math.Max(message.LastTime, _now);
    }

    private void Fail(int v)
    {
        Node node = _nodes[v];
        node.Alive = false;
        foreach ((int peer, long gen) in node.Open)
        {
            Schedule(_now + Latency(v, peer), new OverlayEvent { Kind = OverlayEventKind.LinkDown, Node = peer, Other = v, Value = gen });
        }

        node.Open.Clear();
    }

    private List<int> PickLive(int count, bool spareBootstrap = false)
    {
        var live = new List<int>();
        for (int v = spareBootstrap ? 1 : 0; v < _nodes.Count; v++)
        {
            if (IsMember(v))
            {
                live.Add(v);
            }
        }

        count = Math.Min(count, live.Count);
        for (int i = 0; i < count; i++)
        {
            int j = i + _scenario.Next(live.Count - i);
            (live[i], live[j]) = (live[j], live[i]);
        }

        return live.GetRange(0, count);
    }

    private void Check()
    {
        int[] parent = new int[_nodes.Count];
        int live = 0;
        for (int v = 0; v < parent.Length; v++)
        {
            parent[v] = v;
        }

        for (int v = 0; v < _nodes.Count; v++)
        {
            if (!IsMember(v))
            {
                continue;
            }

            live++;
            foreach (int peer in _nodes[v].Active)
            {
                if (IsMember(peer))
                {
                    parent[Find(parent, v)] = Find(parent, peer);
                }
            }
        }

        var roots = new HashSet<int>();
        for (int v = 0; v < _nodes.Count; v++)
        {
            if (IsMember(v))
            {
                roots.Add(Find(parent, v));
            }
        }

        _checks.Add((TimeSpan.FromTicks(_now).TotalMilliseconds, live, roots.Count, roots.Count <= 1));

        static int Find(int[] parent, int v)
        {
            while (parent[v] != v)
            {
                parent[v] = parent[parent[v]];
                v = parent[v];
            }

            return v;
        }
    }

    /// <summary>Alive, and started long enough ago to have joined (or the bootstrap node, which joins nothing).</summary>
    private bool IsMember(int v) => _nodes[v] is { Alive: true, Started: true } node && (v == 0 || _now - node.BornAt >= JoinGrace);

    private void Reopen(int v, int peer, long gen) => _nodes[v].Open[peer] = gen;

    private long Latency(int a, int b)
    {
        // Each pair has its own fixed latency (links stay FIFO), drawn from the seed and the pair.
        int low = Math.Min(a, b), high = Math.Max(a, b);
        uint hash = (uint)SeedStreams.Derive(SeedStreams.Derive(_options.Seed, low), high); // HashCode is seeded per process
        long span = _options.MaxLatency.Ticks - _options.MinLatency.Ticks;
        return _options.MinLatency.Ticks + (span == 0 ? 0 : (long)(hash % (ulong)(span + 1)));
    }

    private void Schedule(long time, in OverlayEvent e) => _queue.Enqueue(time, e);

    private void SendFrame(int from, int to, IGossipFrame frame)
    {
        if (!_nodes[from].Open.TryGetValue(to, out long gen))
        {
            return;
        }

        _frames++;
        if (frame is MembershipFrame<int>)
        {
            _membershipFrames++;
            _membershipBytes += frame.SizeBytes;
        }

        Schedule(_now + Latency(from, to), new OverlayEvent { Kind = OverlayEventKind.Frame, Node = to, Other = from, Value = gen, Frame = frame });
    }

    void IMembershipContext<int>.Dial(int peer)
    {
        if (_nodes[_self].Open.ContainsKey(peer))
        {
            Schedule(_now, new OverlayEvent { Kind = OverlayEventKind.DialUp, Node = _self, Other = peer, Value = _nodes[_self].Open[peer] });
            return;
        }

        Schedule(_now + Latency(_self, peer), new OverlayEvent { Kind = OverlayEventKind.DialArrive, Node = peer, Other = _self });
    }

    void IMembershipContext<int>.Send(int peer, MembershipFrame<int> frame) => SendFrame(_self, peer, frame);

    void IMembershipContext<int>.Close(int peer)
    {
        if (_nodes[_self].Open.Remove(peer, out long gen))
        {
            Schedule(_now + Latency(_self, peer), new OverlayEvent { Kind = OverlayEventKind.LinkDown, Node = peer, Other = _self, Value = gen });
        }
    }

    void IMembershipContext<int>.SetTimer(TimeSpan delay, long timerId) =>
        Schedule(_now + delay.Ticks, new OverlayEvent { Kind = OverlayEventKind.MembershipTimer, Node = _self, Value = timerId });

    void IMembershipContext<int>.NeighbourUp(int peer)
    {
        Node node = _nodes[_self];
        if (node.Active.Add(peer))
        {
            node.Gossip?.NeighbourUp(this, peer);
        }
    }

    void IMembershipContext<int>.NeighbourDown(int peer)
    {
        Node node = _nodes[_self];
        if (node.Active.Remove(peer))
        {
            node.Gossip?.NeighbourDown(this, peer);
        }
    }

    void IGossipContext.Send(int neighbour, IGossipFrame frame)
    {
        if (_nodes[_self].Active.Contains(neighbour))
        {
            SendFrame(_self, neighbour, frame);
        }
    }

    void IGossipContext.SetTimer(TimeSpan delay, long timerId) =>
        Schedule(_now + delay.Ticks, new OverlayEvent { Kind = OverlayEventKind.GossipTimer, Node = _self, Value = timerId });

    void IGossipContext.Deliver(MessageId message, int hops)
    {
        if (_messageIndex.TryGetValue(message, out int m))
        {
            Reach(_messages[m], _self, hops);
        }
    }

    void IGossipContext.CountVerify() => _verifications++;

    private OverlaySimulationResult Result(TimeSpan wall)
    {
        var perMessage = new List<OverlayMessageResult>(_messages.Count);
        foreach (Message message in _messages)
        {
            int eligible = 0, reached = 0;
            for (int v = 0; v < message.Reached.Length; v++)
            {
                Node node = _nodes[v];
                bool aliveThroughout = node.BornAt <= message.PublishedAt - JoinGrace && node.Alive;
                if (aliveThroughout && v != message.Author)
                {
                    eligible++;
                    if (message.Reached[v])
                    {
                        reached++;
                    }
                }
            }

            int deliveries = 0;
            for (int v = 0; v < message.Reached.Length; v++)
            {
                if (message.Reached[v] && v != message.Author)
                {
                    deliveries++;
                }
            }

            perMessage.Add(new OverlayMessageResult(
                TimeSpan.FromTicks(message.PublishedAt - Math.Max(_failTime, _firstMessageTime)).TotalMilliseconds,
                eligible == 0 ? 1 : (double)reached / eligible,
                deliveries == 0 ? 0 : ((double)message.Copies / deliveries) - 1,
                message.LastHop,
                TimeSpan.FromTicks(message.LastTime - message.PublishedAt).TotalMilliseconds));
        }

        long failAt = _failTime < 0 ? _firstMessageTime : _failTime;
        double failMs = TimeSpan.FromTicks(failAt).TotalMilliseconds;
        double? healedAt = null;
        foreach (var check in _checks)
        {
            if (check.AtMs < failMs)
            {
                continue;
            }

            if (check.Connected)
            {
                healedAt ??= check.AtMs;
            }
            else
            {
                healedAt = null; // it must stay connected from then on
            }
        }

        var before = _checks.LastOrDefault(c => c.AtMs < failMs);
        int[] degrees = [.. _nodes.Where(x => x.Alive && x.Started).Select(x => x.Active.Count)];
        int[] passive = [.. _nodes.Where(x => x.Alive && x.Started).Select(x => x.Membership.Passive.Count)];
        return new OverlaySimulationResult
        {
            Options = _options,
            NodesAtEnd = degrees.Length,
            NodesStarted = _nodes.Count,
            ConnectedBeforeFailures = before.Components == 1,
            ComponentsBeforeFailures = before.Components,
            ConnectedAtEnd = _checks.Count > 0 && _checks[^1].Connected,
            ComponentsAtEnd = _checks.Count > 0 ? _checks[^1].Components : 0,
            HealMs = _failTime < 0 || healedAt is null ? null : Math.Max(0, healedAt.Value - failMs),
            ConnectedShareAfterFailures = _checks.Count(c => c.AtMs >= failMs) is int after and > 0 ? (double)_checks.Count(c => c.AtMs >= failMs && c.Connected) / after : 1,
            ActiveDegreeMean = degrees.Length == 0 ? 0 : degrees.Average(),
            ActiveDegreeMin = degrees.Length == 0 ? 0 : degrees.Min(),
            ActiveDegreeMax = degrees.Length == 0 ? 0 : degrees.Max(),
            PassiveMean = passive.Length == 0 ? 0 : passive.Average(),
            Messages = perMessage,
            MembershipFrames = _membershipFrames,
            MembershipBytes = _membershipBytes,
            Frames = _frames,
            Verifications = _verifications,
            Events = _events,
            VirtualMs = TimeSpan.FromTicks(_end).TotalMilliseconds,
            WallMs = wall.TotalMilliseconds,
        };
    }

    private sealed class Node(HyParView<int> membership, long bornAt)
    {
        public HyParView<int> Membership { get; } = membership;

        public IGossipProtocol? Gossip { get; set; }

        public Dictionary<int, long> Open { get; } = [];

        public HashSet<int> Active { get; } = [];

        public long BornAt { get; } = bornAt;

        public bool Alive { get; set; } = true;

        public bool Started { get; set; }

        public long Published { get; set; }
    }

    private sealed class Message(int author, long publishedAt, int nodes)
    {
        public int Author { get; } = author;

        public long PublishedAt { get; } = publishedAt;

        public bool[] Reached { get; } = new bool[nodes];

        public HashSet<int> Late { get; } = [];

        public long Copies { get; set; }

        public int LastHop { get; set; }

        public long LastTime { get; set; } = publishedAt;
    }

    /// <summary>A flooded message copy (the <c>flood</c> dissemination): which message, and the links it crossed.</summary>
    private sealed record FloodFrame(int Message, int Hops) : IGossipFrame
    {
        public int SizeBytes => 300;

        public int PayloadCount => 1;
    }
}
