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
    // The engine's timers, due in order (time, then the order they were set) under one runtime timer armed for the
    // earliest: a node sets a timer per announced id, and a runtime timer each made a kernel-visible timer-queue entry,
    // an allocation and a wake-up of its own (docs/PROTOCOL.md §16a). Only the actor touches these.
    private readonly PriorityQueue<long, (TimeSpan Due, long Order)> _timerQueue = new();
    private readonly Dictionary<long, (TimeSpan Due, long Order)> _timerDue = [];
    private readonly Lock _timerGate = new();
    private ITimer? _timer;
    private TimeSpan _timerArmedFor = TimeSpan.MaxValue;
    private long _timerOrder;
    private long _timerFiredAtTicks;
    private bool _timersStopped;
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
                // Paced: encoded when the link has nothing live to send. What the core sent before it in this turn
                // (held in _pending) goes to the links first: a tree's beacon, offered to a new link, must not be
                // overtaken by the messages of that tree answering the link's frontier, or the neighbour takes them
                // for messages of a tree it does not know and they miss the hold that would push them on (§8.8).
                FlushSends();
                link.EnqueueBulk(message);
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
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        (TimeSpan Due, long Order) due = (Now + delay, _timerOrder++);
        _timerDue[timerId] = due; // a timer set again with the same id replaces the earlier one
        _timerQueue.Enqueue(timerId, due);
        if (due.Due < _timerArmedFor)
        {
            Arm(due.Due);
        }
    }

    /// <summary>
    /// The engine's timers that were due when the runtime timer last fired, in the order they fell due; the runtime
    /// timer is then armed for the next. A timer that fell due since waits for the next firing, so its work queues
    /// behind what arrived before it was due (a graft timer behind the copy that makes the graft needless), as when
    /// each timer posted its own work. (The engine runs them after this returns, so a timer they set waits for a later firing.)
    /// </summary>
    public void TakeDueTimers(List<long> due)
    {
        _timerArmedFor = TimeSpan.MaxValue;
        TimeSpan now = TimeSpan.FromTicks(Volatile.Read(ref _timerFiredAtTicks));
        while (_timerQueue.TryPeek(out long id, out (TimeSpan Due, long Order) at))
        {
            if (!_timerDue.TryGetValue(id, out (TimeSpan Due, long Order) current) || current != at)
            {
                _timerQueue.Dequeue(); // replaced by a later SetTimer with the same id, or already run
                continue;
            }

            if (at.Due > now)
            {
                Arm(at.Due);
                return;
            }

            _timerQueue.Dequeue();
            _timerDue.Remove(id);
            due.Add(id);
        }
    }

    private void Arm(TimeSpan due)
    {
        _timerArmedFor = due;
        TimeSpan delay = due - Now;
        lock (_timerGate)
        {
            if (_timersStopped)
            {
                return;
            }

            _timer ??= _node.Time.CreateTimer(
                static s =>
                {
                    var context = (NodeEngineContext)s!;
                    Volatile.Write(ref context._timerFiredAtTicks, context.Now.Ticks);
                    context._node.Actor.Post(TimerWork.Due);
                },
                this,
                Timeout.InfiniteTimeSpan,
                Timeout.InfiniteTimeSpan);
            _timer.Change(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Stops the engine's timers (the node is stopping).</summary>
    public void StopTimers()
    {
        lock (_timerGate)
        {
            _timersStopped = true;
            _timer?.Dispose();
            _timer = null;
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
