using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Threading.Channels;
using SecureGossip.Engine;
using SecureGossip.Protocol;
using SecureGossip.Transports;

namespace SecureGossip.Links;

/// <summary>
/// One neighbour's link: what is queued for it and the loop that writes it, its timing for the supervisor, its
/// budget, and why it ended. Anything may queue to it or close it from any thread.
/// </summary>
internal sealed class PeerLink
{
    // The outbox's markers are told apart by reference, so each is its own array (an empty collection expression
    // would be the one shared Array.Empty).
    private static readonly byte[] s_bulkMarker = new byte[1];

    // Written into the outbox when the link is cancelled, to wake its writer: the writer waits without a token, since
    // a cancellable wait on a channel allocates each time and the writer waits once per burst of frames.
    private static readonly byte[] s_closeMarker = new byte[1];

    // Queued by CloseAfterSending: the writer flushes what came before it, then closes the link.
    private static readonly byte[] s_endMarker = new byte[1];
    private string? _endReason;
    private static int s_nextId;

    private readonly NodeServices _node;
    private readonly CancellationTokenSource _cancellation;
    private readonly ConcurrentQueue<object> _bulk = new();
    private long _queuedBytes;
    private int _bulkSignalled;

    public PeerLink(NodeServices node, GossipConnection connection, CancellationTokenSource cancellation)
    {
        _node = node;
        Connection = connection;
        _cancellation = cancellation;
        Id = Interlocked.Increment(ref s_nextId);
        LastSent = node.Time.GetTimestamp();
        Budget = new LinkBudget(node, this);
    }

    /// <summary>The link's number in the node's engine (process-unique, never 0).</summary>
    public int Id { get; }

    /// <summary>The connection the protocol speaks on (after <see cref="GossipLinkOptions.Middleware"/>).</summary>
    public GossipConnection Connection { get; }

    /// <summary>The connection as the transport produced it (the same unless a middleware wrapped it): what listeners track.</summary>
    public required GossipConnection Transport { get; init; }

    /// <summary>
    /// The peer's IP address, where the transport has one: the connection's, or the transport's when a middleware's
    /// wrapper does not carry it. What back-offs and per-address limits key on.
    /// </summary>
    public System.Net.IPAddress? RemoteAddress => ((Connection.RemoteEndPoint ?? Transport.RemoteEndPoint) as System.Net.IPEndPoint)?.Address;

    /// <summary>What the peer has cost so far in the current budget window.</summary>
    public LinkBudget Budget { get; }

    /// <summary>When the read loop began waiting for bytes (a <see cref="TimeProvider"/> timestamp); 0 while it is not waiting.</summary>
    public long ReadWaitStarted;

    /// <summary>When a write was last flushed.</summary>
    public long LastSent;

    /// <summary>When the flush in progress started; 0 when none is.</summary>
    public long FlushStarted;

    /// <summary>A keepalive is queued and not yet written.</summary>
    public int PingQueued;

    /// <summary>The peer was cut for exceeding a budget (once).</summary>
    public int Cut;

    /// <summary>Why the link ended (the first cause given), and whether that was a failure (logged at Warning).</summary>
    public string? CloseReason { get; private set; }

    public bool CloseIsFailure { get; private set; }

    /// <summary>The link was logged as up at Information (so its end is too).</summary>
    public bool Announced { get; set; }

    /// <summary>The link's allowance of membership frames (§19), used by its read loop only.</summary>
    public Protocol.Core.TokenBucket? MembershipBudget { get; set; }

    /// <summary>The address the peer advertised in its hello for membership (§19), if any (set by the read loop).</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>1 until the peer's hello arrives, then the version both speak (set by the read loop).</summary>
    public int Version { get => Volatile.Read(ref _version); set => Volatile.Write(ref _version, value); }

    /// <summary>Bytes queued for the peer and not yet written (what <see cref="GossipNodeOptions.MaxQueuedBytesPerPeer"/> bounds).</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    private int _version = 1;

    /// <summary>Fires once <see cref="GossipLinkOptions.HelloTimeout"/> after connecting (v2 nodes only), for the v1 catch-up.</summary>
    public ITimer? HelloTimer { get; set; }

