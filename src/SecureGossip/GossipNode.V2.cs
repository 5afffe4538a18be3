using System.Runtime.CompilerServices;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Core;
using SecureGossip.Storage;

namespace SecureGossip;

/// <summary>
/// Protocol v2 on real links (docs/PROTOCOL.md): the IO-free <see cref="PlumtreeProtocol"/> core, driven by this
/// node. The core lives on the commit loop: every event for it (a link that negotiated v2, a control frame, a
/// timer, an accepted or published message) runs there, in order, so it needs no lock. Messages still pass the
/// node's own receive path (dedup by id before verification, one verification, in-order commit); the core only
/// decides where each accepted message goes next on v2 links and what a reconnecting peer lacks.
/// </summary>
public sealed partial class GossipNode
{
    private readonly V2Authors? _v2Authors;
    private readonly CoreDriver? _core;

    /// <summary>Runs <paramref name="work"/> on the commit loop, after everything queued before it.</summary>
    private void PostCore(Action work)
    {
        VerifyJob job = RentJob();
        job.CoreWork = work;
        if (!_commits.Writer.TryWrite(job))
        {
            ReturnJob(job); // the node is shutting down
        }
    }

    private int AuthorIndex(AuthorState author)
    {
        if (author.V2Index < 0)
        {
            author.V2Index = _v2Authors!.Intern(author.Name);
        }

        return author.V2Index;
    }

    /// <summary>
    /// A copy that the receive path found to be a duplicate (<paramref name="author"/> null: one of our own): the
    /// core learns the sender has it, and prunes it for tree traffic. Nothing to do for a v1 line.
    /// </summary>
    private void CoreDuplicate(PeerLink? link, PlumtreeMessage? frame, AuthorState? author, UInt128 id, bool onCommitLoop)
    {
        if (_core is null || link is null || frame is null)
        {
            return;
        }

        PlumtreeMessage copy = frame with { Message = MessageId.FromDigest(author is null ? _core.Self : AuthorIndex(author), id) };
        if (onCommitLoop)
        {
            _core.Received(link, copy);
        }
        else
        {
            PostCore(() => _core.Received(link, copy));
        }
    }

    /// <summary>On the commit loop: an accepted message goes to the core, which forwards it on v2 links.</summary>
    private void CoreAccepted(VerifyJob job, AuthorState author)
    {
        if (_core is null)
        {
            return;
        }

        MessageId id = MessageId.FromDigest(AuthorIndex(author), job.Id);
        if (job.V2Frame is { } frame && job.Source is { CoreId: > 0 } source && _core.IsUp(source))
        {
            _core.Protocol.AcceptVerified(_core, source.CoreId, frame with { Message = id, Line = job.StoredLine });
        }
        else
        {
            _core.Protocol.AcceptVerified(_core, null, new PlumtreeMessage(id, job.StoredLine!.Length, PlumtreeSendKind.Sync, 0, false) { Line = job.StoredLine });
        }
    }

    /// <summary>Adds an accepted message to the store's next commit; false without a store (or when it failed).</summary>
    private bool StoreAccepted(VerifyJob job, AuthorState author)
    {
        if (_options.Store is not { } store)
        {
            return false;
        }

        try
        {
            store.Add(new StoredMessage(job.Id, author.Name, job.SignedSeq ?? job.Seq, Own: false, _options.TimeProvider.GetUtcNow(), job.StoredLine!), durable: false);
            return true;
        }
        catch (Exception e)
        {
            Log.StoreFailed(_logger, e);
            return false;
        }
    }

    /// <summary>
    /// On the commit loop, <see cref="GossipLinkOptions.HelloTimeout"/> after connecting: a peer that has not said hello is a v1 peer, and
    /// gets the retained history as v1 lines (docs/PROTOCOL.md §10.3), each author's in ascending seq because a
    /// secure-gossip 0.3.1 peer drops a seq at or below the highest it has seen. It accepts those above its own
    /// highest and floods them on to its neighbours.
    /// </summary>
    private void CatchUpV1(PeerLink link)
    {
        if (_core is null || link.Version >= 2 || link.Completion.IsCompleted)
        {
            return;
        }

        var lines = _core.Protocol.RetainedLines()
            .Select(r => (r.Author, r.Line, Seq: V1Envelope.TryParse(r.Line, _options.MaxJsonDepth, out V1Envelope envelope) == DropReason.None ? envelope.Seq : double.MaxValue))
            .OrderBy(r => r.Author)
            .ThenBy(r => r.Seq)
            .ToList();
        Log.V1CatchUp(_logger, link.Connection, lines.Count);
        foreach (var retained in lines)
        {
            link.EnqueueBulk(retained.Line);
        }
    }

    /// <summary>Loads the store at construction: the next seq, the ids seen and (for v2) the retained messages.</summary>
    private void LoadStore()
    {
        if (_options.Store is not { } store)
        {
            return;
        }

        DateTimeOffset now = _options.TimeProvider.GetUtcNow();
        // The node commits received messages itself (group commit before delivery); a timer of the store's own would
        // commit ids before their messages are delivered, and a crash in between would lose them for the application.
        GossipStoreSnapshot snapshot = store.Load(now, _options.Retention with { FlushInterval = Timeout.InfiniteTimeSpan });
        _nextSeq = Math.Max(_nextSeq, snapshot.NextSequence);
        if (_core is not null)
        {
            foreach (StoredMessage message in snapshot.Retained)
            {
                TimeSpan age = now - message.AcceptedAt;
                _core.Protocol.Restore(_core, MessageId.FromDigest(_v2Authors!.Intern(message.Author), message.Id), message.Line, age < TimeSpan.Zero ? TimeSpan.Zero : age);
            }
        }

        foreach (UInt128 id in snapshot.SeenIds)
        {
            RememberId(id);
            _core?.Protocol.MarkSeen(MessageId.FromDigest(MessageId.UnknownAuthor, id));
        }
    }

