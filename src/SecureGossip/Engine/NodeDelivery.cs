using System.Threading.Channels;
using SecureGossip.Storage;

namespace SecureGossip.Engine;

/// <summary>
/// Hands accepted messages to the application, on the actor: the <see cref="GossipNode.MessageReceived"/> handlers,
/// every subscription, and the CLI's sink. With a store, a message is delivered only once its id is committed: one
/// commit for everything accepted since the last (group commit, docs/PROTOCOL.md §11.3), taken when the actor would
/// wait, when <see cref="MaxBatch"/> are pending, or when the oldest has waited 5 ms behind other work.
/// </summary>
internal sealed class NodeDelivery(NodeServices node, Action<GossipMessage> raise)
{
    /// <summary>Most messages delivered per group commit; a burst commits at least this often.</summary>
    public const int MaxBatch = 256;

    private readonly Lock _subscribersGate = new();
    private readonly List<(GossipMessage Message, GossipSubscription[] Subscribers)> _undelivered = [];
    private readonly List<PublishWork> _held = [];
    private GossipSubscription[] _subscribers = [];
    private long _oldestPending;

    /// <summary>Messages prepared for the sink or waiting for their store commit since the last commit.</summary>
    public int Pending { get; private set; }

    /// <summary>Sends a published message whose record has been committed (set by the actor).</summary>
    public Action<PublishWork>? Release { get; set; }

    /// <summary>See <see cref="GossipNode.DeliverySink"/>.</summary>
    public IDeliverySink? Sink { get; set; }

    /// <summary>The oldest pending delivery has waited 5 ms behind other work (control frames, a catch-up).</summary>
    public bool Overdue => Pending > 0 && node.Time.GetTimestamp() - _oldestPending > node.Time.TimestampFrequency / 200;

    public GossipSubscription Subscribe()
    {
        var channel = Channel.CreateBounded<GossipMessage>(new BoundedChannelOptions(node.Options.SubscriberCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });
        var subscription = new GossipSubscription(channel, Unsubscribe);
        lock (_subscribersGate)
        {
            _subscribers = [.. _subscribers, subscription];
        }

        return subscription;
    }

    public void CompleteSubscriptions()
    {
        foreach (GossipSubscription subscription in Volatile.Read(ref _subscribers))
        {
            subscription.Complete();
        }
    }

    /// <summary>An accepted message: delivered now, or after the next commit when <paramref name="stored"/>.</summary>
    public async ValueTask AcceptedAsync(GossipMessage message, bool stored)
    {
        GossipSubscription[] subscribers = Volatile.Read(ref _subscribers);
        if (stored)
        {
            Sink?.Prepare(message);
            _undelivered.Add((message, subscribers));
            MarkPending();
            return;
        }

        if (Sink is { } sink)
        {
            // Nothing to make durable: the sink still gets the batch in one Commit, at the same boundaries.
            sink.Prepare(message);
            MarkPending();
        }

        await DeliverAsync(message, subscribers);
    }

    /// <summary>A published message whose record was added to the store: it is sent after the next commit.</summary>
    public void HoldUntilCommitted(PublishWork publish)
    {
        _held.Add(publish);
        MarkPending();
    }

    /// <summary>Commits the store, then sends the published messages and delivers the accepted ones it made durable, in order.</summary>
    public async Task CommitAsync()
    {
        Pending = 0;
        if ((_undelivered.Count > 0 || _held.Count > 0) && node.Options.Store is { } store)
        {
            long started = node.Time.GetTimestamp();
            try
            {
                store.Flush();
                Interlocked.Increment(ref node.Counters.StoreCommits);
            }
            catch (Exception e)
            {
                // Delivering without the record risks a second delivery after a crash; holding messages back for a
                // store that may never come back would lose them. The error is logged; delivery goes on.
                Log.StoreFailed(node.Logger, e);
            }

            Volatile.Write(ref node.Counters.StoreLagTicks, node.Time.GetTimestamp() - started);
        }

        // Sent only now: a crash before the commit loses the message unsent, never a seq that a peer has seen.
        PublishWork[] released = [.. _held];
        _held.Clear();
        foreach (PublishWork publish in released)
        {
            Release?.Invoke(publish);
        }

        try
        {
            Sink?.Commit();
        }
        catch (Exception e)
        {
            Log.HandlerFailed(node.Logger, e);
        }

        // Taken out before delivering: a delivery that fails part-way must not deliver the others twice later.
        (GossipMessage Message, GossipSubscription[] Subscribers)[] batch = [.. _undelivered];
        _undelivered.Clear();
        foreach ((GossipMessage message, GossipSubscription[] subscribers) in batch)
        {
            await DeliverAsync(message, subscribers);
        }
    }

    private void MarkPending()
    {
        if (Pending++ == 0)
        {
            _oldestPending = node.Time.GetTimestamp();
        }
    }

    private async ValueTask DeliverAsync(GossipMessage message, GossipSubscription[] subscribers)
    {
        Interlocked.Increment(ref node.Counters.MessagesDelivered);
        raise(message);
        foreach (GossipSubscription subscriber in subscribers)
        {
            if (!subscriber.Writer.TryWrite(message))
            {
                try
                {
                    // A full subscriber pauses the actor, and through the receive window, the read loops.
                    await subscriber.Writer.WriteAsync(message, node.Stopping);
                }
                catch (Exception e) when (e is ChannelClosedException or OperationCanceledException)
                {
                }
            }
        }
    }

    private void Unsubscribe(GossipSubscription subscription)
    {
        lock (_subscribersGate)
        {
            _subscribers = [.. _subscribers.Where(s => s != subscription)];
        }
    }
}
