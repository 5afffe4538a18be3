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
    }

    /// <summary>The core's counters and table sizes (docs/PROTOCOL.md §16a, per-link limits); O(authors) to read.</summary>
    public PlumtreeStatistics Statistics
    {
        get
        {
            var authors = new HashSet<int>(_trees.Authors);
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
                _links.DeferredResponses);
        }
    }

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
        ThrowIfNoDigest(message);
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

        _retained.Add(id, retained);
        if (!own)
        {
            context.Deliver(id, message.Hops);
            _firstFrom[id.Author] = (fromSlot, _firstFrom.TryGetValue(id.Author, out var first) ? first.Last : -1);
        }

        // Tree bookkeeping (§7 step 8): on the shared tree the sender of a pushed or grafted copy becomes eager.
        if (fromSlot >= 0 && !_trees.HasAuthorTree(id.Author) &&
            (message.Kind == PlumtreeSendKind.Graft || (message.Kind == PlumtreeSendKind.Eager && !message.AuthorTree)))
        {
            _trees.Shared.Add(fromSlot);
        }

        Forward(context, id, retained, fromSlot);

        if (_grafts.Remove(id) is { } missing)
        {
            foreach ((int slot, int hops) in missing.Announcers.OrderBy(a => a.Hops == 0 ? int.MaxValue : a.Hops))
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
                _trees.For(retained.Author, create: false).Add(slot);
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
        if (retained.Kind != PlumtreeSendKind.Eager || parent < 0 || parent == announcer || hops < 1 ||
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