    /// <summary>
    /// The node's own id memory, lent to the core so each seen id is kept once. A message with a copy in
    /// verification counts as seen too: the core must not graft or want what is already here (docs/PROTOCOL.md §8.4,
    /// "id in InFlight: ignore"), which on a loaded node is most of what arrives late.
    /// </summary>
    private sealed class SeenIds(GossipNode node) : IDigestSet
    {
        public bool Contains(UInt128 digest)
        {
            lock (node._gate)
            {
                return node._seenIds.Contains(digest) || node._inFlightIds.Contains(digest);
            }
        }

        public void Add(UInt128 digest)
        {
            lock (node._gate)
            {
                node.RememberId(digest);
            }
        }
    }

    /// <summary>The core's view of this node: its links, clock and timers.</summary>
    private sealed class CoreDriver : IGossipContext
    {
        private readonly GossipNode _node;
        private readonly long _start;
        private readonly Dictionary<int, PeerLink> _links = [];
        private readonly Dictionary<long, ITimer> _timers = [];
        private int _nextLinkId;

        public CoreDriver(GossipNode node, PlumtreeOptions options)
        {
            _node = node;
            _start = node._options.TimeProvider.GetTimestamp();
            Self = node._v2Authors!.Intern(node.Keys.Public);
            Protocol = new PlumtreeProtocol(options);
        }

        public PlumtreeProtocol Protocol { get; }

        public int Self { get; }

        public TimeSpan Now => _node._options.TimeProvider.GetElapsedTime(_start);

        public Random Random { get; } = new();

        public void LinkUp(PeerLink link)
        {
            if (link.CoreId != 0 || link.Completion.IsCompleted)
            {
                return;
            }

            link.CoreId = ++_nextLinkId;
            _links[link.CoreId] = link;
            Protocol.NeighbourUp(this, link.CoreId);
        }

        public void LinkDown(PeerLink link)
        {
            if (link.CoreId != 0 && _links.Remove(link.CoreId))
            {
                Protocol.NeighbourDown(this, link.CoreId);
            }
        }

        public bool IsUp(PeerLink link) => link.CoreId != 0 && _links.ContainsKey(link.CoreId);

        public void Received(PeerLink link, IGossipFrame frame)
        {
            // A msg frame reaches the core here only as a duplicate of a known message; a new one goes through
            // verification and AcceptVerified. Anything else would let an unverified payload be forwarded.
            if (frame is PlumtreeMessage message && !Protocol.IsKnown(message.Message))
            {
                return;
            }

            if (link.CoreId != 0 && _links.ContainsKey(link.CoreId))
            {
                Protocol.FrameReceived(this, link.CoreId, frame);
            }
        }

        public void Send(int neighbour, IGossipFrame frame)
        {
            if (!_links.TryGetValue(neighbour, out PeerLink? link))
            {
                return;
            }

            if (frame is PlumtreeMessage { Kind: PlumtreeSendKind.Sync } message)
            {
                link.EnqueueBulk(message); // paced: encoded when the link has nothing live to send
            }
            else
            {
                link.Enqueue([V2Frames.Encode(frame, _node._v2Authors!)]);
            }
        }

        public void SetTimer(TimeSpan delay, long timerId)
        {
            // The timer is kept until it fires: a timer nothing references can be collected before it fires.
            var state = new StrongBox<(CoreDriver Driver, long Id)>((this, timerId));
            ITimer timer = _node._options.TimeProvider.CreateTimer(
                static s =>
                {
                    var (driver, id) = ((StrongBox<(CoreDriver, long)>)s!).Value;
                    driver._node.PostCore(() => driver.Fired(id));
                },
                state,
                Timeout.InfiniteTimeSpan,
                Timeout.InfiniteTimeSpan);
            lock (_timers)
            {
                if (_timers.Remove(timerId, out ITimer? replaced))
                {
                    replaced.Dispose();
                }

                _timers[timerId] = timer;
            }

            timer.Change(delay, Timeout.InfiniteTimeSpan);
        }

        private void Fired(long timerId)
        {
            lock (_timers)
            {
                if (_timers.Remove(timerId, out ITimer? timer))
                {
                    timer.Dispose();
                }
            }

            Protocol.Timer(this, timerId);
        }

        /// <summary>Stops every pending timer (the node is stopping).</summary>
        public void StopTimers()
        {
            lock (_timers)
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
                _node.CutPeer(link, reason);
            }
        }

        /// <summary>The core's counters (read on any thread: a snapshot may be a moment old).</summary>
        public PlumtreeStatistics Statistics => Protocol.Statistics;

        public void Deliver(MessageId message, int hops)
        {
            // The node delivers on commit, before the core hears of the message.
        }

        public void CountVerify()
        {
            // The node verifies (and counts) before the core hears of the message.
        }
    }
}
