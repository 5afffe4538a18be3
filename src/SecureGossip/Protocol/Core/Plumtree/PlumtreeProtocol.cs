using System.Runtime.CompilerServices;

namespace SecureGossip.Protocol.Core;

/// <summary>
/// Protocol v2's dissemination and anti-entropy core (docs/PROTOCOL.md §7–§9), as an IO-free state machine:
/// Plumtree's eager push along a spanning tree and lazy announcements elsewhere (Leitão, Pereira, Rodrigues,
/// "Epidemic Broadcast Trees", SRDS 2007), per-author trees optimised by hop count, grafts for missing messages,
/// prunes on duplicates, and EBT-style frontiers exchanged on link up and as deltas, so late joiners and healed
/// partitions get exactly what they lack.
/// </summary>
/// <remarks>
/// <para>The core decides where messages go, not whether they are accepted: its driver, the
/// <see cref="Engine.GossipEngine"/> that real nodes and the simulator share, deduplicates every message by its digest
/// before verification (so each is verified once per node) and hands the core each new verified message
/// (<see cref="AcceptVerified"/>), or a duplicate copy as a <c>msg</c> frame (<see cref="FrameReceived"/>: the sender is
/// pruned and known to have it). A <c>msg</c> frame of a message the core does not know is ignored. Every id carries a
/// digest (<see cref="MessageId.HasDigest"/>). Forwarding happens when a message is accepted, never on a round. One
/// instance per node; calls never overlap.</para>
/// <para>This type is the entry point and the tree logic (eager push, prunes, grafts, the §8.6 optimisation). Its
/// parts each own their state: <see cref="NeighbourTable"/> (links, budgets), <see cref="RetainedMessages"/>,
/// <see cref="SeenMessages"/>, <see cref="EagerTrees"/>, <see cref="LazyAnnouncements"/> (<c>ihave</c> batches),
/// <see cref="GraftTracker"/> (missing messages), <see cref="AntiEntropy"/> (frontiers and wants) and
/// <see cref="Responder"/> (answers, paced).</para>
/// </remarks>
public sealed class PlumtreeProtocol : IGossipProtocol
{
    private const long MaxAcceptedAgeMs = 12 * 60 * 60 * 1000L; // docs/PROTOCOL.md §9.5: a claimed age is clamped

    private readonly PlumtreeOptions _options;
    private readonly TimerIds _timers = new();
    private readonly NeighbourTable _links;
    private readonly RetainedMessages _retained;
    private readonly SeenMessages _seen;
    private readonly EagerTrees _trees;
    private readonly LazyAnnouncements _lazy;
    private readonly GraftTracker _grafts;
    private readonly Responder _responder;
    private readonly AntiEntropy _antiEntropy;
    private readonly RootedTrees _rooted;

    /// <summary>Messages this node has published since it started (an author earns its own tree, §8.8).</summary>
    private int _published;

    /// <summary>Per author, the links that brought the first copy of its last two messages (its recent parents).</summary>
    private readonly Dictionary<int, (int Last, int Previous)> _firstFrom = [];

    /// <summary>Creates one node's state.</summary>
    public PlumtreeProtocol(PlumtreeOptions? options = null)
    {
        _options = options ?? new PlumtreeOptions();
        _links = new NeighbourTable(_options);
        _retained = new RetainedMessages(_options, ForgetRetainedAuthor);
        _seen = new SeenMessages(_options, _retained);
        _trees = new EagerTrees(_options);
        _lazy = new LazyAnnouncements(_options, _links, _retained);
        _grafts = new GraftTracker(_options, _links, _seen, _timers);
        _responder = new Responder(_options, _links, _retained, _trees, _timers);
        _antiEntropy = new AntiEntropy(_options, _links, _retained, _seen, _grafts, _responder, _timers);
        _rooted = new RootedTrees(_options);
    }

    /// <summary>How many rooted trees this node knows (§8.8).</summary>
    public int RootedTreeCount => _rooted.Count;

