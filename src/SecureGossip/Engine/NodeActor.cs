using System.Collections.Concurrent;
using System.Threading.Channels;
using SecureGossip.Links;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Core;
using SecureGossip.Protocol.Flood;
using SecureGossip.Receive;
using SecureGossip.Storage;

namespace SecureGossip.Engine;

/// <summary>
/// The one owner of a node's protocol state: the <see cref="GossipEngine"/>, the author table and delivery. It reads
/// typed <see cref="NodeWork"/> items from one channel, in order. A message is admitted as soon as it is read (so its
/// verification starts at once, on a verifier thread, while later ones are admitted too) and committed in arrival
/// order once verified, so an author's messages are delivered in the order they arrived; any other item takes effect
/// in its place in that order.
/// </summary>
/// <remarks>
/// It never ends before the node does: a failure in one item is logged as an error and the loop goes on.
/// </remarks>
internal sealed class NodeActor
{
    private readonly NodeServices _node;
    private readonly Channel<NodeWork> _work = Channel.CreateUnbounded<NodeWork>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Queue<NodeWork> _ordered = new();
    private readonly ConcurrentQueue<VerifyJob> _jobPool = new();
    private readonly ConcurrentQueue<MessageBatchWork> _batchPool = new();
    private readonly AuthorTable _authors;
    private readonly List<int> _forgotten = [];
    private readonly List<long> _dueTimers = [];
    private readonly V1CatchUp _catchUp;
    private Task _loop = Task.CompletedTask;
    private bool _stopped;
    private VerifyJob? _awaited;
    private System.Runtime.CompilerServices.StrongBox<Protocol.Core.PlumtreeStatistics>? _treeStatistics;
    private int _statisticsWanted;

    public NodeActor(NodeServices node, GossipEngine engine, NodeDelivery delivery)
    {
        _node = node;
        Engine = engine;
        Delivery = delivery;
        Context = new NodeEngineContext(node);
        Window = new ReceiveWindow(node.Options.Receive.MaxInFlight);
        _authors = new AuthorTable(node.Options.Defences.MaxAuthors);
        _catchUp = new V1CatchUp(node);
        Delivery.Release = publish => Engine.Publish(Context, publish.Id, publish.Line);
    }

    public GossipEngine Engine { get; }

    public NodeEngineContext Context { get; }

    public NodeDelivery Delivery { get; }

    /// <summary>Conditions tests await (see <see cref="NodeFacts"/>), checked after each batch of work.</summary>
    public NodeFacts Facts { get; } = new();

    /// <summary>Authors in the table (read from other threads for tests and statistics: a moment old at most).</summary>
    public int AuthorCount => _authors.Count;

    /// <summary>Messages between the read loops and their commit.</summary>
    public ReceiveWindow Window { get; }

    /// <summary>
    /// The Plumtree core's counters as of the actor's last idle moment or barrier (<see cref="WhenIdleAsync"/>): the
    /// core belongs to the actor, so other threads read a snapshot it takes, never the core itself.
    /// </summary>
    public Protocol.Core.PlumtreeStatistics? TreeStatistics
    {
        get
        {
            Volatile.Write(ref _statisticsWanted, 1);
            return Volatile.Read(ref _treeStatistics)?.Value;
        }
    }

