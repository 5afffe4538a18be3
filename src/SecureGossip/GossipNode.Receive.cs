using System.Buffers;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SecureGossip.Crypto;
using SecureGossip.Protocol;

namespace SecureGossip;

/// <summary>
/// The receive path. Read loops check each line's envelope and seq in order (cheap), then hand new messages to
/// the thread pool for signature verification, which is where the time goes (an ed25519 verify is ~40 µs, the
/// rest of a line ~2 µs), so every core verifies. One commit loop per node then accepts the verified messages in
/// the order their lines arrived, so an author's messages are still delivered in seq order.
/// A copy of a message whose first copy is still being verified is not verified again: it waits in line behind
/// it and is dropped when the first is accepted (it is verified only if the first turns out to be forged).
/// </summary>
public sealed partial class GossipNode
{
    private static readonly int s_maxInFlight = 256 * Math.Max(2, Environment.ProcessorCount);

    /// <summary>Room a v2 frame has beyond <see cref="GossipNodeOptions.MaxLineLength"/> for its own members.</summary>
    private const int V2FrameOverhead = 1024;

    private readonly Dictionary<string, AuthorState> _authors = new(StringComparer.Ordinal);

    /// <summary>Accept by message id rather than the v1 seq rule: asked for, or implied by v2 or a store.</summary>
    private readonly bool _byId;
    private readonly HashSet<UInt128> _seenIds = [];
    private readonly Queue<UInt128> _seenOrder = new();
    private readonly HashSet<UInt128> _inFlightIds = [];
    private readonly Channel<VerifyJob> _commits = Channel.CreateUnbounded<VerifyJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _windowLock = new();
    private int _inFlight;
    private int _windowWaiting;
    private TaskCompletionSource? _windowOpen;
    private readonly System.Collections.Concurrent.ConcurrentQueue<VerifyJob> _jobPool = new();
    private Task _committer = Task.CompletedTask;

    /// <summary>Reads one line (without its newline) from a neighbour.</summary>
    internal ValueTask HandleLineAsync(ReadOnlySequence<byte> line, CancellationToken cancellationToken) =>
        HandleLineAsync(line, link: null, cancellationToken);

    private async ValueTask HandleLineAsync(ReadOnlySequence<byte> line, PeerLink? link, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _counters.LinesReceived);
        Protocol.Core.PlumtreeMessage? v2 = null;
        if (line.Length > 8 && IsV2Frame(line, link, out v2))
        {
            if (v2 is null)
            {
                return;
            }

            line = new ReadOnlySequence<byte>(v2.Line!); // a msg frame: its embedded line takes the v1 path
        }

        if (line.Length > _options.MaxLineLength)
        {
            // Only v2 frames get the extra room; a v1 line, embedded or not, keeps the v1 limit.
            Interlocked.Increment(ref _counters.DroppedTooLong);
            Log.LineDropped(_logger, DropReason.TooLong);
            return;
        }

        if (Volatile.Read(ref _inFlight) >= s_maxInFlight)
        {
            await WaitForWindowAsync(cancellationToken);
        }

