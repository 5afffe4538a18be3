using System.IO.Pipelines;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureGossip.Crypto;
using SecureGossip.Engine;
using SecureGossip.Links;
using SecureGossip.Protocol.Core;
using SecureGossip.Publishing;
using SecureGossip.Receive;
using SecureGossip.Storage;
using SecureGossip.Transports;

namespace SecureGossip;

/// <summary>
/// A secure-gossip peer, wire-compatible with the npm package <c>secure-gossip</c> 0.3.1: it signs what it
/// publishes with its ed25519 key, verifies what its neighbours send, and passes each new message on to its
/// neighbours — on rounds to v1 (JS) peers, along Plumtree trees to v2 peers (docs/PROTOCOL.md).
/// </summary>
/// <remarks>
/// <para>Neighbours are connections: <see cref="CreatePeerStream"/> (the JS API), or any
/// <see cref="GossipConnection"/> given to <see cref="RunConnectionAsync(GossipConnection, CancellationToken)"/> (TCP, in-memory, …).</para>
/// <para>Inside, the node is a few parts with their own state: links (<c>Links/</c>) read and write connections, the
/// receive pipeline (<c>Receive/</c>) parses lines on each link's thread, and one actor (<c>Engine/NodeActor</c>) owns
/// the protocol state — the <see cref="GossipEngine"/> the simulator runs too — fed with typed work items.</para>
/// <para>Unlike the JS package, a round with no neighbour keeps its messages for the next round, so nothing
/// published or received while alone is lost.</para>
/// <para>Thread-safe. Dispose to close every connection.</para>
/// </remarks>
public sealed class GossipNode : IGossipConnectionHandler, IAsyncDisposable
{
    private readonly NodeServices _node;
    private readonly bool _ownsKeys;
    private readonly NodeActor _actor;
    private readonly ReceivePipeline _receive;
    private readonly LinkRunner _links;
    private readonly Publisher _publisher;
    private readonly LinkSupervisor _supervisor;
    private readonly ITimer? _timer;
    private int _disposed;

    /// <summary>Creates a node; with an <see cref="GossipNodeOptions.Interval"/> its rounds start at once.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message says which.</exception>
    public GossipNode(GossipNodeOptions? options = null)
    {
        options ??= new GossipNodeOptions();
        options.Validate();
        _ownsKeys = options.Keys is null;
        Keys = options.Keys ?? GossipKeys.Generate();
        ILogger logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<GossipNode>();
        _node = new NodeServices(options, Keys, logger);
        PlumtreeOptions? tree = !_node.SpeaksV2 ? null : options.Plumtree with
        {
            RetainAge = options.Retention.MaxAge,
            RetainCountPerAuthor = options.Retention.MaxPerAuthor,
            RetainMaxMessages = options.Retention.MaxMessages,
            SendDeltas = false, // links are reliable streams; a new connection gets a full frontier
        };
        var engine = new GossipEngine(tree, flood: true, roundInterval: null, deduplicateById: _node.ById, options.MaxRememberedIds, options.Retention.MaxMessages, maxFloodBytes: Math.Max(options.MaxQueuedBytesPerPeer / 2, options.MaxLineLength + 1L));
        _actor = new NodeActor(_node, engine, new NodeDelivery(_node, Raise));
        _node.Actor = _actor;
        _receive = new ReceivePipeline(_node);
        _links = new LinkRunner(_node, _receive);
        _publisher = new Publisher(_node, _actor.Context.Self);
        LoadStore(engine);
        _actor.Start();
        _supervisor = new LinkSupervisor(_node, () => Statistics);
        _node.Metrics.Add(_node);
        if (options.Membership is { } membership)
        {
            if (!_node.SpeaksV2)
            {
                throw new ArgumentException("Membership needs protocol v2 (GossipNodeOptions.Protocol).", nameof(options));
            }

            _node.Membership = new MembershipDriver(_node, membership, connection => RunConnectionAsync(connection, CancellationToken.None), RaiseNeighbour);
        }

        if (options.Interval != Timeout.InfiniteTimeSpan)
        {
            _timer = options.TimeProvider.CreateTimer(static state => ((GossipNode)state!).Gossip(), this, options.Interval, options.Interval);
        }
    }

