namespace SecureGossip.Protocol.Core;

/// <summary>
/// Sends retained messages to neighbours: what anti-entropy finds a peer lacks at once, answers to grafts and wants
/// within the asker's response budget (<see cref="PlumtreeOptions.ResponseRate"/>). Past the budget an answer waits
/// its turn in a bounded queue (<see cref="PlumtreeOptions.MaxDeferredResponses"/>) drained as the budget refills, so
/// a neighbour wanting everything gets it paced and cannot make the node amplify its requests.
/// </summary>
internal sealed class Responder(PlumtreeOptions options, NeighbourTable links, RetainedMessages retained, EagerTrees trees, TimerIds timers)
{
    private readonly Dictionary<long, (int Slot, NeighbourBudget Budget)> _drainTimers = [];

    /// <summary>Answers queued because the asker's response budget was spent.</summary>
    public long Deferred { get; private set; }

    /// <summary>Answers not sent because the asker's queue was full.</summary>
    public long Dropped { get; private set; }

    /// <summary>Sends the retained message <paramref name="id"/> to the slot now, if it is still retained and the link up.</summary>
    public void Send(IGossipContext context, int slot, MessageId id, PlumtreeSendKind kind)
    {
        if (retained.TryGet(id, out Retained? message) && links.IsUp(slot))
        {
            links.Send(context, slot, message.ToFrame(id, kind, trees.HasAuthorTree(message.Author), context.Now));
        }
    }

    /// <summary>Answers a graft or want of the slot's with <paramref name="id"/>, now or, past its budget, in its turn.</summary>
    public void Respond(IGossipContext context, int slot, MessageId id, PlumtreeSendKind kind)
    {
        if (!retained.Contains(id) || !links.IsUp(slot))
        {
            return;
        }

        NeighbourBudget budget = links.Budget(slot);
        if (budget.Deferred.Count > 0)
        {
            budget.Responses.Count(1, context.Now); // behind earlier answers: counted, not served first
        }
        else if (budget.Responses.Take(1, context.Now) == 1)
        {
            Send(context, slot, id, kind);
            return;
        }

        if (budget.Deferred.Count >= options.MaxDeferredResponses)
        {
            Dropped++;
            return;
        }

        budget.Deferred.Enqueue((id, kind));
        Deferred++;
        ScheduleDrain(context, slot, budget);
    }

    /// <summary>Handles <paramref name="timerId"/> if it is a drain timer; false if it is not one of these.</summary>
    public bool TryFire(IGossipContext context, long timerId)
    {
        if (!_drainTimers.Remove(timerId, out var drain))
        {
            return false;
        }

        Drain(context, drain.Slot, drain.Budget);
        return true;
    }

    private void ScheduleDrain(IGossipContext context, int slot, NeighbourBudget budget)
    {
        if (budget.DrainScheduled)
        {
            return;
        }

        budget.DrainScheduled = true;
        long timer = timers.Next();
        _drainTimers[timer] = (slot, budget);
        TimeSpan wait = budget.Responses.Until(Math.Max(1, (int)(budget.Responses.Rate / 10)), context.Now);
        context.SetTimer(wait > TimeSpan.FromMilliseconds(10) ? wait : TimeSpan.FromMilliseconds(10), timer);
    }

    private void Drain(IGossipContext context, int slot, NeighbourBudget budget)
    {
        budget.DrainScheduled = false;
        if (!ReferenceEquals(budget, links.Budget(slot)) || !links.IsUp(slot))
        {
            return; // the link went down: its queue went with it
        }

        int granted = budget.Responses.Take(budget.Deferred.Count, context.Now);
        for (int i = 0; i < granted; i++)
        {
            (MessageId id, PlumtreeSendKind kind) = budget.Deferred.Dequeue();
            Send(context, slot, id, kind);
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
}
