using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using SecureGossip.Engine;
using SecureGossip.Links;

namespace SecureGossip.Diagnostics;

/// <summary>
/// The <c>SecureGossip</c> meter's instruments (README, "Metrics"): one set per <see cref="Meter"/>, reading the
/// counters of every live node that reports to it. Counters and gauges are observed when a listener collects
/// (nothing on the hot path); the verify-time histogram is recorded per verification only while someone listens.
/// </summary>
/// <remarks>
/// Measurements carry the node's topic (<c>gossip.topic</c>), and a few a small fixed set of values (a drop reason, a
/// protocol version, a direction); never a peer's key or address, whose number a stranger controls.
/// </remarks>
internal sealed class GossipMetrics
{
    /// <summary>The meter's name: what <c>dotnet-counters monitor --counters SecureGossip</c> and OpenTelemetry's <c>AddMeter</c> take.</summary>
    public const string MeterName = "SecureGossip";

    private static readonly ConditionalWeakTable<Meter, GossipMetrics> s_byMeter = [];
    private static readonly Lazy<GossipMetrics> s_shared = new(() => new GossipMetrics(new Meter(MeterName, Version)));

    private readonly Lock _lock = new();
    private NodeServices[] _nodes = [];

    private GossipMetrics(Meter meter)
    {
        Meter = meter;
        Count("gossip.lines.received", "{line}", "Lines and v2 frames read from peers.", c => c.LinesReceived);
        Count("gossip.lines.sent", "{line}", "Lines and v2 frames written to peers.", c => c.LinesSent);
        Count("gossip.bytes.received", "By", "Bytes read from peers (after decryption on a private network).", c => c.BytesReceived);
        Count("gossip.bytes.sent", "By", "Bytes written to peers (before encryption on a private network).", c => c.BytesSent);
        Count("gossip.messages.published", "{message}", "Messages this node signed and published.", c => c.MessagesPublished);
        Count("gossip.messages.accepted", "{message}", "Messages from peers verified and accepted, each once.", c => c.MessagesAccepted);
        Count("gossip.messages.delivered", "{message}", "Accepted messages handed to the application (after the store's commit).", c => c.MessagesDelivered);
        Count("gossip.verifications", "{verification}", "ed25519 signature verifications.", c => c.SignaturesVerified);
        Count("gossip.peers.cut", "{link}", "Links cut for exceeding a budget (the address is then backed off).", c => c.PeersCut);
        Count("gossip.handshakes.refused", "{connection}", "Connections refused before the protocol (a failed secret handshake).", c => c.HandshakesRefused);
        Count("gossip.links.broken", "{link}", "Secured links ended because a box failed to open (bytes changed in transit).", c => c.SecuredLinksBroken);
        Count("gossip.topic.mismatches", "{link}", "Links closed because the peer is on another topic.", c => c.TopicMismatches);
        Count("gossip.store.commits", "{commit}", "Group commits of the store.", c => c.StoreCommits);
        Count("gossip.membership.frames.dropped", "{frame}", "Membership frames dropped over a link's rate limit.", c => c.MembershipFramesDropped);
        Count("gossip.authors.forgotten", "{author}", "Authors dropped from the author table to keep it bounded.", c => c.AuthorsForgotten);

        meter.CreateObservableCounter("gossip.messages.dropped", () => Each<long>(static (node, into) =>
        {
            NodeCounters c = node.Counters;
            into.Add(Dropped(node, "malformed", c.DroppedMalformed));
            into.Add(Dropped(node, "too_long", c.DroppedTooLong));
            into.Add(Dropped(node, "bad_signature", c.DroppedBadSignature));
            into.Add(Dropped(node, "wrong_topic", c.DroppedWrongTopic));
            into.Add(Dropped(node, "own", c.DroppedOwn));
            into.Add(Dropped(node, "old", c.DroppedOld));
        }), "{line}", "Lines and messages dropped, by gossip.drop.reason.");

        meter.CreateObservableCounter("gossip.frames.received", () => Each<long>(static (node, into) => ByKind(node, node.Counters.FramesIn, into)),
            "{frame}", "Lines read from peers, by gossip.frame.type: v1_line (a secure-gossip 0.3.1 message line) or the v2 frame's type.");
        meter.CreateObservableCounter("gossip.frames.sent", () => Each<long>(static (node, into) => ByKind(node, node.Counters.FramesOut, into)),
            "{frame}", "Lines written to peers, by gossip.frame.type.");

        meter.CreateObservableCounter("gossip.neighbour.changes", () => Each<long>(static (node, into) =>
        {
            into.Add(new Measurement<long>(Volatile.Read(ref node.Counters.NeighboursUp), Topic(node), new("gossip.change", "up")));
            into.Add(new Measurement<long>(Volatile.Read(ref node.Counters.NeighboursDown), Topic(node), new("gossip.change", "down")));
        }), "{event}", "Membership neighbours gained (up) and lost (down).");

        meter.CreateObservableUpDownCounter("gossip.links", () => Each<int>(static (node, into) =>
        {
            int v1In = 0, v1Out = 0, v2In = 0, v2Out = 0;
            foreach (PeerLink link in node.Links.Snapshot())
            {
                bool inbound = link.Connection.Direction == Transports.GossipConnectionDirection.Inbound;
                _ = link.Version >= 2 ? (inbound ? v2In++ : v2Out++) : (inbound ? v1In++ : v1Out++);
            }

            into.Add(Link(node, "v1", "inbound", v1In));
            into.Add(Link(node, "v1", "outbound", v1Out));
            into.Add(Link(node, "v2", "inbound", v2In));
            into.Add(Link(node, "v2", "outbound", v2Out));
        }), "{link}", "Open links, by gossip.protocol (v1: a JS 0.3.1 peer, or before the hello) and gossip.direction.");

        Gauge("gossip.neighbours", "{peer}", "Membership neighbours (the HyParView active view).", node => node.Membership?.Active.Count ?? 0);
        Gauge("gossip.reserve", "{address}", "Addresses in reserve (the HyParView passive view).", node => node.Membership?.Passive.Count ?? 0);
        Gauge("gossip.receive.backlog", "{message}", "Messages taken in and not yet committed (verifying or waiting their turn).", node => node.Actor.Window.InFlight);
        Gauge("gossip.send.queued", "By", "Bytes queued for peers and not yet written.", node => node.Links.Snapshot().Sum(l => l.QueuedBytes));
        Gauge("gossip.retained.messages", "{message}", "Messages retained for grafts, wants and late joiners (as of the node's last idle moment).", node => node.Actor.TreeStatistics?.RetainedMessages ?? 0);
        meter.CreateObservableGauge("gossip.store.commit.duration", () => Each<double>(static (node, into) =>
            into.Add(new Measurement<double>(Volatile.Read(ref node.Counters.StoreLagTicks) / (double)node.Time.TimestampFrequency, Topic(node)))),
            "s", "How long the last group commit of the store took.");

        VerifyDuration = meter.CreateHistogram<double>("gossip.verify.duration", "s", "Time to verify one signature (the canonical form included).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00002, 0.00004, 0.00006, 0.00008, 0.0001, 0.00015, 0.0002, 0.0005, 0.001, 0.005] });
    }

    /// <summary>The meter's version: the library's.</summary>
    public static string? Version { get; } = typeof(GossipMetrics).Assembly.GetName().Version?.ToString(3);

    public Meter Meter { get; }

    /// <summary>Verification times, recorded by the verifying threads while the instrument is enabled.</summary>
    public Histogram<double> VerifyDuration { get; }

    /// <summary>The instruments on <paramref name="factory"/>'s <c>SecureGossip</c> meter, or on the library's own meter without one.</summary>
    public static GossipMetrics For(IMeterFactory? factory) => factory is null
        ? s_shared.Value
        : s_byMeter.GetValue(factory.Create(new MeterOptions(MeterName) { Version = Version }), static meter => new GossipMetrics(meter));

    /// <summary>The node's counters are reported from now on (until <see cref="Remove"/>).</summary>
    public void Add(NodeServices node)
    {
        lock (_lock)
        {
            _nodes = [.. _nodes, node];
        }
    }

    public void Remove(NodeServices node)
    {
        lock (_lock)
        {
            _nodes = [.. _nodes.Where(n => n != node)];
        }
    }

    internal static KeyValuePair<string, object?> Topic(NodeServices node) => new("gossip.topic", node.Options.Topic.Name);

    private static void ByKind(NodeServices node, long[] counts, List<Measurement<long>> into)
    {
        for (int kind = 0; kind < counts.Length; kind++)
        {
            long count = Volatile.Read(ref counts[kind]);
            if (count > 0)
            {
                into.Add(new Measurement<long>(count, Topic(node), new("gossip.frame.type", FrameKinds.Names[kind])));
            }
        }
    }

    private static Measurement<long> Dropped(NodeServices node, string reason, long value) => new(value, Topic(node), new("gossip.drop.reason", reason));

    private static Measurement<int> Link(NodeServices node, string protocol, string direction, int count) =>
        new(count, Topic(node), new("gossip.protocol", protocol), new("gossip.direction", direction));

    private List<Measurement<T>> Each<T>(Action<NodeServices, List<Measurement<T>>> observe)
        where T : struct
    {
        NodeServices[] nodes = Volatile.Read(ref _nodes);
        var measurements = new List<Measurement<T>>(nodes.Length * 4);
        foreach (NodeServices node in nodes)
        {
            observe(node, measurements);
        }

        return measurements;
    }

    private void Count(string name, string unit, string description, Func<NodeCounters, long> read) =>
        Meter.CreateObservableCounter(name, () => Each<long>((node, into) => into.Add(new Measurement<long>(read(node.Counters), Topic(node)))), unit, description);

    private void Gauge(string name, string unit, string description, Func<NodeServices, long> read) =>
        Meter.CreateObservableGauge(name, () => Each<long>((node, into) => into.Add(new Measurement<long>(read(node), Topic(node)))), unit, description);
}