    /// <summary>
    /// What the writer has to write, in order: lines as bytes (v1 lines, hellos, pings) and v2 frames as the core's
    /// records, encoded straight into the connection's pipe when written (no array per frame).
    /// </summary>
    public Channel<object> Outbox { get; } = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });

    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Completion => Done.Task;

    /// <summary>
    /// History for the peer, written only when the link has nothing live to send (docs/PROTOCOL.md §9.4): v2
    /// anti-entropy messages (encoded when written) or, for a v1 peer, retained lines (§10.3).
    /// </summary>
    public void EnqueueBulk(object message)
    {
        _bulk.Enqueue(message);
        EnqueueMarker();
    }

    /// <summary>Ends the link for <paramref name="reason"/> (the first reason given is the one logged).</summary>
    public void Close(string reason = "closed by this node", bool failure = false)
    {
        lock (this)
        {
            if (CloseReason is null)
            {
                CloseReason = reason;
                CloseIsFailure = failure;
            }
        }

        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        catch (AggregateException)
        {
            // A callback registered on the token threw; the link is cancelled regardless.
        }
    }

    /// <summary>Closes the link once what was queued before this call is written (a membership goodbye, §19).</summary>
    public void CloseAfterSending(string reason)
    {
        Interlocked.CompareExchange(ref _endReason, reason, null);
        Outbox.Writer.TryWrite(s_endMarker);
    }

    /// <summary>Ends the link because of a failure, with its cause.</summary>
    public void Fail(string what, Exception e) => Close($"{what}: {Describe(e)}", failure: true);

    public void CancelAfter(TimeSpan delay)
    {
        try
        {
            _cancellation.CancelAfter(delay);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static string Describe(Exception e) => e is IOException { InnerException: System.Net.Sockets.SocketException socket }
        ? $"{socket.SocketErrorCode}: {socket.Message}"
        : $"{e.GetType().Name}: {e.Message}";

    public void Enqueue(byte[] line) => Enqueue(line, line.Length + 1);

    /// <summary>Queues a v2 frame, encoded when the writer gets to it.</summary>
    public void Enqueue(Protocol.Core.IGossipFrame frame) => Enqueue(frame, QueuedSize(frame));

    private void Enqueue(object item, int size)
    {
        if (Interlocked.Add(ref _queuedBytes, size) > _node.Options.MaxQueuedBytesPerPeer)
        {
            Outbox.Writer.TryComplete();
            Close($"more than {_node.Options.MaxQueuedBytesPerPeer} bytes queued for it (it is not reading)", failure: true);
            return;
        }

        Outbox.Writer.TryWrite(item);
    }

    /// <summary>What a queued frame counts against <see cref="GossipNodeOptions.MaxQueuedBytesPerPeer"/> (its size before encoding: the line it carries and room for its members).</summary>
    private static int QueuedSize(Protocol.Core.IGossipFrame frame) => frame is Protocol.Core.PlumtreeMessage { Line: { } line } ? line.Length + 96 : 128;

    /// <summary>What the link took to write and never wrote, once its writer is done (v1 lines only: v2 repairs by anti-entropy).</summary>
    public List<byte[]> TakeUnsent()
    {
        List<byte[]> unsent = [];
        while (Outbox.Reader.TryRead(out object? item))
        {
            if (item is byte[] line && !ReferenceEquals(line, s_bulkMarker) && !ReferenceEquals(line, s_closeMarker) && !ReferenceEquals(line, s_endMarker) && !V2Hello.IsFrame(line))
            {
                unsent.Add(line);
            }
        }

        return unsent;
    }

    public async Task WriteLoopAsync()
    {
        await Task.Yield();
        CancellationToken token;
        try
        {
            token = _cancellation.Token;
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        PipeWriter output = Connection.Output;
        ChannelReader<object> reader = Outbox.Reader;
        NodeCounters counters = _node.Counters;
        int unflushed = 0;
        CancellationTokenRegistration wake = token.UnsafeRegister(static s => ((PeerLink)s!).Outbox.Writer.TryWrite(s_closeMarker), this);
        try
        {
            while (await reader.WaitToReadAsync())
            {
                if (token.IsCancellationRequested)
                {
                    return;
                }

                while (reader.TryRead(out object? item))
                {
                    int written;
                    if (item is Protocol.Core.IGossipFrame frame)
                    {
                        Interlocked.Add(ref _queuedBytes, -QueuedSize(frame));
                        try
                        {
                            written = V2FrameWriter.WriteLine(frame, _node.Authors, output);
                        }
                        catch (ArgumentException e)
                        {
                            // The core made a frame that cannot go on the wire (a bug): nothing of it was written, and
                            // the link goes on without it.
                            Log.CoreFailed(_node.Logger, e);
                            continue;
                        }

                        Interlocked.Increment(ref counters.LinesSent);
                        Interlocked.Add(ref counters.BytesSent, written);
                        Diagnostics.FrameKinds.Count(counters.FramesOut, Diagnostics.FrameKinds.Of(frame));
                        unflushed += written;
                        if (unflushed >= FlushChunk)
                        {
                            unflushed = 0;
                            if (!await FlushChunkAsync(output, token))
                            {
                                return;
                            }
                        }

                        continue;
                    }

                    byte[] line = (byte[])item;
                    if (ReferenceEquals(line, s_closeMarker))
                    {
                        return;
                    }

                    if (ReferenceEquals(line, s_endMarker))
                    {
                        await FlushAsync(output, token);
                        Close(_endReason ?? "closed by this node");
                        return;
                    }

                    if (ReferenceEquals(line, s_bulkMarker))
                    {
                        if (!await WriteBulkAsync(output, reader, token))
                        {
                            return;
                        }

                        continue;
                    }

                    if (ReferenceEquals(line, NodeServices.Ping))
                    {
                        Volatile.Write(ref PingQueued, 0);
                    }

                    V1LineWriter.WriteLine(line, output);
                    Interlocked.Add(ref _queuedBytes, -(line.Length + 1));
                    Interlocked.Increment(ref counters.LinesSent);
                    Interlocked.Add(ref counters.BytesSent, line.Length + 1);
                    Diagnostics.FrameKinds.Count(counters.FramesOut, Diagnostics.FrameKinds.Of(line.AsSpan(0, Math.Min(16, line.Length))));
                    unflushed += line.Length + 1;
                    if (unflushed >= FlushChunk)
                    {
                        unflushed = 0;
                        if (!await FlushChunkAsync(output, token))
                        {
                            return;
                        }
                    }
                }

                unflushed = 0;
                FlushResult flushed = await FlushAsync(output, token);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            Fail("write failed", e);
        }
        finally
        {
            wake.Dispose();
            _bulk.Clear();
            try
            {
                // A dead write side ends the read side too.
                await _cancellation.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>
    /// Writes queued anti-entropy messages in batches, flushing after each so the transport's backpressure (a
    /// peer that verifies slower than we send) paces them, and yields to live traffic between batches.
    /// Returns false when the connection is done.
    /// </summary>
    private async ValueTask<bool> WriteBulkAsync(PipeWriter output, ChannelReader<object> live, CancellationToken token)
    {
        Volatile.Write(ref _bulkSignalled, 0);
        NodeCounters counters = _node.Counters;
        while (true)
        {
            int written = 0;
            long bytes = 0;
            while (written < 64 && bytes < FlushChunk && _bulk.TryDequeue(out object? message))
            {
                int length = message is byte[] line
                    ? V1LineWriter.WriteLine(line, output)
                    : V2FrameWriter.WriteLine((Protocol.Core.IGossipFrame)message, _node.Authors, output);
                bytes += length;
                written++;
                Interlocked.Increment(ref counters.LinesSent);
                Interlocked.Add(ref counters.BytesSent, length);
                Diagnostics.FrameKinds.Count(counters.FramesOut, message is byte[] sent ? Diagnostics.FrameKinds.Of(sent.AsSpan(0, Math.Min(16, sent.Length))) : Diagnostics.FrameKinds.Of((Protocol.Core.IGossipFrame)message));
            }

            FlushResult flushed = await FlushAsync(output, token);
            if (flushed.IsCompleted || flushed.IsCanceled)
            {
                return false;
            }

            if (_bulk.IsEmpty)
            {
                return true;
            }

            if (live.TryPeek(out _))
            {
                // Live lines first; the marker brings us back here after them.
                EnqueueMarker();
                return true;
            }
        }
    }

    /// <summary>Flushes in chunks, so the write timeout judges progress, not the size of a burst; false when the connection is done.</summary>
    private async ValueTask<bool> FlushChunkAsync(PipeWriter output, CancellationToken token)
    {
        FlushResult chunk = await FlushAsync(output, token);
        return !chunk.IsCompleted && !chunk.IsCanceled;
    }

    /// <summary>Bytes written before a flush: small enough that a live but slow peer completes one well within the write timeout.</summary>
    private const int FlushChunk = 64 * 1024;

    /// <summary>A flush, timed: the supervisor closes a link whose flush makes no progress for the write timeout.</summary>
    private async ValueTask<FlushResult> FlushAsync(PipeWriter output, CancellationToken token)
    {
        TimeProvider time = _node.Time;
        Volatile.Write(ref FlushStarted, time.GetTimestamp());
        try
        {
            return await output.FlushAsync(token);
        }
        finally
        {
            long now = time.GetTimestamp();
            Volatile.Write(ref FlushStarted, 0);
            Volatile.Write(ref LastSent, now);
        }
    }

    private void EnqueueMarker()
    {
        if (Interlocked.Exchange(ref _bulkSignalled, 1) == 0)
        {
            Outbox.Writer.TryWrite(s_bulkMarker);
        }
    }
}