        Interlocked.Increment(ref _inFlight);
        bool queued = false;
        try
        {
            queued = Prepare(line, link, v2);
        }
        finally
        {
            if (!queued)
            {
                ReleaseSlot();
            }
        }
    }

    /// <summary>
    /// A v2 frame is never taken for a v1 message. A hello switches the link to v2 (when this node speaks it);
    /// a <c>msg</c> frame on a v2 link comes back in <paramref name="message"/> for the receive path; other frames
    /// go to the core. Frames on a link that has not negotiated v2, and malformed ones, are dropped and counted.
    /// </summary>
    private bool IsV2Frame(ReadOnlySequence<byte> line, PeerLink? link, out Protocol.Core.PlumtreeMessage? message)
    {
        message = null;
        Span<byte> head = stackalloc byte[16];
        line.Slice(0, Math.Min(16, line.Length)).CopyTo(head);
        if (!V2Hello.IsFrame(head[..(int)Math.Min(16, line.Length)]))
        {
            return false;
        }

        Interlocked.Increment(ref _counters.V2FramesReceived);
        if (line.Length == s_ping.Length)
        {
            Span<byte> ping = stackalloc byte[s_ping.Length];
            line.CopyTo(ping);
            if (ping.SequenceEqual(s_ping))
            {
                return true; // a keepalive: its arrival is all it says
            }
        }

        byte[] frame = line.ToArray();
        int version = V2Hello.TryReadHello(frame, out string? helloNode);
        if (version > 0)
        {
            if (link is not null && _core is not null && IsOwnKey(helloNode))
            {
                // docs/PROTOCOL.md §5: we dialled ourselves (an address that loops back); nothing useful can cross.
                if (MayLogLinkEvent())
                {
                    Log.SelfConnection(_logger, link.Connection); // anyone can send our key: rate-limited like link events
                }

                link.Close("the node connected to itself");
                return true;
            }

            if (link is not null && _core is not null && link.Version < 2)
            {
                link.Version = version;
                Log.PeerNegotiated(_logger, link.Connection, version);
                AnnounceLink(link);
                PostCore(() => _core.LinkUp(link));
            }

            return true;
        }

        if (_core is null || link is null || link.Version < 2)
        {
            Interlocked.Increment(ref _counters.DroppedMalformed);
            Log.V2FrameIgnored(_logger, V2Hello.Describe(frame));
            return true; // a frame before the hello, or to a v1-mode node: ignored, as docs/PROTOCOL.md §5 says
        }

        int authorsBefore = _v2Authors!.Count;
        bool decodedOk = V2Frames.TryDecode(frame, _v2Authors, _options.MaxJsonDepth, out Protocol.Core.IGossipFrame? decoded, out string? error);
        if (_v2Authors.Count > authorsBefore)
        {
            link.Budget.ChargeNewAuthors(_v2Authors.Count - authorsBefore); // names are free to make, and the table is shared
        }

        if (!decodedOk)
        {
            Interlocked.Increment(ref _counters.DroppedMalformed);
            Log.V2FrameDropped(_logger, link.Connection, error ?? "malformed");
            if (error is null || !error.StartsWith("unknown frame type", StringComparison.Ordinal))
            {
                Charge(link, DropReason.Malformed); // a frame type of a later version is ignored, never charged (§4.1)
            }

            return true;
        }

        if (decoded is Protocol.Core.PlumtreeMessage msg)
        {
            message = msg;
        }
        else if (decoded is not null)
        {
            PostCore(() => _core.Received(link, decoded));
        }

        return true;
    }

    private bool IsOwnKey(string? key)
    {
        if (key is null)
        {
            return false;
        }

        Span<byte> raw = stackalloc byte[33];
        return SsbBase64.Decode(key, raw) == 32 && raw[..32].SequenceEqual(Keys.PublicKey); // cuts at the tag's dot
    }

    /// <summary>
    /// Waits until the lines in flight have drained to half the window. Resuming at half rather than at the first
    /// free slot lets a read loop handle a batch per wake-up instead of one line per context switch.
    /// </summary>
    private Task WaitForWindowAsync(CancellationToken cancellationToken)
    {
        Task open;
        lock (_windowLock)
        {
            Interlocked.Exchange(ref _windowWaiting, 1);
            if (Volatile.Read(ref _inFlight) <= s_maxInFlight / 2)
            {
                _windowWaiting = 0;
                return Task.CompletedTask;
            }

            _windowOpen ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            open = _windowOpen.Task;
        }

        return open.WaitAsync(cancellationToken);
    }

    private void ReleaseSlot()
    {
        if (Interlocked.Decrement(ref _inFlight) <= s_maxInFlight / 2 && Volatile.Read(ref _windowWaiting) != 0)
        {
            lock (_windowLock)
            {
                _windowWaiting = 0;
                _windowOpen?.TrySetResult();
                _windowOpen = null;
            }
        }
    }

    /// <summary>Completes when every line handed in so far has been accepted or dropped.</summary>
    internal Task WhenIdleAsync()
    {
        VerifyJob barrier = RentJob();
        barrier.Barrier = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task done = barrier.Barrier.Task;
        lock (_gate)
        {
            if (!_commits.Writer.TryWrite(barrier))
            {
                return Task.CompletedTask;
            }
        }

        return done;
    }

    private void StartCommitter() => _committer = Task.Run(CommitLoopAsync);

    private async Task StopCommitterAsync()
    {
        _commits.Writer.TryComplete();
        await _committer;
    }

    /// <summary>
    /// Everything the JS receiver checks before it verifies, in its order: JSON, own message, then (earlier than
    /// JS, to skip verifying copies) seq. Returns whether the line was queued for verification.
    /// </summary>
    private bool Prepare(ReadOnlySequence<byte> line, PeerLink? link, Protocol.Core.PlumtreeMessage? v2)
    {
        VerifyJob job = RentJob();
        job.Source = link;
        job.V2Frame = v2;
        bool queued = false;
        try
        {
            job.Load(line);
            ReadOnlySpan<byte> text = job.Line;
            DropReason reason = V1Envelope.TryParse(text, _options.MaxJsonDepth, out V1Envelope envelope);
            if (reason != DropReason.None)
            {
                return Drop(reason, link);
            }

            ReadOnlySpan<byte> rawAuthor = text[envelope.Public];
            char[]? rentedChars = null;
            Span<char> author = rawAuthor.Length <= 256 ? stackalloc char[256] : (rentedChars = ArrayPool<char>.Shared.Rent(rawAuthor.Length));
            try
            {
                author = envelope.PublicEscaped
                    ? V1Envelope.DecodeString(rawAuthor, escaped: true).AsSpan().CopyToSpan(author)
                    : author[..Encoding.UTF8.GetChars(rawAuthor, author)];
                bool signatureOk = envelope.SignatureEscaped
                    ? SsbBase64.Decode(V1Envelope.DecodeString(text[envelope.Signature], escaped: true), job.Signature) == 64
                    : SsbBase64.Decode(text[envelope.Signature], job.Signature) == 64;
                if (author.SequenceEqual(Keys.Public))
                {
                    if (signatureOk && v2 is not null)
                    {
                        CoreDuplicate(link, v2, author: null, MessageIdOf(Keys.PublicKey, job.Signature), onCommitLoop: false);
                    }

                    return Drop(DropReason.Own);
                }

                AuthorState? state;
                lock (_gate)
                {
                    _authors.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(author, out state);
                }

                if (state is null)
                {
                    reason = NewAuthor(author, out state);
                    if (reason != DropReason.None)
                    {
                        return Drop(reason, link);
                    }
                }

                if (!signatureOk)
                {
                    return Drop(DropReason.BadKey, link);
                }

                bool deferred;
                lock (_gate)
                {
                    if (!_authors.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(author, out AuthorState? existing))
                    {
                        if (_byId && _authors.Count >= _options.Defences.MaxAuthors)
                        {
                            ForgetIdleAuthors();
                        }

                        _authors.Add(state!.Name, state);
                    }
                    else
                    {
                        state = existing;
                    }

                    if (_byId)
                    {
                        job.Id = MessageIdOf(state!.RawKey, job.Signature);
                        if (_seenIds.Contains(job.Id))
                        {
                            CoreDuplicate(link, v2, state, job.Id, onCommitLoop: false);
                            return Drop(DropReason.Old);
                        }

                        job.OwnsClaim = _inFlightIds.Add(job.Id);
                        deferred = !job.OwnsClaim;
                    }
                    else
                    {
                        if (state!.HasAccepted && !(state.HighestAccepted < envelope.Seq))
                        {
                            return Drop(DropReason.Old);
                        }

                        deferred = state.Claims > 0 && !(state.HighestClaimed < envelope.Seq);
                        if (!deferred)
                        {
                            state.HighestClaimed = envelope.Seq;
                        }
                    }

                    state.Claims++;
                    job.Author = state;
                    job.Seq = envelope.Seq;
                    job.DataStart = envelope.DataStart;
                    job.Deferred = deferred;
                    queued = _commits.Writer.TryWrite(job);
                }

                if (queued && !deferred)
                {
                    VerifierPool.Enqueue(job);
                }

                return queued;
            }
            finally
            {
                if (rentedChars is not null)
                {
                    ArrayPool<char>.Shared.Return(rentedChars);
                }
            }
        }
        finally
        {
            if (!queued)
            {
                ReturnJob(job);
            }
        }
    }

    private DropReason NewAuthor(ReadOnlySpan<char> author, out AuthorState? state)
    {
        state = null;
        Span<byte> raw = stackalloc byte[33];
        if (SsbBase64.Decode(author, raw) != 32)
        {
            return DropReason.BadKey;
        }

        if (raw[..32].SequenceEqual(Keys.PublicKey))
        {
            return DropReason.Own; // our key spelled differently (a sigil, URL-safe base64): still our own message
        }

        if (!GossipKeys.TryImportPublicKey(raw[..32], out NSec.Cryptography.PublicKey? key))
        {
            return DropReason.BadKey;
        }

        state = new AuthorState(author.ToString(), key!, raw[..32].ToArray());
        return DropReason.None;
    }

    /// <summary>
    /// Keys are free to make, so the table of decoded author keys is bounded: past the limit, about a tenth of the
    /// authors with nothing in flight are forgotten (decoded again if they return). Only with acceptance by id, where
    /// the table holds no state that acceptance depends on. Called under the gate.
    /// </summary>
    private void ForgetIdleAuthors()
    {
        int target = _options.Defences.MaxAuthors - Math.Max(1, _options.Defences.MaxAuthors / 10);
        List<string> idle = [];
        foreach ((string name, AuthorState author) in _authors)
        {
            if (_authors.Count - idle.Count <= target)
            {
                break;
            }

            if (author.Claims == 0)
            {
                idle.Add(name);
            }
        }

        foreach (string name in idle)
        {
            _authors.Remove(name);
        }

        Interlocked.Add(ref _counters.AuthorsForgotten, idle.Count);
    }

    private bool Drop(DropReason why, PeerLink? link)
    {
        Charge(link, why);
        return Drop(why);
    }

    private bool Drop(DropReason why)
    {
        switch (why)
        {
            case DropReason.Own:
                Interlocked.Increment(ref _counters.DroppedOwn);
                break;
            case DropReason.Old:
                Interlocked.Increment(ref _counters.DroppedOld);
                break;
            case DropReason.BadKey or DropReason.BadSignature:
                Interlocked.Increment(ref _counters.DroppedBadSignature);
                break;
            default:
                Interlocked.Increment(ref _counters.DroppedMalformed);
                break;
        }

        Log.LineDropped(_logger, why);
        return false;
    }

    /// <summary>
    /// The commit loop: one per node, the owner of acceptance, delivery and the v2 core. It never ends before the node
    /// does: a failure in one work item is logged as an error and the loop goes on with the next.
    /// </summary>
    private async Task CommitLoopAsync()
    {
        while (true)
        {
            try
            {
                await CommitLoopCoreAsync();
                return;
            }
            catch (Exception e)
            {
                Log.CommitLoopFailed(_logger, e);
            }
        }
    }

    private async Task CommitLoopCoreAsync()
    {
        ChannelReader<VerifyJob> reader = _commits.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (true)
            {
                // Group commit (docs/PROTOCOL.md §11.3): with a store, accepted messages are delivered only once their
                // ids are committed, one commit for everything accepted since the last, taken before the loop would
                // wait (for a verification or for more lines) or once a batch is full.
                if (_pendingDeliveries > 0 && (_pendingDeliveries >= MaxDeliveryBatch || !reader.TryPeek(out VerifyJob? next) || MustWaitFor(next) || DeliveryOverdue()))
                {
                    await DeliverCommittedAsync();
                }

                if (!reader.TryRead(out VerifyJob? job))
                {
                    break;
                }

                if (job.Barrier is { } barrier)
                {
                    barrier.TrySetResult();
                    ReturnJob(job);
                    continue;
                }

                if (job.CoreWork is { } work)
                {
                    try
                    {
                        work();
                    }
                    catch (Exception e)
                    {
                        Log.CoreFailed(_logger, e);
                    }

                    ReturnJob(job);
                    continue;
                }

                try
                {
                    await CommitAsync(job);
                }
                finally
                {
                    ReturnJob(job);
                    ReleaseSlot();
                }
            }
        }

        if (_pendingDeliveries > 0)
        {
            await DeliverCommittedAsync();
        }
    }

    // Pooled: it suspends on nearly every message (waiting for its verification), and a fresh state machine
    // box per message would be the receive path's largest allocation.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask CommitAsync(VerifyJob job)
    {
        AuthorState author = job.Author!;
        bool valid;
        if (!job.Deferred)
        {
            valid = await job.Completion;
        }
        else
        {
            bool duplicate;
            lock (_gate)
            {
                duplicate = IsOld(author, job);
                if (duplicate)
                {
                    author.Claims--;
                }
            }

            // The first copy was accepted: this one is a duplicate and needs no verification.
            if (duplicate)
            {
                CoreDuplicate(job.Source, job.V2Frame, author, job.Id, onCommitLoop: true);
                Drop(DropReason.Old);
                return;
            }

            // The first copy was forged (or of a lower seq): this copy gets its own check.
            valid = job.Verify(_counters);
        }

        GossipSubscription[] subscribers;
        bool old = false;
        lock (_gate)
        {
            author.Claims--;
            if (job.OwnsClaim)
            {
                _inFlightIds.Remove(job.Id);
            }

            if (!valid)
            {
                if (author.Claims == 0 && !author.HasAccepted)
                {
                    _authors.Remove(author.Name); // a forger does not get to fill our memory with authors
                }
            }
            else if (IsOld(author, job))
            {
                old = true;
            }
            else
            {
                author.HighestAccepted = author.HasAccepted ? Math.Max(author.HighestAccepted, job.Seq) : job.Seq;
                author.HasAccepted = true;
                if (_byId)
                {
                    RememberId(job.Id);
                }

                _store.Add(job.StoredLine!);
            }

            subscribers = _subscribers;
        }

        if (!valid || old)
        {
            if (old)
            {
                CoreDuplicate(job.Source, job.V2Frame, author, job.Id, onCommitLoop: true);
                Drop(DropReason.Old);
            }
            else
            {
                Drop(DropReason.BadSignature, job.Source);
            }

            return;
        }

        if (job.Source is { } source)
        {
            source.Connection.CountAccepted();
            if (!source.Announced)
            {
                AnnounceLink(source);
            }
        }

        bool stored = StoreAccepted(job, author);
        try
        {
            CoreAccepted(job, author);
        }
        catch (Exception e)
        {
            Log.CoreFailed(_logger, e); // forwarding failed; the message is still delivered here
        }

        Interlocked.Increment(ref _counters.MessagesAccepted);
        var message = job.SignedSeq is long signed
            ? new GossipMessage(author.Name, signed, job.Payload!, sequenceSigned: true)
            : new GossipMessage(author.Name, job.Seq, job.Payload!);
        Log.MessageAccepted(_logger, author.Name, job.Seq);
        if (stored)
        {
            DeliverySink?.Prepare(message);
            _undelivered.Add((message, subscribers));
            if (_pendingDeliveries++ == 0)
            {
                _oldestPending = _options.TimeProvider.GetTimestamp();
            }

            return;
        }

        if (DeliverySink is { } sink)
        {
            // Nothing to make durable: the sink still gets the batch in one Commit, at the same boundaries.
            sink.Prepare(message);
            if (_pendingDeliveries++ == 0)
            {
                _oldestPending = _options.TimeProvider.GetTimestamp();
            }
        }

        await DeliverAsync(message, subscribers);
    }

    /// <summary>
    /// A consumer that must see each message exactly once across crashes (the CLI's stdout): it is handed each
    /// accepted message before the store commit (to prepare its output) and told after the commit to make it visible,
    /// so a crash never shows a message whose id was not recorded, and the window between the commit and the output
    /// is one call. Set before the node receives anything.
    /// </summary>
    internal IDeliverySink? DeliverySink { get; set; }

    /// <summary>Most messages delivered per group commit; a burst commits at least this often.</summary>
    private const int MaxDeliveryBatch = 256;

    /// <summary>Messages prepared for the sink or waiting for their store commit since the last commit (commit loop only).</summary>
    private int _pendingDeliveries;

    /// <summary>Accepted messages waiting for their store commit (commit loop only).</summary>
    private readonly List<(GossipMessage Message, GossipSubscription[] Subscribers)> _undelivered = [];

    /// <summary>When the oldest delivery now pending was prepared (a <see cref="TimeProvider"/> timestamp).</summary>
    private long _oldestPending;

    /// <summary>A delivery has waited 5 ms behind other work (control frames, a catch-up): commit now.</summary>
    private bool DeliveryOverdue() =>
        _options.TimeProvider.GetTimestamp() - _oldestPending > _options.TimeProvider.TimestampFrequency / 200;

    /// <summary>Whether taking <paramref name="job"/> would make the commit loop wait (for a verification).</summary>
    private static bool MustWaitFor(VerifyJob job) => job.Barrier is not null || (job.CoreWork is null && !job.Deferred && !job.IsVerified);

    /// <summary>Commits the store, then delivers what the commit made durable, in order.</summary>
    private async Task DeliverCommittedAsync()
    {
        _pendingDeliveries = 0;
        if (_undelivered.Count > 0)
        {
            long started = _options.TimeProvider.GetTimestamp();
            try
            {
                _options.Store!.Flush();
                Interlocked.Increment(ref _counters.StoreCommits);
            }
            catch (Exception e)
            {
                // Delivering without the record risks a second delivery after a crash; holding messages back for a
                // store that may never come back would lose them. The error is logged; delivery goes on.
                Log.StoreFailed(_logger, e);
            }

            Volatile.Write(ref _counters.StoreLagTicks, _options.TimeProvider.GetTimestamp() - started);
        }

        try
        {
            DeliverySink?.Commit();
        }
        catch (Exception e)
        {
            Log.HandlerFailed(_logger, e);
        }

        // Taken out before delivering: a delivery that fails part-way must not deliver the others twice later.
        (GossipMessage Message, GossipSubscription[] Subscribers)[] batch = [.. _undelivered];
        _undelivered.Clear();
        foreach ((GossipMessage message, GossipSubscription[] subscribers) in batch)
        {
            await DeliverAsync(message, subscribers);
        }
    }

    private async ValueTask DeliverAsync(GossipMessage message, GossipSubscription[] subscribers)
    {
        if (MessageReceived is { } handlers)
        {
            // One by one, so that a throwing handler does not starve the ones after it.
            foreach (EventHandler<GossipMessage> handler in handlers.GetInvocationList().Cast<EventHandler<GossipMessage>>())
            {
                try
                {
                    handler(this, message);
                }
                catch (Exception e)
                {
                    Log.HandlerFailed(_logger, e);
                }
            }
        }

        foreach (GossipSubscription subscriber in subscribers)
        {
            if (!subscriber.Writer.TryWrite(message))
            {
                try
                {
                    // A full subscriber pauses the commit loop, and through the in-flight limit, the read loops.
                    await subscriber.Writer.WriteAsync(message, _shutdown.Token);
                }
                catch (Exception e) when (e is ChannelClosedException or OperationCanceledException)
                {
                }
            }
        }
    }

    /// <summary>Whether an accepted message makes this copy old: same id, or (v1 rule) a seq not above the highest.</summary>
    private bool IsOld(AuthorState author, VerifyJob job) => _byId
        ? _seenIds.Contains(job.Id)
        : author.HasAccepted && !(author.HighestAccepted < job.Seq);

    private void RememberId(UInt128 id)
    {
        if (_seenIds.Add(id))
        {
            _seenOrder.Enqueue(id);
            if (_seenOrder.Count > _options.MaxRememberedIds)
            {
                _seenIds.Remove(_seenOrder.Dequeue());
            }
        }
    }

    /// <summary>docs/PROTOCOL.md §3.3: SHA-256("sg2-id" ‖ 0x00 ‖ key ‖ signature), first 128 bits (collisions need 2^64 messages).</summary>
    private static UInt128 MessageIdOf(ReadOnlySpan<byte> key, ReadOnlySpan<byte> signature)
    {
        Span<byte> input = stackalloc byte[7 + 32 + 64];
        "sg2-id\0"u8.CopyTo(input);
        key.CopyTo(input[7..]);
        signature[..64].CopyTo(input[39..]);
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(input, hash);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    private VerifyJob RentJob()
    {
        VerifyJob job = _jobPool.TryDequeue(out VerifyJob? pooled) ? pooled : new VerifyJob();
        job.Counters = _counters;
        return job;
    }

    private void ReturnJob(VerifyJob job)
    {
        job.Reset();
        if (_jobPool.Count < s_maxInFlight)
        {
            _jobPool.Enqueue(job);
        }
    }

    /// <summary>What the node remembers of an author: its key, the highest seq accepted, copies in flight.</summary>
    private sealed class AuthorState(string name, NSec.Cryptography.PublicKey key, byte[] rawKey)
    {
        public string Name { get; } = name;

        public NSec.Cryptography.PublicKey Key { get; } = key;

        public byte[] RawKey { get; } = rawKey;

        public bool HasAccepted { get; set; }

        public double HighestAccepted { get; set; }

        /// <summary>Lines of this author queued for commit; <see cref="HighestClaimed"/> is meaningful while above zero.</summary>
        public int Claims { get; set; }

        public double HighestClaimed { get; set; }

        /// <summary>The author's number in the v2 core (-1 until first needed).</summary>
        public int V2Index { get; set; } = -1;
    }
}

internal static class SpanExtensions
{
    public static Span<char> CopyToSpan(this ReadOnlySpan<char> source, Span<char> destination)
    {
        if (source.Length > destination.Length)
        {
            return source.ToArray();
        }

        source.CopyTo(destination);
        return destination[..source.Length];
    }
}