    /// <summary>
    /// The node's neighbours in the membership overlay (the HyParView active view, by advertised address), when
    /// <see cref="GossipNodeOptions.Membership"/> is set; empty otherwise.
    /// </summary>
    public IReadOnlyList<string> Neighbours => _node.Membership?.Active ?? [];

    /// <summary>
    /// Raised when a membership neighbour comes up or goes down (with <see cref="GossipNodeOptions.Membership"/> set), on
    /// the node's membership loop; a handler that throws is logged and does not affect the node.
    /// </summary>
    public event EventHandler<GossipNeighbourEventArgs>? NeighbourChanged;

    /// <summary>The addresses the node keeps in reserve to replace failed neighbours (the passive view); empty without membership.</summary>
    public IReadOnlyList<string> ReserveAddresses => _node.Membership?.Passive ?? [];

    /// <summary>Raised for every accepted message, on the node's actor (the JS <c>on('message')</c>).</summary>
    /// <remarks>An exception thrown by a handler is logged and does not affect the node. A handler that blocks holds up
    /// the node's commits; for slow work, use <see cref="Subscribe"/>.</remarks>
    public event EventHandler<GossipMessage>? MessageReceived;

    /// <summary>The topic this node is on (<see cref="GossipNodeOptions.Topic"/>).</summary>
    public GossipTopic Topic => _node.Options.Topic;

    /// <summary>This node's key pair.</summary>
    public GossipKeys Keys { get; }

    /// <summary>Counters of what the node has received, accepted, dropped and sent.</summary>
    /// <remarks>The counters are live; <see cref="GossipNodeStatistics.Core"/> is the v2 core's as of the node's last idle moment.</remarks>
    public GossipNodeStatistics Statistics => _node.Counters.Snapshot(_node.Links.Count, _node.Time, _actor.TreeStatistics) with
    {
        ReceiveBacklog = _actor.Window.InFlight,
        ReceiveCapacity = _actor.Window.Size,
    };

    /// <summary>Lines received by kind (<see cref="Diagnostics.FrameKinds.Names"/>), live: for the benchmark harness.</summary>
    internal IReadOnlyList<long> FramesReceivedByKind => _node.Counters.FramesIn;

    /// <summary>Verifications the node's actor ran itself while the verifier threads were behind (the rest ran on them).</summary>
    internal long VerifiedOnActor => Volatile.Read(ref _node.Counters.VerifiedOnActor);

    /// <summary>The neighbours connected now, with what each link negotiated.</summary>
    public IReadOnlyList<GossipPeerInfo> Peers => [.. _node.Links.Snapshot().Select(p => new GossipPeerInfo(p.Connection.Id, p.Connection.RemoteEndPoint, p.Version))];

    /// <summary>The options the node runs with (transports read <see cref="GossipNodeOptions.Defences"/>).</summary>
    internal GossipNodeOptions Options => _node.Options;

    internal bool IsDisposed => _disposed != 0;

    /// <summary>
    /// A consumer that must see each message exactly once across crashes (the CLI's stdout): it is handed each
    /// accepted message before the store commit (to prepare its output) and told after the commit to make it visible,
    /// so a crash never shows a message whose id was not recorded. Set before the node receives anything.
    /// </summary>
    internal IDeliverySink? DeliverySink
    {
        get => _actor.Delivery.Sink;
        set => _actor.Delivery.Sink = value;
    }

    /// <summary>
    /// Runs one gossip round now: every message queued since the last round is written to every v1 neighbour.
    /// With no neighbour connected the messages stay queued for the next round. (v2 links get messages as soon as
    /// they are accepted, never from rounds.)
    /// </summary>
    public void Gossip() => _actor.Post(RoundWork.Instance);

    /// <summary>Stops the round timer (the JS <c>stop()</c>); connections stay open and <see cref="Gossip"/> still works.</summary>
    public void Stop() => _timer?.Dispose();

