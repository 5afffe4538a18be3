using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureGossip.Protocol;
using SecureGossip.Transports;

namespace SecureGossip;

/// <summary>
/// Several topics on one listener: serve this instead of a node, and each inbound connection is handed to the node
/// of the topic its peer's hello names (docs/PROTOCOL.md §20). Each topic is its own <see cref="GossipNode"/> (same
/// key, its own <see cref="GossipNodeOptions.Topic"/>, membership, store and subscribers), added with <see cref="Add"/>;
/// the nodes dial their own peers as usual.
/// </summary>
/// <remarks>
/// <para>An inbound connection first passes the middleware of the first node added (a private network's secret
/// handshake: every node added must have the same key, and should have the same middleware). Then its first line is
/// read without being consumed: a v2 hello naming a topic goes to that topic's node; anything else, or nothing within
/// <see cref="GossipTopicRouterOptions.SilenceWait"/> (a secure-gossip 0.3.1 peer with nothing to say yet), goes to
/// the default topic's node. A connection for a topic without a node here is closed and counted
/// (<see cref="Refused"/>); so is one when the router or the node is stopped.</para>
/// <para>The router owns no node: dispose the nodes yourself. Disposing the router closes the connections it routed.
/// Thread-safe.</para>
/// </remarks>
public sealed class GossipTopicRouter : IGossipConnectionHandler, IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly GossipTopicRouterOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private GossipNode[] _nodes = [];
    private long _routed;
    private long _refused;
    private int _disposed;

    /// <summary>Creates a router with no topics; add a node per topic with <see cref="Add"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="GossipTopicRouterOptions.SilenceWait"/> is not positive.</exception>
    public GossipTopicRouter(GossipTopicRouterOptions? options = null)
    {
        _options = options ?? new GossipTopicRouterOptions();
        if (_options.SilenceWait <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.SilenceWait, "GossipTopicRouterOptions.SilenceWait must be positive.");
        }

        _logger = (_options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<GossipTopicRouter>();
    }

    /// <summary>The nodes connections are routed to, one per topic, in the order they were added.</summary>
    public IReadOnlyList<GossipNode> Nodes => Volatile.Read(ref _nodes);

    /// <summary>Connections handed to a topic's node so far.</summary>
    public long Routed => Interlocked.Read(ref _routed);

    /// <summary>Connections closed because they asked for a topic without a node here (or the router or node was stopped).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>The node for <paramref name="topic"/>, or null.</summary>
    public GossipNode? this[GossipTopic topic]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(topic);
            return Find(topic.Id, topic.IsDefault);
        }
    }

    /// <summary>Routes connections for <paramref name="node"/>'s topic to it from now on.</summary>
    /// <exception cref="ArgumentException">A node for that topic was added already, or the node's key is not the other nodes' key.</exception>
    /// <exception cref="ObjectDisposedException">The router or the node is disposed.</exception>
    public void Add(GossipNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        ObjectDisposedException.ThrowIf(node.IsDisposed, node);
        lock (_lock)
        {
            if (_nodes.Any(n => n.Topic.Equals(node.Topic)))
            {
                throw new ArgumentException($"The router already has a node for the topic {node.Topic}.", nameof(node));
            }

            if (_nodes.Length > 0 && _nodes[0].Keys.Public != node.Keys.Public)
            {
                throw new ArgumentException($"Every topic of a router is run with one key: the node for {node.Topic} has {node.Keys.Public}, the others {_nodes[0].Keys.Public}.", nameof(node));
            }

            Volatile.Write(ref _nodes, [.. _nodes, node]);
        }
    }

    /// <summary>Stops routing new connections to <paramref name="node"/>; its links stay up until it is disposed.</summary>
    public bool Remove(GossipNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        lock (_lock)
        {
            int before = _nodes.Length;
            Volatile.Write(ref _nodes, [.. _nodes.Where(n => !ReferenceEquals(n, node))]);
            return _nodes.Length < before;
        }
    }

    /// <inheritdoc/>
    public async Task RunConnectionAsync(GossipConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        GossipNode[] nodes = Nodes is GossipNode[] current ? current : [.. Nodes];
        if (_disposed != 0 || nodes.Length == 0)
        {
            await connection.DisposeAsync();
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            Interlocked.Increment(ref _refused);
            Log.ConnectionRefusedTopic(_logger, connection, "(none: the router has no topics)");
            return;
        }

        GossipNode first = nodes[0];
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        GossipConnection? secured;
        try
        {
            secured = await first.SecureAsync(connection, stop.Token); // null: refused, logged and disposed
        }
        catch (ObjectDisposedException)
        {
            secured = null;
            await connection.DisposeAsync();
        }

        if (secured is null)
        {
            return;
        }

        (string? id, bool isDefault) topic;
        try
        {
            topic = await ReadTopicAsync(secured, stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException or Crypto.BoxStreamException)
        {
            await secured.DisposeAsync(); // closed, failed or stopped before it said which topic
            return;
        }

        GossipNode? node = Find(topic.id, topic.isDefault);
        if (node is null || node.IsDisposed)
        {
            Interlocked.Increment(ref _refused);
            Log.ConnectionRefusedTopic(_logger, secured, topic.isDefault ? GossipTopic.DefaultName : topic.id ?? "?");
            await secured.DisposeAsync();
            return;
        }

        Interlocked.Increment(ref _routed);
        Log.ConnectionRouted(_logger, secured, node.Topic.Name);
        try
        {
            await node.RunSecuredConnectionAsync(secured, stop.Token);
        }
        catch (ObjectDisposedException)
        {
            Interlocked.Increment(ref _refused); // the node was disposed meanwhile; it closed the connection
        }
    }

    /// <summary>
    /// Which topic the connection is for, read from its first line without consuming it: the hello's <c>topic</c>
    /// (a v2 peer says hello first), else the default topic (a v1 line, or silence for <see cref="GossipTopicRouterOptions.SilenceWait"/>).
    /// </summary>
    private async Task<(string? Id, bool IsDefault)> ReadTopicAsync(GossipConnection connection, CancellationToken cancellationToken)
    {
        PipeReader input = connection.Input;
        using var quiet = new CancellationTokenSource(_options.SilenceWait);
        using CancellationTokenRegistration waking = quiet.Token.UnsafeRegister(static s => ((PipeReader)s!).CancelPendingRead(), input);
        while (true)
        {
            ReadResult read = await input.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> buffer = read.Buffer;
            SequencePosition? newline = buffer.PositionOf((byte)'\n');
            if (newline is { } end)
            {
                ReadOnlySequence<byte> line = buffer.Slice(0, end);
                byte[] first = line.Length <= MaxHelloBytes ? line.ToArray() : [];
                input.AdvanceTo(buffer.Start); // nothing consumed: the node reads this line again
                return V2Hello.TryReadHello(first, out _, out _, out string? topic) > 0 && topic is not null ? (topic, false) : (null, true);
            }

            if (buffer.Length > MaxHelloBytes || (read.IsCanceled && quiet.IsCancellationRequested))
            {
                input.AdvanceTo(buffer.Start); // a long v1 line, or a peer waiting for us to speak: the default topic
                return (null, true);
            }

            if (read.IsCompleted)
            {
                input.AdvanceTo(buffer.Start);
                throw new IOException("the connection closed before it said which topic it is for");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private GossipNode? Find(string? id, bool isDefault)
    {
        foreach (GossipNode node in Nodes)
        {
            if (isDefault ? node.Topic.IsDefault : node.Topic.Id == id)
            {
                return node;
            }
        }

        return null;
    }

    /// <summary>How much longer <paramref name="address"/> is backed off: the longest of its nodes'.</summary>
    public TimeSpan BackedOffFor(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        TimeSpan longest = TimeSpan.Zero;
        foreach (GossipNode node in Nodes)
        {
            if (!node.IsDisposed && node.BackedOffFor(address) is { } left && left > longest)
            {
                longest = left;
            }
        }

        return longest;
    }

    /// <inheritdoc/>
    bool IGossipConnectionHandler.IsStopped => _disposed != 0;

    /// <summary>The inbound limits of the first node added (the defaults when there is none yet).</summary>
    GossipDefenceOptions IGossipConnectionHandler.Defences => Nodes.Count > 0 ? Nodes[0].Options.Defences : new GossipDefenceOptions();

    /// <summary>Stops routing and closes the connections it handed to its nodes (the nodes go on with their other links).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync(); // not disposed: a connection arriving now still links to its token
    }

    /// <summary>The longest first line read as a hello: a hello is a few hundred bytes, with an address at most 1 KiB.</summary>
    private const int MaxHelloBytes = 4096;
}

/// <summary>Settings of a <see cref="GossipTopicRouter"/>.</summary>
public sealed class GossipTopicRouterOptions
{
    /// <summary>
    /// How long an inbound connection may say nothing before it is taken for a secure-gossip 0.3.1 peer waiting for
    /// us to speak, and handed to the default topic's node (default 2 s). A v2 peer says hello at once.
    /// </summary>
    public TimeSpan SilenceWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Where the router logs which topic each connection went to (Debug) and which it refused.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
