using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SecureGossip.Transports;

/// <summary>
/// Accepts TCP connections, one neighbour per socket, carrying newline-delimited JSON exactly as a JS node does
/// with <c>net.createServer(s =&gt; s.pipe(peer.createPeerStream()).pipe(s))</c>.
/// </summary>
public sealed class TcpGossipListener : IAsyncDisposable
{
    private readonly Socket _socket;

    private TcpGossipListener(Socket socket)
    {
        _socket = socket;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    /// <summary>The bound address; with port 0 requested, the port the system chose.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Binds and listens on <paramref name="endPoint"/>.</summary>
    /// <exception cref="SocketException">The address is in use or not available.</exception>
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
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Waits for the next neighbour.</summary>
    public async ValueTask<GossipConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        Socket accepted = await _socket.AcceptAsync(cancellationToken);
        accepted.NoDelay = true;
        return new StreamConnection(new NetworkStream(accepted, ownsSocket: true), accepted.RemoteEndPoint);
    }

    /// <summary>
    /// Accepts neighbours and gossips with each on <paramref name="node"/> until cancelled; returns when the
    /// accept loop ends (connections already accepted keep running until they close or the node is disposed).
    /// </summary>
    public async Task ServeAsync(GossipNode node, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        logger ??= NullLogger.Instance;
        while (!cancellationToken.IsCancellationRequested)
        {
            GossipConnection connection;
            try
            {
                connection = await AcceptAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                continue; // the client gave up before we got to it
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            try
            {
                _ = node.RunConnectionAsync(connection, cancellationToken);
            }
            catch (ObjectDisposedException)
            {
                await connection.DisposeAsync();
                return;
            }

            logger.LogDebug("Accepted {Connection}", connection);
        }
    }

    /// <summary>Stops listening.</summary>
    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
