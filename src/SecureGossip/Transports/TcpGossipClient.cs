using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;

namespace SecureGossip.Transports;

/// <summary>Outgoing TCP links, as a JS node's <c>net.connect(port).pipe(peer.createPeerStream()).pipe(socket)</c>.</summary>
public static partial class TcpGossipClient
{
    /// <summary>The default of <see cref="TcpGossipClientOptions.InitialBackoff"/>: 100 ms.</summary>
    public static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(100);

    /// <summary>The default of <see cref="TcpGossipClientOptions.MaxBackoff"/>: 5 s.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The default of <see cref="TcpGossipClientOptions.ConnectTimeout"/>: 5 s. Without it an attempt to a blackholed
    /// address waits for the kernel's SYN retries, about two minutes, and a healed partition would wait that long too.
    /// </summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The default of <see cref="TcpGossipClientOptions.StableLink"/>: 10 s.</summary>
    public static readonly TimeSpan StableLink = TimeSpan.FromSeconds(10);

    /// <summary>Timers may fire a tick early: a backed-off address is dialled once its back-off has surely ended.</summary>
    private static readonly TimeSpan s_backOffMargin = TimeSpan.FromMilliseconds(50);

    /// <summary>Connects once, within <see cref="ConnectTimeout"/>; the connection is <see cref="GossipConnectionDirection.Outbound"/>.</summary>
    /// <exception cref="SocketException">Nobody listens there, or the host is unreachable.</exception>
    /// <exception cref="TimeoutException">No answer within <see cref="ConnectTimeout"/>.</exception>
    public static Task<GossipConnection> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken = default) =>
        ConnectAsync(endPoint, ConnectTimeout, TimeProvider.System, cancellationToken);

    /// <summary>Connects once, within <paramref name="timeout"/> as <paramref name="timeProvider"/> measures it.</summary>
    internal static Task<GossipConnection> ConnectAsync(EndPoint endPoint, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken, byte[]? peerKey = null)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        if (endPoint is WebSocketEndPoint webSocket)
        {
            var client = new System.Net.WebSockets.ClientWebSocket();
            return ConnectWithinAsync(endPoint, client, timeout, timeProvider, cancellationToken, async token =>
            {
                await client.ConnectAsync(webSocket.Uri, token);
                return new WebSocketConnection(client, endPoint) { Direction = GossipConnectionDirection.Outbound, PeerKey = peerKey };
            });
        }

        Socket socket = endPoint.AddressFamily == AddressFamily.InterNetwork
            ? new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        return ConnectWithinAsync(endPoint, socket, timeout, timeProvider, cancellationToken, async token =>
        {
            await socket.ConnectAsync(endPoint, token);
            TcpKeepAlive.Apply(socket);
            return new StreamConnection(new NetworkStream(socket, ownsSocket: true), socket.RemoteEndPoint)
            {
                Direction = GossipConnectionDirection.Outbound,
                PeerKey = peerKey,
            };
        });
    }

    /// <summary>
    /// Runs <paramref name="connect"/> within <paramref name="timeout"/>: past it, a <see cref="TimeoutException"/> that
    /// names the address; on any failure the unconnected <paramref name="transport"/> is disposed.
    /// </summary>
    private static async Task<GossipConnection> ConnectWithinAsync(EndPoint endPoint, IDisposable transport, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken, Func<CancellationToken, Task<GossipConnection>> connect)
    {
        using var deadline = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await connect(linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            transport.Dispose();
            throw new TimeoutException($"Connecting to {endPoint} took longer than {timeout.TotalSeconds:0.#} s.");
        }
        catch
        {
            transport.Dispose();
            throw;
        }
    }

    /// <summary>Keeps a link to <paramref name="endPoint"/> up with the default <see cref="TcpGossipClientOptions"/>.</summary>
    /// <inheritdoc cref="MaintainAsync(IGossipConnectionHandler, EndPoint, TcpGossipClientOptions, ILogger?, TimeProvider?, CancellationToken)" path="/remarks"/>
    public static Task MaintainAsync(IGossipConnectionHandler handler, EndPoint endPoint, ILogger? logger = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default) =>
        MaintainAsync(handler, endPoint, new TcpGossipClientOptions(), logger, timeProvider, cancellationToken);

    /// <summary>
    /// Keeps a link to <paramref name="endPoint"/> up until cancelled or until the handler stops: connects, hands the
    /// connection to <paramref name="handler"/> until the link drops, and dials again after a backoff that grows
    /// exponentially from <see cref="TcpGossipClientOptions.InitialBackoff"/> to
    /// <see cref="TcpGossipClientOptions.MaxBackoff"/> with jitter, starting over after a link that stayed up for
    /// <see cref="TcpGossipClientOptions.StableLink"/>.
    /// </summary>
    /// <remarks>
    /// It never gives up and never throws for anything the network does: a failed attempt, a link that fails at any
    /// point, even an unexpected error, is logged and followed by the next attempt. The first failure of an outage
    /// is logged at Warning with its cause, the retries at Debug, the recovery at Information. An address the handler
    /// backed off (a peer cut for exceeding a budget) is not dialled until its back-off ends. The waits are Polly's
    /// exponential backoff with decorrelated jitter, timed by <paramref name="timeProvider"/> (the system clock when
    /// <see langword="null"/>).
    /// </remarks>
    public static async Task MaintainAsync(IGossipConnectionHandler handler, EndPoint endPoint, TcpGossipClientOptions options, ILogger? logger = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var dialler = new Dialler(handler, endPoint, options, logger ?? NullLogger.Instance, timeProvider ?? TimeProvider.System);
        ResiliencePipeline<LinkResult> redial = dialler.BuildPipeline();
        while (!cancellationToken.IsCancellationRequested && !handler.IsStopped)
        {
            try
            {
                // One run of the pipeline lasts until a link proves stable: the next run starts the backoff over.
                LinkResult result = await redial.ExecuteAsync(static (dialler, token) => dialler.DialAsync(token), dialler, cancellationToken);
                if (result == LinkResult.Stopped)
                {
                    return;
                }

                await Task.Delay(options.InitialBackoff, dialler.Time, cancellationToken); // as after any link that ends
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A bug of ours: the loop must not die of it. It is logged and dialling goes on after the longest wait.
                Log.LoopFailed(dialler.Logger, endPoint, e);
                try
                {
                    await Task.Delay(options.MaxBackoff, dialler.Time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private static string Describe(Exception? e) => e switch
    {
        null => "no cause recorded",
        SocketException socket => $"{socket.SocketErrorCode}: {socket.Message}",
        TimeoutException or IOException => e.Message,
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    /// <summary>How one attempt ended, as the retry pipeline sees it.</summary>
    private enum LinkResult
    {
        /// <summary>Connecting failed, or the handler threw: retry after the backoff.</summary>
        Failed,

        /// <summary>A link came up and ended before it was stable: retry after the backoff, which keeps growing.</summary>
        EndedEarly,

        /// <summary>A link stayed up for the stable time and ended: the run ends, the backoff starts over.</summary>
        EndedStable,

        /// <summary>The handler stopped or the caller cancelled: no more dialling.</summary>
        Stopped,
    }

    /// <summary>The state of one <see cref="MaintainAsync(IGossipConnectionHandler, EndPoint, TcpGossipClientOptions, ILogger?, TimeProvider?, CancellationToken)"/> loop.</summary>
    private sealed class Dialler(IGossipConnectionHandler handler, EndPoint endPoint, TcpGossipClientOptions options, ILogger logger, TimeProvider time)
    {
        private int _failures; // consecutive failed attempts, for the log
        private long _links; // links made so far, for the log
        private Exception? _lastError;

        public ILogger Logger => logger;

        public TimeProvider Time => time;

        public ResiliencePipeline<LinkResult> BuildPipeline()
        {
            Func<double> randomizer = options.Random is { } random
                ? () =>
                {
                    lock (random)
                    {
                        return random.NextDouble(); // a Random is not thread-safe, and the options may be shared
                    }
                }
                : Random.Shared.NextDouble;
            return new ResiliencePipelineBuilder<LinkResult> { TimeProvider = time }
                .AddRetry(new RetryStrategyOptions<LinkResult>
                {
                    MaxRetryAttempts = int.MaxValue, // never give up
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = options.InitialBackoff,
                    MaxDelay = options.MaxBackoff,
                    Randomizer = randomizer,
                    ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result is LinkResult.Failed or LinkResult.EndedEarly),
                    OnRetry = args =>
                    {
                        if (args.Outcome.Result == LinkResult.Failed)
                        {
                            if (_failures++ == 0)
                            {
                                Log.ConnectFailed(logger, endPoint, Describe(_lastError), options.MaxBackoff.TotalSeconds);
                            }
                            else
                            {
                                Log.ConnectRetry(logger, endPoint, Describe(_lastError), _failures, (int)args.RetryDelay.TotalMilliseconds);
                            }
                        }

                        return ValueTask.CompletedTask;
                    },
                })
                .Build();
        }

        /// <summary>One attempt: wait out a back-off, connect, run the link until it ends. Throws only when cancelled.</summary>
        public async ValueTask<LinkResult> DialAsync(CancellationToken cancellationToken)
        {
            if (handler.IsStopped)
            {
                return LinkResult.Stopped;
            }

            if (endPoint is IPEndPoint ip && handler.BackedOffFor(ip.Address) is { } backedOff && backedOff > TimeSpan.Zero)
            {
                Log.WaitingOutBackOff(logger, endPoint, backedOff.TotalSeconds);
                await Task.Delay(backedOff + s_backOffMargin, time, cancellationToken);
                if (handler.IsStopped)
                {
                    return LinkResult.Stopped;
                }
            }

            GossipConnection? connection = null;
            try
            {
                connection = await ConnectAsync(endPoint, options.ConnectTimeout, time, cancellationToken, options.PeerKey);
                if (_failures > 0)
                {
                    Log.Reconnected(logger, endPoint, _failures);
                }
                else if (_links == 0)
                {
                    Log.Connected(logger, endPoint); // the first time; later reconnects are link events of the handler
                }
                else
                {
                    Log.ConnectedAgain(logger, endPoint);
                }

                _links++;
                _failures = 0;
                long started = time.GetTimestamp();
                try
                {
                    await handler.RunConnectionAsync(connection, cancellationToken);
                }
                finally
                {
                    // The handler disposes it; a handler that failed to (or threw) must not leak the socket. Never throws.
                    await connection.DisposeAsync();
                    connection = null;
                }

                if (cancellationToken.IsCancellationRequested || handler.IsStopped)
                {
                    return LinkResult.Stopped;
                }

                Log.LinkEnded(logger, endPoint);
                return time.GetElapsedTime(started) >= options.StableLink ? LinkResult.EndedStable : LinkResult.EndedEarly;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw; // not handled by the pipeline: MaintainAsync returns
            }
            catch (ObjectDisposedException) when (handler.IsStopped)
            {
                return LinkResult.Stopped;
            }
            catch (Exception e)
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }

                _lastError = e;
                return LinkResult.Failed;
            }
        }
    }

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

        [LoggerMessage(107, LogLevel.Debug, "{EndPoint} is backed off for {Seconds:0.#} s more; dialling it once that is over")]
        public static partial void WaitingOutBackOff(ILogger logger, EndPoint endPoint, double seconds);

        [LoggerMessage(108, LogLevel.Error, "Keeping the link to {EndPoint} up failed unexpectedly; dialling goes on")]
        public static partial void LoopFailed(ILogger logger, EndPoint endPoint, Exception exception);
    }
}
