using System.IO.Pipelines;
using System.Net;

namespace SecureGossip.Transports;

/// <summary>
/// One link to one neighbour: a duplex byte pipe with an identity, in the manner of Kestrel's
/// <c>ConnectionContext</c>. Transports produce connections; an <see cref="IGossipConnectionHandler"/> consumes
/// them and disposes each one when it ends.
/// </summary>
public abstract class GossipConnection : IDuplexPipe, IAsyncDisposable
{
    private static long s_nextId;
    private readonly CancellationTokenSource _closed = new();
    private readonly CancellationToken _closedToken;

    /// <summary>Creates a connection with a process-unique <see cref="Id"/>.</summary>
    protected GossipConnection()
    {
        Id = "c" + Interlocked.Increment(ref s_nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        _closedToken = _closed.Token; // kept, so it can be read (cancelled) after disposal, when the source is gone
    }

    /// <summary>A short id for logs.</summary>
    public string Id { get; }

    /// <summary>The remote end, where the transport has one.</summary>
    public virtual EndPoint? RemoteEndPoint => null;

    /// <summary>Bytes from the neighbour.</summary>
    public abstract PipeReader Input { get; }

    /// <summary>Bytes to the neighbour.</summary>
    public abstract PipeWriter Output { get; }

    /// <summary>Cancelled when the connection is closed, by either side, or aborted (<see cref="Abort"/>).</summary>
    public CancellationToken Closed => _closedToken;

    /// <summary>
    /// Which end opened the connection; the transport that creates it says (a listener: inbound, a client: outbound).
    /// A handshake reads it to know which side speaks first.
    /// </summary>
    public GossipConnectionDirection Direction { get; init; } = GossipConnectionDirection.Inbound;

    /// <summary>
    /// The peer's long-term ed25519 key (32 bytes), where known: on a connection this node dials into a private network,
    /// the key the peer must prove in the secret handshake (from an address <c>@KEY.ed25519@HOST:PORT</c>); on the
    /// connection a handshake returns, the key the peer proved. <see langword="null"/> on plain connections.
    /// </summary>
    public byte[]? PeerKey { get; init; }

    /// <summary>Why the connection was aborted (the first <see cref="Abort"/> wins); <see langword="null"/> if it was not.</summary>
    public string? AbortReason => Volatile.Read(ref _abortReason);

    private string? _abortReason;

    /// <summary>Accepted messages that arrived over this connection; the node counts them, a listener reads them to
    /// decide which connections to evict first (one that never delivered anything valid).</summary>
    public long MessagesAccepted => Interlocked.Read(ref _messagesAccepted);

    /// <summary>When the connection was created, for eviction order.</summary>
    public long CreatedTimestamp { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

    private long _messagesAccepted;

    internal void CountAccepted() => Interlocked.Increment(ref _messagesAccepted);

    /// <summary>
    /// Ends the connection from outside its handler, as Kestrel's <c>ConnectionContext.Abort</c>: records
    /// <paramref name="reason"/> (readable as <see cref="AbortReason"/>, so the handler can log why its link ended)
    /// and cancels <see cref="Closed"/>. The handler that runs the connection sees that, ends the link and disposes the
    /// transport; aborting does not dispose it under the handler, whose reads and writes would then fail with errors
    /// that hide the reason. Safe to call at any time, from any thread, more than once (the first reason is kept),
    /// and after disposal (it only records the reason then).
    /// </summary>
    public void Abort(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        Interlocked.CompareExchange(ref _abortReason, reason, null);
        if (Volatile.Read(ref _disposing) != 0)
        {
            return;
        }

        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile: it is closed, which is all an abort asks.
        }
        catch (AggregateException)
        {
            // A callback of someone else's threw; the token is cancelled all the same.
        }
    }

    /// <summary>
    /// Closes both directions and releases the transport. Never throws: a transport that fails while closing (a
    /// broken pipe while flushing what was buffered, a reset socket) is closed anyway; the first such failure is
    /// available in <see cref="CloseError"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposing, 1) != 0)
        {
            return;
        }

        try
        {
            await _closed.CancelAsync();
        }
        catch (AggregateException)
        {
            // A callback of someone else's threw; closing goes on.
        }

        try
        {
            await DisposeCoreAsync();
        }
        catch (Exception e)
        {
            CloseError ??= e; // the link is over either way; nothing the caller can do but know
        }

        _closed.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The error the transport raised while closing, if any (informational: the connection is closed).</summary>
    public Exception? CloseError { get; private set; }

    private int _disposing;

    /// <summary>
    /// Releases the transport: complete the pipes, close the socket or stream. It may throw (the node catches it);
    /// it must release the transport even when an earlier step failed.
    /// </summary>
    protected abstract ValueTask DisposeCoreAsync();

    /// <inheritdoc/>
    public override string ToString() => RemoteEndPoint is null ? Id : $"{Id} ({RemoteEndPoint})";
}
