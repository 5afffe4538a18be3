using System.Runtime.CompilerServices;
using SecureGossip.Links;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Core;
using SecureGossip.Protocol.Flood;

namespace SecureGossip.Engine;

/// <summary>
/// The engine's view of a real node (the simulator has its own): links by number, the clock, seeded randomness and
/// timers. Used on the actor only, except the timers' callbacks, which just post work to it.
/// </summary>
internal sealed class NodeEngineContext : IGossipContext
{
    private readonly NodeServices _node;
    private readonly long _start;
    private readonly Dictionary<int, PeerLink> _links = [];
    private readonly Dictionary<long, ITimer> _timers = [];
    private readonly Lock _timersGate = new();
    private readonly List<(PeerLink Link, object Item)> _pending = [];

    public NodeEngineContext(NodeServices node)
    {
        _node = node;
        _start = node.Time.GetTimestamp();
        // Authors are numbered by their interned key when messages are accepted by id, else by their spelling (the v1
        // seq rule's key, numbered from 0 by the actor's author table): this node is then a number no author gets.
        Self = node.ById ? node.Authors.Intern(node.Keys.PublicKey) : OwnUnderSeqRule;
        Random = node.Options.Random ?? new Random();
    }

    /// <summary>This node's number when authors are numbered by spelling (never an author table's number).</summary>
    public const int OwnUnderSeqRule = -2;

    public int Self { get; }

    public TimeSpan Now => _node.Time.GetElapsedTime(_start);

    public Random Random { get; }

    public void Add(PeerLink link) => _links[link.Id] = link;

    public void Remove(PeerLink link) => _links.Remove(link.Id);

    public void Send(int neighbour, IGossipFrame frame)
    {
        if (!_links.TryGetValue(neighbour, out PeerLink? link))
        {
            return;
        }

        switch (frame)
        {
            case V1Line { Line: { } line }:
                _pending.Add((link, line));
                break;
            case PlumtreeMessage { Kind: PlumtreeSendKind.Sync } message:
                link.EnqueueBulk(message); // paced: encoded when the link has nothing live to send
                break;
            default:
                _pending.Add((link, frame)); // encoded by the link's writer, straight into its pipe
                break;
        }

        if (_pending.Count >= MaxPendingSends)
        {
            FlushSends(); // a long turn (a flood being committed) does not hold its peers' frames back
        }
    }

    /// <summary>The most frames a turn of the actor holds before it hands them to the links.</summary>
    private const int MaxPendingSends = 256;

    /// <summary>
    /// Hands the links what the engine sent since the last call, in the order it was sent. The actor calls this when
    /// it has done the work it had (and before it waits on anything else), so a link's writer wakes once for all the
    /// frames a turn of the actor gave it rather than once per frame.
    /// </summary>
    public void FlushSends()
    {
        if (_pending.Count == 0)
        {
            return;
        }

        foreach ((PeerLink link, object item) in _pending)
        {
            if (item is byte[] line)
            {
                link.Enqueue(line);
            }
            else
            {
                link.Enqueue((IGossipFrame)item);
            }
        }

        _pending.Clear();
        if (_pending.Capacity > 4096)
        {
            _pending.Capacity = 256; // a burst's list is not kept
        }
    }

    public void SetTimer(TimeSpan delay, long timerId)
    {
        // The timer is kept until it fires: a timer nothing references can be collected before it fires.
        var state = new StrongBox<(NodeEngineContext Context, long Id)>((this, timerId));
        ITimer timer = _node.Time.CreateTimer(
            static s =>
            {
                var (context, id) = ((StrongBox<(NodeEngineContext, long)>)s!).Value;
                context._node.Actor.Post(new TimerWork(id));
            },
            state,
            Timeout.InfiniteTimeSpan,
            Timeout.InfiniteTimeSpan);
        lock (_timersGate)
        {
            if (_timers.Remove(timerId, out ITimer? replaced))
            {
                replaced.Dispose();
            }

            _timers[timerId] = timer;
        }

        timer.Change(delay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>A timer fired (on the actor): it is forgotten before the engine hears of it.</summary>
    public void Fired(long timerId)
    {
        lock (_timersGate)
        {
            if (_timers.Remove(timerId, out ITimer? timer))
            {
                timer.Dispose();
            }
        }
    }

    /// <summary>Stops every pending timer (the node is stopping).</summary>
    public void StopTimers()
    {
        lock (_timersGate)
        {
            foreach (ITimer timer in _timers.Values)
            {
                timer.Dispose();
            }

            _timers.Clear();
        }
    }

    /// <summary>The core found a neighbour over a budget by far: it is cut, and its address backed off.</summary>
    public void Misbehaved(int neighbour, string reason)
    {
        if (_links.TryGetValue(neighbour, out PeerLink? link))
        {
            _node.Links.Cut(link, reason);
        }
    }

    public void Deliver(MessageId message, int hops)
    {
        // The actor delivers what the engine accepted (after the store commit), not the core.
    }

    public void CountVerify()
    {
        // Verifications are counted where they run.
    }
}
