namespace SecureGossip.Protocol.Core;

/// <summary>
/// Protocol v2's dissemination and anti-entropy core (docs/PROTOCOL.md §7–§9), as an IO-free state machine:
/// Plumtree's eager push along a spanning tree and lazy announcements elsewhere (Leitão, Pereira, Rodrigues,
/// "Epidemic Broadcast Trees", SRDS 2007), per-author trees optimised by hop count, grafts for missing messages,
/// prunes on duplicates, and EBT-style frontiers exchanged on link up and as deltas, so late joiners and healed
/// partitions get exactly what they lack.
/// </summary>
/// <remarks>
/// Messages are deduplicated by their signed (author, seq) before verification, so each is verified once per node.
/// Forwarding happens when a message is accepted, never on a round. One instance per node; calls never overlap.
/// </remarks>
public sealed class PlumtreeProtocol : IGossipProtocol
{
    private const long IHaveTimer = 1;
    private const long SyncTimer = 2;
    private const long FirstTaskTimer = 16;
    private const int MaxWantAttempts = 10;
    private const int MaxWantIdsPerFrame = 1024; // docs/PROTOCOL.md §4.1
    private const long MaxAcceptedAgeMs = 12 * 60 * 60 * 1000L; // docs/PROTOCOL.md §9.5: a claimed age is clamped

    private readonly PlumtreeOptions _options;
    private readonly Dictionary<int, int> _slotOf = [];
    private readonly List<int> _neighbourOf = [];
    private readonly List<bool> _up = [];
    private readonly List<List<(MessageId Id, int Hops)>> _lazy = [];
    private readonly LinkSet _shared = new();
    private readonly Dictionary<int, LinkSet> _trees = [];
    private readonly Dictionary<int, SeenSeqs> _seen = [];
    private readonly Dictionary<MessageId, Retained> _retained = [];
    private readonly Dictionary<int, List<MessageId>> _retainedByAuthor = [];
    private readonly Dictionary<MessageId, Missing> _missing = [];
    private readonly Dictionary<long, MessageId> _graftTimers = [];
    private readonly Dictionary<long, (int Slot, MessageId[] Ids, int Attempt)> _wantTimers = [];
    private readonly Dictionary<int, TimeSpan> _changed = [];
    private readonly Dictionary<int, (int Last, int Previous)> _firstFrom = [];
    // Allocated on first use: the simulator's nodes never need them, and 10,000 of them share one process.
    private HashSet<UInt128>? _seenDigests;
    private Queue<UInt128>? _seenDigestOrder;
    private Dictionary<int, HashSet<int>>? _mentioned;
    private long _nextTimer = FirstTaskTimer;
    private int _pendingWants;
    private Dictionary<int, TimeSpan>? _fullSyncAnswered;
    private bool _ihaveScheduled;

    /// <summary>Creates one node's state.</summary>
    public PlumtreeProtocol(PlumtreeOptions? options = null)
    {
        _options = options ?? new PlumtreeOptions();
    }

    /// <summary>One instance per node, as a simulator or driver factory wants it.</summary>
    public static Func<int, IGossipProtocol> Factory(PlumtreeOptions? options = null) => _ => new PlumtreeProtocol(options);

    /// <inheritdoc/>
    public void Start(IGossipContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.SetTimer(Jitter(context, _options.SyncInterval), SyncTimer);
    }

    /// <inheritdoc/>
    public void NeighbourUp(IGossipContext context, int neighbour)
    {
        ArgumentNullException.ThrowIfNull(context);
        int slot = SlotOf(neighbour);
        _up[slot] = true;
        _shared.Add(slot); // Plumtree: a new neighbour starts eager
        SendFullFrontier(context, neighbour);
    }

    /// <inheritdoc/>
    public void NeighbourDown(IGossipContext context, int neighbour)
    {
        if (!_slotOf.TryGetValue(neighbour, out int slot))
        {
            return;
        }

        _up[slot] = false;
        _shared.Remove(slot);
        foreach (LinkSet tree in _trees.Values)
        {
            tree.Remove(slot);
        }

        foreach (Retained retained in _retained.Values)
        {
            retained.HaveRemove(slot);
        }

        foreach (Missing missing in _missing.Values)
        {
            missing.Announcers.RemoveAll(a => a.Slot == slot);
        }

        _lazy[slot].Clear();
        _mentioned?.Remove(slot);
        _fullSyncAnswered?.Remove(slot); // a new session of this link gets its full answer
    }

