using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SecureGossip.Transports;

/// <summary>
/// Accepts TCP connections, one neighbour per socket, carrying newline-delimited JSON exactly as a JS node does
/// with <c>net.createServer(s =&gt; s.pipe(peer.createPeerStream()).pipe(s))</c>.
/// </summary>
public sealed partial class TcpGossipListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Lock _gate = new();
    private readonly List<GossipConnection> _live = [];
    private long _refused;
    private long _evicted;

    private TcpGossipListener(Socket socket)
    {
        _socket = socket;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    /// <summary>The bound address; with port 0 requested, the port the system chose.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Inbound connections open now (served by <see cref="ServeAsync"/>).</summary>
    public int ConnectionCount
    {
        get
        {
            lock (_gate)
            {
                return _live.Count;
            }
        }
    }

    /// <summary>Connections refused by <see cref="ServeAsync"/>: over the per-address cap, backed off, or at the cap with nothing to evict.</summary>
    public long ConnectionsRefused => Interlocked.Read(ref _refused);

    /// <summary>Connections closed by <see cref="ServeAsync"/> to make room at the cap (each had delivered no valid message).</summary>
    public long ConnectionsEvicted => Interlocked.Read(ref _evicted);

    /// <summary>Binds and listens on <paramref name="endPoint"/>.</summary>
    /// <exception cref="SocketException">The address is in use or not available; the message names the address.</exception>
    public static TcpGossipListener Start(IPEndPoint endPoint, int backlog = 128)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(endPoint);
            socket.Listen(backlog);
            return new TcpGossipListener(socket);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new ListenException(endPoint, e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Waits for the next neighbour; the connection is <see cref="GossipConnectionDirection.Inbound"/>.</summary>
    public async ValueTask<GossipConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        Socket accepted = await _socket.AcceptAsync(cancellationToken);
        try
        {
            TcpKeepAlive.Apply(accepted);
            return new StreamConnection(new NetworkStream(accepted, ownsSocket: true), accepted.RemoteEndPoint)
            {
                Direction = GossipConnectionDirection.Inbound,
            };
        }
        catch
        {
            accepted.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Accepts neighbours and hands each to <paramref name="handler"/> until cancelled or until the handler stops;
    /// returns when the accept loop ends (connections already accepted keep running until they close or the handler
    /// stops).
    /// </summary>
    /// <remarks>
    /// Applies the handler's <see cref="IGossipConnectionHandler.Defences"/>: at most
    /// <see cref="GossipDefenceOptions.MaxInboundConnections"/> connections (at the cap a new one evicts the oldest
    /// that has delivered no valid message, by <see cref="GossipConnection.Abort"/> with the reason, or is refused), at
    /// most <see cref="GossipDefenceOptions.MaxInboundPerAddress"/> from one address, none from a backed-off address
    /// (<see cref="IGossipConnectionHandler.BackedOffFor"/>). A handler that throws ends only its own connection. The accept loop survives every error: a failed accept
    /// (out of file descriptors, a reset) is logged and retried after a short pause.
    /// </remarks>
    public async Task ServeAsync(IGossipConnectionHandler handler, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        logger ??= NullLogger.Instance;
        GossipDefenceOptions limits = handler.Defences;
        int failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            GossipConnection connection;
            try
            {
                connection = await AcceptAsync(cancellationToken);
                failures = 0;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return; // the listener was disposed
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                continue; // the client gave up before we got to it
            }
            catch (Exception e)
            {
                // Out of descriptors (EMFILE) and the like: pause rather than spin, and keep accepting.
                if (failures++ == 0)
                {
                    Log.AcceptFailed(logger, LocalEndPoint, e.Message);
                }

                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 50 * failures)), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            if (handler.IsStopped)
            {
                await connection.DisposeAsync();
                return;
            }

            try
            {
                if (!Admit(connection, handler, limits, out GossipConnection? evict, out string? refusal))
                {
                    Interlocked.Increment(ref _refused);
                    Log.Refused(logger, connection, refusal!);
                    await connection.DisposeAsync();
                    continue;
                }

                if (evict is { } evicted)
                {
                    // Aborted, not disposed under its handler: the handler ends the link (logging the reason, whether
                    // or not it had started running it yet) and closes the transport itself.
                    Interlocked.Increment(ref _evicted);
                    Log.Evicted(logger, evicted, limits.MaxInboundConnections);
                    evicted.Abort($"evicted: the listener's cap of {limits.MaxInboundConnections} connections was reached and it had delivered no valid message");
                }

                _ = RunAsync(handler, connection, logger, cancellationToken);
                Log.Accepted(logger, connection);
            }
            catch (Exception e)
            {
                // A bug here must not end the accept loop: this connection is dropped, the loop goes on.
                Log.AdmitFailed(logger, connection, e);
                await connection.DisposeAsync();
            }
        }
    }

    private async Task RunAsync(IGossipConnectionHandler handler, GossipConnection connection, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await handler.RunConnectionAsync(connection, cancellationToken);
        }
        catch (ObjectDisposedException) when (handler.IsStopped)
        {
            // The handler was disposed meanwhile; it closed the connection.
        }
        catch (Exception e)
        {
            // The contract is that a handler completes normally; one that throws ends only this connection.
            Log.HandlerFailed(logger, connection, e);
        }
        finally
        {
            lock (_gate)
            {
                _live.Remove(connection);
            }

            // The handler owns and disposes it; one that did not must not leak the socket (a second dispose is a no-op).
            await connection.DisposeAsync();
        }
    }

    private bool Admit(GossipConnection connection, IGossipConnectionHandler handler, GossipDefenceOptions limits, out GossipConnection? evict, out string? refusal)
    {
        evict = null;
        refusal = null;
        IPAddress? address = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        if (address is not null && handler.BackedOffFor(address) is { } backedOff && backedOff > TimeSpan.Zero)
        {
            refusal = $"its address is backed off for {backedOff.TotalSeconds:0} s more";
            return false;
        }

        lock (_gate)
        {
            if (address is not null && _live.Count(c => SameAddress(c, address)) >= limits.MaxInboundPerAddress)
            {
                refusal = $"{limits.MaxInboundPerAddress} connections from {address} already";
                return false;
            }

            if (_live.Count >= limits.MaxInboundConnections)
            {
                int oldest = -1;
                for (int i = 0; i < _live.Count; i++)
                {
                    if (_live[i].MessagesAccepted == 0 && (oldest < 0 || _live[i].CreatedTimestamp < _live[oldest].CreatedTimestamp))
                    {
                        oldest = i;
                    }
                }

                if (oldest < 0)
                {
                    refusal = $"at the cap of {limits.MaxInboundConnections} connections, each of which has delivered valid messages";
                    return false;
                }

                evict = _live[oldest];
                _live.RemoveAt(oldest);
            }

            _live.Add(connection);
            return true;
        }
    }

    private static bool SameAddress(GossipConnection connection, IPAddress address) =>
        connection.RemoteEndPoint is IPEndPoint ip && Normalize(ip.Address).Equals(Normalize(address));

    private static IPAddress Normalize(IPAddress address) => AddressKey.Normalize(address);

    /// <summary>Stops listening.</summary>
    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(201, LogLevel.Debug, "Accepted {Connection}")]
        public static partial void Accepted(ILogger logger, GossipConnection connection);

        [LoggerMessage(202, LogLevel.Debug, "Refused {Connection}: {Reason}")]
        public static partial void Refused(ILogger logger, GossipConnection connection, string reason);

        [LoggerMessage(203, LogLevel.Debug, "Evicted {Connection}: the cap of {Cap} inbound connections was reached and it had delivered no valid message")]
        public static partial void Evicted(ILogger logger, GossipConnection connection, int cap);

        [LoggerMessage(205, LogLevel.Error, "Admitting {Connection} failed unexpectedly; it is closed and accepting goes on")]
        public static partial void AdmitFailed(ILogger logger, GossipConnection connection, Exception exception);

        [LoggerMessage(206, LogLevel.Warning, "Serving {Connection} failed unexpectedly; it is closed and accepting goes on")]
        public static partial void HandlerFailed(ILogger logger, GossipConnection connection, Exception exception);

        [LoggerMessage(204, LogLevel.Warning, "Accepting on {EndPoint} failed ({Error}); accepting goes on")]
        public static partial void AcceptFailed(ILogger logger, IPEndPoint endPoint, string error);
    }
}
