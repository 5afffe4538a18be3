using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SecureGossip.Protocol;
using SecureGossip.Transports;

namespace SecureGossip;

public sealed partial class GossipNode
{
    private static readonly byte[] s_bulkMarker = [];
    private readonly List<PeerLink> _peers = [];
    private byte[]? _hello;

    /// <summary>The neighbours connected now, with what each link negotiated.</summary>
    public IReadOnlyList<GossipPeerInfo> Peers
    {
        get
        {
            lock (_gate)
            {
                return [.. _peers.Select(p => new GossipPeerInfo(p.Connection.Id, p.Connection.RemoteEndPoint, p.Version))];
            }
        }
    }
    private GossipSubscription[] _subscribers = [];

    private int PeerCount
    {
        get
        {
            lock (_gate)
            {
                return _peers.Count;
            }
        }
    }

    /// <summary>
    /// A new duplex stream for ONE neighbour, as the JS <c>createPeerStream()</c>: bytes written to it are what
    /// the neighbour says, bytes read from it are what this node says to the neighbour. Pipe two of them
    /// together (<c>a.CopyToAsync(b)</c> and <c>b.CopyToAsync(a)</c>) or to a socket. Disposing it ends the link.
    /// </summary>
    public Stream CreatePeerStream()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var options = new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false);
        var toNode = new Pipe(options);
        var fromNode = new Pipe(options);
        _ = RunConnectionAsync(new DuplexPipeConnection(toNode.Reader, fromNode.Writer));
        return new DuplexPipeStream(fromNode.Reader, toNode.Writer);
    }

    /// <summary>Gossips over a bare duplex pipe (see the <see cref="GossipConnection"/> overload); the node completes both ends when done.</summary>
    public Task RunConnectionAsync(IDuplexPipe pipe, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        return RunConnectionAsync(pipe as GossipConnection ?? new DuplexPipeConnection(pipe.Input, pipe.Output), cancellationToken);
    }

    /// <summary>
    /// Gossips with the neighbour at the other end of <paramref name="connection"/> until it closes, the token is
    /// cancelled or the node is disposed. The node owns the connection from here on and disposes it at the end.
    /// </summary>
    /// <remarks>
    /// Nothing the link does is thrown from here: a failure at any point (read, write, flush, a keepalive that is not
    /// answered within <see cref="GossipLinkOptions.IdleTimeout"/>, a write stuck past
    /// <see cref="GossipLinkOptions.WriteTimeout"/>, a peer over a budget of <see cref="GossipNodeOptions.Defences"/>,
    /// an error while closing) ends this connection, is logged once with its cause, and the returned task
    /// completes normally. The caller (for example <see cref="TcpGossipClient.MaintainAsync(IGossipConnectionHandler, System.Net.EndPoint, Microsoft.Extensions.Logging.ILogger?, TimeProvider?, CancellationToken)"/>)
    /// can dial again at once.
    /// </remarks>
    /// <exception cref="ObjectDisposedException">The node is disposed (the connection is disposed too).</exception>
    public async Task RunConnectionAsync(GossipConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        CancellationTokenSource linked;
        try
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            linked = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token, cancellationToken, connection.Closed);
        }
        catch (ObjectDisposedException)
        {
            await connection.DisposeAsync();
            throw new ObjectDisposedException(nameof(GossipNode), "The node is disposed; the connection was closed.");
        }

        using (linked)
        {
            var link = new PeerLink(this, connection, linked);
            lock (_gate)
            {
                _peers.Add(link);
            }

            Log.PeerConnected(_logger, connection);
            Task writer = Task.CompletedTask;
            try
            {
                if (_options.Protocol == GossipProtocol.V2)
                {
                    link.Enqueue([_hello ??= V2Hello.Create(Keys.Public, _options.MaxLineLength + V2FrameOverhead)]); // always the first line
                    link.HelloTimer = _options.TimeProvider.CreateTimer(
                        static state =>
                        {
                            var (node, peer) = ((GossipNode, PeerLink))state!;
                            node.PostCore(() => node.HelloTimedOut(peer));
                        },
                        (this, link),
                        _options.Links.HelloTimeout,
                        Timeout.InfiniteTimeSpan);
                }

                writer = link.WriteLoopAsync();
                await ReadLoopAsync(link, linked.Token);
                link.Close("closed by the peer");
            }
            catch (OperationCanceledException) when (linked.IsCancellationRequested)
            {
                link.Close(_disposed != 0 ? "the node is stopping" : cancellationToken.IsCancellationRequested ? "stopped by its caller (a listener or client stopping)" : connection.AbortReason ?? "closed");
            }
            catch (Exception e)
            {
                link.Fail("read failed", e);
            }
            finally
            {
                await EndLinkAsync(link, writer);
            }
        }
    }

    /// <summary>
    /// Takes a finished link down: every step is guarded, because a dead transport can fail at any of them, and the
    /// link must end (and be logged) once whatever happens.
    /// </summary>
    private async Task EndLinkAsync(PeerLink link, Task writer)
    {
        GossipConnection connection = link.Connection;
        try
        {
            lock (_gate)
            {
                _peers.Remove(link);
            }

            if (link.HelloTimer is { } helloTimer)
            {
                await helloTimer.DisposeAsync();
            }

            if (_core is not null && link.Version >= 2)
            {
                PostCore(() => _core.LinkDown(link));
            }

            // Let queued lines drain briefly, then close the transport under a writer that is still stuck.
            link.Outbox.Writer.TryComplete();
            link.CancelAfter(_options.Links.DrainTimeout);
            if (!await CompletesWithinAsync(writer, _options.Links.DrainTimeout + TimeSpan.FromSeconds(1)))
            {
                link.Close("write stuck while closing");
            }
        }
        catch (Exception e)
        {
            Log.LinkStepFailed(_logger, connection, e);
        }

        try
        {
            if (!await CompletesWithinAsync(connection.DisposeAsync().AsTask(), TimeSpan.FromSeconds(10)))
            {
                Log.LinkStepFailed(_logger, connection, new TimeoutException("The transport did not close within 10 s; the link is ended without it."));
            }

            if (connection.CloseError is { } closeError)
            {
                Log.PeerCloseFailed(_logger, connection, closeError.Message);
            }

            // A writer stuck in a transport that ignores cancellation ends when the transport is closed under it. The
            // outbox has one reader: what the writer left is taken back only once the writer is done.
            if (await CompletesWithinAsync(writer, TimeSpan.FromSeconds(5)))
            {
                Requeue(link);
            }
        }
        catch (Exception e)
        {
            Log.LinkStepFailed(_logger, connection, e);
        }
        finally
        {
            LogLinkDown(link);
            link.Done.TrySetResult();
        }
    }

    private async Task<bool> CompletesWithinAsync(Task task, TimeSpan limit)
    {
        try
        {
            await task.WaitAsync(limit, _options.TimeProvider);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (Exception)
        {
            return true; // the writer's own failures are logged by the writer
        }
    }

    /// <summary>
    /// Lines a closed link never got to write go back to the store for the next round, so a link that drops
    /// between a round and its write loses nothing it had not started sending. Receivers drop the copies
    /// that other neighbours already delivered.
    /// </summary>
    private void Requeue(PeerLink link)
    {
        List<byte[]>? unsent = null;
        while (link.Outbox.Reader.TryRead(out byte[]? line))
        {
            // v2 frames are the core's business: it repairs what a closed link lost by anti-entropy.
            if (!ReferenceEquals(line, s_bulkMarker) && !V2Hello.IsFrame(line))
            {
                (unsent ??= []).Add(line);
            }
        }

        if (unsent is not null && _disposed == 0)
        {
            lock (_gate)
            {
                // Each line once: several links that end holding the same round's lines must not multiply it (a
                // line goes back at most once, however many links failed to write it).
                var queued = new HashSet<byte[]>(_store, ReferenceEqualityComparer.Instance);
                _store.InsertRange(0, unsent.Where(queued.Add));
            }
        }
    }

    /// <summary>Closes every current connection (the node keeps running and accepts new ones).</summary>
    internal async Task DisconnectAllAsync()
    {
        PeerLink[] peers;
        lock (_gate)
        {
            peers = [.. _peers];
        }

        foreach (PeerLink peer in peers)
        {
            peer.Close();
        }

        await Task.WhenAll(peers.Select(p => p.Completion));
    }

    private async Task ReadLoopAsync(PeerLink link, CancellationToken cancellationToken)
    {
        PipeReader input = link.Connection.Input;
        // A v2 msg frame wraps a line of up to MaxLineLength in a few dozen bytes (docs/PROTOCOL.md §4.1).
        int maxLine = _options.MaxLineLength + (_core is null ? 0 : V2FrameOverhead);
        bool discarding = false;
        while (true)
        {
            // Silence counts only while the loop waits for bytes: a node too busy to read (a full subscriber, a long
            // verification backlog) is not a dead peer.
            Volatile.Write(ref link.ReadWaitStarted, _options.TimeProvider.GetTimestamp());
            ReadResult result = await input.ReadAsync(cancellationToken);
            Volatile.Write(ref link.ReadWaitStarted, 0);
            ReadOnlySequence<byte> buffer = result.Buffer;
            try
            {
                while (buffer.PositionOf((byte)'\n') is SequencePosition newline)
                {
                    // A link being closed (cut, evicted, timed out) reads nothing more, even what is already buffered.
                    cancellationToken.ThrowIfCancellationRequested();

                    ReadOnlySequence<byte> line = buffer.Slice(0, newline);
                    buffer = buffer.Slice(buffer.GetPosition(1, newline));
                    if (discarding)
                    {
                        discarding = false; // the end of a line already counted as too long
                        continue;
                    }

                    if (line.Length > maxLine)
                    {
                        DropTooLong(link, line.Length);
                        continue;
                    }

                    await HandleLineAsync(line, link, cancellationToken);
                }

                if (!discarding && buffer.Length > maxLine)
                {
                    discarding = true;
                    DropTooLong(link, buffer.Length);
                }

                if (discarding)
                {
                    buffer = buffer.Slice(buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    // Like the JS split stream, the unterminated tail is a line too.
                    if (!discarding && buffer.Length > 0)
                    {
                        await HandleLineAsync(buffer, link, cancellationToken);
                        buffer = buffer.Slice(buffer.End);
                    }

                    return;
                }
            }
            finally
            {
                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    private void DropTooLong(PeerLink link, long length)
    {
        Interlocked.Increment(ref _counters.LinesReceived);
        Interlocked.Increment(ref _counters.DroppedTooLong);
        Log.LineTooLong(_logger, link.Connection, length, _options.MaxLineLength);
        link.Budget.Charge(DropReason.TooLong);
    }

    private sealed class PeerLink
    {
        private readonly GossipNode _node;
        private readonly CancellationTokenSource _cancellation;
        private long _queuedBytes;

        public PeerLink(GossipNode node, GossipConnection connection, CancellationTokenSource cancellation)
        {
            _node = node;
            Connection = connection;
            _cancellation = cancellation;
            LastSent = node._options.TimeProvider.GetTimestamp();
            Budget = new LinkBudget(node, this);
        }

        public GossipConnection Connection { get; }

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

        /// <summary>Why the link ended (the first cause given), and whether that was a failure (logged at Warning).</summary>
        public string? CloseReason { get; private set; }

        public bool CloseIsFailure { get; private set; }

        /// <summary>The link was logged as up at Information (so its end is too).</summary>
        public bool Announced { get; set; }

        /// <summary>The peer was cut for exceeding a budget (once).</summary>
        public int Cut;

        /// <summary>1 until the peer's hello arrives, then the version both speak.</summary>
        public int Version { get; set; } = 1;

        /// <summary>The link's number in the v2 core once it speaks v2 (0 before); read and written on the commit loop.</summary>
        public int CoreId { get; set; }

        /// <summary>
        /// History for the peer, written only when the link has nothing live to send (docs/PROTOCOL.md §9.4): v2
        /// anti-entropy messages (encoded when written) or, for a v1 peer, retained lines (§10.3).
        /// </summary>
        private readonly System.Collections.Concurrent.ConcurrentQueue<object> _bulk = new();
        private int _bulkSignalled;

        /// <summary>Fires once <see cref="GossipLinkOptions.HelloTimeout"/> after connecting (v2 nodes only), for the v1 catch-up.</summary>
        public ITimer? HelloTimer { get; set; }

        public void EnqueueBulk(object message)
        {
            _bulk.Enqueue(message);
            EnqueueMarker();
        }

        public Channel<byte[]> Outbox { get; } = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Completion => Done.Task;

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

        public void Enqueue(List<byte[]> lines)
        {
            foreach (byte[] line in lines)
            {
                if (Interlocked.Add(ref _queuedBytes, line.Length + 1) > _node._options.MaxQueuedBytesPerPeer)
                {
                    Outbox.Writer.TryComplete();
                    Close($"more than {_node._options.MaxQueuedBytesPerPeer} bytes queued for it (it is not reading)", failure: true);
                    return;
                }

                Outbox.Writer.TryWrite(line);
            }
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
            ChannelReader<byte[]> reader = Outbox.Reader;
            int unflushed = 0;
            try
            {
                while (await reader.WaitToReadAsync(token))
                {
                    while (reader.TryRead(out byte[]? line))
                    {
                        if (ReferenceEquals(line, s_bulkMarker))
                        {
                            if (!await WriteBulkAsync(output, reader, token))
                            {
                                return;
                            }

                            continue;
                        }

                        if (ReferenceEquals(line, s_ping))
                        {
                            Volatile.Write(ref PingQueued, 0);
                        }

                        output.Write(line);
                        output.Write("\n"u8);
                        Interlocked.Add(ref _queuedBytes, -(line.Length + 1));
                        Interlocked.Increment(ref _node._counters.LinesSent);
                        Interlocked.Add(ref _node._counters.BytesSent, line.Length + 1);
                        unflushed += line.Length + 1;
                        if (unflushed >= FlushChunk)
                        {
                            unflushed = 0;
                            // Flushed in chunks, so the write timeout judges progress, not the size of a burst.
                            FlushResult chunk = await FlushAsync(output, token);
                            if (chunk.IsCompleted || chunk.IsCanceled)
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
        private async ValueTask<bool> WriteBulkAsync(PipeWriter output, ChannelReader<byte[]> live, CancellationToken token)
        {
            Volatile.Write(ref _bulkSignalled, 0);
            while (true)
            {
                int written = 0;
                int bytes = 0;
                while (written < 64 && bytes < FlushChunk && _bulk.TryDequeue(out object? message))
                {
                    byte[] frame = message as byte[] ?? V2Frames.Encode((Protocol.Core.IGossipFrame)message, _node._v2Authors!);
                    bytes += frame.Length + 1;
                    output.Write(frame);
                    output.Write("\n"u8);
                    written++;
                    Interlocked.Increment(ref _node._counters.LinesSent);
                    Interlocked.Add(ref _node._counters.BytesSent, frame.Length + 1);
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

        /// <summary>Bytes written before a flush: small enough that a live but slow peer completes one well within the write timeout.</summary>
        private const int FlushChunk = 64 * 1024;

        /// <summary>A flush, timed: the supervisor closes a link whose flush makes no progress for the write timeout.</summary>
        private async ValueTask<FlushResult> FlushAsync(PipeWriter output, CancellationToken token)
        {
            TimeProvider time = _node._options.TimeProvider;
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
}