    /// <inheritdoc/>
    public void Publish(IGossipContext context, MessageId message, int payloadBytes)
    {
        ArgumentNullException.ThrowIfNull(context);
        Accept(context, new PlumtreeMessage(message, payloadBytes, PlumtreeSendKind.Eager, 0, false), fromSlot: -1, own: true);
    }

    /// <summary>
    /// The local application published the message whose v1 <paramref name="line"/> is given (a real driver:
    /// the line is what <c>msg</c> frames carry; <paramref name="message"/> is known by its digest).
    /// </summary>
    public void Publish(IGossipContext context, MessageId message, byte[] line)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(line);
        Accept(context, new PlumtreeMessage(message, line.Length, PlumtreeSendKind.Eager, 0, false) { Line = line }, fromSlot: -1, own: true);
    }

    /// <summary>
    /// A message the driver has verified and accepted as new (its own dedup came first, and may already have
    /// recorded it as seen), from the neighbour <paramref name="fromNeighbour"/> or, when null, from outside the
    /// core's links (a v1 peer): it is retained, delivered and forwarded like any other.
    /// </summary>
    public void AcceptVerified(IGossipContext context, int? fromNeighbour, PlumtreeMessage message)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(message);
        if (message.Message.Author == context.Self || _retained.ContainsKey(message.Message))
        {
            return;
        }

        if (fromNeighbour is int neighbour)
        {
            Accept(context, message, SlotOf(neighbour), own: false);
        }
        else
        {
            Accept(context, message with { Kind = PlumtreeSendKind.Sync, Hops = 0 }, fromSlot: -1, own: false);
        }
    }

    /// <summary>
    /// Reloads a message kept across a restart (a store): retained and seen, as old as <paramref name="age"/>,
    /// neither delivered nor forwarded. Call before the first link comes up.
    /// </summary>
    public void Restore(IGossipContext context, MessageId message, byte[] line, TimeSpan age)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(line);
        if (IsSeen(message))
        {
            return;
        }

        MarkSeen(message);
        Retain(message, new RetainedLine(message.Author, line.Length, 0, -1, PlumtreeSendKind.Sync, context.Now)
        {
            Line = line,
            AgeAtAcceptanceMs = (long)Math.Clamp(age.TotalMilliseconds, 0, MaxAcceptedAgeMs),
        });
    }

    /// <summary>Remembers a message as seen without retaining it (a store's seen ids): copies of it are duplicates.</summary>
    public void MarkSeen(MessageId message)
    {
        if (message.HasDigest)
        {
            if (_options.SeenDigests is { } shared)
            {
                shared.Add(message.Digest);
            }
            else if ((_seenDigests ??= []).Add(message.Digest))
            {
                _seenDigestOrder ??= new();
                _seenDigestOrder.Enqueue(message.Digest);
                if (_seenDigestOrder.Count > _options.MaxSeenDigests)
                {
                    _seenDigests.Remove(_seenDigestOrder.Dequeue());
                }
            }
        }
        else
        {
            Seen(message.Author).Add(message.Sequence);
        }
    }

    /// <summary>Whether the message is known: seen or retained (a copy of it would be a duplicate).</summary>
    public bool IsKnown(MessageId message) => IsSeen(message);

    /// <summary>The lines of every retained message of a real link, each author's in the order they were accepted.</summary>
    public IEnumerable<(int Author, byte[] Line)> RetainedLines()
    {
        foreach ((int author, List<MessageId> ids) in _retainedByAuthor)
        {
            foreach (MessageId id in ids)
            {
                if (_retained[id].Line is { } line)
                {
                    yield return (author, line);
                }
            }
        }
    }

    /// <inheritdoc/>
    public void FrameReceived(IGossipContext context, int fromNeighbour, IGossipFrame frame)
    {
        ArgumentNullException.ThrowIfNull(context);
        int slot = SlotOf(fromNeighbour);
        switch (frame)
        {
            case PlumtreeMessage message:
                OnMessage(context, slot, message);
                break;
            case PlumtreeIHave ihave:
                for (int i = 0; i < ihave.Ids.Length; i++)
                {
                    OnIHave(context, slot, ihave.Ids[i], ihave.Hops[i]);
                }

                break;
            case PlumtreeGraft graft:
                OnGraft(context, slot, graft);
                break;
            case PlumtreePrune prune:
                TreeFor(prune.Author, create: prune.Optimisation).Remove(slot);
                break;
            case PlumtreeSync sync:
                OnSync(context, slot, sync);
                break;
            case PlumtreeWant want:
                foreach (MessageId id in want.Ids)
                {
                    SendRetained(context, slot, id, PlumtreeSendKind.Sync);
                }

                break;
        }
    }

    /// <inheritdoc/>
    public void Timer(IGossipContext context, long timerId)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (timerId == IHaveTimer)
        {
            FlushIHaves(context);
        }
        else if (timerId == SyncTimer)
        {
            SweepRetained(context);
            if (_options.SendDeltas)
            {
                SendDeltas(context);
            }

            context.SetTimer(Jitter(context, _options.SyncInterval), SyncTimer);
        }
        else if (_graftTimers.Remove(timerId, out MessageId missing))
        {
            OnGraftTimer(context, missing);
        }
        else if (_wantTimers.Remove(timerId, out var want))
        {
            _pendingWants -= want.Ids.Length;
            // Ask the peer whose frontier showed it has them; ask again (a lost want or answer) until they
            // arrive, a bounded number of times.
            MessageId[] still = [.. want.Ids.Where(id => !IsSeen(id))];
            if (still.Length > 0 && _up[want.Slot] && want.Attempt < MaxWantAttempts)
            {
                foreach (MessageId[] chunk in still.Chunk(MaxWantIdsPerFrame))
                {
                    context.Send(_neighbourOf[want.Slot], new PlumtreeWant(chunk));
                }

                long next = _nextTimer++;
                _wantTimers[next] = (want.Slot, still, want.Attempt + 1);
                _pendingWants += still.Length;
                context.SetTimer(_options.SyncGrace, next);
            }
        }
    }

    private void OnMessage(IGossipContext context, int slot, PlumtreeMessage message)
    {
        MessageId id = message.Message;
        if (id.Author == context.Self || IsSeen(id))
        {
            // A duplicate: never verified. On tree traffic the sender is pruned (the paper's rule).
            if (_retained.TryGetValue(id, out Retained? known))
            {
                known.HaveAdd(slot);
            }

            // A link that brought the first copy of one of this author's last two messages is a parent that lost
            // one race: several messages are in flight at once, and pruning it could leave this node with no
            // parent at all (the other was pruned a message ago), to be repaired only by a graft.
            bool recentParent = _firstFrom.TryGetValue(id.Author, out var first) && (first.Last == slot || first.Previous == slot);
            if (message.Kind is PlumtreeSendKind.Eager or PlumtreeSendKind.Graft && !recentParent)
            {
                // The prune tells the sender to stop pushing this author to us. On the shared tree the paper also
                // drops the link from our own eager set (the tree is undirected). A per-author tree is directed:
                // the sender may be our child for this author, and dropping it would cut its only parent.
                LinkSet tree = TreeFor(id.Author, create: message.AuthorTree);
                if (!ReferenceEquals(tree, _trees.GetValueOrDefault(id.Author)))
                {
                    tree.Remove(slot);
                }

                context.Send(_neighbourOf[slot], new PlumtreePrune(id.Author, Optimisation: false));
            }

            return;
        }

        context.CountVerify();
        Accept(context, message, slot, own: false);
    }

    private void Accept(IGossipContext context, PlumtreeMessage message, int fromSlot, bool own)
    {
        MessageId id = message.Message;
        MarkSeen(id);
        _changed[id.Author] = context.Now;
        Retained retained = message.Line is null
            ? new Retained(id.Author, message.PayloadBytes, message.Hops, fromSlot, message.Kind, context.Now)
            : new RetainedLine(id.Author, message.PayloadBytes, message.Hops, fromSlot, message.Kind, context.Now)
            {
                Line = message.Line,
                AgeAtAcceptanceMs = Math.Clamp(message.AgeMs, 0, MaxAcceptedAgeMs),
            };
        if (fromSlot >= 0)
        {
            retained.HaveAdd(fromSlot);
        }

        Retain(id, retained);
        if (!own)
        {
            context.Deliver(id, message.Hops);
            _firstFrom[id.Author] = (fromSlot, _firstFrom.TryGetValue(id.Author, out var first) ? first.Last : -1);
        }

        // Tree bookkeeping (§7 step 8): on the shared tree the sender of a pushed or grafted copy becomes eager.
        if (fromSlot >= 0 && !_trees.ContainsKey(id.Author) &&
            (message.Kind == PlumtreeSendKind.Graft || (message.Kind == PlumtreeSendKind.Eager && !message.AuthorTree)))
        {
            _shared.Add(fromSlot);
        }

        Forward(context, id, retained, fromSlot);

        if (_missing.Remove(id, out Missing? missing))
        {
            foreach ((int slot, int hops) in missing.Announcers.OrderBy(a => a.Hops == 0 ? int.MaxValue : a.Hops))
            {
                retained.HaveAdd(slot);
                Optimise(context, id, retained, slot, hops);
            }
        }
    }

    /// <summary>Keeps a message for anti-entropy and grafts, evicting the author's oldest past <see cref="PlumtreeOptions.RetainCountPerAuthor"/>.</summary>
    private void Retain(MessageId id, Retained retained)
    {
        _retained[id] = retained;
        if (!_retainedByAuthor.TryGetValue(id.Author, out List<MessageId>? byAuthor))
        {
            _retainedByAuthor[id.Author] = byAuthor = [];
        }

        byAuthor.Add(id);
        if (byAuthor.Count > _options.RetainCountPerAuthor)
        {
            _retained.Remove(byAuthor[0]);
            byAuthor.RemoveAt(0);
        }
    }

    /// <summary>Drops retained messages older than <see cref="PlumtreeOptions.RetainAge"/> (their seen state stays).</summary>
    private void SweepRetained(IGossipContext context)
    {
        List<int>? emptied = null;
        foreach ((int author, List<MessageId> ids) in _retainedByAuthor)
        {
            int expired = 0;
            while (expired < ids.Count && AgeOf(context, _retained[ids[expired]]) >= _options.RetainAge)
            {
                _retained.Remove(ids[expired]);
                expired++;
            }

            ids.RemoveRange(0, expired);
            if (ids.Count == 0)
            {
                (emptied ??= []).Add(author);
            }
        }

        foreach (int author in emptied ?? [])
        {
            _retainedByAuthor.Remove(author);
        }
    }

    private static TimeSpan AgeOf(IGossipContext context, Retained retained) =>
        context.Now - retained.AcceptedAt + TimeSpan.FromMilliseconds(retained.AgeAtAcceptanceMs);

    private void Forward(IGossipContext context, MessageId id, Retained retained, int fromSlot)
    {
        bool authorTree = _trees.TryGetValue(id.Author, out LinkSet? tree);
        LinkSet eager = tree ?? _shared;
        PlumtreeMessage push = Outgoing(context, id, retained, PlumtreeSendKind.Eager, authorTree);
        for (int slot = 0; slot < _up.Count; slot++)
        {
            if (!_up[slot] || slot == fromSlot || retained.HaveContains(slot))
            {
                continue;
            }

            if (eager.Contains(slot))
            {
                context.Send(_neighbourOf[slot], push);
            }
            else
            {
                _lazy[slot].Add((id, retained.Hops + 1));
                if (!_ihaveScheduled)
                {
                    _ihaveScheduled = true;
                    context.SetTimer(_options.IHaveInterval, IHaveTimer);
                }
            }
        }
    }

    private void FlushIHaves(IGossipContext context)
    {
        _ihaveScheduled = false;
        for (int slot = 0; slot < _lazy.Count; slot++)
        {
            List<(MessageId Id, int Hops)> queue = _lazy[slot];
            if (queue.Count == 0)
            {
                continue;
            }

            // An entry whose link has meanwhile shown it has the message is dropped.
            var entries = queue.Where(e => !(_retained.TryGetValue(e.Id, out Retained? r) && r.HaveContains(slot))).ToArray();
            queue.Clear();
            for (int start = 0; start < entries.Length; start += 512)
            {
                var chunk = entries.AsSpan(start, Math.Min(512, entries.Length - start)).ToArray();
                context.Send(_neighbourOf[slot], new PlumtreeIHave([.. chunk.Select(e => e.Id)], [.. chunk.Select(e => e.Hops)]));
            }
        }
    }

    private void OnIHave(IGossipContext context, int slot, MessageId id, int hops)
    {
        if (_retained.TryGetValue(id, out Retained? retained))
        {
            retained.HaveAdd(slot);
            Optimise(context, id, retained, slot, hops);
            return;
        }

        if (id.Author == context.Self || IsSeen(id))
        {
            return;
        }

        if (!_missing.TryGetValue(id, out Missing? missing))
        {
            if (_missing.Count >= _options.MaxMissing)
            {
                return; // §6.1: past the bound, announcements are left to anti-entropy
            }

            _missing[id] = missing = new Missing(context.Now);
            long timer = _nextTimer++;
            _graftTimers[timer] = id;
            context.SetTimer(_options.GraftTimeout1, timer);
        }

        if (missing.Announcers.Count < 4 && !missing.Announcers.Exists(a => a.Slot == slot))
        {
            missing.Announcers.Add((slot, hops));
        }
    }

    private void OnGraftTimer(IGossipContext context, MessageId id)
    {
        if (!_missing.TryGetValue(id, out Missing? missing) || IsSeen(id))
        {
            _missing.Remove(id);
            return;
        }

        if (missing.Announcers.Count == 0 || context.Now - missing.Since > _options.MissingTtl)
        {
            _missing.Remove(id); // anti-entropy covers what remains
            return;
        }

        if (missing.Announcers.TrueForAll(a => missing.Tried.Contains(a.Slot)))
        {
            missing.Tried.Clear();
            missing.Round++;
        }

        (int slot, _) = missing.Announcers
            .Where(a => !missing.Tried.Contains(a.Slot))
            .OrderBy(a => a.Hops == 0 ? int.MaxValue : a.Hops)
            .First();
        missing.Tried.Add(slot);
        context.Send(_neighbourOf[slot], new PlumtreeGraft(id, id.Author));
        TimeSpan wait = _options.GraftTimeout2 * Math.Pow(2, missing.Round);
        long timer = _nextTimer++;
        _graftTimers[timer] = id;
        context.SetTimer(wait < _options.GraftTimeoutMax ? wait : _options.GraftTimeoutMax, timer);
    }

    private void OnGraft(IGossipContext context, int slot, PlumtreeGraft graft)
    {
        if (graft.Id is MessageId id)
        {
            if (_retained.TryGetValue(id, out Retained? retained))
            {
                TreeFor(retained.Author, create: false).Add(slot);
                SendRetained(context, slot, id, PlumtreeSendKind.Graft);
            }

            return;
        }

        TreeFor(graft.Author, create: true).Add(slot);
    }

    /// <summary>
    /// §8.6: an announcement that offers a shorter path than the eager copy had moves this node under the announcer
    /// in the author's tree (graft it, prune the old parent). Strict improvement only, so trees converge to
    /// breadth-first trees from each author and never oscillate.
    /// </summary>
    private void Optimise(IGossipContext context, MessageId id, Retained retained, int announcer, int hops)
    {
        int parent = retained.ArrivalSlot;
        if (retained.Kind != PlumtreeSendKind.Eager || parent < 0 || parent == announcer || hops < 1 ||
            retained.Hops - hops < _options.OptimisationThreshold || retained.Switched || !_up[announcer])
        {
            return;
        }

        retained.Switched = true;
        LinkSet tree = _options.AuthorTrees ? TreeFor(retained.Author, create: true) : _shared;
        tree.Remove(announcer);
        tree.Remove(parent);
        context.Send(_neighbourOf[announcer], new PlumtreeGraft(null, retained.Author));
        if (_up[parent])
        {
            context.Send(_neighbourOf[parent], new PlumtreePrune(retained.Author, Optimisation: _options.AuthorTrees));
        }
    }

    private void SendRetained(IGossipContext context, int slot, MessageId id, PlumtreeSendKind kind)
    {
        if (_retained.TryGetValue(id, out Retained? retained) && _up[slot])
        {
            context.Send(_neighbourOf[slot], Outgoing(context, id, retained, kind, _trees.ContainsKey(retained.Author)));
        }
    }

    private static PlumtreeMessage Outgoing(IGossipContext context, MessageId id, Retained retained, PlumtreeSendKind kind, bool authorTree) =>
        new(id.HasDigest ? MessageId.FromDigest(retained.Author, id.Digest) : id, retained.PayloadBytes, kind, retained.Hops + 1, authorTree)
        {
            Line = retained.Line,
            AgeMs = retained.Line is null ? 0 : (long)AgeOf(context, retained).TotalMilliseconds,
        };

    private void SendDeltas(IGossipContext context)
    {
        TimeSpan window = _options.SyncInterval * _options.SyncWindows;
        foreach (int author in _changed.Where(c => context.Now - c.Value > window).Select(c => c.Key).ToList())
        {
            _changed.Remove(author);
        }

        if (_changed.Count == 0)
        {
            return;
        }

        List<PlumtreeSync> delta = Frontier(context, onlyChanged: true);
        for (int slot = 0; slot < _up.Count; slot++)
        {
            if (_up[slot])
            {
                foreach (PlumtreeSync frame in delta)
                {
                    context.Send(_neighbourOf[slot], frame);
                }
            }
        }
    }

    private void SendFullFrontier(IGossipContext context, int neighbour)
    {
        foreach (PlumtreeSync frame in Frontier(context, onlyChanged: false))
        {
            context.Send(neighbour, frame);
        }
    }

    /// <summary>§9.3: send what the peer lacks; after a delta, ask (after the grace) for what we lack.</summary>
    private void OnSync(IGossipContext context, int slot, PlumtreeSync sync)
    {
        HashSet<int>? mentioned = null;
        if (sync.Full && !(_mentioned ??= []).TryGetValue(slot, out mentioned))
        {
            // §11.4: one full frontier per link session and FullSyncMinInterval is answered; more would let a
            // neighbour make us queue the whole history for it again and again.
            _fullSyncAnswered ??= [];
            if (_fullSyncAnswered.TryGetValue(slot, out TimeSpan last) && context.Now - last < _options.FullSyncMinInterval)
            {
                return;
            }

            _fullSyncAnswered[slot] = context.Now;
            _mentioned[slot] = mentioned = [];
        }

        var wanted = new List<MessageId>();
        foreach (PlumtreeFrontierEntry entry in sync.Entries)
        {
            mentioned?.Add(entry.Author);
            if (entry.Digests is { } digests)
            {
                OnDigestEntry(context, slot, sync.Full, entry.Author, digests, wanted);
                continue;
            }

            var peerAbove = new HashSet<long>(entry.Above);
            if (_retainedByAuthor.TryGetValue(entry.Author, out List<MessageId>? mine))
            {
                foreach (MessageId id in mine)
                {
                    bool peerHas = id.HasDigest || id.Sequence < entry.Floor || peerAbove.Contains(id.Sequence);
                    Retained retained = _retained[id];
                    if (!peerHas && !retained.HaveContains(slot) && (sync.Full || context.Now - retained.AcceptedAt >= _options.SyncGrace))
                    {
                        SendRetained(context, slot, id, PlumtreeSendKind.Sync);
                    }
                }
            }

            if (!sync.Full && entry.Author != context.Self)
            {
                SeenSeqs seen = Seen(entry.Author);
                foreach (long seq in entry.Above)
                {
                    var id = new MessageId(entry.Author, seq);
                    if (!seen.Contains(seq) && !_missing.ContainsKey(id))
                    {
                        wanted.Add(id);
                    }
                }

                // Seqs below the peer's floor that we lack; bounded, so a forged floor cannot make us loop.
                for (long seq = seen.Floor; seq < entry.Floor && wanted.Count < _options.MaxFrontierItemsPerFrame; seq++)
                {
                    if (!seen.Contains(seq))
                    {
                        wanted.Add(new MessageId(entry.Author, seq));
                    }
                }
            }
        }

        if (sync.Full && sync.End)
        {
            // Authors the peer did not mention in any page: it has none of their messages.
            _mentioned!.Remove(slot);
            foreach ((int author, List<MessageId> ids) in _retainedByAuthor)
            {
                if (!mentioned!.Contains(author))
                {
                    foreach (MessageId id in ids)
                    {
                        if (!_retained[id].HaveContains(slot))
                        {
                            SendRetained(context, slot, id, PlumtreeSendKind.Sync);
                        }
                    }
                }
            }
        }

        if (wanted.Count > 0 && _pendingWants + wanted.Count <= _options.MaxMissing)
        {
            long timer = _nextTimer++;
            _wantTimers[timer] = (slot, [.. wanted], 0);
            _pendingWants += wanted.Count;
            context.SetTimer(_options.SyncGrace, timer);
        }
    }

    /// <summary>
    /// An author tracked by digest (§9.1, legacy authors): a full entry lists every digest the peer retains, so
    /// it lacks our retained ones not listed; a delta lists only recent ones, from which we learn what we lack.
    /// </summary>
    private void OnDigestEntry(IGossipContext context, int slot, bool full, int author, UInt128[] digests, List<MessageId> wanted)
    {
        if (full && _retainedByAuthor.TryGetValue(author, out List<MessageId>? mine))
        {
            var peerHas = new HashSet<UInt128>(digests);
            foreach (MessageId id in mine)
            {
                if (id.HasDigest && !peerHas.Contains(id.Digest) && !_retained[id].HaveContains(slot))
                {
                    SendRetained(context, slot, id, PlumtreeSendKind.Sync);
                }
            }
        }

        if (!full && author != context.Self)
        {
            foreach (UInt128 digest in digests)
            {
                MessageId id = MessageId.FromDigest(author, digest);
                if (!IsSeen(id) && !_missing.ContainsKey(id))
                {
                    wanted.Add(id);
                }
            }
        }
    }

    /// <summary>
    /// The frontier (§9.1) as frames of at most <see cref="PlumtreeOptions.MaxFrontierItemsPerFrame"/> items: seq
    /// entries for authors tracked by seq, the retained digests for authors tracked by digest (a delta: only those
    /// accepted within the sync windows). A full frontier is always at least one frame, the last marked End.
    /// </summary>
    private List<PlumtreeSync> Frontier(IGossipContext context, bool onlyChanged)
    {
        var entries = new List<PlumtreeFrontierEntry>();
        IEnumerable<int> seqAuthors = onlyChanged ? _changed.Keys.Where(_seen.ContainsKey) : _seen.Keys;
        foreach (int author in seqAuthors)
        {
            entries.Add(_seen[author].ToEntry(author));
        }

        TimeSpan window = _options.SyncInterval * _options.SyncWindows;
        IEnumerable<int> digestAuthors = onlyChanged ? _changed.Keys.Where(_retainedByAuthor.ContainsKey) : _retainedByAuthor.Keys;
        foreach (int author in digestAuthors)
        {
            UInt128[] digests = [.. _retainedByAuthor[author]
                .Where(id => id.HasDigest && (!onlyChanged || context.Now - _retained[id].AcceptedAt <= window))
                .Select(id => id.Digest)];
            if (digests.Length > 0)
            {
                entries.Add(PlumtreeFrontierEntry.ForDigests(author, digests));
            }
        }

        var frames = new List<PlumtreeSync>();
        var page = new List<PlumtreeFrontierEntry>();
        int items = 0;
        foreach (PlumtreeFrontierEntry entry in entries)
        {
            int size = 1 + entry.Above.Length + (entry.Digests?.Length ?? 0);
            if (page.Count > 0 && items + size > _options.MaxFrontierItemsPerFrame)
            {
                frames.Add(new PlumtreeSync(!onlyChanged, [.. page]) { End = false });
                page.Clear();
                items = 0;
            }

            page.Add(entry);
            items += size;
        }

        if (page.Count > 0 || !onlyChanged)
        {
            frames.Add(new PlumtreeSync(!onlyChanged, [.. page]));
        }

        return frames;
    }

    private bool IsSeen(MessageId id) => id.HasDigest
        ? (_options.SeenDigests?.Contains(id.Digest) ?? _seenDigests?.Contains(id.Digest) == true) || _retained.ContainsKey(id)
        : _seen.TryGetValue(id.Author, out SeenSeqs? seen) && seen.Contains(id.Sequence);

    private SeenSeqs Seen(int author)
    {
        if (!_seen.TryGetValue(author, out SeenSeqs? seen))
        {
            _seen[author] = seen = new SeenSeqs();
        }

        return seen;
    }

    /// <summary>G(a): the author's own tree if it has one (or <paramref name="create"/> asks for one, copied from S), else S.</summary>
    private LinkSet TreeFor(int author, bool create)
    {
        if (!_options.AuthorTrees)
        {
            return _shared;
        }

        if (_trees.TryGetValue(author, out LinkSet? tree))
        {
            return tree;
        }

        if (!create)
        {
            return _shared;
        }

        _trees[author] = tree = _shared.Clone();
        return tree;
    }

    private int SlotOf(int neighbour)
    {
        if (!_slotOf.TryGetValue(neighbour, out int slot))
        {
            slot = _neighbourOf.Count;
            _slotOf[neighbour] = slot;
            _neighbourOf.Add(neighbour);
            _up.Add(false);
            _lazy.Add([]);
        }

        return slot;
    }

    private static TimeSpan Jitter(IGossipContext context, TimeSpan interval) => interval * (0.9 + (0.2 * context.Random.NextDouble()));

    /// <summary>A retained message of a real link: its line (shared by every frame that carries it) and claimed age.</summary>
    private sealed class RetainedLine(int author, int payloadBytes, int hops, int arrivalSlot, PlumtreeSendKind kind, TimeSpan acceptedAt)
        : Retained(author, payloadBytes, hops, arrivalSlot, kind, acceptedAt)
    {
        public override byte[]? Line { get; init; }

        public override long AgeAtAcceptanceMs { get; init; }
    }

    private class Retained(int author, int payloadBytes, int hops, int arrivalSlot, PlumtreeSendKind kind, TimeSpan acceptedAt)
    {
        public int Author { get; } = author;

        /// <summary>The v1 line on real links, null in the simulator.</summary>
        public virtual byte[]? Line { get => null; init => throw new NotSupportedException(); }

        public virtual long AgeAtAcceptanceMs { get => 0; init => throw new NotSupportedException(); }

        public int PayloadBytes { get; } = payloadBytes;

        public int Hops { get; } = hops;

        public int ArrivalSlot { get; } = arrivalSlot;

        public PlumtreeSendKind Kind { get; } = kind;

        public TimeSpan AcceptedAt { get; } = acceptedAt;

        public bool Switched { get; set; }


        // Links known to have the message: the first 64 inline (most nodes have fewer), the rest on demand.
        // Kept per retained message on every node, so it is the core's largest state (docs/PROTOCOL.md §6.5).
        private ulong _have;
        private LinkSet? _haveMore;

        public bool HaveContains(int slot) => slot < 64 ? (_have & (1UL << slot)) != 0 : _haveMore?.Contains(slot) == true;

        public void HaveAdd(int slot)
        {
            if (slot < 64)
            {
                _have |= 1UL << slot;
            }
            else
            {
                (_haveMore ??= new LinkSet()).Add(slot);
            }
        }

        public void HaveRemove(int slot)
        {
            if (slot < 64)
            {
                _have &= ~(1UL << slot);
            }
            else
            {
                _haveMore?.Remove(slot);
            }
        }
    }

    private sealed class Missing(TimeSpan since)
    {
        public TimeSpan Since { get; } = since;

        public List<(int Slot, int Hops)> Announcers { get; } = [];

        public HashSet<int> Tried { get; } = [];

        public int Round { get; set; }
    }

    /// <summary>The seqs seen of one author: every seq below <see cref="Floor"/>, and those in the set above it.</summary>
    private sealed class SeenSeqs
    {
        private readonly HashSet<long> _above = [];

        public long Floor { get; private set; }

        public bool Contains(long seq) => seq < Floor || _above.Contains(seq);

        public void Add(long seq)
        {
            if (seq < Floor)
            {
                return;
            }

            _above.Add(seq);
            while (_above.Remove(Floor))
            {
                Floor++;
            }
        }

        public PlumtreeFrontierEntry ToEntry(int author) => new(author, Floor, [.. _above.Order()]);
    }

    /// <summary>A set of link slots as a growable bit set (most nodes need one word).</summary>
    private sealed class LinkSet
    {
        private ulong[] _bits = new ulong[1];

        public bool Contains(int slot) => slot >> 6 < _bits.Length && (_bits[slot >> 6] & (1UL << slot)) != 0;

        public void Add(int slot)
        {
            if (slot >> 6 >= _bits.Length)
            {
                Array.Resize(ref _bits, (slot >> 6) + 1);
            }

            _bits[slot >> 6] |= 1UL << slot;
        }

        public void Remove(int slot)
        {
            if (slot >> 6 < _bits.Length)
            {
                _bits[slot >> 6] &= ~(1UL << slot);
            }
        }

        public LinkSet Clone() => new() { _bits = (ulong[])_bits.Clone() };
    }
}
