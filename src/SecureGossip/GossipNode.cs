using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureGossip.Crypto;

namespace SecureGossip;

/// <summary>
/// A secure-gossip peer, wire-compatible with the npm package <c>secure-gossip</c> 0.3.1: it signs what it
/// publishes with its ed25519 key, verifies what its neighbours send, and every gossip round forwards each new
/// message, as the bytes it arrived as, to every neighbour.
/// </summary>
/// <remarks>
/// <para>Neighbours are connections: <see cref="CreatePeerStream"/> (the JS API), or any
/// <see cref="Transports.GossipConnection"/> given to <see cref="RunConnectionAsync(Transports.GossipConnection, CancellationToken)"/> (TCP, in-memory, …).</para>
/// <para>Unlike the JS package, a round with no neighbour keeps its messages for the next round, so nothing
/// published or received while alone is lost.</para>
/// <para>Thread-safe. Dispose to close every connection.</para>
/// </remarks>
public sealed partial class GossipNode : IAsyncDisposable
{
    private readonly GossipNodeOptions _options;
    private readonly bool _ownsKeys;
    private readonly ILogger _logger;
    private readonly ITimer? _timer;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Lock _gate = new();
    private readonly Lock _publishTurn = new();
    private readonly Counters _counters = new();
    private List<byte[]> _store = [];
    private long _nextSeq;
    private int _disposed;

    /// <summary>Creates a node; with an <see cref="GossipNodeOptions.Interval"/> its rounds start at once.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message says which.</exception>
    public GossipNode(GossipNodeOptions? options = null)
    {
        _options = options ?? new GossipNodeOptions();
        _options.Validate();
        _ownsKeys = _options.Keys is null;
        Keys = _options.Keys ?? GossipKeys.Generate();
        _logger = (_options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<GossipNode>();
        _byId = _options.DeduplicateById || _options.Protocol == GossipProtocol.V2 || _options.Store is not null;
        if (_options.Protocol == GossipProtocol.V2)
        {
            _v2Authors = new Protocol.V2Authors();
            _core = new CoreDriver(this, new Protocol.Core.PlumtreeOptions
            {
                RetainAge = _options.Retention.MaxAge,
                RetainCountPerAuthor = _options.Retention.MaxPerAuthor,
                RetainMaxMessages = _options.Retention.MaxMessages,
                SeenDigests = new SeenIds(this),
                SendDeltas = false, // links are reliable streams; a new connection gets a full frontier
            });
        }

        LoadStore();
        _core?.Protocol.Start(_core);
        StartCommitter();
        StartSupervisor();
        if (_options.Interval != Timeout.InfiniteTimeSpan)
        {
            _timer = _options.TimeProvider.CreateTimer(static state => ((GossipNode)state!).Gossip(), this, _options.Interval, _options.Interval);
        }
    }

    /// <summary>Raised for every accepted message, on the thread that received it (the JS <c>on('message')</c>).</summary>
    /// <remarks>An exception thrown by a handler is logged and does not affect the node.</remarks>
    public event EventHandler<GossipMessage>? MessageReceived;

    /// <summary>The options the node runs with (transports read <see cref="GossipNodeOptions.Defences"/>).</summary>
    internal GossipNodeOptions Options => _options;

    internal bool IsDisposed => _disposed != 0;

    /// <summary>This node's key pair.</summary>
    public GossipKeys Keys { get; }

    /// <summary>Counters of what the node has received, accepted, dropped and sent.</summary>
    public GossipNodeStatistics Statistics => _counters.Snapshot(PeerCount, _options.TimeProvider, _core?.Statistics);

    /// <summary>Messages waiting for the next round.</summary>
    internal int PendingLines
    {
        get
        {
            lock (_gate)
            {
                return _store.Count;
            }
        }
    }

    /// <summary>
    /// Runs one gossip round now: every message queued since the last round is written to every neighbour.
    /// With no neighbour connected the messages stay queued for the next round.
    /// </summary>
    public void Gossip()
    {
        List<byte[]> lines;
        PeerLink[] peers;
        lock (_gate)
        {
            if (_store.Count == 0 || _peers.Count == 0)
            {
                return;
            }

            lines = _store;
            _store = [];

            // Links that speak v2 get messages from the core, as soon as they are accepted, never from rounds.
            peers = [.. _peers.Where(p => p.Version < 2)];
        }

        foreach (PeerLink peer in peers)
        {
            peer.Enqueue(lines);
        }
    }

    /// <summary>Stops the round timer (the JS <c>stop()</c>); connections stay open and <see cref="Gossip"/> still works.</summary>
    public void Stop() => _timer?.Dispose();

    /// <summary>
    /// Receives accepted messages from now on through a bounded channel of
    /// <see cref="GossipNodeOptions.SubscriberCapacity"/>; dispose the subscription to end it.
    /// </summary>
    public GossipSubscription Subscribe()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var channel = Channel.CreateBounded<GossipMessage>(new BoundedChannelOptions(_options.SubscriberCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });
        var subscription = new GossipSubscription(channel, Unsubscribe);
        lock (_gate)
        {
            _subscribers = [.. _subscribers, subscription];
        }

        return subscription;
    }

