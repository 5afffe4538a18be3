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

    /// <summary>Retained ids in the order they were retained (with stale entries, compacted when they dominate).</summary>
    private readonly Queue<MessageId> _retainOrder = new();
    private readonly Dictionary<MessageId, Missing> _missing = [];
    private readonly Dictionary<long, MessageId> _graftTimers = [];
    private readonly Dictionary<long, (int Slot, NeighbourBudget Budget, MessageId[] Ids, int Attempt)> _wantTimers = [];
    private readonly Dictionary<long, (int Slot, NeighbourBudget Budget)> _drainTimers = [];
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
    private readonly List<NeighbourBudget> _budgets = [];
    private readonly Dictionary<int, int> _introducedBy = [];
    private long _idsIgnored;
    private long _wantsSent;
    private long _wantsDeferred;
    private long _responsesDeferred;
    private long _responsesDropped;
    private long _framesIgnored;
    private long _neighboursReported;

    /// <summary>Creates one node's state.</summary>
    public PlumtreeProtocol(PlumtreeOptions? options = null)
    {
        _options = options ?? new PlumtreeOptions();
    }

    /// <summary>The core's counters and table sizes (docs/PROTOCOL.md §16a, per-link limits); O(authors) to read.</summary>
    public PlumtreeStatistics Statistics
    {
        get
        {
            var authors = new HashSet<int>(_seen.Keys);
            authors.UnionWith(_trees.Keys);
            authors.UnionWith(_retainedByAuthor.Keys);
            authors.UnionWith(_firstFrom.Keys);
            authors.UnionWith(_changed.Keys);
            return new PlumtreeStatistics(
                _idsIgnored, _wantsSent, _wantsDeferred, _responsesDeferred, _responsesDropped, _framesIgnored, _neighboursReported,
                _missing.Count, _pendingWants, authors.Count, _introducedBy.Count, _budgets.Sum(b => b.Deferred.Count));
        }
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

        foreach (long timer in _wantTimers.Where(w => w.Value.Slot == slot).Select(w => w.Key).ToList())
        {
            _pendingWants -= _wantTimers[timer].Ids.Length;
            _wantTimers.Remove(timer);
        }

        // Every per-neighbour table goes with the link (§16a): its budgets, deferred answers, and the authors only
        // its unsigned frames made us keep.
        NeighbourBudget budget = _budgets[slot];
        foreach (int author in budget.Introduced ?? [])
        {
            if (--_introducedBy[author] == 0)
            {
                _introducedBy.Remove(author);
                if (!IsVerifiedAuthor(author))
                {
                    _trees.Remove(author);
                }
            }
        }

        _budgets[slot] = new NeighbourBudget(_options);
        _lazy[slot].Clear();
        _lazy[slot].TrimExcess();
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

                CheckBudget(context, slot, _budgets[slot].Announcements, "ihave flood");
                break;
            case PlumtreeGraft graft:
                OnGraft(context, slot, graft);
                break;
            case PlumtreePrune prune:
                if (!prune.Optimisation || Introduce(slot, prune.Author))
                {
                    TreeFor(prune.Author, create: prune.Optimisation).Remove(slot);
                }

                break;
            case PlumtreeSync sync:
                OnSync(context, slot, sync);
                break;
            case PlumtreeWant want:
                foreach (MessageId id in want.Ids)
                {
                    Respond(context, slot, id, PlumtreeSendKind.Sync);
                }

                CheckBudget(context, slot, _budgets[slot].Responses, "want flood");
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
            ForgetUnchanged(context);
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
            want.Budget.WantsOutstanding -= want.Ids.Length;
            // Ask the peer whose frontier showed it has them; ask again (a lost want or answer) until they
            // arrive, a bounded number of times, and no faster than the neighbour's want budget.
            MessageId[] still = [.. want.Ids.Where(id => !IsSeen(id))];
            if (still.Length > 0 && _up[want.Slot] && want.Attempt < MaxWantAttempts && ReferenceEquals(want.Budget, _budgets[want.Slot]))
            {
                int granted = want.Budget.Wants.Take(still.Length, context.Now);
                foreach (MessageId[] chunk in still.Take(granted).Chunk(MaxWantIdsPerFrame))
                {
                    context.Send(_neighbourOf[want.Slot], new PlumtreeWant(chunk));
                }

                _wantsSent += granted;
                _wantsDeferred += still.Length - granted;
                long next = _nextTimer++;
                _wantTimers[next] = (want.Slot, want.Budget, still, want.Attempt + 1);
                _pendingWants += still.Length;
                want.Budget.WantsOutstanding += still.Length;
                context.SetTimer(_options.SyncGrace, next);
            }
        }
        else if (_drainTimers.Remove(timerId, out var drain))
        {
            DrainResponses(context, drain.Slot, drain.Budget);
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

        if (RemoveMissing(id) is { } missing)
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
        _retainOrder.Enqueue(id);
        if (byAuthor.Count > _options.RetainCountPerAuthor)
        {
            _retained.Remove(byAuthor[0]);
            byAuthor.RemoveAt(0);
        }

        // The bound in all: the oldest retained message of any author goes.
        while (_retained.Count > _options.RetainMaxMessages && _retainOrder.TryDequeue(out MessageId oldest))
        {
            if (_retained.Remove(oldest) && _retainedByAuthor.TryGetValue(oldest.Author, out List<MessageId>? ids))
            {
                ids.Remove(oldest); // the author's oldest, at the front: cheap
                if (ids.Count == 0)
                {
                    ForgetRetainedAuthor(oldest.Author);
                }
            }
        }

        if (_retainOrder.Count > 2 * Math.Max(_retained.Count, 1024))
        {
            // Entries of messages already evicted or expired: rebuild in retained order.
            MessageId[] live = [.. _retainOrder.Where(_retained.ContainsKey)];
            _retainOrder.Clear();
            foreach (MessageId kept in live)
            {
                _retainOrder.Enqueue(kept);
            }
        }
    }

    private void ForgetRetainedAuthor(int author)
    {
        // Nothing of the author is retained: its tree, parent memory and delta entry go too (rebuilt if it publishes
        // again).
        _retainedByAuthor.Remove(author);
        _firstFrom.Remove(author);
        _changed.Remove(author);
        if (!_seen.ContainsKey(author) && !_introducedBy.ContainsKey(author))
        {
            _trees.Remove(author);
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
            ForgetRetainedAuthor(author);
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

        NeighbourBudget budget = _budgets[slot];
        if (!_missing.TryGetValue(id, out Missing? missing))
        {
            // Past the neighbour's announcement budget, its share of the table, or the table's bound (§6.1), an
            // unknown id is left to the eager push and anti-entropy: nothing we send grows with what it claims.
            if (budget.Unreliable || budget.Announcements.Take(1, context.Now) == 0 || budget.MissingAnnounced >= _options.MaxMissingPerNeighbour ||
                _missing.Count >= _options.MaxMissing)
            {
                _idsIgnored++;
                return;
            }

            _missing[id] = missing = new Missing(context.Now);
            long timer = _nextTimer++;
            _graftTimers[timer] = id;
            context.SetTimer(_options.GraftTimeout1, timer);
        }

        if (missing.Announcers.Count < 4 && budget.MissingAnnounced < _options.MaxMissingPerNeighbour &&
            !missing.Announcers.Exists(a => a.Slot == slot))
        {
            missing.Announcers.Add((slot, hops));
            budget.MissingAnnounced++;
        }
    }

    /// <summary>Forgets a missing id, settling what its announcers and its last graft counted against their budgets.</summary>
    private Missing? RemoveMissing(MessageId id)
    {
        if (!_missing.Remove(id, out Missing? missing))
        {
            return null;
        }

        foreach ((int slot, _) in missing.Announcers)
        {
            _budgets[slot].MissingAnnounced--;
        }

        if (missing.GraftedTo is { } grafted)
        {
            grafted.WantsOutstanding--;
            missing.GraftedTo = null;
        }

        return missing;
    }

    private void OnGraftTimer(IGossipContext context, MessageId id)
    {
        if (!_missing.TryGetValue(id, out Missing? missing) || IsSeen(id))
        {
            RemoveMissing(id);
            return;
        }

        if (missing.GraftedTo is { } previous)
        {
            // The last graft went unanswered: lost, or a promise its announcer never meant to keep. Honest links
            // break a few (loss, retention); a neighbour announcing ids it does not have breaks them by the hundred.
            previous.WantsOutstanding--;
            missing.GraftedTo = null;
            previous.BrokenPromises.Count(1, context.Now);
            if (!previous.Unreliable && previous.BrokenPromises.AskedInWindow >= previous.BrokenPromises.Rate &&
                _budgets.IndexOf(previous) is int broken and >= 0)
            {
                previous.Unreliable = true;
                Report(context, broken, "broken promises");
            }
        }

        if (missing.Announcers.Count == 0 || context.Now - missing.Since > _options.MissingTtl ||
            missing.Announcers.TrueForAll(a => _budgets[a.Slot].Unreliable))
        {
            RemoveMissing(id); // anti-entropy covers what remains
            return;
        }

        if (missing.Announcers.TrueForAll(a => missing.Tried.Contains(a.Slot)))
        {
            missing.Tried.Clear();
            missing.Round++;
        }

        // The nearest untried announcer whose want budget allows one more id; if none does, wait for the budget.
        int slot = -1;
        foreach ((int candidate, _) in missing.Announcers
            .Where(a => !missing.Tried.Contains(a.Slot))
            .OrderBy(a => a.Hops == 0 ? int.MaxValue : a.Hops))
        {
            NeighbourBudget budget = _budgets[candidate];
            if (!budget.Unreliable && budget.WantsOutstanding < _options.MaxWantsPerNeighbour && budget.Wants.Take(1, context.Now) == 1)
            {
                slot = candidate;
                break;
            }
        }

        if (slot < 0)
        {
            _wantsDeferred++;
            long retry = _nextTimer++;
            _graftTimers[retry] = id;
            context.SetTimer(_options.GraftTimeout2, retry);
            return;
        }

        missing.Tried.Add(slot);
        missing.GraftedTo = _budgets[slot];
        missing.GraftedTo.WantsOutstanding++;
        _wantsSent++;
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
                Respond(context, slot, id, PlumtreeSendKind.Graft);
            }

            CheckBudget(context, slot, _budgets[slot].Responses, "graft flood");
            return;
        }

        if (Introduce(slot, graft.Author))
        {
            TreeFor(graft.Author, create: true).Add(slot);
        }
    }

    /// <summary>
    /// Answers a graft or want within the asker's response budget; past it the answer waits its turn (bounded), so a
    /// neighbour wanting everything gets it paced and cannot make the node amplify its requests.
    /// </summary>
    private void Respond(IGossipContext context, int slot, MessageId id, PlumtreeSendKind kind)
    {
        if (!_retained.ContainsKey(id) || !_up[slot])
        {
            return;
        }

        NeighbourBudget budget = _budgets[slot];
        if (budget.Deferred.Count > 0)
        {
            budget.Responses.Count(1, context.Now); // behind earlier answers: counted, not served first
        }
        else if (budget.Responses.Take(1, context.Now) == 1)
        {
            SendRetained(context, slot, id, kind);
            return;
        }

        if (budget.Deferred.Count >= _options.MaxDeferredResponses)
        {
            _responsesDropped++;
            return;
        }

        budget.Deferred.Enqueue((id, kind));
        _responsesDeferred++;
        ScheduleDrain(context, slot, budget);
    }

    private void ScheduleDrain(IGossipContext context, int slot, NeighbourBudget budget)
    {
        if (budget.DrainScheduled)
        {
            return;
        }

        budget.DrainScheduled = true;
        long timer = _nextTimer++;
        _drainTimers[timer] = (slot, budget);
        TimeSpan wait = budget.Responses.Until(Math.Max(1, (int)(budget.Responses.Rate / 10)), context.Now);
        context.SetTimer(wait > TimeSpan.FromMilliseconds(10) ? wait : TimeSpan.FromMilliseconds(10), timer);
    }

    private void DrainResponses(IGossipContext context, int slot, NeighbourBudget budget)
    {
        budget.DrainScheduled = false;
        if (!ReferenceEquals(budget, _budgets[slot]) || !_up[slot])
        {
            return; // the link went down: its queue went with it
        }

        int granted = budget.Responses.Take(budget.Deferred.Count, context.Now);
        for (int i = 0; i < granted; i++)
        {
            (MessageId id, PlumtreeSendKind kind) = budget.Deferred.Dequeue();
            SendRetained(context, slot, id, kind);
        }

        if (budget.Deferred.Count > 0)
        {
            ScheduleDrain(context, slot, budget);
        }
        else
        {
            budget.Deferred.TrimExcess();
        }
    }

    /// <summary>Reports a neighbour that asked <see cref="PlumtreeOptions.MisbehaviourFactor"/> times a budget within its window.</summary>
    private void CheckBudget(IGossipContext context, int slot, TokenBucket bucket, string reason)
    {
        if (bucket.AskedInWindow >= _options.MisbehaviourFactor * bucket.Rate)
        {
            Report(context, slot, reason);
        }
    }

    private void Report(IGossipContext context, int slot, string reason)
    {
        NeighbourBudget budget = _budgets[slot];
        if ((budget.Reported ??= []).Add(reason))
        {
            _neighboursReported++;
            context.Misbehaved(_neighbourOf[slot], reason);
        }
    }

    /// <summary>
    /// Whether an unsigned frame of <paramref name="slot"/>'s naming <paramref name="author"/> may make the core keep
    /// state for it: always for authors of verified messages; otherwise within the neighbour's share of new authors,
    /// which are forgotten with its link unless a verified message of theirs arrives meanwhile.
    /// </summary>
    private bool Introduce(int slot, int author)
    {
        NeighbourBudget budget = _budgets[slot];
        if (IsVerifiedAuthor(author) || budget.Introduced?.Contains(author) == true)
        {
            return true;
        }

        if ((budget.Introduced ??= []).Count >= _options.MaxAuthorsPerNeighbour)
        {
            _framesIgnored++;
            return false;
        }

        budget.Introduced.Add(author);
        _introducedBy[author] = _introducedBy.GetValueOrDefault(author) + 1;
        return true;
    }

    /// <summary>An author known from a verified (or our own) message: its state is not a neighbour's to grow or drop.</summary>
    private bool IsVerifiedAuthor(int author) =>
        _retainedByAuthor.ContainsKey(author) || _firstFrom.ContainsKey(author) || _seen.ContainsKey(author) || _changed.ContainsKey(author);

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

    /// <summary>Authors drop out of deltas after the sync windows (and out of memory, with deltas off too).</summary>
    private void ForgetUnchanged(IGossipContext context)
    {
        TimeSpan window = _options.SyncInterval * _options.SyncWindows;
        foreach (int author in _changed.Where(c => context.Now - c.Value > window).Select(c => c.Key).ToList())
        {
            _changed.Remove(author);
        }
    }

    private void SendDeltas(IGossipContext context)
    {
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
            if (_retainedByAuthor.ContainsKey(entry.Author))
            {
                mentioned?.Add(entry.Author); // only ours matter at the end: the set stays as small as our own
            }

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
                // Looked up, not created: an unsigned frame naming an author we never saw adds no table entry.
                SeenSeqs? seen = _seen.GetValueOrDefault(entry.Author);
                foreach (long seq in entry.Above)
                {
                    var id = new MessageId(entry.Author, seq);
                    if (seen?.Contains(seq) != true && !_missing.ContainsKey(id))
                    {
                        wanted.Add(id);
                    }
                }

                // Seqs below the peer's floor that we lack; bounded, so a forged floor cannot make us loop.
                for (long seq = seen?.Floor ?? 0; seq < entry.Floor && wanted.Count < _options.MaxFrontierItemsPerFrame; seq++)
                {
                    if (seen?.Contains(seq) != true)
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

        // At most the neighbour's share of outstanding wants (and the node's MaxMissing): the rest is asked for after a
        // later delta, so a frontier listing a million ids gets no more than MaxWantsPerNeighbour asked back.
        NeighbourBudget budget = _budgets[slot];
        int room = Math.Max(0, Math.Min(_options.MaxWantsPerNeighbour - budget.WantsOutstanding, _options.MaxMissing - _pendingWants));
        if (wanted.Count > room)
        {
            _idsIgnored += wanted.Count - room;
            wanted.RemoveRange(room, wanted.Count - room);
        }

        if (wanted.Count > 0)
        {
            long timer = _nextTimer++;
            _wantTimers[timer] = (slot, budget, [.. wanted], 0);
            _pendingWants += wanted.Count;
            budget.WantsOutstanding += wanted.Count;
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
            _budgets.Add(new NeighbourBudget(_options));
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

        /// <summary>The budget of the neighbour the last graft went to, until it is settled.</summary>
        public NeighbourBudget? GraftedTo { get; set; }
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
