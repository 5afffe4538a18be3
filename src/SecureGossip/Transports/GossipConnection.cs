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

    /// <summary>Closes both directions and releases the transport.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_closed.IsCancellationRequested)
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

        await DisposeCoreAsync();
        _closed.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the transport: complete the pipes, close the socket or stream.</summary>
    protected abstract ValueTask DisposeCoreAsync();

    /// <inheritdoc/>
    public override string ToString() => RemoteEndPoint is null ? Id : $"{Id} ({RemoteEndPoint})";
}
