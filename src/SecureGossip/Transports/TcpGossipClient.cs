using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SecureGossip.Transports;

/// <summary>Outgoing TCP links, as a JS node's <c>net.connect(port).pipe(peer.createPeerStream()).pipe(socket)</c>.</summary>
public static partial class TcpGossipClient
{
    /// <summary>The first wait before reconnecting: 100 ms.</summary>
    public static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between attempts: 5 s.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long one connection attempt may take (5 s). Without it an attempt to a blackholed address waits for the
    /// kernel's SYN retries, about two minutes, and a healed partition would wait that long too.
    /// </summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>A link that stayed up this long (10 s) resets the backoff: a peer that accepts and drops at once is retried slowly.</summary>
    public static readonly TimeSpan StableLink = TimeSpan.FromSeconds(10);

    /// <summary>Connects once, within <see cref="ConnectTimeout"/>.</summary>
    /// <exception cref="SocketException">Nobody listens there, or the host is unreachable.</exception>
    /// <exception cref="TimeoutException">No answer within <see cref="ConnectTimeout"/>.</exception>
    public static async Task<GossipConnection> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        Socket socket = endPoint.AddressFamily == AddressFamily.InterNetwork
            ? new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectTimeout);
        try
        {
            await socket.ConnectAsync(endPoint, timeout.Token);
            TcpKeepAlive.Apply(socket);
            return new StreamConnection(new NetworkStream(socket, ownsSocket: true), socket.RemoteEndPoint);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"Connecting to {endPoint} took longer than {ConnectTimeout.TotalSeconds:0} s.");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Keeps a link to <paramref name="endPoint"/> up until cancelled or until the node is disposed: connects, gossips
    /// until the link drops, and tries again after a backoff that doubles from <see cref="InitialBackoff"/> to
    /// <see cref="MaxBackoff"/> (with jitter), starting over after a link that stayed up for <see cref="StableLink"/>.
    /// </summary>
    /// <remarks>
    /// It never gives up and never throws for anything the network does: a failed attempt, a link that fails at any
    /// point, even an unexpected error, is logged and followed by the next attempt. The first failure of an outage
    /// is logged at Warning with its cause, the retries at Debug, the recovery at Information. An address the node
    /// backed off (a peer cut for exceeding a budget) is not dialled until its back-off ends.
    /// </remarks>
    public static async Task MaintainAsync(GossipNode node, EndPoint endPoint, ILogger? logger = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(endPoint);
        logger ??= NullLogger.Instance;
        timeProvider ??= TimeProvider.System;
        TimeSpan backoff = InitialBackoff;
        int failures = 0;
        long attempts = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            GossipConnection? connection = null;
            try
            {
                connection = await ConnectAsync(endPoint, cancellationToken);
                if (failures > 0)
                {
                    Log.Reconnected(logger, endPoint, failures);
                }
                else if (attempts == 0)
                {
                    Log.Connected(logger, endPoint); // the first time; later reconnects are link events of the node
                }
                else
                {
                    Log.ConnectedAgain(logger, endPoint);
                }

                attempts++;
                failures = 0;
                long started = timeProvider.GetTimestamp();
                GossipConnection running = connection;
                connection = null; // the node owns it now
                await node.RunConnectionAsync(running, cancellationToken);
                if (timeProvider.GetElapsedTime(started) >= StableLink)
                {
                    backoff = InitialBackoff;
                }

                Log.LinkEnded(logger, endPoint);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException) when (IsDisposed(node))
            {
                return; // the node is gone
            }
            catch (Exception e)
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }

                if (failures++ == 0)
                {
                    Log.ConnectFailed(logger, endPoint, Describe(e), MaxBackoff.TotalSeconds);
                }
                else
                {
                    Log.ConnectRetry(logger, endPoint, Describe(e), failures, (int)backoff.TotalMilliseconds);
                }
            }

            TimeSpan wait = backoff * (0.75 + (Random.Shared.NextDouble() * 0.5));
            if (endPoint is IPEndPoint ip && !IsDisposed(node) && node.BackedOffFor(ip.Address) is { } backedOff && backedOff > wait)
            {
                wait = backedOff + TimeSpan.FromMilliseconds(50); // timers may fire a tick early: dial once it has surely ended
            }

            try
            {
                await Task.Delay(wait, timeProvider, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    private static bool IsDisposed(GossipNode node) => node.IsDisposed;

    private static string Describe(Exception e) => e switch
    {
        SocketException socket => $"{socket.SocketErrorCode}: {socket.Message}",
        TimeoutException or IOException => e.Message,
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    private static partial class Log
    {
        [LoggerMessage(101, LogLevel.Information, "Connected to {EndPoint}")]
        public static partial void Connected(ILogger logger, EndPoint endPoint);

        [LoggerMessage(106, LogLevel.Debug, "Connected to {EndPoint} again")]
        public static partial void ConnectedAgain(ILogger logger, EndPoint endPoint);

        [LoggerMessage(102, LogLevel.Debug, "Link to {EndPoint} ended; dialling again")]
        public static partial void LinkEnded(ILogger logger, EndPoint endPoint);

        [LoggerMessage(103, LogLevel.Warning, "Cannot connect to {EndPoint} ({Error}); retrying with backoff up to {MaxBackoffSeconds} s")]
        public static partial void ConnectFailed(ILogger logger, EndPoint endPoint, string error, double maxBackoffSeconds);

        [LoggerMessage(104, LogLevel.Debug, "Connecting to {EndPoint} failed again ({Error}, attempt {Attempt}); retrying in {Delay} ms")]
        public static partial void ConnectRetry(ILogger logger, EndPoint endPoint, string error, int attempt, int delay);

        [LoggerMessage(105, LogLevel.Information, "Connected to {EndPoint} after {Failures} failed attempts")]
        public static partial void Reconnected(ILogger logger, EndPoint endPoint, int failures);
    }
}