    /// <summary>Accepted messages from the moment the enumeration starts until it is cancelled or the node is disposed.</summary>
    public async IAsyncEnumerable<GossipMessage> ReadMessagesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using GossipSubscription subscription = Subscribe();
        await foreach (GossipMessage message in subscription.Reader.ReadAllAsync(cancellationToken))
        {
            yield return message;
        }
    }

    /// <summary>Closes every connection, stops the timer and completes every subscription.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Stop();
        if (_supervisor is not null)
        {
            await _supervisor.DisposeAsync();
        }

        await _shutdown.CancelAsync();
        Task[] running;
        lock (_gate)
        {
            running = [.. _peers.Select(p => p.Completion)];
        }

        await Task.WhenAll(running);
        await StopCommitterAsync();
        _core?.StopTimers();
        if (_options.Store is { } store)
        {
            try
            {
                store.Flush();
            }
            catch (Exception e)
            {
                Log.StoreFailed(_logger, e);
            }

            if (_options.OwnsStore)
            {
                store.Dispose();
            }
        }

        foreach (GossipSubscription subscription in _subscribers)
        {
            subscription.Complete();
        }

        _shutdown.Dispose();
        if (_ownsKeys)
        {
            Keys.Dispose();
        }
    }

    private void Unsubscribe(GossipSubscription subscription)
    {
        lock (_gate)
        {
            _subscribers = [.. _subscribers.Where(s => s != subscription)];
        }
    }

    private sealed class Counters
    {
        public long LinesReceived;
        public long MessagesAccepted;
        public long MessagesPublished;
        public long LinesSent;
        public long BytesSent;
        public long DroppedMalformed;
        public long DroppedTooLong;
        public long DroppedBadSignature;
        public long DroppedOwn;
        public long DroppedOld;
        public long SignaturesVerified;
        public long V2FramesReceived;
        public long PeersCut;
        public long AuthorsForgotten;
        public long StoreCommits;
        public long StoreLagTicks;

        public GossipNodeStatistics Snapshot(int peers, TimeProvider time, Protocol.Core.PlumtreeStatistics? core) => new()
        {
            LinesReceived = Volatile.Read(ref LinesReceived),
            MessagesAccepted = Volatile.Read(ref MessagesAccepted),
            MessagesPublished = Volatile.Read(ref MessagesPublished),
            LinesSent = Volatile.Read(ref LinesSent),
            BytesSent = Volatile.Read(ref BytesSent),
            DroppedMalformed = Volatile.Read(ref DroppedMalformed),
            DroppedTooLong = Volatile.Read(ref DroppedTooLong),
            DroppedBadSignature = Volatile.Read(ref DroppedBadSignature),
            DroppedOwn = Volatile.Read(ref DroppedOwn),
            DroppedOld = Volatile.Read(ref DroppedOld),
            SignaturesVerified = Volatile.Read(ref SignaturesVerified),
            V2FramesReceived = Volatile.Read(ref V2FramesReceived),
            PeersCut = Volatile.Read(ref PeersCut),
            AuthorsForgotten = Volatile.Read(ref AuthorsForgotten),
            StoreCommits = Volatile.Read(ref StoreCommits),
            StoreLagMilliseconds = Volatile.Read(ref StoreLagTicks) * 1000.0 / time.TimestampFrequency,
            Core = core,
            ConnectedPeers = peers,
        };
    }
}
