using System.IO.Pipelines;
using System.Net;

namespace SecureGossip.Transports;

/// <summary>
/// One link to one neighbour: a duplex byte pipe with an identity, in the manner of Kestrel's
/// <c>ConnectionContext</c>. Transports produce connections; a <see cref="GossipNode"/> consumes them and
/// disposes each one when it ends.
/// </summary>
public abstract class GossipConnection : IDuplexPipe, IAsyncDisposable
{
    private static long s_nextId;
    private readonly CancellationTokenSource _closed = new();

    /// <summary>Creates a connection with a process-unique <see cref="Id"/>.</summary>
    protected GossipConnection()
    {
        Id = "c" + Interlocked.Increment(ref s_nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A short id for logs.</summary>
    public string Id { get; }

    /// <summary>The remote end, where the transport has one.</summary>
    public virtual EndPoint? RemoteEndPoint => null;

    /// <summary>Bytes from the neighbour.</summary>
    public abstract PipeReader Input { get; }

    /// <summary>Bytes to the neighbour.</summary>
    public abstract PipeWriter Output { get; }

    /// <summary>Cancelled when the connection is closed, by either side.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Accepted messages that arrived over this connection; the node counts them, a listener reads them to
    /// decide which connections to evict first (one that never delivered anything valid).</summary>
    public long MessagesAccepted => Interlocked.Read(ref _messagesAccepted);

    /// <summary>When the connection was created, for eviction order.</summary>
    public long CreatedTimestamp { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

    private long _messagesAccepted;

    internal void CountAccepted() => Interlocked.Increment(ref _messagesAccepted);

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
