using Microsoft.Extensions.Logging;
using SecureGossip.Crypto;

namespace SecureGossip;

/// <summary>Settings of a <see cref="GossipNode"/>. Every limit is on by default: a peer is a stranger.</summary>
public sealed class GossipNodeOptions
{
    /// <summary>The default <see cref="Interval"/>: 100 ms, the JS package's default.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The node's identity. <see langword="null"/> (the default): a fresh key pair, as the JS package does.</summary>
    public GossipKeys? Keys { get; set; }

    /// <summary>
    /// Time between gossip rounds (default 100 ms). <see cref="Timeout.InfiniteTimeSpan"/> runs no timer: call
    /// <see cref="GossipNode.Gossip"/> yourself (the JS <c>interval: -1</c>).
    /// </summary>
    public TimeSpan Interval { get; set; } = DefaultInterval;

    /// <summary>
    /// The longest line accepted from a peer, in bytes without the newline (default 1 MiB). A longer line is
    /// dropped and counted, and its bytes are discarded as they arrive, so an endless line costs no more memory
    /// than this. The JS package has no limit; its own messages are a few hundred bytes.
    /// </summary>
    public int MaxLineLength { get; set; } = 1024 * 1024;

    /// <summary>
    /// The deepest nesting of objects and arrays accepted in a line, the envelope included (default 64, as
    /// System.Text.Json). Deeper lines are dropped: canonicalizing them costs stack.
    /// </summary>
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>
    /// The most bytes queued for one neighbour that is not reading (default 16 MiB). Past it the connection is
    /// closed on purpose rather than letting a stalled peer grow the node's memory without bound.
    /// </summary>
    public long MaxQueuedBytesPerPeer { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Messages buffered for each subscriber of <see cref="GossipNode.Subscribe"/> (default 1024). When a
    /// subscriber's buffer is full the node stops reading from its peers until there is room: accepted
    /// messages are never dropped, a slow consumer slows the network link instead.
    /// </summary>
    public int SubscriberCapacity { get; set; } = 1024;

    /// <summary>
    /// The topic this node is on (default <see cref="GossipTopic.Default"/>, the network of nodes without topics and of
    /// secure-gossip 0.3.1 peers). On another topic the node needs protocol v2: its hello names the topic, a link whose
    /// peer names another (or says no hello) is closed, every payload it publishes carries the topic's id in its signed
    /// bytes (<c>"$sg":{"topic":…}</c>, taken off again before delivery; a payload may not have its own top-level
    /// <c>$sg</c>), and a received message that does not carry this topic's id is dropped
    /// (<see cref="Protocol.DropReason.WrongTopic"/>). To run several topics on one listener, give each its node and
    /// serve a <see cref="GossipTopicRouter"/> (docs/PROTOCOL.md §20).
    /// </summary>
    public GossipTopic Topic { get; set; } = GossipTopic.Default;

    /// <summary>
    /// Sign the seq: every published payload gets a last member <c>"$sg":{"seq":n}</c> before it is signed
    /// (docs/PROTOCOL.md §3.2), so receivers know the seq came from the author (<see cref="GossipMessage.SequenceSigned"/>;
    /// .NET receivers hand the payload over without it). secure-gossip 0.3.1 peers accept these messages as
    /// usual, and their applications see the extra <c>$sg</c> member. Off by default. With it on, a payload may
    /// not have its own top-level <c>$sg</c>.
    /// </summary>
    public bool SignSequence { get; set; }

    /// <summary>
    /// Accept each signed message once by its id (SHA-256 over the author key and the signature,
    /// docs/PROTOCOL.md §3.3) instead of by the unsigned <c>seq</c>: a line replayed under another seq is dropped
    /// without verification, a message that arrives out of order is still accepted, and no relay can silence an
    /// author by sending a huge seq. On its own off by default (v1 mode keeps secure-gossip 0.3.1's rule (a seq not above the
    /// author's highest is old)). The one loss with it on: a JS author that publishes a byte-identical payload
    /// twice (ed25519 is deterministic, so both lines carry the same signature) is delivered once. Always on with
    /// protocol v2 (<see cref="Protocol"/>, the default) or a <see cref="Store"/>.
    /// </summary>
    public bool DeduplicateById { get; set; }

    /// <summary>
    /// How many message ids <see cref="DeduplicateById"/> remembers (default 1,000,000, about 48 bytes each:
    /// ~48 MB at the limit). The oldest are forgotten first; a replay older than that is accepted again.
    /// </summary>
    public int MaxRememberedIds { get; set; } = 1_000_000;

    /// <summary>
    /// Which protocol the node speaks (default <see cref="GossipProtocol.V2"/>).
    /// <para><see cref="GossipProtocol.V2"/> (docs/PROTOCOL.md): every new connection starts with a hello line,
    /// which secure-gossip 0.3.1 peers drop as a line they cannot verify; a link on which both sides said hello
    /// switches to v2 (<see cref="GossipPeerInfo.Version"/>): messages are pushed along a spanning tree as soon as
    /// they are verified instead of flooded on rounds, other links only hear their ids, and on connect each side
    /// sends what the other lacks of the messages it retains (<see cref="Retention"/>), so late joiners and healed
    /// partitions catch up. Links to JS peers speak v1 on rounds, and are caught up too
    /// (<see cref="CatchUpV1Peers"/>). Messages are accepted once by id (<see cref="DeduplicateById"/>), so a relay
    /// cannot replay a message under another seq or silence an author with a huge one.</para>
    /// <para><see cref="GossipProtocol.V1"/> is the compatibility mode: the node does exactly what a
    /// secure-gossip 0.3.1 node does on the wire (no hello, flooding on rounds, the unsigned seq rule, nothing
    /// for late joiners). Choose it only to reproduce 0.3.1 bit for bit.</para>
    /// </summary>
    public GossipProtocol Protocol { get; set; } = GossipProtocol.V2;

    /// <summary>
    /// <see langword="true"/> when <see cref="Protocol"/> is <see cref="GossipProtocol.V2"/> (the default); setting
    /// it sets <see cref="Protocol"/>. Kept for source compatibility with earlier versions, where v2 was opt-in.
    /// </summary>
    public bool AnnounceV2
    {
        get => Protocol == GossipProtocol.V2;
        set => Protocol = value ? GossipProtocol.V2 : GossipProtocol.V1;
    }

    /// <summary>
    /// With protocol v2 (the default): a peer that has not answered the hello within a second is a v1 (JS) peer, and
    /// is sent the retained messages (<see cref="Retention"/>) as v1 lines, each author's in ascending seq
    /// (docs/PROTOCOL.md §10.3). It accepts those it has not seen, so a JS late joiner, and the JS peers behind it,
    /// catch up too, which secure-gossip 0.3.1 alone never does. Default true; false sends JS peers only what is
    /// published or accepted while they are connected, as before.
    /// </summary>
    public bool CatchUpV1Peers { get; set; } = true;

    /// <summary>
    /// Where the node keeps its own next seq, retained messages and seen ids across restarts
    /// (<see cref="Storage.IGossipStore"/>; the SecureGossip.Storage.Sqlite package has one on SQLite).
    /// <see langword="null"/> (the default): nothing survives the process, as in the JS package.
    /// </summary>
    public Storage.IGossipStore? Store { get; set; }

    /// <summary>Dispose <see cref="Store"/> when the node is disposed (default false).</summary>
    public bool OwnsStore { get; set; }

    /// <summary>
    /// How long, and how many per author, messages are retained for late joiners and reconnecting v2 peers, and
    /// how long ids are remembered (docs/PROTOCOL.md §9.5; defaults 24 h, 1,000 per author, ids 48 h).
    /// </summary>
    public Storage.GossipRetention Retention { get; set; } = new();

    /// <summary>Keepalives and timeouts of links (<see cref="GossipLinkOptions"/>): a dead v2 link is noticed within 10 s.</summary>
    public GossipLinkOptions Links { get; set; } = new();

    /// <summary>Connection caps and per-peer budgets (<see cref="GossipDefenceOptions"/>), all on by default.</summary>
    public GossipDefenceOptions Defences { get; set; } = new();

    /// <summary>
    /// How often the node logs a one-line status at Information: links, messages in and out per second, drops by
    /// reason, peers cut, store lag (default 1 minute). <see cref="Timeout.InfiniteTimeSpan"/>: never.
    /// </summary>
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The receive path's limits (<see cref="GossipReceiveOptions"/>): how many messages may be between the links and
    /// their commit at once.
    /// </summary>
    public GossipReceiveOptions Receive { get; set; } = new();

    /// <summary>
    /// Protocol v2's Plumtree core: timers for announcements, grafts and anti-entropy, and per-neighbour budgets
    /// (<see cref="Protocol.Core.PlumtreeOptions"/>; docs/PROTOCOL.md §7-§9, §16a). What the node sets itself is
    /// overridden: retention comes from <see cref="Retention"/>, seen ids are the node's own, and real links get a full
    /// frontier on connect instead of deltas.
    /// </summary>
    public Protocol.Core.PlumtreeOptions Plumtree { get; set; } = new();

    /// <summary>
    /// Membership (docs/PROTOCOL.md §19): with it the node joins a network through bootstrap addresses and keeps its own
    /// links (HyParView), instead of only the ones it is handed. Needs protocol v2. Null (the default): off.
    /// </summary>
    public GossipMembershipOptions? Membership { get; set; }

    /// <summary>
    /// The randomness the protocol draws on (timer phases, which neighbour to ask first). Null (the default): a new
    /// unseeded <see cref="System.Random"/> per node. Give a seeded one to make a node's choices reproducible in a test.
    /// Used on the node's actor only.
    /// </summary>
    public Random? Random { get; set; }

    /// <summary>The clock for rounds (inject a fake one in tests).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where the node logs; dropped lines are logged at Debug.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Where the node's <c>SecureGossip</c> meter comes from (README, "Metrics"): the application's (dependency
    /// injection gives one, <c>services.AddMetrics()</c>), or <see langword="null"/> (the default) for the library's
    /// own process-wide meter. Either way a listener (<c>dotnet-counters</c>, OpenTelemetry) sees the node's counters.
    /// </summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; set; }

    internal void Validate()
    {
        if (!Enum.IsDefined(Protocol))
        {
            throw new ArgumentOutOfRangeException(nameof(Protocol), Protocol, "The protocol must be GossipProtocol.V1 or GossipProtocol.V2.");
        }

        if (Interval != Timeout.InfiniteTimeSpan && Interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Interval), Interval, "The gossip interval must be positive, or Timeout.InfiniteTimeSpan for no timer.");
        }

