namespace SecureGossip.Protocol.Core;

/// <summary>
/// Messages announced (<c>ihave</c>) but not received, and the grafts that fetch them (docs/PROTOCOL.md §7, §8):
/// <see cref="PlumtreeOptions.GraftTimeout1"/> after the first announcement the nearest announcer is grafted, then
/// the others in turn with a doubling wait, each within its want budget; an announcer that leaves many grafts
/// unanswered is marked unreliable. Bounded by <see cref="PlumtreeOptions.MaxMissing"/> and each neighbour's share;
/// whatever falls outside is left to the eager push and anti-entropy.
/// </summary>
internal sealed class GraftTracker(PlumtreeOptions options, NeighbourTable links, SeenMessages seen, TimerIds timers)
{
    private readonly Dictionary<MessageId, Missing> _missing = [];
    private readonly Dictionary<long, MessageId> _timers = [];

    /// <summary>Ids announced and not yet received.</summary>
    public int Count => _missing.Count;

    /// <summary>Announced ids left alone because a budget or table share was spent.</summary>
    public long IdsIgnored { get; private set; }

    /// <summary>Ids grafted.</summary>
    public long WantsSent { get; private set; }

    /// <summary>Grafts put off because no announcer's want budget allowed one.</summary>
    public long WantsDeferred { get; private set; }

    public bool Contains(MessageId id) => _missing.ContainsKey(id);

    /// <summary>The neighbour in <paramref name="slot"/> announced <paramref name="id"/>, which this node has not seen.</summary>
    public void Announced(IGossipContext context, int slot, MessageId id, int hops)
    {
        NeighbourBudget budget = links.Budget(slot);
        if (!_missing.TryGetValue(id, out Missing? missing))
        {
            // Past the neighbour's announcement budget, its share of the table, or the table's bound (§6.1), an
            // unknown id is left to the eager push and anti-entropy: nothing we send grows with what it claims.
            if (budget.Unreliable || budget.Announcements.Take(1, context.Now) == 0 || budget.MissingAnnounced >= options.MaxMissingPerNeighbour ||
                _missing.Count >= options.MaxMissing)
            {
                IdsIgnored++;
                return;
            }

            _missing[id] = missing = new Missing(context.Now);
            long timer = timers.Next();
            _timers[timer] = id;
            context.SetTimer(options.GraftTimeout1, timer);
        }

        if (missing.Announcers.Count < 4 && budget.MissingAnnounced < options.MaxMissingPerNeighbour &&
            !HasAnnouncer(missing, slot))
        {
            missing.Announcers.Add((slot, hops));
            budget.MissingAnnounced++;
        }
    }

    /// <summary>Whether <paramref name="slot"/> is among the id's announcers (a loop: this runs for every id announced).</summary>
    private static bool HasAnnouncer(Missing missing, int slot)
    {
        foreach ((int announcer, _) in missing.Announcers)
        {
            if (announcer == slot)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Forgets a missing id, settling what its announcers and its last graft counted against their budgets.</summary>
    public Missing? Remove(MessageId id)
    {
        if (!_missing.Remove(id, out Missing? missing))
        {
            return null;
        }

        foreach ((int slot, _) in missing.Announcers)
        {
            links.Budget(slot).MissingAnnounced--;
        }

        if (missing.GraftedTo is { } grafted)
        {
            grafted.WantsOutstanding--;
            missing.GraftedTo = null;
        }

        return missing;
    }

    /// <summary>A link went down: it announces nothing any more.</summary>
    public void RemoveLink(int slot)
    {
        foreach (Missing missing in _missing.Values)
        {
            missing.Announcers.RemoveAll(a => a.Slot == slot);
        }
    }

    /// <summary>Handles <paramref name="timerId"/> if it is a graft timer; false if it is not one of these.</summary>
    public bool TryFire(IGossipContext context, long timerId)
    {
        if (!_timers.Remove(timerId, out MessageId id))
        {
            return false;
        }

        Graft(context, id);
        return true;
    }

    private void Graft(IGossipContext context, MessageId id)
    {
        if (!_missing.TryGetValue(id, out Missing? missing) || seen.Contains(id))
        {
            Remove(id);
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
                links.SlotOfBudget(previous) is int broken and >= 0)
            {
                previous.Unreliable = true;
                links.Report(context, broken, "broken promises");
            }
        }

        if (missing.Announcers.Count == 0 || context.Now - missing.Since > options.MissingTtl ||
            missing.Announcers.TrueForAll(a => links.Budget(a.Slot).Unreliable))
        {
            Remove(id); // anti-entropy covers what remains
            return;
        }

        if (missing.Announcers.TrueForAll(a => missing.WasTried(a.Slot)))
        {
            missing.ClearTried();
            missing.Round++;
        }

        // The nearest untried announcer whose want budget allows one more id; if none does, wait for the budget.
        int slot = -1;
        foreach ((int candidate, _) in missing.Announcers
            .Where(a => !missing.WasTried(a.Slot))
            .OrderBy(a => a.Hops == 0 ? int.MaxValue : a.Hops))
        {
            NeighbourBudget budget = links.Budget(candidate);
            if (!budget.Unreliable && budget.WantsOutstanding < options.MaxWantsPerNeighbour && budget.Wants.Take(1, context.Now) == 1)
            {
                slot = candidate;
                break;
            }
        }

        if (slot < 0)
        {
            WantsDeferred++;
            long retry = timers.Next();
            _timers[retry] = id;
            context.SetTimer(options.GraftTimeout2, retry);
            return;
        }

        missing.MarkTried(slot);
        missing.GraftedTo = links.Budget(slot);
        missing.GraftedTo.WantsOutstanding++;
        WantsSent++;
        links.Send(context, slot, new PlumtreeGraft(id, id.Author));
        TimeSpan wait = options.GraftTimeout2 * Math.Pow(2, missing.Round);
        long timer = timers.Next();
        _timers[timer] = id;
        context.SetTimer(wait < options.GraftTimeoutMax ? wait : options.GraftTimeoutMax, timer);
    }
}
