using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using System.Threading.Channels;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Transports;

/// <summary>
/// A connection handler that is not a gossip node: it records each connection a transport hands it, collects what
/// arrives on it, and ends the link when the peer closes, the connection is aborted, the caller cancels, or the test
/// drops it. Proves the transports need nothing but <see cref="IGossipConnectionHandler"/>.
/// </summary>
internal sealed class FakeConnectionHandler : IGossipConnectionHandler
{
    private readonly Channel<Served> _served = Channel.CreateUnbounded<Served>();
    private readonly ConcurrentDictionary<IPAddress, TimeSpan> _backedOff = new();
    private int _count;
    private volatile bool _stopped;

    public GossipDefenceOptions Defences { get; } = new();

    public bool IsStopped => _stopped;

    /// <summary>Connections handed over so far.</summary>
    public int ConnectionsServed => Volatile.Read(ref _count);

    public void Stop() => _stopped = true;

    public void BackOff(IPAddress address, TimeSpan duration) => _backedOff[address] = duration;

    public TimeSpan BackedOffFor(IPAddress address) => _backedOff.TryGetValue(address, out TimeSpan left) ? left : TimeSpan.Zero;

    /// <summary>The next connection handed over (or one already handed over and not yet taken).</summary>
    public Task<Served> NextAsync() => _served.Reader.ReadAsync().AsTask().WaitAsync(Gossip.Timeout);

    public async Task RunConnectionAsync(GossipConnection connection, CancellationToken cancellationToken = default)
    {
        if (_stopped)
        {
            await connection.DisposeAsync();
            throw new ObjectDisposedException(nameof(FakeConnectionHandler));
        }

        var served = new Served(connection);
        Interlocked.Increment(ref _count);
        _served.Writer.TryWrite(served);
        using var end = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, connection.Closed, served.DropToken);
        try
        {
            while (true)
            {
                ReadResult read = await connection.Input.ReadAsync(end.Token);
                foreach (ReadOnlyMemory<byte> segment in read.Buffer)
                {
                    served.Received.Writer.TryWrite(Encoding.UTF8.GetString(segment.Span));
                }

                connection.Input.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
            // A reset by the peer ends the link like a close.
        }
        finally
        {
            await connection.DisposeAsync();
            served.Ended.TrySetResult();
        }
    }

    /// <summary>One connection as the handler got it.</summary>
    internal sealed class Served(GossipConnection connection) : IDisposable
    {
        private readonly CancellationTokenSource _drop = new();

        public GossipConnection Connection { get; } = connection;

        public Channel<string> Received { get; } = Channel.CreateUnbounded<string>();

        public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationToken DropToken => _drop.Token;

        /// <summary>Ends the link from the handler's side and waits until the handler has closed it.</summary>
        public async Task DropAsync()
        {
            await _drop.CancelAsync();
            await Ended.Task.WaitAsync(Gossip.Timeout);
        }

        /// <summary>Everything received until it contains <paramref name="text"/>.</summary>
        public async Task<string> ReceiveAsync(string text)
        {
            var all = new StringBuilder();
            while (!all.ToString().Contains(text, StringComparison.Ordinal))
            {
                all.Append(await Received.Reader.ReadAsync().AsTask().WaitAsync(Gossip.Timeout));
            }

            return all.ToString();
        }

        public void Dispose() => _drop.Dispose();
    }
}
