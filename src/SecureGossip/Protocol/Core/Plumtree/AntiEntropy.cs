namespace SecureGossip.Protocol.Core;

/// <summary>
/// EBT-style anti-entropy (docs/PROTOCOL.md §9): a full frontier to each new link, and every
/// <see cref="PlumtreeOptions.SyncInterval"/> a delta of the authors that changed within the last
/// <see cref="PlumtreeOptions.SyncWindows"/> intervals. What a peer's frontier shows it lacks is sent to it; what it
/// shows this node lacks is asked for with wants after <see cref="PlumtreeOptions.SyncGrace"/>, and again until it
/// arrives, a bounded number of times and within the neighbour's want budget.
/// </summary>
internal sealed class AntiEntropy(
    PlumtreeOptions options,
    NeighbourTable links,
    RetainedMessages retained,
    SeenMessages seen,
    GraftTracker grafts,
    Responder responder,
    TimerIds timers)
{
    private const int MaxWantAttempts = 10;
    private const int MaxWantIdsPerFrame = 1024; // docs/PROTOCOL.md §4.1

    /// <summary>When each author last had a message accepted here, while it is recent enough for deltas.</summary>
    private readonly Dictionary<int, TimeSpan> _changed = [];
    private readonly Dictionary<long, (int Slot, NeighbourBudget Budget, MessageId[] Ids, int Attempt)> _wantTimers = [];

    // Per link, while its full frontier is being answered (the authors it mentioned) and when it last was: made on
    // the first full frontier received.
    private Dictionary<int, HashSet<int>>? _mentioned;
    private Dictionary<int, TimeSpan>? _fullSyncAnswered;

    /// <summary>The authors in the next delta.</summary>
    public Dictionary<int, TimeSpan>.KeyCollection ChangedAuthors => _changed.Keys;

    /// <summary>Ids wanted after deltas, queued or sent, not yet settled.</summary>
    public int PendingWants { get; private set; }

    /// <summary>Frontier-listed ids left alone because the neighbour's share of wants (or the node's) was spent.</summary>
    public long IdsIgnored { get; private set; }

    /// <summary>Ids asked for in wants.</summary>
    public long WantsSent { get; private set; }

    /// <summary>Ids whose want waited for the neighbour's want budget.</summary>
    public long WantsDeferred { get; private set; }

    /// <summary>A message of <paramref name="author"/>'s was accepted: the author goes into deltas for the sync windows.</summary>
    public void Changed(int author, TimeSpan now) => _changed[author] = now;

    public bool HasChanged(int author) => _changed.ContainsKey(author);

    /// <summary>Nothing of the author is kept any more: it leaves the deltas.</summary>
    public void Forget(int author) => _changed.Remove(author);

    /// <summary>The whole frontier, to a link that just came up.</summary>
    public void SendFullFrontier(IGossipContext context, int neighbour)
    {
        foreach (PlumtreeSync frame in Frontier(context, onlyChanged: false))
        {
            context.Send(neighbour, frame);
        }
    }

    /// <summary>The periodic round: authors drop out of deltas after the sync windows; the delta goes to every link up.</summary>
    public void Tick(IGossipContext context)
    {
        TimeSpan window = options.SyncInterval * options.SyncWindows;
        foreach (int author in _changed.Where(c => context.Now - c.Value > window).Select(c => c.Key).ToList())
        {
            _changed.Remove(author);
        }

        if (options.SendDeltas && _changed.Count > 0)
        {
            List<PlumtreeSync> delta = Frontier(context, onlyChanged: true);
            for (int slot = 0; slot < links.Count; slot++)
            {
                if (links.IsUp(slot))
                {
                    foreach (PlumtreeSync frame in delta)
                    {
                        links.Send(context, slot, frame);
                    }
                }
            }
        }
    }

    /// <summary>A link went down: its wants and its full-frontier state go (a new session gets its full answer).</summary>
    public void RemoveLink(int slot)
    {
        foreach (long timer in _wantTimers.Where(w => w.Value.Slot == slot).Select(w => w.Key).ToList())
        {
            PendingWants -= _wantTimers[timer].Ids.Length;
            _wantTimers.Remove(timer);
        }

        _mentioned?.Remove(slot);
        _fullSyncAnswered?.Remove(slot);
    }

    /// <summary>The neighbour wants these retained messages: answered within its response budget.</summary>
    public void OnWant(IGossipContext context, int slot, PlumtreeWant want)
    {
        // Ids named by seq (a want's `s` entries, §4.2) match no retained message: they go unanswered, uncounted.
        foreach (MessageId id in want.Ids)
        {
            responder.Respond(context, slot, id, PlumtreeSendKind.Sync);
        }

        links.CheckBudget(context, slot, links.Budget(slot).Responses, "want flood");
    }

    /// <summary>§9.3: send what the peer lacks; after a delta, ask (after the grace) for what we lack.</summary>
    public void OnSync(IGossipContext context, int slot, PlumtreeSync sync)
    {
        HashSet<int>? mentioned = null;
        if (sync.Full && !(_mentioned ??= []).TryGetValue(slot, out mentioned))
        {
            // §11.4: one full frontier per link session and FullSyncMinInterval is answered; more would let a
            // neighbour make us queue the whole history for it again and again.
            _fullSyncAnswered ??= [];
            if (_fullSyncAnswered.TryGetValue(slot, out TimeSpan last) && context.Now - last < options.FullSyncMinInterval)
            {
                return;
            }

            _fullSyncAnswered[slot] = context.Now;
            _mentioned[slot] = mentioned = [];
        }

        var wanted = new List<MessageId>();
        foreach (PlumtreeFrontierEntry entry in sync.Entries)
        {
            if (retained.HasAuthor(entry.Author))
            {
                mentioned?.Add(entry.Author); // only ours matter at the end: the set stays as small as our own
            }

            // A seq entry (§9.1: another implementation's signed-seq author) names messages by seqs this core, which
            // knows every message by its digest, cannot match: the author counts as mentioned (none of its messages
            // is sent for it), and nothing is wanted from it.
            if (entry.Digests is { } digests)
            {
                OnDigestEntry(context, slot, sync.Full, entry.Author, digests, wanted);
            }
        }

        if (sync.Full && sync.End)
        {
            // Authors the peer did not mention in any page: it has none of their messages.
            _mentioned!.Remove(slot);
            foreach (int author in retained.Authors)
            {
                if (!mentioned!.Contains(author))
                {
                    foreach (MessageId id in retained.OfAuthor(author))
                    {
                        if (!retained[id].HaveContains(slot))
                        {
                            responder.Send(context, slot, id, PlumtreeSendKind.Sync);
                        }
                    }
                }
            }
        }

        // At most the neighbour's share of outstanding wants (and the node's MaxMissing): the rest is asked for after a
        // later delta, so a frontier listing a million ids gets no more than MaxWantsPerNeighbour asked back.
        NeighbourBudget budget = links.Budget(slot);
        int room = Math.Max(0, Math.Min(options.MaxWantsPerNeighbour - budget.WantsOutstanding, options.MaxMissing - PendingWants));
        if (wanted.Count > room)
        {
            IdsIgnored += wanted.Count - room;
            wanted.RemoveRange(room, wanted.Count - room);
        }

        if (wanted.Count > 0)
        {
            long timer = timers.Next();
            _wantTimers[timer] = (slot, budget, [.. wanted], 0);
            PendingWants += wanted.Count;
            budget.WantsOutstanding += wanted.Count;
            context.SetTimer(options.SyncGrace, timer);
        }
    }

    /// <summary>Handles <paramref name="timerId"/> if it is a want timer; false if it is not one of these.</summary>
    public bool TryFire(IGossipContext context, long timerId)
    {
        if (!_wantTimers.Remove(timerId, out var want))
        {
            return false;
        }

        PendingWants -= want.Ids.Length;
        want.Budget.WantsOutstanding -= want.Ids.Length;
        // Ask the peer whose frontier showed it has them; ask again (a lost want or answer) until they
        // arrive, a bounded number of times, and no faster than the neighbour's want budget.
        MessageId[] still = [.. want.Ids.Where(id => !seen.Contains(id))];
        if (still.Length > 0 && links.IsUp(want.Slot) && want.Attempt < MaxWantAttempts && ReferenceEquals(want.Budget, links.Budget(want.Slot)))
        {
            int granted = want.Budget.Wants.Take(still.Length, context.Now);
            foreach (MessageId[] chunk in still.Take(granted).Chunk(MaxWantIdsPerFrame))
            {
                links.Send(context, want.Slot, new PlumtreeWant(chunk));
            }

            WantsSent += granted;
            WantsDeferred += still.Length - granted;
            long next = timers.Next();
            _wantTimers[next] = (want.Slot, want.Budget, still, want.Attempt + 1);
            PendingWants += still.Length;
            want.Budget.WantsOutstanding += still.Length;
            context.SetTimer(options.SyncGrace, next);
        }

        return true;
    }

    /// <summary>
    /// An author's digest entry (§9.1): a full entry lists every digest the peer retains, so it lacks our retained
    /// ones not listed; a delta lists only recent ones, from which we learn what we lack.
    /// </summary>
    private void OnDigestEntry(IGossipContext context, int slot, bool full, int author, UInt128[] digests, List<MessageId> wanted)
    {
        if (full && retained.HasAuthor(author))
        {
            var peerHas = new HashSet<UInt128>(digests);
            foreach (MessageId id in retained.OfAuthor(author))
            {
                if (!peerHas.Contains(id.Digest) && !retained[id].HaveContains(slot))
                {
                    responder.Send(context, slot, id, PlumtreeSendKind.Sync);
                }
            }
        }

        if (!full && author != context.Self)
        {
            foreach (UInt128 digest in digests)
            {
                MessageId id = MessageId.FromDigest(author, digest);
                if (!seen.Contains(id) && !grafts.Contains(id))
                {
                    wanted.Add(id);
                }
            }
        }
    }

    /// <summary>
    /// The frontier (§9.1) as frames of at most <see cref="PlumtreeOptions.MaxFrontierItemsPerFrame"/> items: per
    /// author, the digests of its retained messages (a delta: only authors changed and messages accepted within the
    /// sync windows). A full frontier is always at least one frame, the last marked End.
    /// </summary>
    private List<PlumtreeSync> Frontier(IGossipContext context, bool onlyChanged)
    {
        var entries = new List<PlumtreeFrontierEntry>();
        TimeSpan window = options.SyncInterval * options.SyncWindows;
        IEnumerable<int> authors = onlyChanged ? _changed.Keys.Where(retained.HasAuthor) : retained.Authors;
        foreach (int author in authors)
        {
            var digests = new List<UInt128>();
            foreach (MessageId id in retained.OfAuthor(author))
            {
                if (!onlyChanged || context.Now - retained[id].AcceptedAt <= window)
                {
                    digests.Add(id.Digest);
                }
            }

            if (digests.Count > 0)
            {
                entries.Add(PlumtreeFrontierEntry.ForDigests(author, [.. digests]));
            }
        }

        var frames = new List<PlumtreeSync>();
        var page = new List<PlumtreeFrontierEntry>();
        int items = 0;
        foreach (PlumtreeFrontierEntry entry in entries)
        {
            int size = 1 + entry.Digests!.Length;
            if (page.Count > 0 && items + size > options.MaxFrontierItemsPerFrame)
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
}
