using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SecureGossip.Transports;

/// <summary>Outgoing TCP links, as a JS node's <c>net.connect(port).pipe(peer.createPeerStream()).pipe(socket)</c>.</summary>
public static class TcpGossipClient
{
    /// <summary>The first wait before reconnecting: 100 ms.</summary>
    public static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between attempts: 5 s.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <summary>Connects once.</summary>
    /// <exception cref="SocketException">Nobody listens there, or the host is unreachable.</exception>
    public static async Task<GossipConnection> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetwork)
            {
                socket = Reopen(socket, AddressFamily.InterNetwork);
            }

            await socket.ConnectAsync(endPoint, cancellationToken);
            socket.NoDelay = true;
            return new StreamConnection(new NetworkStream(socket, ownsSocket: true), socket.RemoteEndPoint);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Keeps a link to <paramref name="endPoint"/> up until cancelled: connects, gossips until the link drops,
    /// and tries again after a backoff that doubles from <see cref="InitialBackoff"/> to <see cref="MaxBackoff"/>
    /// (with jitter) and starts over after each successful connection.
    /// </summary>
    public static async Task MaintainAsync(GossipNode node, EndPoint endPoint, ILogger? logger = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(endPoint);
        logger ??= NullLogger.Instance;
        timeProvider ??= TimeProvider.System;
        TimeSpan backoff = InitialBackoff;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                GossipConnection connection = await ConnectAsync(endPoint, cancellationToken);
                logger.LogInformation("Connected to {EndPoint}", endPoint);
                backoff = InitialBackoff;
                await node.RunConnectionAsync(connection, cancellationToken);
                logger.LogInformation("Link to {EndPoint} closed", endPoint);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return; // the node is gone
            }
            catch (SocketException e)
            {
                logger.LogDebug("Connecting to {EndPoint} failed ({Error}); retrying in {Delay} ms", endPoint, e.SocketErrorCode, (int)backoff.TotalMilliseconds);
            }

            TimeSpan jittered = backoff * (0.75 + (Random.Shared.NextDouble() * 0.5));
            try
            {
                await Task.Delay(jittered, timeProvider, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    private static Socket Reopen(Socket socket, AddressFamily family)
    {
        socket.Dispose();
        return new Socket(family, SocketType.Stream, ProtocolType.Tcp);
    }
}