    /// <summary>The core's counters and table sizes (docs/PROTOCOL.md §16a, per-link limits); O(authors) to read.</summary>
    public PlumtreeStatistics Statistics
    {
        get
        {
            // One set, kept and cleared: statistics are read often (a status page, a test's waits) and the union was
            // most of what reading them allocated.
            HashSet<int> authors = _statisticsAuthors;
            authors.Clear();
            authors.UnionWith(_trees.Authors);
            authors.UnionWith(_retained.Authors);
            authors.UnionWith(_firstFrom.Keys);
            authors.UnionWith(_antiEntropy.ChangedAuthors);
            return new PlumtreeStatistics(
                _grafts.IdsIgnored + _antiEntropy.IdsIgnored,
                _grafts.WantsSent + _antiEntropy.WantsSent,
                _grafts.WantsDeferred + _antiEntropy.WantsDeferred,
                _responder.Deferred,
                _responder.Dropped,
                _links.FramesIgnored,
                _links.Reported,
                _grafts.Count,
                _antiEntropy.PendingWants,
                authors.Count,
                _links.IntroducedAuthors,
                _links.DeferredResponses,
                _retained.Count);
        }
    }

    private readonly HashSet<int> _statisticsAuthors = [];

    /// <summary>One bare core per node, as a simulator or driver factory wants it.</summary>
    /// <remarks>A bare core accepts no message from its links (the engine decides acceptance): a simulated node wants
    /// <see cref="Engine.GossipEngine.CreateV2"/>.</remarks>
    [Obsolete("A bare core accepts no message from its links: use GossipEngine.CreateV2, which accepts and drives this core.")]
    public static Func<int, IGossipProtocol> Factory(PlumtreeOptions? options = null) => _ => new PlumtreeProtocol(options);

    /// <inheritdoc/>
    public void Start(IGossipContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.SetTimer(Jitter(context, _options.SyncInterval), TimerIds.Sync);
    }

    /// <inheritdoc/>
    public void NeighbourUp(IGossipContext context, int neighbour)
    {
        ArgumentNullException.ThrowIfNull(context);
        int slot = _links.SlotOf(neighbour);
        _links.SetUp(slot, true);
        _trees.Shared.Add(slot); // Plumtree: a new neighbour starts eager
        OfferTrees(context, slot);
        _antiEntropy.SendFullFrontier(context, neighbour);
    }

    /// <inheritdoc/>
    public void NeighbourDown(IGossipContext context, int neighbour)
    {
        if (!_links.TryGetSlot(neighbour, out int slot))
        {
            return;
        }

        _links.SetUp(slot, false);
        _trees.RemoveLink(slot);
        List<RootedTree>? orphaned = null;
        foreach (RootedTree tree in _rooted.All)
        {
            bool parent = tree.Parent == slot;
            tree.RemoveLink(slot);
            if (parent)
            {
                (orphaned ??= []).Add(tree);
            }
        }

        foreach (RootedTree tree in orphaned ?? [])
        {
            Reparent(context, tree, preferred: -1); // may leave the tree, which changes _rooted
        }

        _retained.RemoveLink(slot);
        _grafts.RemoveLink(slot);
        _antiEntropy.RemoveLink(slot);

        // Every per-neighbour table goes with the link (§16a): its budgets, deferred answers, queued announcements,
        // and the authors only its unsigned frames made us keep.
        foreach (int author in _links.EndSession(slot) ?? [])
        {
            if (!IsVerifiedAuthor(author))
            {
                _trees.Forget(author);
            }
        }

        _lazy.EndSession(slot);
    }

    /// <inheritdoc/>
    public void Publish(IGossipContext context, MessageId message, int payloadBytes)
    {
        ArgumentNullException.ThrowIfNull(context);
        ThrowIfNoDigest(message);
        Accept(context, new PlumtreeMessage(message, payloadBytes, PlumtreeSendKind.Eager, 0, false) { Root = ChooseTree(context) }, fromSlot: -1, own: true);
    }

    /// <summary>
    /// The local application published the message whose v1 <paramref name="line"/> is given (a real driver:
    /// the line is what <c>msg</c> frames carry; <paramref name="message"/> is known by its digest).
    /// </summary>
    public void Publish(IGossipContext context, MessageId message, byte[] line)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(line);
        ThrowIfNoDigest(message);
        Accept(context, new PlumtreeMessage(message, line.Length, PlumtreeSendKind.Eager, 0, false) { Line = line, Root = ChooseTree(context) }, fromSlot: -1, own: true);
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
        ThrowIfNoDigest(message.Message);
        if (message.Message.Author == context.Self || _retained.Contains(message.Message))
        {
            return;
        }