    /// <summary>
    /// Signs <paramref name="payload"/> and queues it for the next round (the JS <c>publish(obj)</c>).
    /// Any value that serializes to a JSON object works: a <see cref="System.Text.Json.Nodes.JsonObject"/>, a
    /// <see cref="JsonElement"/>, a record or class, a dictionary.
    /// </summary>
    /// <returns>The message as receivers will see it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="payload"/> is null.</exception>
    /// <exception cref="ArgumentException">The payload is not a JSON object, has a top-level <c>signature</c> or
    /// <c>__proto__</c> field, nests too deep, or makes a line longer than <see cref="GossipNodeOptions.MaxLineLength"/>.</exception>
    public GossipMessage Publish<T>(T payload, JsonSerializerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(payload);
        byte[] json = payload is JsonElement { ValueKind: JsonValueKind.Undefined }
            ? throw new ArgumentException("The payload is an undefined JsonElement; it must be a JSON object.", nameof(payload))
            : JsonSerializer.SerializeToUtf8Bytes(payload, options);
        return PublishJson(json);
    }

    /// <summary>Signs and queues a payload given as JSON text.</summary>
    /// <exception cref="ArgumentException">The text is not a JSON object (see <see cref="Publish{T}"/>).</exception>
    public GossipMessage PublishJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return PublishJson(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Signs and queues a payload given as UTF-8 JSON.</summary>
    /// <exception cref="ArgumentException">The bytes are not a JSON object (see <see cref="Publish{T}"/>).</exception>
    public GossipMessage PublishJson(ReadOnlySpan<byte> utf8Json) => PublishJson(utf8Json, out _);

    /// <summary>Publishes and also returns the wire line (without its newline) queued for the next round.</summary>
    internal GossipMessage PublishJson(ReadOnlySpan<byte> utf8Json, out byte[] wireLine)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return _publisher.Publish(utf8Json, out wireLine);
    }

    /// <summary>
    /// Receives accepted messages from now on through a bounded channel of
    /// <see cref="GossipNodeOptions.SubscriberCapacity"/>; dispose the subscription to end it.
    /// </summary>
    public GossipSubscription Subscribe()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return _actor.Delivery.Subscribe();
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

