using SecureGossip.Protocol.Membership;
using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using SecureGossip.Crypto;
using SecureGossip.Engine;
using SecureGossip.Links;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Receive;

/// <summary>
/// The receive path up to the actor, run by each link's read loop: lines are split off the connection, v2 frames
/// decoded (a hello switches the link to v2, control frames go to the actor), and each message line is checked the
/// way the JS receiver checks it before verifying (JSON, envelope, key, signature form) and given its id, all on the
/// link's own thread, so every core parses. What is left — deciding whether it is new, verifying it, committing it —
/// is the actor's (docs/PROTOCOL.md §11).
/// </summary>
internal sealed class ReceivePipeline(NodeServices node)
{
    /// <summary>Reads a link until it ends (the caller handles how it ended).</summary>
    public async Task ReadLoopAsync(PeerLink link, CancellationToken cancellationToken)
    {
        PipeReader input = link.Connection.Input;
        var framer = new LineFramer(node.MaxFrameLength);
        var batch = new ReceiveBatch(node.Actor);
        try
        {
            await ReadLinesAsync(input, framer, link, batch, cancellationToken);
        }
        finally
        {
            batch.Flush(); // what was read is the actor's before the link's end is
        }
    }

    private async Task ReadLinesAsync(PipeReader input, LineFramer framer, PeerLink link, ReceiveBatch batch, CancellationToken cancellationToken)
    {
        while (true)
        {
            batch.Flush(); // before waiting for bytes: the lines of one read reach the actor together

            // Silence counts only while the loop waits for bytes: a node too busy to read (a full subscriber, a long
            // verification backlog) is not a dead peer.
            Volatile.Write(ref link.ReadWaitStarted, node.Time.GetTimestamp());
            ReadResult result = await input.ReadAsync(cancellationToken);
            Volatile.Write(ref link.ReadWaitStarted, 0);
            ReadOnlySequence<byte> buffer = result.Buffer;
            long unread = buffer.Length;
            try
            {
                bool completed = result.IsCompleted || result.IsCanceled;
                while (framer.TryReadLine(ref buffer, completed, out ReadOnlySequence<byte> line, out long tooLong))
                {
                    // A link being closed (cut, evicted, timed out) reads nothing more, even what is already buffered.
                    cancellationToken.ThrowIfCancellationRequested();
                    if (tooLong > 0)
                    {
                        DropTooLong(link, tooLong);
                        continue;
                    }

                    await HandleLineAsync(line, link, batch, cancellationToken);
                }

                if (completed)
                {
                    return;
                }
            }
            finally
            {
                Interlocked.Add(ref node.Counters.BytesReceived, unread - buffer.Length); // what the framer took in this read
                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    /// <summary>
    /// Takes one line (without its newline) from <paramref name="link"/> (null: handed in directly). A message goes
    /// into <paramref name="batch"/> when one is given (the read loop's), else straight to the actor.
    /// </summary>
    public async ValueTask HandleLineAsync(ReadOnlySequence<byte> line, PeerLink? link, ReceiveBatch? batch, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref node.Counters.LinesReceived);
        Diagnostics.FrameKinds.CountReceived(node.Counters.FramesIn, line);
        PlumtreeMessage? v2 = null;
        if (line.Length > 8 && IsV2Frame(line, link, batch, out v2))
        {
            if (v2 is null)
            {
                return;
            }

            line = new ReadOnlySequence<byte>(v2.Line!); // a msg frame: its embedded line takes the v1 path
        }

        if (v2 is null && link is not null && link.Version < 2 && !node.Options.Topic.IsDefault)
        {
            // A topic's links speak v2 only (§20): a line before the hello is a v1 peer, which has no topics.
            Interlocked.Increment(ref node.Counters.TopicMismatches);
            link.Close($"the peer sent a message line before its hello: a v1 peer cannot be on the topic {node.Options.Topic.Name}");
            return;
        }

        if (line.Length > node.Options.MaxLineLength)
        {
            // Only v2 frames get the extra room; a v1 line, embedded or not, keeps the v1 limit.
            Interlocked.Increment(ref node.Counters.DroppedTooLong);
            Log.LineDropped(node.Logger, DropReason.TooLong);
            return;
        }

        NodeActor actor = node.Actor;
        if (!actor.Window.TryEnter())
        {
            batch?.Flush(); // the window drains only as the actor commits what it was given
            await actor.Window.EnterAsync(cancellationToken);
        }
        VerifyJob job = actor.RentJob();
        bool posted = false;
        try
        {
            job.Source = link;
            job.V2Frame = v2;
            posted = Prepare(line, job) && (batch is null ? actor.Post(job) : batch.Add(job));
        }
        finally
        {
            if (!posted)
            {
                actor.ReturnJob(job);
                actor.Window.Release();
            }
        }
    }

    /// <summary>
    /// A v2 frame is never taken for a v1 message. A hello switches the link to v2 (when this node speaks it);
    /// a <c>msg</c> frame on a v2 link comes back in <paramref name="message"/> for the receive path; other frames
    /// go to the actor. Frames on a link that has not negotiated v2, and malformed ones, are dropped and counted.
    /// </summary>
    private bool IsV2Frame(ReadOnlySequence<byte> line, PeerLink? link, ReceiveBatch? batch, out PlumtreeMessage? message)
    {
        message = null;
        Span<byte> head = stackalloc byte[16];
        line.Slice(0, Math.Min(16, line.Length)).CopyTo(head);
        if (!V2Hello.IsFrame(head[..(int)Math.Min(16, line.Length)]))
        {
            return false;
        }

        Interlocked.Increment(ref node.Counters.V2FramesReceived);
        if (line.Length == NodeServices.Ping.Length)
        {
            Span<byte> ping = stackalloc byte[NodeServices.Ping.Length];
            line.CopyTo(ping);
            if (ping.SequenceEqual(NodeServices.Ping))
            {
                return true; // a keepalive: its arrival is all it says
            }
        }

        // Read in place: the decoders copy what they keep. A frame split across the pipe's segments is put together
        // in a pooled buffer first.
        byte[]? rented = null;
        try
        {
            ReadOnlySpan<byte> frame;
            if (line.IsSingleSegment)
            {
                frame = line.FirstSpan;
            }
            else
            {
                rented = ArrayPool<byte>.Shared.Rent((int)line.Length);
                line.CopyTo(rented);
                frame = rented.AsSpan(0, (int)line.Length);
            }

            return IsV2Frame(frame, link, batch, out message);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private bool IsV2Frame(ReadOnlySpan<byte> frame, PeerLink? link, ReceiveBatch? batch, out PlumtreeMessage? message)
    {
        message = null;
        int version = V2Hello.TryReadHello(frame, out string? helloNode, out string? helloAddress, out string? helloTopic);
        if (version > 0)
        {
            if (link is not null && node.SpeaksV2 && link.Version < 2 && helloTopic != node.Options.Topic.Id)
            {
                // docs/PROTOCOL.md §20: a link carries one topic; a peer on another (or an older node that routed this
                // connection to its default topic) gets nothing of this one.
                Interlocked.Increment(ref node.Counters.TopicMismatches);
                link.Close(helloTopic is null
                    ? $"the peer is on the default topic, this node on {node.Options.Topic.Name}"
                    : $"the peer is on another topic ({Describe(helloTopic)}), this node on {node.Options.Topic}");
                return true;
            }

            if (link is not null && node.SpeaksV2 && IsOwnKey(helloNode))
            {
                // docs/PROTOCOL.md §5: we dialled ourselves (an address that loops back); nothing useful can cross.
                if (node.LinkLog.MayLog())
                {
                    Log.SelfConnection(node.Logger, link.Connection); // anyone can send our key: rate-limited like link events
                }

                link.Close("the node connected to itself");
                return true;
            }

            if (link is not null && node.SpeaksV2 && link.Version < 2)
            {
                link.AdvertisedAddress = helloAddress;
                link.Version = version;
                Log.PeerNegotiated(node.Logger, link.Connection, version);
                node.LinkLog.Announce(link);
                batch?.Flush(); // the messages before the hello reach the actor before it
                node.Actor.Post(new LinkUpWork(link, version));
                node.Membership?.HelloReceived(link);
            }

            return true;
        }

        if (!node.SpeaksV2 || link is null || link.Version < 2)
        {
            Interlocked.Increment(ref node.Counters.DroppedMalformed);
            Log.V2FrameIgnored(node.Logger, V2Hello.Describe(frame));
            return true; // a frame before the hello, or to a v1-mode node: ignored, as docs/PROTOCOL.md §5 says
        }

        if (V2MembershipCodec.IsMembership(frame))
        {
            if (node.Options.Membership is { } options)
            {
                Protocol.Core.TokenBucket budget = link.MembershipBudget ??= new Protocol.Core.TokenBucket(options.MaxFramesPerSecond);
                TimeSpan now = node.Time.GetElapsedTime(0);
                if (budget.Take(1, now) == 0)
                {
                    Interlocked.Increment(ref node.Counters.MembershipFramesDropped);
                    if (budget.AskedInWindow > 4 * budget.Rate)
                    {
                        link.Close($"more than {4 * options.MaxFramesPerSecond} membership frames in a second", failure: true);
                    }

                    return true;
                }
            }

            string? invalid = null;
            if (node.Membership is { } membership && V2MembershipCodec.TryRead(frame, out MembershipFrame<string>? hv, out invalid))
            {
                membership.FrameReceived(link, hv!);
            }
            else
            {
                Interlocked.Increment(ref node.Counters.DroppedMalformed);
                Log.V2FrameDropped(node.Logger, link.Connection, invalid ?? "a membership frame to a node without membership");
                if (invalid is not null)
                {
                    link.Budget.Charge(DropReason.Malformed);
                }
            }

            return true;
        }

        if (V2FixedFrames.TryReadMessage(frame, node.Authors, out PlumtreeMessage? fixedForm))
        {
            message = fixedForm; // its line is checked as every line is, in Prepare, before anything reads it
            return true;
        }

        int authorsBefore = node.Authors.Count;
        bool decodedOk = V2Frames.TryDecode(frame, node.Authors, node.Options.MaxJsonDepth, out IGossipFrame? decoded, out string? error);
        if (node.Authors.Count > authorsBefore)
        {
            link.Budget.ChargeNewAuthors(node.Authors.Count - authorsBefore); // names are free to make, and the table is shared
        }

        if (!decodedOk)
        {
            Interlocked.Increment(ref node.Counters.DroppedMalformed);
            Log.V2FrameDropped(node.Logger, link.Connection, error ?? "malformed");
            if (error is null || !error.StartsWith("unknown frame type", StringComparison.Ordinal))
            {
                link.Budget.Charge(DropReason.Malformed); // a frame type of a later version is ignored, never charged (§4.1)
            }

            return true;
        }

        if (decoded is PlumtreeMessage msg)
        {
            message = msg;
        }
        else if (decoded is not null)
        {
            var control = new ControlWork(link, decoded);
            if (batch is null)
            {
                node.Actor.Post(control);
            }
            else
            {
                batch.Add(control); // in order with the messages around it, and one wake for a read's frames
            }
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
        return SsbBase64.Decode(key, raw) == 32 && raw[..32].SequenceEqual(node.Keys.PublicKey); // cuts at the tag's dot
    }

    /// <summary>
    /// Everything the JS receiver checks before it verifies, in its order: JSON, envelope, own message, key; then the
    /// message's id. Returns whether the message goes on to the actor.
    /// </summary>
    private bool Prepare(ReadOnlySequence<byte> line, VerifyJob job)
    {
        PeerLink? link = job.Source;
        if (job.V2Frame is { Line: { } own } && own.Length == line.Length)
        {
            job.Adopt(own); // the frame's decoder made this copy for this message alone
        }
        else
        {
            job.Load(line);
        }

        ReadOnlySpan<byte> text = job.Line;
        DropReason reason = V1Envelope.TryParse(text, node.Options.MaxJsonDepth, out V1Envelope envelope);
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
                ? CopyTo(V1Envelope.DecodeString(rawAuthor, escaped: true), author)
                : author[..Encoding.UTF8.GetChars(rawAuthor, author)];
            bool signatureOk = envelope.SignatureEscaped
                ? SsbBase64.Decode(V1Envelope.DecodeString(text[envelope.Signature], escaped: true), job.Signature) == 64
                : SsbBase64.Decode(text[envelope.Signature], job.Signature) == 64;
            bool keyOk = SsbBase64.Decode(author, job.RawKey) == 32;
            if (author.SequenceEqual(node.Keys.Public) || (keyOk && job.RawKey.AsSpan(0, 32).SequenceEqual(node.Keys.PublicKey)))
            {
                // Our own message (in any spelling of our key) came back: on a v2 link the core still learns the
                // sender has it, so it goes on to the actor, which drops it.
                if (!signatureOk || job.V2Frame is null || link is null)
                {
                    return Drop(DropReason.Own, link: null);
                }

                job.Own = true;
                job.Id = MessageIds.Of(node.Keys.PublicKey, job.Signature);
                return true;
            }

            if (!keyOk || !signatureOk)
            {
                return Drop(DropReason.BadKey, link);
            }

            job.SetAuthor(author);
            job.Seq = envelope.Seq;
            job.DataStart = envelope.DataStart;
            job.Id = node.ById ? MessageIds.Of(job.RawKey.AsSpan(0, 32), job.Signature) : MessageIds.FromSignature(job.Signature);
            if (job.V2Frame is null && node.Recent.Contains(node.RecentKey(job)))
            {
                // A copy of a message accepted a moment ago: dropped here, as the engine would drop it. (A copy in a
                // v2 frame goes on: the Plumtree core prunes the link it came on.)
                Drop(DropReason.Old, link: null);
                node.Actor.Facts.Poke(node.Actor);
                return false;
            }

            return true;
        }
        finally
        {
            if (rentedChars is not null)
            {
                ArrayPool<char>.Shared.Return(rentedChars);
            }
        }
    }

    private static Span<char> CopyTo(ReadOnlySpan<char> source, Span<char> destination)
    {
        if (source.Length > destination.Length)
        {
            return source.ToArray();
        }

        source.CopyTo(destination);
        return destination[..source.Length];
    }

    private bool Drop(DropReason why, PeerLink? link)
    {
        link?.Budget.Charge(why);
        node.Counters.Drop(why);
        Log.LineDropped(node.Logger, why);
        return false;
    }

    private void DropTooLong(PeerLink link, long length)
    {
        Interlocked.Increment(ref node.Counters.LinesReceived);
        Interlocked.Increment(ref node.Counters.DroppedTooLong);
        Log.LineTooLong(node.Logger, link.Connection, length, node.Options.MaxLineLength);
        link.Budget.Charge(DropReason.TooLong);
    }

    /// <summary>A peer's topic id as logged: its first 12 characters (it is as long as the hello allows).</summary>
    private static string Describe(string topic) => topic.Length > 12 ? $"{topic[..12]}…" : topic;
}