        if (MaxLineLength < 256)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxLineLength), MaxLineLength, "The line limit must be at least 256 bytes: a signed message alone is about 200.");
        }

        if (MaxJsonDepth is < 2 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxJsonDepth), MaxJsonDepth, "The depth limit must be between 2 (the envelope and its payload) and 1000.");
        }

        if (MaxQueuedBytesPerPeer < MaxLineLength)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxQueuedBytesPerPeer), MaxQueuedBytesPerPeer, "The per-peer queue must hold at least one line of MaxLineLength.");
        }

        if (SubscriberCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(SubscriberCapacity), SubscriberCapacity, "Subscribers need room for at least one message.");
        }

        if (MaxRememberedIds < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRememberedIds), MaxRememberedIds, "At least one id must be remembered.");
        }

        ArgumentNullException.ThrowIfNull(Topic);
        if (!Topic.IsDefault && Protocol != GossipProtocol.V2)
        {
            throw new ArgumentException($"The topic {Topic.Name} needs protocol v2 (GossipNodeOptions.Protocol): only the default topic can speak v1.", nameof(Topic));
        }

        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentNullException.ThrowIfNull(Retention);
        ArgumentNullException.ThrowIfNull(Links);
        ArgumentNullException.ThrowIfNull(Defences);
        ArgumentNullException.ThrowIfNull(Receive);
        ArgumentNullException.ThrowIfNull(Plumtree);
        Receive.Validate();
        Links.Validate();
        Membership?.Validate();
        Defences.Validate();
        if (StatusInterval <= TimeSpan.Zero && StatusInterval != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(StatusInterval), StatusInterval, "The status interval must be positive, or Timeout.InfiniteTimeSpan for no status line.");
        }

        if (Retention.MaxAge <= TimeSpan.Zero || Retention.SeenAge < Retention.MaxAge)
        {
            throw new ArgumentOutOfRangeException(nameof(Retention), Retention, "Retention.MaxAge must be positive, and Retention.SeenAge at least as long (an id must outlive its message, or a replay of it would be delivered again).");
        }

        if (Retention.MaxMessages < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Retention), Retention.MaxMessages, "Retention.MaxMessages must be at least 1.");
        }

        if (Retention.MaxPerAuthor is < 1 or > SecureGossip.Protocol.Core.RetainedMessages.MaxIdsPerAuthor)
        {
            throw new ArgumentOutOfRangeException(nameof(Retention), Retention.MaxPerAuthor, "Retention.MaxPerAuthor must be between 1 and 32,768 (one author's ids travel in one entry of a sync frame, which a peer accepts up to 1 MiB).");
        }
    }
}