    /// <summary>
    /// A new duplex stream for ONE neighbour, as the JS <c>createPeerStream()</c>: bytes written to it are what
    /// the neighbour says, bytes read from it are what this node says to the neighbour. Pipe two of them
    /// together (<c>a.CopyToAsync(b)</c> and <c>b.CopyToAsync(a)</c>) or to a socket. Disposing it ends the link.
    /// </summary>
    public Stream CreatePeerStream()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        PipeOptions options = Transports.BlockPool.PipeOptions(1024 * 1024);
        var toNode = new Pipe(options);
        var fromNode = new Pipe(options);
        _ = RunConnectionAsync(new DuplexPipeConnection(toNode.Reader, fromNode.Writer));
        return new DuplexPipeStream(fromNode.Reader, toNode.Writer);
    }

    /// <summary>Gossips over a bare duplex pipe (see the <see cref="GossipConnection"/> overload); the node completes both ends when done.</summary>
    public Task RunConnectionAsync(IDuplexPipe pipe, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        return RunConnectionAsync(pipe as GossipConnection ?? new DuplexPipeConnection(pipe.Input, pipe.Output), cancellationToken);
    }

    /// <summary>
    /// Gossips with the neighbour at the other end of <paramref name="connection"/> until it closes, the token is
    /// cancelled or the node is disposed. The node owns the connection from here on and disposes it at the end.
    /// </summary>
    /// <remarks>
    /// Nothing the link does is thrown from here: a failure at any point (read, write, flush, a keepalive that is not
    /// answered within <see cref="GossipLinkOptions.IdleTimeout"/>, a write stuck past
    /// <see cref="GossipLinkOptions.WriteTimeout"/>, a peer over a budget of <see cref="GossipNodeOptions.Defences"/>,
    /// an error while closing) ends this connection, is logged once with its cause, and the returned task
    /// completes normally. The caller (a transport's client, for example) can dial again at once.
    /// </remarks>
    /// <exception cref="ObjectDisposedException">The node is disposed (the connection is disposed too).</exception>
    public async Task RunConnectionAsync(GossipConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (_disposed != 0)
        {
            await connection.DisposeAsync();
            throw new ObjectDisposedException(nameof(GossipNode), "The node is disposed; the connection was closed.");
        }

        await _links.RunAsync(connection, cancellationToken);
    }

    /// <summary>
    /// Passes an inbound connection through this node's <see cref="GossipLinkOptions.Middleware"/> (for a
    /// <see cref="GossipTopicRouter"/>, which reads the hello behind it): the connection to use, or null when a step
    /// refused it (counted, logged, disposed).
    /// </summary>
    internal Task<GossipConnection?> SecureAsync(GossipConnection connection, CancellationToken cancellationToken) =>
        _links.HandshakeAsync(connection, cancellationToken);

    /// <summary>As <see cref="RunConnectionAsync(GossipConnection, CancellationToken)"/>, for a connection <see cref="SecureAsync"/> has secured.</summary>
    internal async Task RunSecuredConnectionAsync(GossipConnection connection, CancellationToken cancellationToken)
    {
        if (_disposed != 0)
        {
            await connection.DisposeAsync();
            throw new ObjectDisposedException(nameof(GossipNode), "The node is disposed; the connection was closed.");
        }

        await _links.RunAsync(connection, cancellationToken, secured: true);
    }

    /// <summary>
    /// Whether <paramref name="address"/> belongs to a peer that was cut for exceeding a budget less than
    /// <see cref="GossipDefenceOptions.BackOff"/> ago. Listeners refuse such addresses; clients wait before dialling.
    /// </summary>
    public bool IsBackedOff(IPAddress address) => BackedOffFor(address) > TimeSpan.Zero;

    /// <summary>How much longer <paramref name="address"/> is backed off (zero when it is not).</summary>
    public TimeSpan BackedOffFor(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return _node.BackOff.BackedOffFor(address);
    }

    /// <inheritdoc/>
    bool IGossipConnectionHandler.IsStopped => IsDisposed;

    /// <inheritdoc/>
    GossipDefenceOptions IGossipConnectionHandler.Defences => _node.Options.Defences;

    /// <summary>Closes every connection, stops the timer and completes every subscription.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Stop();
        _node.Metrics.Remove(_node);
        await _supervisor.DisposeAsync();
        await _node.StopAsync();
        if (_node.Membership is { } membership)
        {
            await membership.DisposeAsync();
        }

        await Task.WhenAll(_node.Links.Snapshot().Select(p => p.Completion));
        await _actor.StopAsync();
        if (_node.Options.Store is { } store)
        {
            try
            {
                store.Flush();
            }
            catch (Exception e)
            {
                Log.StoreFailed(_node.Logger, e);
            }

            if (_node.Options.OwnsStore)
            {
                store.Dispose();
            }
        }

        _actor.Delivery.CompleteSubscriptions();
        _node.DisposeStopping();
        if (_ownsKeys)
        {
            Keys.Dispose();
        }
    }

    /// <summary>Reads one line (without its newline) as if a neighbour had sent it.</summary>
    internal ValueTask HandleLineAsync(System.Buffers.ReadOnlySequence<byte> line, CancellationToken cancellationToken) =>
        _receive.HandleLineAsync(line, link: null, batch: null, cancellationToken);

    /// <summary>Completes when everything handed in so far has been accepted or dropped, and delivered.</summary>
    internal Task WhenIdleAsync() => _actor.WhenIdleAsync();

    /// <summary>Authors in the actor's table now (read off the actor: a moment old at most).</summary>
    internal int AuthorTableCount => _actor.AuthorCount;

    /// <summary>The author keys interned for message ids and the v2 core.</summary>
    internal Protocol.V2Authors InternedAuthors => _node.Authors;

    /// <summary>The Plumtree core (read off the actor: tests only, while the node is quiet).</summary>
    internal PlumtreeProtocol? Core => _actor.Engine.Tree;

    /// <summary>Runs <paramref name="inspect"/> on the node's actor (tests read the engine's state this way).</summary>
    internal Task InspectAsync(Action<GossipEngine> inspect) => _actor.InspectAsync(inspect);

    /// <summary>Messages waiting for the next v1 round, once everything posted so far has been taken in.</summary>
    internal async Task<int> PendingLinesAsync()
    {
        int pending = 0;
        await _actor.InspectAsync(engine => pending = engine.Flood?.PendingLines ?? 0);
        return pending;
    }

    /// <summary>
    /// Completes once <paramref name="condition"/> holds for <see cref="Peers"/>: checked on the actor at once and after
    /// every link up, hello and link down (each is posted to the actor after the link registry changed).
    /// </summary>
    internal Task WhenPeersAsync(Func<IReadOnlyList<GossipPeerInfo>, bool> condition) => WhenAsync(() => condition(Peers));

    /// <summary>
    /// Completes once every link speaks v2 and the engine has taken in each peer's first full frontier: from then on
    /// the links carry live traffic only (no frontier is left to answer).
    /// </summary>
    internal Task WhenSyncedAsync() => WhenAsync(() => _node.Links.Snapshot().All(l => l.Version >= 2 && _actor.Facts.IsSynced(l.Id)));

    /// <summary>
    /// Completes once <paramref name="condition"/> holds for <see cref="Statistics"/>, checked whenever the actor has
    /// worked: for what the actor counts (accepted, duplicates, bad signatures, own copies from v2 links) or what a link
    /// down follows (peers cut). A counter the read loops alone keep (lines received, malformed, too long, own copies
    /// from v1 links) is seen at the actor's next work item; await a later line on the same link instead.
    /// </summary>
    internal Task WhenStatisticsAsync(Func<GossipNodeStatistics, bool> condition) => WhenAsync(() => condition(Statistics));

    private void RaiseNeighbour(string address, bool up)
    {
        try
        {
            NeighbourChanged?.Invoke(this, new GossipNeighbourEventArgs(address, up) { Topic = _node.Options.Topic });
        }
        catch (Exception e)
        {
            Log.HandlerFailed(_node.Logger, e);
        }
    }

    /// <summary>Completes once the membership neighbours satisfy <paramref name="condition"/> (checked after each membership event).</summary>
    internal Task WhenNeighboursAsync(Func<IReadOnlyList<string>, bool> condition) =>
        _node.Membership is { } membership ? membership.WhenAsync(() => condition(membership.Active)) : Task.FromException(new InvalidOperationException("The node has no membership."));

    private Task WhenAsync(Func<bool> condition)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _actor.Post(new InspectWork(_ => _actor.Facts.Add(condition, done)))
            ? done.Task
            : Task.FromException(new ObjectDisposedException(nameof(GossipNode)));
    }

    /// <summary>Closes every current connection (the node keeps running and accepts new ones).</summary>
    internal Task DisconnectAllAsync() => _node.Links.DisconnectAllAsync();

    /// <summary>Loads the store at construction: the next seq, the ids seen and (for v2) the retained messages.</summary>
    private void LoadStore(GossipEngine engine)
    {
        if (_node.Options.Store is not { } store)
        {
            return;
        }

        DateTimeOffset now = _node.Time.GetUtcNow();
        // The node commits received messages itself (group commit before delivery); a timer of the store's own would
        // commit ids before their messages are delivered, and a crash in between would lose them for the application.
        GossipStoreSnapshot snapshot = store.Load(now, _node.Options.Retention with { FlushInterval = Timeout.InfiniteTimeSpan });
        _publisher.StartAt(snapshot.NextSequence);
        if (engine.Tree is { } tree)
        {
            foreach (StoredMessage message in snapshot.Retained)
            {
                TimeSpan age = now - message.AcceptedAt;
                tree.Restore(_actor.Context, MessageId.FromDigest(_node.Authors.Intern(message.Author), message.Id), message.Line, age < TimeSpan.Zero ? TimeSpan.Zero : age);
            }
        }

        foreach (UInt128 id in snapshot.SeenIds)
        {
            engine.MarkSeen(id);
        }
    }

    /// <summary>Raises <see cref="MessageReceived"/>, handler by handler, so that a throwing handler does not starve the ones after it.</summary>
    private void Raise(GossipMessage message)
    {
        if (MessageReceived is not { } handlers)
        {
            return;
        }

        if (!handlers.HasSingleTarget)
        {
            RaiseEach(handlers, message);
            return;
        }

        try
        {
            handlers(this, message);
        }
        catch (Exception e)
        {
            Log.HandlerFailed(_node.Logger, e);
        }
    }

    /// <summary>Several handlers: each is called even if one before it throws.</summary>
    private void RaiseEach(EventHandler<GossipMessage> handlers, GossipMessage message)
    {
        foreach (Delegate each in handlers.GetInvocationList())
        {
            var handler = (EventHandler<GossipMessage>)each;
            try
            {
                handler(this, message);
            }
            catch (Exception e)
            {
                Log.HandlerFailed(_node.Logger, e);
            }
        }
    }
}