    public void Start()
    {
        RefreshStatistics();
        Engine.Start(Context);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Queues <paramref name="work"/> after everything queued before it; false once the actor has stopped.</summary>
    public bool Post(NodeWork work) => _work.Writer.TryWrite(work);

    /// <summary>
    /// A verification finished: the actor is woken only if it sleeps waiting for that very job (the head of its
    /// commit order); any other job is picked up when the actor gets to it, without a wake-up of its own.
    /// </summary>
    public void Verified(VerifyJob job)
    {
        if (ReferenceEquals(Interlocked.CompareExchange(ref _awaited, null, job), job))
        {
            _work.Writer.TryWrite(WakeWork.Instance);
        }
    }

    /// <summary>Completes when everything posted so far has been committed and delivered.</summary>
    public Task WhenIdleAsync()
    {
        var barrier = new BarrierWork();
        return Post(barrier) ? barrier.Done.Task : Task.CompletedTask;
    }

    /// <summary>Runs <paramref name="inspect"/> on the actor, after everything posted so far.</summary>
    public async Task InspectAsync(Action<GossipEngine> inspect)
    {
        var work = new InspectWork(inspect);
        if (Post(work))
        {
            await work.Done.Task;
        }
    }

    /// <summary>Commits and delivers everything posted so far, stops taking work, stops the engine's timers.</summary>
    public async Task StopAsync()
    {
        if (!Post(new StopWork()))
        {
            return;
        }

        await _loop;
        Context.StopTimers();
    }

    /// <summary>Lets go of a batch that could not be posted (the actor has stopped): its messages are done with.</summary>
    public void Discard(MessageBatchWork batch)
    {
        foreach (NodeWork item in batch.Jobs)
        {
            if (item is VerifyJob job)
            {
                Done(job);
            }
        }

        ReturnBatch(batch);
    }

    /// <summary>An empty batch for a read loop: pooled, as a read often brings a single frame and each batch was an allocation.</summary>
    public MessageBatchWork RentBatch() => _batchPool.TryDequeue(out MessageBatchWork? pooled) ? pooled : new MessageBatchWork();

    private void ReturnBatch(MessageBatchWork batch)
    {
        batch.Jobs.Clear();
        if (_batchPool.Count < MaxPooledBatches)
        {
            _batchPool.Enqueue(batch);
        }
    }

    private const int MaxPooledBatches = 64;

    public VerifyJob RentJob()
    {
        VerifyJob job = _jobPool.TryDequeue(out VerifyJob? pooled) ? pooled : new VerifyJob();
        job.Counters = _node.Counters;
        job.Topic = _node.Options.Topic.Id;
        job.TopicName = _node.Options.Topic.Name;
        job.Metrics = _node.Metrics;
        job.Actor = this;
        return job;
    }

    public void ReturnJob(VerifyJob job)
    {
        job.Reset();
        if (_jobPool.Count < Window.Size)
        {
            _jobPool.Enqueue(job);
        }
    }

    private async Task RunAsync()
    {
        while (true)
        {
            try
            {
                await RunCoreAsync();
                return;
            }
            catch (Exception e)
            {
                Log.CommitLoopFailed(_node.Logger, e);
            }
        }
    }

    /// <summary>Most verifications an actor runs itself in one turn (about a millisecond of work) before its sends go out.</summary>
    private const int MaxVerifiedHerePerTurn = 16;

    private async Task RunCoreAsync()
    {
        ChannelReader<NodeWork> reader = _work.Reader;
        while (true)
        {
            while (reader.TryRead(out NodeWork? work))
            {
                Intake(work);
            }

            await CommitReadyAsync();
            Context.FlushSends();
            Facts.Check();
            if (_stopped)
            {
                _work.Writer.TryComplete(); // what is posted from here on is dropped
                if (Delivery.Pending > 0)
                {
                    await Delivery.CommitAsync();
                }

                Context.FlushSends();
                return;
            }

            if (reader.TryPeek(out _))
            {
                continue;
            }

            if (Delivery.Pending > 0)
            {
                await Delivery.CommitAsync(); // before waiting: a commit per batch, not per message
                continue;
            }

            if (Volatile.Read(ref _statisticsWanted) != 0)
            {
                RefreshStatistics();
            }

            if (_ordered.TryPeek(out NodeWork? head) && head is VerifyJob { Deferred: false } job)
            {
                if (!job.IsVerified && TryVerifyHere(job))
                {
                    continue; // rather than sleep until a busy verifier reaches it and wakes the actor
                }

                // Sleeping on the head's verification: say so before looking once more, so that either this look sees
                // it verified or its verifier sees the mark and wakes the actor (both sides use full fences).
                Interlocked.Exchange(ref _awaited, job);
                if (job.IsVerified)
                {
                    Interlocked.Exchange(ref _awaited, null);
                    continue;
                }
            }

            bool more = await reader.WaitToReadAsync();
            Interlocked.Exchange(ref _awaited, null);
            if (!more)
            {
                return;
            }
        }
    }

    /// <summary>Takes in one item: a message is admitted (and its verification started); everything else waits its turn.</summary>
    private void Intake(NodeWork work)
    {
        switch (work)
        {
            case WakeWork:
                return;
            case VerifyJob job:
                Admit(job);
                return;
            case MessageBatchWork batch:
                foreach (NodeWork item in batch.Jobs)
                {
                    if (item is not VerifyJob job)
                    {
                        _ordered.Enqueue(item); // a control frame takes its turn after the messages before it
                        continue;
                    }

                    try
                    {
                        Admit(job); // a job that fails is let go by Admit itself (its slot and its pooled buffer)
                    }
                    catch (Exception e)
                    {
                        Log.CoreFailed(_node.Logger, e); // the rest of the batch is still admitted: nothing holds a slot for ever
                    }
                }

                ReturnBatch(batch);
                return;
            default:
                _ordered.Enqueue(work);
                return;
        }
    }

    private void Admit(VerifyJob job)
    {
        bool queued = false;
        try
        {
            PeerLink? link = job.Source;
            if (job.Own)
            {
                Engine.Admit(Context, link?.Id, new InboundMessage(MessageId.FromDigest(Context.Self, job.Id), job.Seq, job.V2Frame));
                Drop(DropReason.Own, link: null);
                return;
            }

            AuthorEntry? author = _authors.GetOrAdd(job.AuthorName, job.RawKey.AsSpan(0, 32), _forgotten);
            ForgetAuthors();
            if (author is null)
            {
                Drop(DropReason.BadKey, link);
                return;
            }

            job.Author = author;
            var message = new InboundMessage(IdOf(job, author), job.Seq, job.V2Frame);
            if (_node.ById && author.Index < 0 && Engine.IsDuplicate(message))
            {
                // A copy of a message accepted before this node met its author (a store's ids): its author is genuine.
                author.Index = _node.Authors.Intern(author.RawKey);
                message = message with { Id = IdOf(job, author) };
            }

            switch (Engine.Admit(Context, link?.Id, message))
            {
                case Admission.Verify:
                    job.Claimed = true;
                    break;
                case Admission.Wait:
                    job.Deferred = true;
                    break;
                default:
                    Drop(DropReason.Old, link: null);
                    return;
            }

            author.Claims++;
            _ordered.Enqueue(job);
            queued = true;
            if (job.Claimed)
            {
                VerifierPool.Enqueue(job);
            }
        }
        finally
        {
            if (!queued)
            {
                Done(job);
            }
        }
    }

    private MessageId IdOf(VerifyJob job, AuthorEntry author) => _node.ById
        ? MessageId.FromDigest(author.Index >= 0 ? author.Index : _node.Authors.IndexOf(author.RawKey), job.Id)
        : new MessageId(author.Number, MessageId.Unsequenced) { Digest = job.Id };

    /// <summary>Commits the head of the ordered queue while it is ready (a message verified, or any other item).</summary>
    /// <summary>
    /// While every verifier thread has work waiting, the actor verifies the message it waits on itself (the job would
    /// wait anyway, and a sleep and a wake-up per message were most of a burst's thread-pool work); true when it did.
    /// </summary>
    private bool TryVerifyHere(VerifyJob job)
    {
        if (!job.Claimed || !VerifierPool.IsBacklogged || !job.TryRunHere())
        {
            return false;
        }

        Interlocked.Increment(ref _node.Counters.VerifiedOnActor);
        return true;
    }

    private async Task CommitReadyAsync()
    {
        int ranHere = 0;
        while (!_stopped && _ordered.TryPeek(out NodeWork? head))
        {
            if (head is VerifyJob { Deferred: false, IsVerified: false } job)
            {
                // While the verifiers are behind, the actor verifies its head itself, up to a few a turn so that what
                // they commit leaves for the links together and soon (the turn's sends go out when it returns).
                if (ranHere == MaxVerifiedHerePerTurn || !TryVerifyHere(job))
                {
                    return;
                }

                ranHere++;
            }

            _ordered.Dequeue();
            try
            {
                await RunAsync(head);
            }
            catch (Exception e)
            {
                Log.CoreFailed(_node.Logger, e);
            }

            if (Delivery.Pending >= NodeDelivery.MaxBatch || Delivery.Overdue)
            {
                Context.FlushSends(); // the store's commit takes a while: what is ready goes first
                await Delivery.CommitAsync();
            }
        }
    }

    private async Task RunAsync(NodeWork work)
    {
        switch (work)
        {
            case VerifyJob job:
                try
                {
                    await CommitAsync(job);
                }
                finally
                {
                    Done(job);
                }

                break;
            case LinkUpWork up:
                if (!up.Link.Completion.IsCompleted)
                {
                    Context.Add(up.Link);
                    Engine.LinkUp(Context, up.Link.Id, up.Version);
                }

                break;
            case LinkDownWork down:
                Engine.NeighbourDown(Context, down.Link.Id);
                Context.Remove(down.Link);
                Facts.LinkDown(down.Link.Id);
                break;
            case RequeueWork requeue:
                Engine.Flood?.Requeue(requeue.Lines);
                break;
            case ControlWork control:
                Engine.Control(Context, control.Link.Id, control.Frame);
                Facts.Control(control.Link.Id, control.Frame);
                break;
            case TimerWork:
                _dueTimers.Clear();
                Context.TakeDueTimers(_dueTimers);
                foreach (long id in _dueTimers)
                {
                    try
                    {
                        Engine.Timer(Context, id);
                    }
                    catch (Exception e)
                    {
                        Log.CoreFailed(_node.Logger, e); // the other timers due still run
                    }
                }

                break;
            case PublishWork publish:
                Publish(publish);
                break;
            case RoundWork:
                Engine.Round(Context);
                break;
            case HelloTimeoutWork hello when !_node.Options.Topic.IsDefault:
                if (hello.Link.Version < 2)
                {
                    Interlocked.Increment(ref _node.Counters.TopicMismatches);
                    hello.Link.Close($"no hello within {_node.Options.Links.HelloTimeout.TotalSeconds:0.#} s: a topic's links speak protocol v2 (§20)");
                }

                break;
            case HelloTimeoutWork hello:
                _catchUp.HelloTimedOut(hello.Link, Engine);
                break;
            case BarrierWork barrier:
                if (Delivery.Pending > 0)
                {
                    await Delivery.CommitAsync();
                }

                RefreshStatistics();
                Context.FlushSends(); // what the work before the barrier sent is on its links when the barrier passes
                barrier.Done.TrySetResult();
                break;
            case StopWork:
                _stopped = true;
                break;
            case InspectWork inspect:
                try
                {
                    inspect.Inspect(Engine);
                    inspect.Done.TrySetResult();
                }
                catch (Exception e)
                {
                    inspect.Done.TrySetException(e);
                }

                break;
        }
    }

    // Pooled: it suspends whenever a subscriber is full, and a fresh state machine box per message would be the
    // receive path's largest allocation.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask CommitAsync(VerifyJob job)
    {
        AuthorEntry author = job.Author!;
        PeerLink? link = job.Source;
        var message = new InboundMessage(IdOf(job, author), job.Seq, job.V2Frame);
        bool valid;
        if (job.Deferred)
        {
            if (Engine.IsDuplicate(message))
            {
                // The first copy was accepted: this one is a duplicate and needs no verification.
                author.Claims--;
                Engine.Commit(Context, link?.Id, message, valid: true, claimed: false);
                Drop(DropReason.Old, link: null);
                return;
            }

            valid = job.Verify(); // the first copy was forged: this copy gets its own check
        }
        else
        {
            try
            {
                valid = await job.Completion;
            }
            catch (Exception e)
            {
                Log.CoreFailed(_node.Logger, e);
                valid = false;
            }
        }

        author.Claims--;
        if (valid && _node.ById && author.Index < 0)
        {
            author.Index = _node.Authors.Intern(author.RawKey); // a verified author: interned for good
        }

        MessageId id = IdOf(job, author);
        IGossipPayloadFrame? frame = !valid ? null
            : job.V2Frame is { } v2 ? v2 with { Line = job.StoredLine, Message = id } // one copy, as the engine needs it
            : new V1Line(message.Id, job.StoredLine!);
        message = new InboundMessage(id, job.Seq, frame);
        switch (Engine.Commit(Context, link?.Id, message, valid, job.Claimed))
        {
            case Outcome.Invalid:
                _authors.ForgetIfForger(author, _forgotten);
                ForgetAuthors();
                Drop(job.WrongTopic ? DropReason.WrongTopic : DropReason.BadSignature, link);
                return;
            case Outcome.Duplicate:
                Drop(DropReason.Old, link: null);
                return;
        }

        author.HasAccepted = true;
        _node.Recent.Add(_node.RecentKey(job));
        if (link is not null)
        {
            link.Transport.CountAccepted(); // listeners read it on the connection they made (eviction order)
            _node.LinkLog.Announce(link);
        }

        bool stored = Store(job, author);
        Interlocked.Increment(ref _node.Counters.MessagesAccepted);
        var accepted = job.SignedSeq is long signed
            ? new GossipMessage(author.Name, signed, job.Payload!, sequenceSigned: true)
            : new GossipMessage(author.Name, job.Seq, job.Payload!);
        Log.MessageAccepted(_node.Logger, author.Name, job.Seq);
        ValueTask delivered = Delivery.AcceptedAsync(accepted, stored);
        if (!delivered.IsCompleted)
        {
            Context.FlushSends(); // a subscriber is full: the peers need not wait for it
        }

        await delivered;
    }

    /// <summary>
    /// A published message: with a store, its record joins the next group commit and the line is sent after it;
    /// without one, it goes out at once.
    /// </summary>
    private void Publish(PublishWork publish)
    {
        if (publish.Record is { } record && _node.Options.Store is { } store)
        {
            try
            {
                store.Add(record, durable: false);
                Delivery.HoldUntilCommitted(publish);
                return;
            }
            catch (Exception e)
            {
                Log.StoreFailed(_node.Logger, e); // not kept: sent anyway, as an accepted message is delivered anyway
            }
        }

        Engine.Publish(Context, publish.Id, publish.Line);
    }

    private void RefreshStatistics()
    {
        Volatile.Write(ref _statisticsWanted, 0);
        if (Engine.Tree is { } tree)
        {
            Volatile.Write(ref _treeStatistics, new System.Runtime.CompilerServices.StrongBox<Protocol.Core.PlumtreeStatistics>(tree.Statistics));
        }
    }

    /// <summary>Adds an accepted message to the store's next commit; false without a store (or when it failed).</summary>
    private bool Store(VerifyJob job, AuthorEntry author)
    {
        if (_node.Options.Store is not { } store)
        {
            return false;
        }

        try
        {
            store.Add(new StoredMessage(job.Id, author.Name, job.SignedSeq ?? job.Seq, Own: false, _node.Time.GetUtcNow(), job.StoredLine!), durable: false);
            return true;
        }
        catch (Exception e)
        {
            Log.StoreFailed(_node.Logger, e);
            return false;
        }
    }

    private void ForgetAuthors()
    {
        if (_forgotten.Count == 0)
        {
            return;
        }

        foreach (int number in _forgotten)
        {
            Engine.ForgetAuthor(number);
        }

        Interlocked.Add(ref _node.Counters.AuthorsForgotten, _forgotten.Count);
        _forgotten.Clear();
    }

    /// <summary>Counts a dropped message, charging the link it came from when <paramref name="link"/> is given.</summary>
    private void Drop(DropReason why, PeerLink? link)
    {
        link?.Budget.Charge(why);
        _node.Counters.Drop(why);
        Log.LineDropped(_node.Logger, why);
    }

    /// <summary>The message is done with: its slot in the receive window is free, its job back in the pool.</summary>
    private void Done(VerifyJob job)
    {
        ReturnJob(job);
        Window.Release();
    }
}
