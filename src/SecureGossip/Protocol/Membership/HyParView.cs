namespace SecureGossip.Protocol.Membership;

/// <summary>
/// HyParView membership (Leitão, Pereira, Rodrigues 2007) as one node's IO-free state machine: a small symmetric
/// <em>active view</em> of neighbours whose links dissemination uses, and a larger <em>passive view</em> of addresses
/// learned through joins and shuffles, from which a failed neighbour is replaced at once (docs/PROTOCOL.md §19).
/// </summary>
/// <remarks>
/// <para>
/// The driver feeds it events (<see cref="Start"/>, <see cref="LinkUp"/>, <see cref="LinkDown"/>,
/// <see cref="DialFailed"/>, <see cref="FrameReceived"/>, <see cref="Timer"/>) and carries out what it asks through
/// the <see cref="IMembershipContext{TPeer}"/> of each call: open and close links, send frames, set timers, and
/// report neighbours up and down to dissemination. Calls for one node never overlap. The simulator and a real node
/// drive the same code.
/// </para>
/// <para>
/// Beyond the paper, against a flood of new identities: when the active view must make room it drops a random inbound
/// neighbour before an outbound one, and the passive view drops entries never proven (never a neighbour) before proven
/// ones (<see cref="PassiveView{TPeer}"/>).
/// </para>
/// </remarks>
/// <typeparam name="TPeer">How the driver names a peer; compared with the given comparer.</typeparam>
public sealed class HyParView<TPeer>
    where TPeer : notnull
{
    private const long ShuffleTimer = 1;
    private const long RepairTimer = 2;

    private readonly HyParViewOptions _options;
    private readonly TPeer _self;
    private readonly IEqualityComparer<TPeer> _comparer;
    private readonly List<TPeer> _bootstrap;
    private readonly Dictionary<TPeer, Link> _links;
    private readonly Dictionary<TPeer, Dial> _dialing;
    private readonly List<TPeer> _active = [];
    private readonly PassiveView<TPeer> _passive;
    private readonly Dictionary<long, TPeer> _deadlines = [];
    private readonly HashSet<TPeer> _refused;
    private List<TPeer>? _lastShuffle;
    private int _nextBootstrap;
    private long _nextTimer = 16;
    private TimeSpan? _lastJoin;
    private bool _started;

    /// <summary>Creates the state of the node <paramref name="self"/>, which joins through <paramref name="bootstrap"/> (tried in turn).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public HyParView(TPeer self, IEnumerable<TPeer> bootstrap, HyParViewOptions? options = null, IEqualityComparer<TPeer>? comparer = null)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(bootstrap);
        _options = options ?? new HyParViewOptions();
        _options.Validate();
        _self = self;
        _comparer = comparer ?? EqualityComparer<TPeer>.Default;
        _bootstrap = [.. bootstrap.Where(p => !_comparer.Equals(p, self)).Distinct(_comparer)];
        _links = new Dictionary<TPeer, Link>(_comparer);
        _dialing = new Dictionary<TPeer, Dial>(_comparer);
        _refused = new HashSet<TPeer>(_comparer);
        _passive = new PassiveView<TPeer>(_options.PassiveViewSize);
    }

    /// <summary>This node.</summary>
    public TPeer Self => _self;

    /// <summary>The neighbours dissemination uses, at most <see cref="HyParViewOptions.ActiveViewSize"/>.</summary>
    public IReadOnlyList<TPeer> Active => _active;

    /// <summary>The addresses in reserve, at most <see cref="HyParViewOptions.PassiveViewSize"/>.</summary>
    public IReadOnlyList<TPeer> Passive => _passive.Peers;

    /// <summary>What this node did, for a driver's metrics.</summary>
    public HyParViewCounters Counters { get; } = new();

    /// <summary>Adds addresses to the passive view (e.g. remembered from an earlier run), as proven peers.</summary>
    public void Remember(IEnumerable<TPeer> peers, Random random)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(random);
        foreach (TPeer peer in peers)
        {
            if (!_comparer.Equals(peer, _self) && !IsActive(peer))
            {
                _passive.Add(peer, proven: true, random);
            }
        }
    }

    /// <summary>The node starts: it joins through its bootstrap (or its remembered peers) and sets its timers.</summary>
    public void Start(IMembershipContext<TPeer> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_started)
        {
            return;
        }

        _started = true;
        double jitter = 0.5 + context.Random.NextDouble();
        context.SetTimer(_options.ShuffleInterval * jitter, ShuffleTimer);
        context.SetTimer(_options.RepairInterval, RepairTimer);
        if (_passive.Count > 0)
        {
            Fill(context);
        }

        if (_active.Count + Requests == 0)
        {
            JoinNext(context);
        }
    }

    /// <summary>A link to <paramref name="peer"/> is open: one this node dialled (<paramref name="outbound"/>), or one the peer opened.</summary>
    public void LinkUp(IMembershipContext<TPeer> context, TPeer peer, bool outbound)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_comparer.Equals(peer, _self))
        {
            context.Close(peer);
            return;
        }

        if (!_links.TryGetValue(peer, out Link? link))
        {
            link = new Link(outbound);
            _links[peer] = link;
        }

        if (outbound && _dialing.Remove(peer, out Dial? dial))
        {
            Carry(context, peer, link, dial);
        }
        else if (!link.Active)
        {
            // It must say what it wants within the timeout, or the link is closed.
            link.Deadline = Deadline(context, peer);
        }
    }

    /// <summary>The link to <paramref name="peer"/> went down (the peer failed or closed it).</summary>
    public void LinkDown(IMembershipContext<TPeer> context, TPeer peer)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_links.Remove(peer, out Link? link))
        {
            return;
        }

        if (link.Active)
        {
            _active.Remove(peer);
            context.NeighbourDown(peer);
            Counters.NeighboursFailed++;

            // A neighbour that failed is not kept in reserve: the paper's rule, and what keeps dead addresses out.
            _passive.Remove(peer);
            Fill(context);
        }
    }

    /// <summary>A dial asked for with <see cref="IMembershipContext{TPeer}.Dial"/> failed.</summary>
    public void DialFailed(IMembershipContext<TPeer> context, TPeer peer)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_dialing.Remove(peer, out Dial? dial))
        {
            return;
        }

        Counters.DialsFailed++;
        _passive.Remove(peer);
        if (dial.Kind is DialKind.Neighbour or DialKind.NeighbourHigh)
        {
            Fill(context);
        }

        // A failed join is retried by the repair timer, with the next bootstrap address.
    }

    /// <summary>
    /// The peer behind <paramref name="peer"/> misbehaved (a bad frame, a budget spent by far): it is dropped from
    /// both views and its link closed, and another neighbour is found at once.
    /// </summary>
    public void Misbehaved(IMembershipContext<TPeer> context, TPeer peer)
    {
        ArgumentNullException.ThrowIfNull(context);
        _passive.Remove(peer);
        if (_links.ContainsKey(peer))
        {
            context.Close(peer);
            LinkDown(context, peer);
        }
    }

    /// <summary>A frame arrived on the link to <paramref name="peer"/>.</summary>
    public void FrameReceived(IMembershipContext<TPeer> context, TPeer peer, MembershipFrame<TPeer> frame)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(frame);
        if (!_links.TryGetValue(peer, out Link? link))
        {
            return; // the link was closed here since
        }

        switch (frame)
        {
            case JoinFrame<TPeer>:
                OnJoin(context, peer, link);
                break;
            case ForwardJoinFrame<TPeer> forward:
                OnForwardJoin(context, peer, forward);
                break;
            case NeighbourFrame<TPeer> request:
                OnNeighbour(context, peer, link, request.High);
                break;
            case NeighbourReplyFrame<TPeer> reply:
                OnNeighbourReply(context, peer, link, reply.Accepted);
                break;
            case DisconnectFrame<TPeer>:
                OnDisconnect(context, peer, link);
                break;
            case ShuffleFrame<TPeer> shuffle:
                OnShuffle(context, peer, shuffle);
                break;
            case ShuffleReplyFrame<TPeer> shuffleReply:
                Integrate(context, shuffleReply.Peers, _lastShuffle);
                if (!link.Active && !link.Requesting)
                {
                    CloseLink(context, peer);
                }

                break;
        }
    }

    /// <summary>A timer set through the context fired.</summary>
    public void Timer(IMembershipContext<TPeer> context, long timerId)
    {
        ArgumentNullException.ThrowIfNull(context);
        switch (timerId)
        {
            case ShuffleTimer:
                Shuffle(context);
                context.SetTimer(_options.ShuffleInterval, ShuffleTimer);
                break;
            case RepairTimer:
                _refused.Clear();
                Fill(context);
                if (_active.Count + Requests < _options.ActiveViewSize && _passive.Count == 0 &&
                    (_active.Count == 0 || _lastJoin is not { } last || context.Now - last >= _options.ShuffleInterval) &&
                    !_dialing.Values.Any(d => d.Kind == DialKind.Join))
                {
                    // Short of neighbours with nothing in reserve: the node may be on an island that failures cut off
                    // (its reserve all dead), so it joins again through its bootstrap addresses; at once with no
                    // neighbour, else once a shuffle period, so a node that is merely short does not flood them.
                    JoinNext(context);
                }

                context.SetTimer(_options.RepairInterval, RepairTimer);
                break;
            default:
                if (_deadlines.Remove(timerId, out TPeer? peer))
                {
                    Expire(context, timerId, peer);
                }

                break;
        }
    }

    /// <summary>Neighbour requests in flight: dials made to ask, and requests not answered yet.</summary>
    private int Requests
    {
        get
        {
            int count = 0;
            foreach (Dial dial in _dialing.Values)
            {
                count += dial.Kind is DialKind.Neighbour or DialKind.NeighbourHigh ? 1 : 0;
            }

            foreach (Link link in _links.Values)
            {
                count += link.Requesting ? 1 : 0;
            }

            return count;
        }
    }

    /// <summary>
    /// Fewer than half the active view's neighbours: the node's requests are then high priority (must be accepted).
    /// The paper asks so only with no neighbour at all; a small island that failures left behind (each node with one or
    /// two neighbours inside it, every reserve entry outside it full) would never merge back.
    /// </summary>
    private bool Isolated => _active.Count < (_options.ActiveViewSize + 1) / 2;

    private bool IsActive(TPeer peer) => _links.TryGetValue(peer, out Link? link) && link.Active;

    private void OnJoin(IMembershipContext<TPeer> context, TPeer peer, Link link)
    {
        if (link.Active)
        {
            return;
        }

        Counters.JoinsAccepted++;
        AddActive(context, peer, link);
        foreach (TPeer other in _active)
        {
            if (!_comparer.Equals(other, peer))
            {
                context.Send(other, new ForwardJoinFrame<TPeer>(peer, _options.ActiveRandomWalkLength));
            }
        }
    }

    private void OnForwardJoin(IMembershipContext<TPeer> context, TPeer sender, ForwardJoinFrame<TPeer> frame)
    {
        TPeer joiner = frame.Peer;
        if (_comparer.Equals(joiner, _self))
        {
            return;
        }

        if (frame.Ttl <= 0 || _active.Count <= 1)
        {
            Invite(context, joiner);
            return;
        }

        if (frame.Ttl == _options.PassiveRandomWalkLength && !IsActive(joiner))
        {
            _passive.Add(joiner, proven: false, context.Random);
        }

        if (TryRandomActive(context.Random, sender, joiner, out TPeer next))
        {
            context.Send(next, frame with { Ttl = frame.Ttl - 1 });
        }
        else
        {
            Invite(context, joiner);
        }
    }

    /// <summary>The end of a join's walk: take the joiner as a neighbour (it must accept: it is new).</summary>
    private void Invite(IMembershipContext<TPeer> context, TPeer joiner)
    {
        if (IsActive(joiner) || _dialing.ContainsKey(joiner) || _dialing.Count >= _options.ActiveViewSize)
        {
            return; // at most a view's worth of dials at once, whatever walks a neighbour ends here
        }

        Request(context, joiner, high: true);
    }

    private void OnNeighbour(IMembershipContext<TPeer> context, TPeer peer, Link link, bool high)
    {
        if (link.Active)
        {
            context.Send(peer, new NeighbourReplyFrame<TPeer>(true));
            return;
        }

        if (link.Requesting)
        {
            // Both asked at once: each side takes the other's request as the answer to its own.
            link.Requesting = false;
            AddActive(context, peer, link);
            context.Send(peer, new NeighbourReplyFrame<TPeer>(true));
            return;
        }

        if (high || _active.Count < _options.ActiveViewSize)
        {
            AddActive(context, peer, link);
            context.Send(peer, new NeighbourReplyFrame<TPeer>(true));
        }
        else
        {
            Counters.RequestsRefused++;
            context.Send(peer, new NeighbourReplyFrame<TPeer>(false));
            _passive.Add(peer, proven: false, context.Random);
            link.Deadline = Deadline(context, peer); // it closes; if it does not, we do
        }
    }

    private void OnNeighbourReply(IMembershipContext<TPeer> context, TPeer peer, Link link, bool accepted)
    {
        if (!link.Requesting)
        {
            return;
        }

        link.Requesting = false;
        if (accepted)
        {
            AddActive(context, peer, link);
        }
        else
        {
            _refused.Add(peer);
            CloseLink(context, peer);
            Fill(context);
        }
    }

    private void OnDisconnect(IMembershipContext<TPeer> context, TPeer peer, Link link)
    {
        if (link.Active)
        {
            _active.Remove(peer);
            context.NeighbourDown(peer);
            Counters.NeighboursDropped++;
            _passive.Add(peer, proven: true, context.Random);
        }

        // Not asked again before the next repair: it dropped us to make room, and asking it at once (it must accept
        // when we have no neighbour) would make it drop another, who would ask it back.
        _refused.Add(peer);
        CloseLink(context, peer);
        Fill(context);
    }

    private void OnShuffle(IMembershipContext<TPeer> context, TPeer sender, ShuffleFrame<TPeer> frame)
    {
        if (_comparer.Equals(frame.Origin, _self))
        {
            return;
        }

        if (frame.Ttl > 0 && _active.Count > 1 && TryRandomActive(context.Random, sender, frame.Origin, out TPeer next))
        {
            context.Send(next, frame with { Ttl = frame.Ttl - 1 });
            return;
        }

        Counters.ShufflesAnswered++;
        List<TPeer> reply = _passive.Sample(context.Random, frame.Peers.Length, frame.Origin, _comparer);
        var received = new List<TPeer>(frame.Peers.Length + 1) { frame.Origin };
        received.AddRange(frame.Peers);
        Integrate(context, received, reply);
        if (_links.ContainsKey(frame.Origin))
        {
            context.Send(frame.Origin, new ShuffleReplyFrame<TPeer>([.. reply]));
        }
        else if (!_dialing.ContainsKey(frame.Origin))
        {
            _dialing[frame.Origin] = new Dial(DialKind.ShuffleReply, [.. reply]) { Deadline = Deadline(context, frame.Origin) };
            context.Dial(frame.Origin);
        }
    }

    private void Shuffle(IMembershipContext<TPeer> context)
    {
        if (_active.Count == 0)
        {
            return;
        }

        TPeer target = _active[context.Random.Next(_active.Count)];
        List<TPeer> sample = [.. _active.FromRandomStart(context.Random).Where(p => !_comparer.Equals(p, target)).Take(_options.ShuffleActiveCount)];
        sample.AddRange(_passive.Sample(context.Random, _options.ShufflePassiveCount, target, _comparer));
        _lastShuffle = sample;
        Counters.ShufflesSent++;
        context.Send(target, new ShuffleFrame<TPeer>(_self, [.. sample], _options.ActiveRandomWalkLength));
    }

    /// <summary>Puts received names in the passive view, making room first from what was sent away in exchange.</summary>
    private void Integrate(IMembershipContext<TPeer> context, IReadOnlyList<TPeer> received, IReadOnlyCollection<TPeer>? sentAway)
    {
        foreach (TPeer peer in received)
        {
            if (!_comparer.Equals(peer, _self) && !IsActive(peer))
            {
                _passive.Add(peer, proven: false, context.Random, sentAway);
            }
        }
    }

    /// <summary>Asks passive peers to become neighbours until the active view would be full.</summary>
    private void Fill(IMembershipContext<TPeer> context)
    {
        while (_active.Count + Requests < _options.ActiveViewSize &&
               _passive.TryPick(context.Random, p => !_links.ContainsKey(p) && !_dialing.ContainsKey(p) && !_refused.Contains(p), out TPeer candidate))
        {
            Request(context, candidate, high: Isolated);
        }
    }

    private void Request(IMembershipContext<TPeer> context, TPeer peer, bool high)
    {
        Counters.NeighbourRequests++;
        if (_links.TryGetValue(peer, out Link? link))
        {
            SendRequest(context, peer, link, high);
            return;
        }

        _dialing[peer] = new Dial(high ? DialKind.NeighbourHigh : DialKind.Neighbour, null) { Deadline = Deadline(context, peer) };
        context.Dial(peer);
    }

    private void SendRequest(IMembershipContext<TPeer> context, TPeer peer, Link link, bool high)
    {
        if (link.Requesting)
        {
            return;
        }

        link.Requesting = true;
        link.Deadline = Deadline(context, peer);
        context.Send(peer, new NeighbourFrame<TPeer>(high));
    }

    private void JoinNext(IMembershipContext<TPeer> context)
    {
        for (int i = 0; i < _bootstrap.Count; i++)
        {
            TPeer contact = _bootstrap[_nextBootstrap++ % _bootstrap.Count];
            if (_links.ContainsKey(contact) || _dialing.ContainsKey(contact))
            {
                continue;
            }

            Counters.JoinsSent++;
            _lastJoin = context.Now;
            _dialing[contact] = new Dial(DialKind.Join, null) { Deadline = Deadline(context, contact) };
            context.Dial(contact);
            return;
        }
    }

    /// <summary>What a dial was for, done now that its link is up.</summary>
    private void Carry(IMembershipContext<TPeer> context, TPeer peer, Link link, Dial dial)
    {
        switch (dial.Kind)
        {
            case DialKind.Join:
                context.Send(peer, new JoinFrame<TPeer>());
                AddActive(context, peer, link); // a contact always takes a newcomer
                break;
            case DialKind.Neighbour or DialKind.NeighbourHigh:
                if (link.Active)
                {
                    break;
                }

                SendRequest(context, peer, link, dial.Kind == DialKind.NeighbourHigh || Isolated);
                break;
            case DialKind.ShuffleReply:
                context.Send(peer, new ShuffleReplyFrame<TPeer>(dial.Peers!));
                if (!link.Active && !link.Requesting)
                {
                    CloseLink(context, peer);
                }

                break;
        }
    }

    private void AddActive(IMembershipContext<TPeer> context, TPeer peer, Link link)
    {
        if (link.Active)
        {
            return;
        }

        _passive.Remove(peer);
        if (_active.Count >= _options.ActiveViewSize)
        {
            TPeer victim = ChooseVictim(context.Random);
            Counters.NeighboursEvicted++;
            _active.Remove(victim);
            _links[victim].Active = false;
            context.Send(victim, new DisconnectFrame<TPeer>());
            context.NeighbourDown(victim);
            CloseLink(context, victim);
            _passive.Add(victim, proven: true, context.Random);
        }

        link.Active = true;
        _active.Add(peer);
        context.NeighbourUp(peer);
    }

    /// <summary>
    /// The neighbour to drop to make room: a random inbound one (a flood of newcomers displaces newcomers, not the
    /// peers this node chose), else a random one. Random, not the newest: two nodes with nowhere else to go would
    /// otherwise displace each other for ever.
    /// </summary>
    private TPeer ChooseVictim(Random random)
    {
        int inbound = 0;
        foreach (TPeer peer in _active)
        {
            inbound += _links[peer].Outbound ? 0 : 1;
        }

        if (inbound == 0)
        {
            return _active[random.Next(_active.Count)];
        }

        int pick = random.Next(inbound);
        foreach (TPeer peer in _active)
        {
            if (!_links[peer].Outbound && pick-- == 0)
            {
                return peer;
            }
        }

        throw new InvalidOperationException("unreachable: an inbound neighbour was counted");
    }

    private bool TryRandomActive(Random random, TPeer exceptA, TPeer exceptB, out TPeer peer)
    {
        foreach (TPeer candidate in _active.FromRandomStart(random))
        {
            if (!_comparer.Equals(candidate, exceptA) && !_comparer.Equals(candidate, exceptB))
            {
                peer = candidate;
                return true;
            }
        }

        peer = default!;
        return false;
    }

    /// <summary>Sets a timer for the wait that starts now; the wait records its id, so a later wait is not ended by an earlier timer.</summary>
    private long Deadline(IMembershipContext<TPeer> context, TPeer peer)
    {
        long id = _nextTimer++;
        _deadlines[id] = peer;
        context.SetTimer(_options.RequestTimeout, id);
        return id;
    }

    /// <summary>A dial, a request or an idle inbound link ran out of time.</summary>
    private void Expire(IMembershipContext<TPeer> context, long id, TPeer peer)
    {
        if (_dialing.TryGetValue(peer, out Dial? dial) && dial.Deadline == id)
        {
            DialFailed(context, peer);
            return;
        }

        if (_links.TryGetValue(peer, out Link? link) && link.Deadline == id && !link.Active)
        {
            CloseLink(context, peer);
            if (link.Requesting)
            {
                _refused.Add(peer);
                Fill(context);
            }
        }
    }

    private void CloseLink(IMembershipContext<TPeer> context, TPeer peer)
    {
        if (_links.Remove(peer))
        {
            context.Close(peer);
        }
    }

    private enum DialKind
    {
        Join,
        Neighbour,
        NeighbourHigh,
        ShuffleReply,
    }

    private sealed record Dial(DialKind Kind, TPeer[]? Peers)
    {
        public long Deadline { get; init; }
    }

    private sealed class Link(bool outbound)
    {
        public bool Outbound { get; } = outbound;

        public bool Active { get; set; }

        public bool Requesting { get; set; }

        /// <summary>The timer id of what the link waits for (an answer, a first frame); an older timer does not end it.</summary>
        public long Deadline { get; set; }
    }
}
