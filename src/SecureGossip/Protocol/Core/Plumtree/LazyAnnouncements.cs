namespace SecureGossip.Protocol.Core;

/// <summary>
/// Plumtree's lazy push (docs/PROTOCOL.md §7): the ids of messages forwarded while a link is not eager for their
/// author are queued for that link, with the hop count it would get, and announced in <c>ihave</c> batches every
/// <see cref="PlumtreeOptions.IHaveInterval"/>. An id the link has meanwhile shown it has leaves the batch.
/// </summary>
internal sealed class LazyAnnouncements(PlumtreeOptions options, NeighbourTable links, RetainedMessages retained)
{
    private const int MaxIdsPerFrame = 512;

    private readonly List<List<(MessageId Id, int Hops)>> _queues = [];
    private bool _scheduled;

    /// <summary>Queues <paramref name="id"/> for the slot's next batch, setting the flush timer if none is set.</summary>
    public void Enqueue(IGossipContext context, int slot, MessageId id, int hops)
    {
        while (_queues.Count <= slot)
        {
            _queues.Add([]);
        }

        _queues[slot].Add((id, hops));
        if (!_scheduled)
        {
            _scheduled = true;
            context.SetTimer(options.IHaveInterval, TimerIds.IHave);
        }
    }

    /// <summary>The flush timer fired: every queued id goes out.</summary>
    public void Flush(IGossipContext context)
    {
        _scheduled = false;
        for (int slot = 0; slot < _queues.Count; slot++)
        {
            List<(MessageId Id, int Hops)> queue = _queues[slot];
            if (queue.Count == 0)
            {
                continue;
            }

            // An entry whose link has meanwhile shown it has the message is dropped (compacted in place).
            int kept = 0;
            for (int i = 0; i < queue.Count; i++)
            {
                (MessageId id, int hops) = queue[i];
                if (!(retained.TryGet(id, out Retained? r) && r.HaveContains(slot)))
                {
                    queue[kept++] = (id, hops);
                }
            }

            for (int start = 0; start < kept; start += MaxIdsPerFrame)
            {
                int count = Math.Min(MaxIdsPerFrame, kept - start);
                var ids = new MessageId[count];
                var hops = new int[count];
                for (int i = 0; i < count; i++)
                {
                    (ids[i], hops[i]) = queue[start + i];
                }

                links.Send(context, slot, new PlumtreeIHave(ids, hops));
            }

            queue.Clear();
            if (queue.Capacity > 4 * MaxIdsPerFrame)
            {
                queue.Capacity = MaxIdsPerFrame; // a burst's queue is not kept
            }
        }
    }

    /// <summary>The slot's link session ended: what was queued for it goes, and so does the queue's memory.</summary>
    public void EndSession(int slot)
    {
        if (slot < _queues.Count)
        {
            _queues[slot].Clear();
            _queues[slot].TrimExcess();
        }
    }
}
