using System.Net.Sockets;

namespace SecureGossip.Tests.TestSupport;

/// <summary>
/// One client connection through a <see cref="FaultProxy"/> and its upstream socket, with a pump each way.
/// Faults are set per direction: stall (stop reading, hold what was read, keep the sockets open), blackhole
/// (read and drop), reset (RST on both sockets) now or once a chosen number of bytes has been forwarded.
/// </summary>
internal sealed class ProxyConnection : IAsyncDisposable
{
    private readonly Socket _client;
    private readonly Socket _upstream;
    private readonly FaultProxy _proxy;
    private readonly Pump _toUpstream;
    private readonly Pump _toClient;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _closeLock = new();
    private Task _pumps = Task.CompletedTask;
    private bool _isClosed;

    internal ProxyConnection(int index, Socket client, Socket upstream, FaultProxy proxy)
    {
        Index = index;
        _client = client;
        _upstream = upstream;
        _proxy = proxy;
        _toUpstream = new Pump(this, client, upstream);
        _toClient = new Pump(this, upstream, client);
    }

    /// <summary>0 for the first connection the proxy accepted, and so on.</summary>
    public int Index { get; }

    /// <summary>True once either side closed or the proxy reset or disposed the connection.</summary>
    public bool IsClosed
    {
        get
        {
            lock (_closeLock)
            {
                return _isClosed;
            }
        }
    }

    /// <summary>True if it ended abortively: the proxy reset it, or one side reset and the proxy passed the RST on.</summary>
    public bool WasReset { get; private set; }

    /// <summary>Completes when the connection is closed, whoever closed it.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Bytes written onwards in <paramref name="direction"/>.</summary>
    public long BytesForwarded(ProxyDirection direction) => Interlocked.Read(ref Of(direction).Forwarded);

    /// <summary>Bytes read in <paramref name="direction"/> and dropped by a blackhole.</summary>
    public long BytesDropped(ProxyDirection direction) => Interlocked.Read(ref Of(direction).Dropped);

    /// <summary>Waits until a blackhole in <paramref name="direction"/> has dropped <paramref name="bytes"/> in all.</summary>
    public Task WaitForDroppedAsync(ProxyDirection direction, long bytes, TimeSpan timeout) => Of(direction).WhenDroppedAsync(bytes).WaitAsync(timeout);

    /// <summary>Stops forwarding in <paramref name="direction"/>: what was read is held, nothing more is read, the sockets stay open.</summary>
    public void Stall(ProxyDirection direction) => Of(direction).SetMode(PumpMode.Stall);

    /// <summary>Reads and silently drops everything in <paramref name="direction"/>.</summary>
    public void Blackhole(ProxyDirection direction) => Of(direction).SetMode(PumpMode.Blackhole);

    /// <summary>Forwards again in <paramref name="direction"/>, held bytes first.</summary>
    public void Resume(ProxyDirection direction) => Of(direction).SetMode(PumpMode.Pass);

    /// <summary>Resets both sockets once exactly <paramref name="totalBytes"/> have been forwarded in <paramref name="direction"/> over this connection's life.</summary>
    public void ResetAfter(ProxyDirection direction, long totalBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalBytes);
        Pump pump = Of(direction);
        Interlocked.Exchange(ref pump.ResetAt, totalBytes);
        if (Interlocked.Read(ref pump.Forwarded) >= totalBytes)
        {
            ResetNow();
        }
    }

    /// <summary>Closes both sockets with RST now.</summary>
    public void ResetNow() => Close(reset: true);

    public async ValueTask DisposeAsync()
    {
        Close(reset: false);
        await _pumps;
        _stop.Dispose();
    }

    internal void Start()
    {
        _pumps = RunAsync();

        async Task RunAsync()
        {
            await Task.WhenAll(_toUpstream.RunAsync(_stop.Token), _toClient.RunAsync(_stop.Token));
            Close(reset: false); // both sides ended in order
        }
    }

    private Pump Of(ProxyDirection direction) => direction == ProxyDirection.ToUpstream ? _toUpstream : _toClient;

    private void Close(bool reset)
    {
        lock (_closeLock)
        {
            if (_isClosed)
            {
                return;
            }

            _isClosed = true;
            WasReset = reset;
        }

        if (reset)
        {
            // Linger 0 turns close into an abortive close: the kernel sends RST and drops unsent data.
            _client.LingerState = new LingerOption(true, 0);
            _upstream.LingerState = new LingerOption(true, 0);
        }

        _stop.Cancel();
        _client.Dispose();
        _upstream.Dispose();
        _toUpstream.Release();
        _toClient.Release();
        _closed.TrySetResult();
    }

    private enum PumpMode
    {
        Pass,
        Stall,
        Blackhole,
    }

    private sealed class Pump(ProxyConnection owner, Socket from, Socket to)
    {
        public long Forwarded;
        public long Dropped;
        public long ResetAt = long.MaxValue;
        private readonly Lock _lock = new();
        private readonly List<(long Bytes, TaskCompletionSource Done)> _droppedWaiters = [];
        private PumpMode _mode = PumpMode.Pass;
        private TaskCompletionSource _resumed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void SetMode(PumpMode mode)
        {
            lock (_lock)
            {
                _mode = mode;
                if (mode != PumpMode.Stall)
                {
                    _resumed.TrySetResult();
                }
                else if (_resumed.Task.IsCompleted)
                {
                    _resumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }
        }

        public Task WhenDroppedAsync(long bytes)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                if (Interlocked.Read(ref Dropped) >= bytes)
                {
                    return Task.CompletedTask;
                }

                _droppedWaiters.Add((bytes, done));
            }

            return done.Task;
        }

        public void Release()
        {
            lock (_lock)
            {
                _resumed.TrySetResult();
            }
        }

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            byte[] buffer = new byte[16 * 1024];
            try
            {
                while (true)
                {
                    await WhileStalledAsync(cancellationToken);
                    int read = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                    if (read == 0)
                    {
                        break;
                    }

                    TimeSpan delay = owner._proxy.Delay;
                    if (delay > TimeSpan.Zero)
                    {
                        await Task.Delay(delay, cancellationToken);
                    }

                    await WhileStalledAsync(cancellationToken); // a stall set while this chunk was read holds it
                    if (CurrentMode() == PumpMode.Blackhole)
                    {
                        long dropped = Interlocked.Add(ref Dropped, read);
                        lock (_lock)
                        {
                            _droppedWaiters.RemoveAll(w => dropped >= w.Bytes && w.Done.TrySetResult());
                        }

                        continue;
                    }

                    long forwarded = Interlocked.Read(ref Forwarded);
                    long resetAt = Interlocked.Read(ref ResetAt);
                    int length = (int)Math.Min(read, Math.Max(0, resetAt - forwarded));
                    for (int sent = 0; sent < length;)
                    {
                        sent += await to.SendAsync(buffer.AsMemory(sent, length - sent), SocketFlags.None, cancellationToken);
                    }

                    Interlocked.Add(ref Forwarded, length);
                    if (forwarded + length >= resetAt)
                    {
                        owner.ResetNow();
                        return;
                    }
                }

                // An orderly end on one side is passed on as an orderly end (half-close), as TCP would.
                to.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                owner.Close(reset: true); // an abortive end on one side is passed on as one
            }
            catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
            {
                owner.Close(reset: false);
            }
        }

        private PumpMode CurrentMode()
        {
            lock (_lock)
            {
                return _mode;
            }
        }

        private Task WhileStalledAsync(CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                return _mode == PumpMode.Stall ? _resumed.Task.WaitAsync(cancellationToken) : Task.CompletedTask;
            }
        }
    }
}
