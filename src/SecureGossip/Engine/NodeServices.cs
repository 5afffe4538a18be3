using Microsoft.Extensions.Logging;
using SecureGossip.Crypto;
using SecureGossip.Links;
using SecureGossip.Protocol;

namespace SecureGossip.Engine;

/// <summary>
/// What the parts of one node share, read-only after construction (as Kestrel's <c>ServiceContext</c>): options,
/// keys, clock, logger, counters, and the few thread-safe registries (links, back-offs, author names). Mutable
/// protocol state is not here: it belongs to the <see cref="NodeActor"/>.
/// </summary>
internal sealed class NodeServices
{
    /// <summary>Room a v2 frame has beyond <see cref="GossipNodeOptions.MaxLineLength"/> for its own members.</summary>
    public const int V2FrameOverhead = 1024;

    /// <summary>The keepalive frame: a v2 peer counts it as life, a v1 peer never gets one.</summary>
    public static readonly byte[] Ping = "{\"sg2\":\"ping\"}"u8.ToArray();

    private readonly CancellationTokenSource _stopping = new();
    private byte[]? _hello;

    public NodeServices(GossipNodeOptions options, GossipKeys keys, ILogger logger)
    {
        Options = options;
        Keys = keys;
        Logger = logger;
        Time = options.TimeProvider;
        SpeaksV2 = options.Protocol == GossipProtocol.V2;
        ById = options.DeduplicateById || SpeaksV2 || options.Store is not null;
        BackOff = new BackOffTable(options.Defences, Time);
        LinkLog = new LinkEventLog(this);
        Links = new LinkRegistry(this);
        Metrics = Diagnostics.GossipMetrics.For(options.MeterFactory);

        // Copies come within a few flood rounds of the first, so a few thousand suffice; never more than half the
        // engine remembers, so what this holds the engine still knows (it drops only what the engine would drop).
        Recent = new Receive.RecentlyAccepted(Math.Max(1, Math.Min(8192, options.MaxRememberedIds / 2)));
    }

    public GossipNodeOptions Options { get; }

    public GossipKeys Keys { get; }

    public ILogger Logger { get; }

    public TimeProvider Time { get; }

    public NodeCounters Counters { get; } = new();

    /// <summary>The meter's instruments this node reports to.</summary>
    public Diagnostics.GossipMetrics Metrics { get; }

    /// <summary>Author keys interned to the numbers message ids and the v2 core use.</summary>
    public V2Authors Authors { get; } = new();

    public LinkRegistry Links { get; }

    /// <summary>The messages accepted most recently, for read loops to drop their copies (v1 lines) on their own thread.</summary>
    public Receive.RecentlyAccepted Recent { get; }

    /// <summary>
    /// The key <see cref="Recent"/> holds for a message: its id; under the v1 seq rule its id, seq and author as the
    /// line spells it (secure-gossip 0.3.1 counts seqs per spelling, so the same message under another spelling is
    /// another message to it).
    /// </summary>
    public UInt128 RecentKey(Receive.VerifyJob job) => ById
        ? job.Id
        : GossipEngine.SeqRuleKey(job.Id, job.Seq) ^ new UInt128((uint)string.GetHashCode(job.AuthorName), 0);

    public BackOffTable BackOff { get; }

    public LinkEventLog LinkLog { get; }

    /// <summary>The node's protocol actor (set once, right after construction).</summary>
    public NodeActor Actor { get; set; } = null!;

    /// <summary>The node speaks protocol v2 (it says hello and runs the Plumtree core on links that answer).</summary>
    public bool SpeaksV2 { get; }

    /// <summary>Messages are accepted once by id (v2, a store, or asked for); otherwise by the v1 seq rule alone.</summary>
    public bool ById { get; }

    /// <summary>Cancelled when the node is disposed.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public bool IsStopping => _stopping.IsCancellationRequested;

    /// <summary>The longest line a link reads: a v2 msg frame wraps a line of up to MaxLineLength (docs/PROTOCOL.md §4.1).</summary>
    public int MaxFrameLength => Options.MaxLineLength + (SpeaksV2 ? V2FrameOverhead : 0);

    /// <summary>This node's v2 hello, the first line on every link of a v2 node.</summary>
    public byte[] Hello => _hello ??= V2Hello.Create(Keys.Public, MaxFrameLength, Options.Membership?.AdvertisedAddress, Options.Topic.Id);

    /// <summary>The node's membership (docs/PROTOCOL.md §19), when <see cref="GossipNodeOptions.Membership"/> is set (set once, right after construction).</summary>
    public Links.MembershipDriver? Membership { get; set; }

    public long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Time.TimestampFrequency);

    public Task StopAsync() => _stopping.CancelAsync();

    public void DisposeStopping() => _stopping.Dispose();
}