        if (fromNeighbour is int neighbour)
        {
            Accept(context, message, _links.SlotOf(neighbour), own: false);
        }
        else
        {
            // From outside the core's links (a v1 peer): it rides the tree this node is nearest the root of.
            int root = _options.RootedTrees ? _rooted.Nearest(context.Self)?.Root ?? -1 : -1;
            Accept(context, message with { Kind = PlumtreeSendKind.Sync, Hops = 0, Root = root }, fromSlot: -1, own: false);
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
        ThrowIfNoDigest(message);
        if (_seen.Contains(message))
        {
            return;
        }

        _seen.Add(message);
        _retained.Add(message, new RetainedLine(message.Author, line.Length, 0, -1, PlumtreeSendKind.Sync, context.Now)
        {
            Line = line,
            AgeAtAcceptanceMs = (long)Math.Clamp(age.TotalMilliseconds, 0, MaxAcceptedAgeMs),
        });
    }

    /// <summary>Remembers a message as seen without retaining it (a store's seen ids): copies of it are duplicates.</summary>
    public void MarkSeen(MessageId message)
    {
        ThrowIfNoDigest(message);
        _seen.Add(message);
    }

    /// <summary>Whether the message is known: seen or retained (a copy of it would be a duplicate).</summary>
    public bool IsKnown(MessageId message) => _seen.Contains(message);

    /// <summary>The lines of every retained message of a real link, each author's in the order they were accepted.</summary>
    public IEnumerable<(int Author, byte[] Line)> RetainedLines() => _retained.Lines();

    /// <summary>
    /// A frame arrived from the neighbour <paramref name="fromNeighbour"/>: a control frame, or a copy of a message
    /// already known (seen, or this node's own); a <c>msg</c> frame of an unknown message is ignored, since only the
    /// driver accepts messages (<see cref="AcceptVerified"/>).
    /// </summary>
    public void FrameReceived(IGossipContext context, int fromNeighbour, IGossipFrame frame)
    {
        ArgumentNullException.ThrowIfNull(context);
        int slot = _links.SlotOf(fromNeighbour);
        switch (frame)
        {
            case PlumtreeMessage message:
                OnCopy(context, slot, message);
                break;
            case PlumtreeIHave ihave:
                for (int i = 0; i < ihave.Ids.Length; i++)
                {
                    OnIHave(context, slot, ihave.Ids[i], ihave.Hops[i]);
                }

                _links.CheckBudget(context, slot, _links.Budget(slot).Announcements, "ihave flood");
                break;
            case PlumtreeBeacon beacon:
                OnBeacon(context, slot, beacon);
                break;
            case PlumtreeGraft { Rooted: true, Id: null } graft:
                OnChild(context, slot, graft.Author);
                break;
            case PlumtreePrune { Rooted: true } prune:
                OnRootedPrune(context, slot, prune.Author);
                break;
            case PlumtreeGraft graft:
                OnGraft(context, slot, graft);
                break;
            case PlumtreePrune prune:
                if (!prune.Optimisation || Introduce(slot, prune.Author))
                {
                    _trees.For(prune.Author, create: prune.Optimisation).Remove(slot);
                }

                break;
            case PlumtreeSync sync:
                _antiEntropy.OnSync(context, slot, sync);
                break;
            case PlumtreeWant want:
                _antiEntropy.OnWant(context, slot, want);
                break;
        }
    }

