using System.Net;
using System.Net.Sockets;

namespace SecureGossip.Tests.TestSupport;

/// <summary>
/// A TCP proxy on 127.0.0.1 that sits between two real nodes and injects faults on command: a delay per chunk,
/// a stall (bytes held, sockets open), a blackhole (bytes read and dropped), a reset (RST) now or at a chosen
/// byte count. It counts bytes each way and lists its live connections. Disposing it closes every socket it
/// opened, so a failing test never leaves one behind.
/// </summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    /// <summary>No more than this many connections are accepted over the proxy's life (a runaway redialler is a bug to see, not to serve).</summary>
    public const int MaxConnections = 256;

    private readonly Socket _listener;
    private readonly EndPoint _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<ProxyConnection> _all = [];
    private readonly List<(int Index, TaskCompletionSource<ProxyConnection> Signal)> _waiters = [];
    private readonly Task _acceptLoop;
    private long _delayTicks;

    private FaultProxy(Socket listener, EndPoint upstream)
    {
        _listener = listener;
        _upstream = upstream;
        EndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>Where clients connect: 127.0.0.1 and the port the system chose.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>A delay applied before forwarding each chunk read, both ways, on every connection (zero: none).</summary>
    public TimeSpan Delay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _delayTicks));
        set => Interlocked.Exchange(ref _delayTicks, value.Ticks);
    }

    /// <summary>Connections accepted so far, live or closed, in the order they were accepted.</summary>
    public IReadOnlyList<ProxyConnection> Connections
    {
        get
        {
            lock (_all)
            {
                return [.. _all];
            }
        }
    }

    /// <summary>The connections whose both sockets are still open.</summary>
    public IReadOnlyList<ProxyConnection> LiveConnections => [.. Connections.Where(c => !c.IsClosed)];

    /// <summary>Starts a proxy to <paramref name="upstream"/>.</summary>
    public static FaultProxy Start(EndPoint upstream)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(16);
            return new FaultProxy(listener, upstream);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Bytes forwarded in <paramref name="direction"/> over all connections.</summary>
    public long BytesForwarded(ProxyDirection direction) => Connections.Sum(c => c.BytesForwarded(direction));

    /// <summary>Waits for the connection accepted <paramref name="index"/>-th (0-based), including one already accepted.</summary>
    public async Task<ProxyConnection> WaitForConnectionAsync(int index, TimeSpan timeout)
    {
        var signal = new TaskCompletionSource<ProxyConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_all)
        {
            if (index < _all.Count)
            {
                return _all[index];
            }

            _waiters.Add((index, signal));
        }

        try
        {
            return await signal.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The proxy did not accept connection #{index} within {timeout.TotalSeconds} s ({Connections.Count} accepted so far).");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _acceptLoop;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }

        foreach (ProxyConnection connection in Connections)
        {
            await connection.DisposeAsync();
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                connectTimeout.CancelAfter(TimeSpan.FromSeconds(10));
                await upstream.ConnectAsync(_upstream, connectTimeout.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                // Upstream is down: the client sees a reset, as it would see a refused connect without the proxy.
                upstream.Dispose();
                client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                continue;
            }

            client.NoDelay = true;
            upstream.NoDelay = true;
            ProxyConnection connection;
            lock (_all)
            {
                if (_all.Count >= MaxConnections)
                {
                    client.Dispose();
                    upstream.Dispose();
                    continue;
                }

                connection = new ProxyConnection(_all.Count, client, upstream, this);
                _all.Add(connection);
                foreach (var waiter in _waiters.Where(w => w.Index < _all.Count).ToList())
                {
                    waiter.Signal.TrySetResult(_all[waiter.Index]);
                    _waiters.Remove(waiter);
                }
            }

            connection.Start();
        }
    }
}