    /// <inheritdoc/>
    public void Timer(IGossipContext context, long timerId)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (timerId == TimerIds.IHave)
        {
            _lazy.Flush(context);
        }
        else if (timerId == TimerIds.Sync)
        {
            _retained.Sweep(context.Now);
            _antiEntropy.Tick(context);
            context.SetTimer(Jitter(context, _options.SyncInterval), TimerIds.Sync);
        }
        else if (!_grafts.TryFire(context, timerId) && !_antiEntropy.TryFire(context, timerId))
        {
            _responder.TryFire(context, timerId);
        }
    }

    /// <summary>A copy of a message already known, never verified: on tree traffic the sender is pruned (the paper's rule).</summary>
    private void OnCopy(IGossipContext context, int slot, PlumtreeMessage message)
    {
        MessageId id = message.Message;
        if (id.Author != context.Self && !_seen.Contains(id))
        {
            // Not a copy: a message is accepted only by the driver, after its dedup and verification.
            _links.Ignore();
            return;
        }

        if (_retained.TryGet(id, out Retained? known))
        {
            known.HaveAdd(slot);
        }

        if (message.Root >= 0)
        {
            // A rooted tree's copy: only a push on a link that is not a tree link here is pruned (§8.8); a parent or
            // child is never cut by a duplicate, whichever message raced.
            RootedTree? rooted = _rooted.Get(message.Root);
            if (message.Kind == PlumtreeSendKind.Eager && (rooted is null || !rooted.IsTreeLink(slot)))
            {
                rooted?.Pending.Remove(slot);
                _links.Send(context, slot, rooted?.PruneFrame ?? new PlumtreePrune(message.Root, Optimisation: false) { Rooted = true });
            }

            return;
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
            LinkSet tree = _trees.For(id.Author, create: message.AuthorTree);
            if (!ReferenceEquals(tree, _trees.AuthorTree(id.Author)))
            {
                tree.Remove(slot);
            }

            _links.Send(context, slot, new PlumtreePrune(id.Author, Optimisation: false));
        }
    }

    private void Accept(IGossipContext context, PlumtreeMessage message, int fromSlot, bool own)
    {
        MessageId id = message.Message;
        _seen.Add(id);
        _antiEntropy.Changed(id.Author, context.Now);
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

        retained.Root = message.Root;
        _retained.Add(id, retained);
        if (!own)
        {
            context.Deliver(id, message.Hops);
            _firstFrom[id.Author] = (fromSlot, _firstFrom.TryGetValue(id.Author, out var first) ? first.Last : -1);
        }

        if (message.Root >= 0)
        {
            if (!own && fromSlot >= 0)
            {
                KeepParent(context, message, fromSlot);
            }
        }

        // Tree bookkeeping (§7 step 8): on the shared tree the sender of a pushed or grafted copy becomes eager.
        else if (fromSlot >= 0 && !_trees.HasAuthorTree(id.Author) &&
            (message.Kind == PlumtreeSendKind.Graft || (message.Kind == PlumtreeSendKind.Eager && !message.AuthorTree)))
        {
            _trees.Shared.Add(fromSlot);
        }

        Forward(context, id, retained, fromSlot);

        if (_grafts.Remove(id) is { } missing)
        {
            // Nearest announcer first (hop count 0 = unknown, last); at most four, sorted in place.
            missing.Announcers.Sort(static (x, y) => (x.Hops == 0 ? int.MaxValue : x.Hops).CompareTo(y.Hops == 0 ? int.MaxValue : y.Hops));
            foreach ((int slot, int hops) in missing.Announcers)
            {
                retained.HaveAdd(slot);
                Optimise(context, id, retained, slot, hops);
            }
        }
    }

    /// <summary>Nothing of the author is retained: its tree, parent memory and delta entry go too (rebuilt if it publishes again).</summary>
    private void ForgetRetainedAuthor(int author)
    {
        _firstFrom.Remove(author);
        _antiEntropy.Forget(author);
        if (!_links.IsIntroduced(author))
        {
            _trees.Forget(author);
        }
    }

    /// <summary>Pushes the message to the eager links of its author's tree and queues an announcement for the other links up.</summary>
    private void Forward(IGossipContext context, MessageId id, Retained retained, int fromSlot)
    {
        if (retained.Root >= 0)
        {
            ForwardRooted(context, id, retained, fromSlot);
            return;
        }

        LinkSet? tree = _trees.AuthorTree(id.Author);
        LinkSet eager = tree ?? _trees.Shared;
        PlumtreeMessage push = retained.ToFrame(id, PlumtreeSendKind.Eager, authorTree: tree is not null, context.Now);
        for (int slot = 0; slot < _links.Count; slot++)
        {
            if (!_links.IsUp(slot) || slot == fromSlot || retained.HaveContains(slot))
            {
                continue;
            }

            if (eager.Contains(slot))
            {
                _links.Send(context, slot, push);
            }
            else
            {
                _lazy.Enqueue(context, slot, id, retained.Hops + 1);
            }
        }
    }

    /// <summary>
    /// §8.8: the tree this node's next message rides: its own if it has one; else it starts one when every tree it
    /// knows is rooted farther than <see cref="PlumtreeOptions.RootRadius"/> or it has published enough to earn one;
    /// else the tree it is nearest the root of. -1 (the shared tree) when rooted trees are off or none can be had.
    /// </summary>
    private int ChooseTree(IGossipContext context)
    {
        if (!_options.RootedTrees)
        {
            return -1;
        }

        _published++;
        if (_rooted.Get(context.Self) is not null)
        {
            return context.Self;
        }

        RootedTree? nearest = _rooted.Nearest(context.Self);
        if (_rooted.Count < _options.MaxRootedTrees / 2 && (nearest is null || nearest.Depth > _rooted.Radius(context.Self, _options.RootRadius) || _published >= _options.EarnTreeAfter))
        {
            SendBeacon(context, _rooted.Add(context.Self, depth: 0), except: -1, markPending: true);
            return context.Self;
        }

        return nearest?.Root ?? -1;
    }

    /// <summary>A new link is offered every tree this node is connected in, as a beacon would have (§8.8).</summary>
    private void OfferTrees(IGossipContext context, int slot)
    {
        foreach (RootedTree tree in _rooted.All)
        {
            if (tree.Connected(context.Self))
            {
                _links.Send(context, slot, new PlumtreeBeacon(tree.Root, tree.Depth + 1));
                tree.Pending.Add(slot);
            }
        }
    }

    /// <summary>
    /// A beacon: the first of a tree makes its sender this node's parent (answered by a rooted graft) and goes on to
    /// every other link; a later one says the sender is not our child, and how near the root it is.
    /// </summary>
    private void OnBeacon(IGossipContext context, int slot, PlumtreeBeacon beacon)
    {
        if (beacon.Hops < 1 || !Introduce(slot, beacon.Root))
        {
            _links.Ignore();
            return;
        }

        if (_rooted.Get(beacon.Root) is { } known)
        {
            known.SetNeighbourDepth(slot, beacon.Hops - 1);
            known.Pending.Remove(slot);
            if (known.Parent != slot)
            {
                known.Children.Remove(slot);
            }

            if (beacon.Hops < known.Depth && known.Root != context.Self)
            {
                // A shorter path to the root: take it and tell the neighbours, so the tree becomes breadth-first.
                if (known.Parent != slot)
                {
                    SetParent(context, known, slot);
                }

                known.Depth = beacon.Hops;
                known.Misses = 0;
                SendBeacon(context, known, except: slot, markPending: false);
            }

            return;
        }

        if (beacon.Root == context.Self || _rooted.IsFull)
        {
            return;
        }

        RootedTree tree = _rooted.Add(beacon.Root, beacon.Hops);
        tree.SetNeighbourDepth(slot, beacon.Hops - 1);
        SetParent(context, tree, slot);
        SendBeacon(context, tree, except: slot, markPending: true);
    }

    /// <summary>Sends the tree's beacon (this node's depth + 1) on every link up but <paramref name="except"/>; a first
    /// offer marks each link pending until it answers, a shorter path passed on does not.</summary>
    private void SendBeacon(IGossipContext context, RootedTree tree, int except, bool markPending)
    {
        var beacon = new PlumtreeBeacon(tree.Root, tree.Depth + 1); // one frame for every link
        for (int slot = 0; slot < _links.Count; slot++)
        {
            // A neighbour that already advertised a depth no greater than what this beacon offers gains nothing from it.
            if (slot != except && _links.IsUp(slot) && !tree.NeighbourAtMost(slot, tree.Depth + 1))
            {
                _links.Send(context, slot, beacon);
                if (markPending)
                {
                    tree.Pending.Add(slot);
                }
            }
        }
    }

    /// <summary>Makes <paramref name="parent"/> the tree's parent, told by a rooted graft; the old parent, if another
    /// link still up, is pruned.</summary>
    private void SetParent(IGossipContext context, RootedTree tree, int parent)
    {
        int old = tree.Parent;
        tree.Parent = parent;
        tree.Children.Remove(parent);
        tree.Pending.Remove(parent);
        _links.Send(context, parent, tree.GraftFrame);
        if (old >= 0 && old != parent && _links.IsUp(old))
        {
            _links.Send(context, old, tree.PruneFrame);
        }
    }

    /// <summary>A neighbour chose this node as its parent: it is pushed the tree's messages from now on, and those of
    /// the last <see cref="PlumtreeOptions.TreeHoldTime"/> it may have missed while it had not answered yet.</summary>
    private void OnChild(IGossipContext context, int slot, int root)
    {
        if (_rooted.Get(root) is not { } tree)
        {
            // Not (or no longer) in that tree: the neighbour is told, so it looks for another parent.
            _links.Ignore();
            _links.Send(context, slot, new PlumtreePrune(root, Optimisation: false) { Rooted = true });
            return;
        }

        if (tree.Parent == slot)
        {
            tree.Parent = -1; // cannot be both; the depths make it impossible unless a peer lies
        }

        tree.Children.Add(slot);
        tree.Pending.Remove(slot);
        foreach ((MessageId id, _) in tree.Held(context.Now, _options.TreeHoldTime))
        {
            if (_retained.TryGet(id, out Retained? held) && held.ArrivalSlot != slot && !held.HaveContains(slot))
            {
                held.HaveAdd(slot);
                _links.Send(context, slot, held.ToFrame(id, PlumtreeSendKind.Eager, authorTree: false, context.Now));
            }
        }
    }

    /// <summary>A neighbour stops taking the tree's push from us; if it was our parent, another is chosen.</summary>
    private void OnRootedPrune(IGossipContext context, int slot, int root)
    {
        if (_rooted.Get(root) is not { } tree)
        {
            return;
        }

        if (tree.Parent == slot)
        {
            // Our parent left the tree (it lost its own way to the root): it is no candidate any more.
            tree.RemoveLink(slot);
            Reparent(context, tree, preferred: -1);
            return;
        }

        tree.Children.Remove(slot);
        tree.Pending.Remove(slot);
    }

    /// <summary>A rooted message's first copy: a push from the parent clears its misses; one that came by repair
    /// counts a miss, and enough in a row (or no parent at all) choose a parent again (§8.8).</summary>
    private void KeepParent(IGossipContext context, PlumtreeMessage message, int fromSlot)
    {
        if (_rooted.Get(message.Root) is not { } tree || tree.Root == context.Self)
        {
            return;
        }

        if (message.Kind == PlumtreeSendKind.Eager)
        {
            if (fromSlot == tree.Parent)
            {
                tree.Misses = 0;
            }
            else if (tree.Parent < 0)
            {
                Reparent(context, tree, fromSlot);
            }

            return;
        }

        tree.Misses++;
        if (tree.Parent < 0 || tree.Misses >= _options.ParentMissesBeforeSwitch)
        {
            Reparent(context, tree, fromSlot);
        }
    }

    /// <summary>
    /// Chooses the tree's parent again: <paramref name="preferred"/> (the link that served a repair) if it is nearer
    /// the root than this node, else the nearest neighbour that is, told by a rooted graft (the same parent again if
    /// it lost our first one); the old parent is pruned. A parent is always of smaller depth and depths only
    /// decrease, so parents never form a cycle.
    /// </summary>
    private void Reparent(IGossipContext context, RootedTree tree, int preferred)
    {
        tree.Misses = 0;
        int parent = tree.BestParent(preferred, _links.IsUp);
        if (parent >= 0)
        {
            SetParent(context, tree, parent);
            return;
        }

        if (tree.Parent < 0 && tree.Root != context.Self)
        {
            Leave(context, tree);
        }
    }

    /// <summary>
    /// No neighbour is nearer the root: this node has no way to it (the root failed, or every path to it did). It
    /// leaves the tree and tells its children, which look for another parent or leave in turn; so a tree whose root
    /// is gone dissolves instead of living on in fragments that every message riding it would reach by repair only,
    /// and it stops counting against <see cref="PlumtreeOptions.MaxRootedTrees"/> (§8.8). Its messages still reach us
    /// by announcement and graft; our own go on another tree.
    /// </summary>
    private void Leave(IGossipContext context, RootedTree tree)
    {
        for (int slot = 0; slot < _links.Count; slot++)
        {
            if (tree.Children.Contains(slot) && _links.IsUp(slot))
            {
                _links.Send(context, slot, tree.PruneFrame);
            }
        }

        _rooted.Remove(tree.Root);
    }

    /// <summary>§8.8: a rooted message is pushed to the tree's links here and announced to the others. A message of a
    /// tree this node does not know (its beacon was lost, or came when the node already held
    /// <see cref="PlumtreeOptions.MaxRootedTrees"/>) is announced to every link, and the neighbours that lack it graft:
    /// riding another tree from here would bring copies to every node that already has it.</summary>
    private void ForwardRooted(IGossipContext context, MessageId id, Retained retained, int fromSlot)
    {
        RootedTree? tree = _rooted.Get(retained.Root);
        PlumtreeMessage? push = null; // one frame for every tree link, made only if one is pushed to
        bool held = false;
        for (int slot = 0; slot < _links.Count; slot++)
        {
            if (!_links.IsUp(slot) || slot == fromSlot || retained.HaveContains(slot))
            {
                continue;
            }

            if (tree is not null && tree.IsTreeLink(slot))
            {
                _links.Send(context, slot, push ??= retained.ToFrame(id, PlumtreeSendKind.Eager, authorTree: false, context.Now));
                retained.HaveAdd(slot); // a link is a reliable stream for its session: a child that re-chooses us is not pushed it again
                continue;
            }

            if (tree is not null && !held)
            {
                // Whoever got only the announcement may choose this node as its parent in a moment (a first answer to
                // the beacon, or a shorter path taken): it is then pushed this message rather than left to graft it
                // after GraftTimeout1, as it would be if the copy its old parent no longer sends were lost.
                tree.Hold(id, context.Now, _options.TreeHoldTime);
                held = true;
            }

            _lazy.Enqueue(context, slot, id, retained.Hops + 1);
        }
    }

    private void OnIHave(IGossipContext context, int slot, MessageId id, int hops)
    {
        if (!id.HasDigest)
        {
            return; // names no message: every message is known by its digest (the wire's ihave carries nothing else)
        }

        if (_retained.TryGet(id, out Retained? retained))
        {
            retained.HaveAdd(slot);
            Optimise(context, id, retained, slot, hops);
            return;
        }

        if (id.Author == context.Self || _seen.Contains(id))
        {
            return;
        }

        _grafts.Announced(context, slot, id, hops);
    }

    private void OnGraft(IGossipContext context, int slot, PlumtreeGraft graft)
    {
        if (graft.Id is MessageId id)
        {
            if (_retained.TryGet(id, out Retained? retained))
            {
                if (retained.Root < 0)
                {
                    _trees.For(retained.Author, create: false).Add(slot); // a rooted tree is repaired by pull, not reshaped
                }

                _responder.Respond(context, slot, id, PlumtreeSendKind.Graft);
            }

            _links.CheckBudget(context, slot, _links.Budget(slot).Responses, "graft flood");
            return;
        }

        if (Introduce(slot, graft.Author))
        {
            _trees.For(graft.Author, create: true).Add(slot);
        }
    }

    /// <summary>Whether an unsigned frame naming <paramref name="author"/> may make the core keep its state.</summary>
    private bool Introduce(int slot, int author) => _links.Introduce(slot, author, IsVerifiedAuthor(author));

    /// <summary>An author known from a verified (or our own) message: its state is not a neighbour's to grow or drop.</summary>
    private bool IsVerifiedAuthor(int author) =>
        _retained.HasAuthor(author) || _firstFrom.ContainsKey(author) || _antiEntropy.HasChanged(author);

    /// <summary>
    /// §8.6: an announcement that offers a shorter path than the eager copy had moves this node under the announcer
    /// in the author's tree (graft it, prune the old parent). Strict improvement only, so trees converge to
    /// breadth-first trees from each author and never oscillate.
    /// </summary>
    private void Optimise(IGossipContext context, MessageId id, Retained retained, int announcer, int hops)
    {
        int parent = retained.ArrivalSlot;
        if (retained.Root >= 0 || retained.Kind != PlumtreeSendKind.Eager || parent < 0 || parent == announcer || hops < 1 ||
            retained.Hops - hops < _options.OptimisationThreshold || retained.Switched || !_links.IsUp(announcer))
        {
            return;
        }

        retained.Switched = true;
        LinkSet tree = _options.AuthorTrees ? _trees.For(retained.Author, create: true) : _trees.Shared;
        tree.Remove(announcer);
        tree.Remove(parent);
        _links.Send(context, announcer, new PlumtreeGraft(null, retained.Author));
        if (_links.IsUp(parent))
        {
            _links.Send(context, parent, new PlumtreePrune(retained.Author, Optimisation: _options.AuthorTrees));
        }
    }

    /// <summary>Every message is known by its digest (<see cref="MessageId.HasDigest"/>), on real links and in the simulator.</summary>
    private static void ThrowIfNoDigest(MessageId message, [CallerArgumentExpression(nameof(message))] string? name = null)
    {
        if (!message.HasDigest)
        {
            throw new ArgumentException($"The message id {message} has no digest; the core knows messages by digest only.", name);
        }
    }

    private static TimeSpan Jitter(IGossipContext context, TimeSpan interval) => interval * (0.9 + (0.2 * context.Random.NextDouble()));
}
