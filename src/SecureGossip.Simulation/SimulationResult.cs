using System.Buffers;
using System.Text;
using System.Text.Json;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Simulation;

/// <summary>
/// The metrics of one simulated run. <see cref="WriteJson"/> writes them as the one JSON object
/// <c>sgossip sim</c> prints (snake_case keys, times in virtual milliseconds).
/// </summary>
/// <remarks>
/// "Live" nodes are those that have not failed by the end of the run; a live node is "reachable" for a message
/// when it is connected to the message's publisher through live nodes. R(m) is the number of reachable live
/// nodes of message m other than its publisher.
/// </remarks>
public sealed record SimulationResult
{
    /// <summary>Number of nodes (<c>nodes</c>).</summary>
    public int Nodes { get; init; }

    /// <summary>The topology spec (<c>topology</c>).</summary>
    public required string Topology { get; init; }

    /// <summary>The protocol's name (<c>protocol</c>).</summary>
    public required string Protocol { get; init; }

    /// <summary>Messages published (<c>messages</c>).</summary>
    public int Messages { get; init; }

    /// <summary>
    /// Deliveries by live nodes other than the author ÷ ((live nodes − 1) × messages) (<c>delivered_ratio</c>);
    /// unreachable live nodes count against it.
    /// </summary>
    public double? DeliveredRatio { get; init; }

    /// <summary>Σ deliveries by reachable live nodes ÷ Σ R(m) (<c>delivered_reachable_ratio</c>).</summary>
    public double? DeliveredReachableRatio { get; init; }

    /// <summary>
    /// Relative message redundancy (<c>rmr</c>): Σ over every frame sent (lost ones too) of its payload count
    /// ÷ Σ R(m), minus 1. For equal R(m) this is the per-message mean of sends/(n−1) − 1 with n = R + 1;
    /// 0 means each receiver got exactly one payload.
    /// </summary>
    public double? Rmr { get; init; }

    /// <summary>
    /// Last delivery hop (<c>ldh</c>): the largest hop count at which a reachable node first delivered a message,
    /// averaged over messages.
    /// </summary>
    public double Ldh { get; init; }

    /// <summary>
    /// Time from publish until ⌈99 %⌉ of R(m) delivered, averaged over messages (<c>time_to_99_ms</c>);
    /// <see langword="null"/> if some message never got there.
    /// </summary>
    public TimeSpan? TimeTo99 { get; init; }

    /// <summary>Time from publish until all of R(m) delivered, averaged over messages (<c>time_to_100_ms</c>); <see langword="null"/> if some message never got there.</summary>
    public TimeSpan? TimeTo100 { get; init; }

    /// <summary>The slowest message's time to 100 % (<c>time_to_100_max_ms</c>).</summary>
    public TimeSpan? TimeTo100Max { get; init; }

    /// <summary>Signature verifications ÷ unique (message, node) deliveries (<c>verifies_per_unique</c>).</summary>
    public double? VerifiesPerUnique { get; init; }

    /// <summary>Real time the run took (<c>wall_ms</c>; varies between runs).</summary>
    public TimeSpan WallTime { get; init; }

    /// <summary>The process's peak working set (<c>peak_memory_mb</c>; varies between runs).</summary>
    public long PeakMemoryBytes { get; init; }

    /// <summary>
    /// Managed memory the run held at its end (topology, node states, queue, metrics) ÷ nodes
    /// (<c>memory_per_node_bytes</c>; varies slightly between runs).
    /// </summary>
    public long MemoryPerNodeBytes { get; init; }

    /// <summary>The seed (<c>seed</c>).</summary>
    public int Seed { get; init; }

    /// <summary>Shortest frame latency (<c>latency_ms</c>[0]).</summary>
    public TimeSpan MinLatency { get; init; }

    /// <summary>Longest frame latency (<c>latency_ms</c>[1]).</summary>
    public TimeSpan MaxLatency { get; init; }

    /// <summary>Frame loss probability (<c>loss</c>).</summary>
    public double Loss { get; init; }

    /// <summary>Fraction of nodes that failed (<c>kill</c>).</summary>
    public double KillFraction { get; init; }

    /// <summary>When they failed (<c>kill_at_ms</c>).</summary>
    public TimeSpan KillTime { get; init; }

    /// <summary>Events processed (<c>events</c>).</summary>
    public long Events { get; init; }

    /// <summary>Mean hop distance between connected live nodes (<c>mean_shortest_path</c>; sampled above 2,000 live nodes).</summary>
    public double? MeanShortestPath { get; init; }

    /// <summary>Nodes alive at the end (<c>live_nodes</c>).</summary>
    public int LiveNodes { get; init; }

    /// <summary>Messages that reached all of R(m) (<c>messages_fully_delivered</c>).</summary>
    public int MessagesFullyDelivered { get; init; }

    /// <summary>Unique (message, node) deliveries, all nodes (<c>deliveries</c>).</summary>
    public long Deliveries { get; init; }

    /// <summary>Deliveries of a message a node had already delivered; a protocol bug if not 0 (<c>duplicate_deliveries</c>).</summary>
    public long DuplicateDeliveries { get; init; }

    /// <summary>Signature verifications (<c>verifies</c>).</summary>
    public long Verifies { get; init; }

    /// <summary>Frames sent, lost ones included (<c>frames_sent</c>).</summary>
    public long FramesSent { get; init; }

    /// <summary>Payloads in those frames (<c>payloads_sent</c>).</summary>
    public long PayloadsSent { get; init; }

    /// <summary>Bytes in those frames (<c>bytes_sent</c>).</summary>
    public long BytesSent { get; init; }

    /// <summary>Frames the links lost (<c>frames_lost</c>).</summary>
    public long FramesLost { get; init; }

    /// <summary>Most events waiting at once (<c>peak_queued_events</c>).</summary>
    public int PeakQueuedEvents { get; init; }

    /// <summary>Virtual time of the last event processed (<c>virtual_time_ms</c>).</summary>
    public TimeSpan VirtualTime { get; init; }

    /// <summary>
    /// Why the run stopped (<c>stop_reason</c>): <c>delivered</c> (every message reached all of R(m), then the
    /// quiet time passed), <c>quiet</c> (nothing sent or delivered for the quiet time), <c>max_time</c>, or
    /// <c>queue_empty</c>.
    /// </summary>
    public required string StopReason { get; init; }

    /// <summary>
    /// The fraction of Σ R(m) delivered over virtual time (<c>delivery_curve</c>, as [ms, fraction] pairs): 101
    /// evenly spaced points from the first publish to the last delivery.
    /// </summary>
    public IReadOnlyList<DeliveryPoint> DeliveryCurve { get; init; } = [];

    /// <summary>Whether links were non-FIFO (<c>reorder</c>).</summary>
    public bool Reorder { get; init; }

    /// <summary>When the network split in two (<c>partition_at_ms</c>; <see langword="null"/>: never).</summary>
    public TimeSpan? PartitionTime { get; init; }

    /// <summary>When it healed (<c>heal_at_ms</c>).</summary>
    public TimeSpan? HealTime { get; init; }

    /// <summary>Warm-up messages left out of the steady-state metrics (<c>warmup</c>).</summary>
    public int Warmup { get; init; }

    /// <summary>Distinct authors of the messages (<c>distinct_publishers</c>).</summary>
    public int DistinctPublishers { get; init; }

    /// <summary>
    /// Payloads sent in frames that name no published message (<c>payloads_unattributed</c>): frames with a
    /// <see cref="IGossipFrame.PayloadCount"/> that are not <see cref="IGossipPayloadFrame"/>s; 0 for <c>v1</c>.
    /// </summary>
    public long PayloadsUnattributed { get; init; }

    /// <summary>
    /// <c>rmr</c> over the post-warm-up messages (<c>rmr_steady</c>): Σ payload sends of those messages ÷ Σ R(m)
    /// over them, minus 1 (the payloads of every frame charged to its <see cref="IGossipPayloadFrame.Message"/>,
    /// lost ones, grafts and anti-entropy included). Equal to <see cref="Rmr"/> without warm-up;
    /// <see langword="null"/> when <see cref="PayloadsUnattributed"/> &gt; 0 or Σ R(m) is 0.
    /// </summary>
    public double? RmrSteady { get; init; }

    /// <summary><c>ldh</c> over the post-warm-up messages (<c>ldh_steady</c>).</summary>
    public double LdhSteady { get; init; }

    /// <summary><c>time_to_100_ms</c> over the post-warm-up messages (<c>time_to_100_steady_ms</c>).</summary>
    public TimeSpan? TimeTo100Steady { get; init; }

    /// <summary>
    /// Per post-warm-up message, its publisher's eccentricity in the live graph at the end (the largest hop distance
    /// to a node it can reach; 0 if none), averaged (<c>mean_publisher_eccentricity</c>): the floor of <c>ldh</c>.
    /// </summary>
    public double MeanPublisherEccentricity { get; init; }

    /// <summary>
    /// Per post-warm-up message with R(m) &gt; 0, its publisher's mean hop distance to the nodes it can reach,
    /// averaged (<c>mean_publisher_distance</c>): the floor of <see cref="MeanDeliveryHop"/>.
    /// </summary>
    public double? MeanPublisherDistance { get; init; }

    /// <summary>
    /// Per post-warm-up message delivered to at least one reachable node, the mean hop count of its first
    /// deliveries to reachable nodes, averaged (<c>mean_delivery_hop</c>).
    /// </summary>
    public double? MeanDeliveryHop { get; init; }

    /// <summary><see cref="LdhSteady"/> ÷ <see cref="MeanPublisherEccentricity"/> (<c>ldh_over_eccentricity</c>; 1 is breadth-first).</summary>
    public double? LdhOverEccentricity { get; init; }

    /// <summary><see cref="MeanDeliveryHop"/> ÷ <see cref="MeanPublisherDistance"/> (<c>mean_hop_over_distance</c>; 1 is shortest paths).</summary>
    public double? MeanHopOverDistance { get; init; }

    /// <summary><see cref="LdhSteady"/> ÷ <see cref="MeanShortestPath"/> (<c>ldh_over_mean_shortest_path</c>).</summary>
    public double? LdhOverMeanShortestPath { get; init; }

    /// <summary>
    /// Each message's own metrics, in publishing order: in the JSON as <c>per_message</c> only when
    /// <see cref="IncludePerMessage"/> is set (<c>sgossip sim --per-message</c>).
    /// </summary>
    public IReadOnlyList<MessageMetrics> PerMessage { get; init; } = [];

    /// <summary>Whether <see cref="WriteJson"/> writes <see cref="PerMessage"/>.</summary>
    public bool IncludePerMessage { get; init; }

    /// <summary>Control frames sent, by kind (<c>control_frames</c>): the tree's work behind the payloads.</summary>
    public ControlFrameCounts ControlFrames { get; init; } = new();

    /// <summary>The JSON object, on one line.</summary>
    public string ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteJson(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes the metrics as one JSON object with the keys named in each property's documentation.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("nodes", Nodes);
        writer.WriteString("topology", Topology);
        writer.WriteString("protocol", Protocol);
        writer.WriteNumber("messages", Messages);
        WriteNumber(writer, "delivered_ratio", DeliveredRatio);
        WriteNumber(writer, "delivered_reachable_ratio", DeliveredReachableRatio);
        WriteNumber(writer, "rmr", Rmr);
        writer.WriteNumber("ldh", Ldh);
        WriteNumber(writer, "time_to_99_ms", Milliseconds(TimeTo99));
        WriteNumber(writer, "time_to_100_ms", Milliseconds(TimeTo100));
        WriteNumber(writer, "verifies_per_unique", VerifiesPerUnique);
        writer.WriteNumber("wall_ms", Math.Round(WallTime.TotalMilliseconds, 1));
        writer.WriteNumber("peak_memory_mb", Math.Round(PeakMemoryBytes / (1024.0 * 1024.0), 1));
        writer.WriteNumber("memory_per_node_bytes", MemoryPerNodeBytes);
        writer.WriteNumber("seed", Seed);
        writer.WriteStartArray("latency_ms");
        writer.WriteNumberValue(Milliseconds(MinLatency));
        writer.WriteNumberValue(Milliseconds(MaxLatency));
        writer.WriteEndArray();
        writer.WriteNumber("loss", Loss);
        writer.WriteNumber("kill", KillFraction);
        writer.WriteNumber("events", Events);
        WriteNumber(writer, "mean_shortest_path", MeanShortestPath);
        writer.WriteNumber("kill_at_ms", Milliseconds(KillTime));
        writer.WriteNumber("live_nodes", LiveNodes);
        writer.WriteNumber("messages_fully_delivered", MessagesFullyDelivered);
        WriteNumber(writer, "time_to_100_max_ms", Milliseconds(TimeTo100Max));
        writer.WriteNumber("deliveries", Deliveries);
        writer.WriteNumber("duplicate_deliveries", DuplicateDeliveries);
        writer.WriteNumber("verifies", Verifies);
        writer.WriteNumber("frames_sent", FramesSent);
        writer.WriteNumber("payloads_sent", PayloadsSent);
        writer.WriteNumber("bytes_sent", BytesSent);
        writer.WriteNumber("frames_lost", FramesLost);
        writer.WriteNumber("peak_queued_events", PeakQueuedEvents);
        writer.WriteNumber("virtual_time_ms", Milliseconds(VirtualTime));
        writer.WriteString("stop_reason", StopReason);
        writer.WriteBoolean("reorder", Reorder);
        WriteNumber(writer, "partition_at_ms", Milliseconds(PartitionTime));
        WriteNumber(writer, "heal_at_ms", Milliseconds(HealTime));
        writer.WriteNumber("warmup", Warmup);
        writer.WriteNumber("distinct_publishers", DistinctPublishers);
        writer.WriteNumber("payloads_unattributed", PayloadsUnattributed);
        WriteNumber(writer, "rmr_steady", RmrSteady);
        writer.WriteNumber("ldh_steady", LdhSteady);
        WriteNumber(writer, "time_to_100_steady_ms", Milliseconds(TimeTo100Steady));
        writer.WriteNumber("mean_publisher_eccentricity", MeanPublisherEccentricity);
        WriteNumber(writer, "mean_publisher_distance", MeanPublisherDistance);
        WriteNumber(writer, "mean_delivery_hop", MeanDeliveryHop);
        WriteNumber(writer, "ldh_over_eccentricity", LdhOverEccentricity);
        WriteNumber(writer, "mean_hop_over_distance", MeanHopOverDistance);
        WriteNumber(writer, "ldh_over_mean_shortest_path", LdhOverMeanShortestPath);
        writer.WriteStartObject("control_frames");
        writer.WriteNumber("prune", ControlFrames.Prunes);
        writer.WriteNumber("graft", ControlFrames.Grafts);
        writer.WriteNumber("ihave", ControlFrames.IHaveFrames);
        writer.WriteNumber("ihave_ids", ControlFrames.IHaveIds);
        writer.WriteNumber("sync", ControlFrames.Syncs);
        writer.WriteNumber("want", ControlFrames.Wants);
        writer.WriteNumber("tree", ControlFrames.Beacons);
        writer.WriteEndObject();
        if (IncludePerMessage)
        {
            writer.WriteStartArray("per_message");
            foreach (MessageMetrics message in PerMessage)
            {
                writer.WriteStartObject();
                writer.WriteNumber("author", message.Message.Author);
                WriteNumber(writer, "published_ms", Milliseconds(message.PublishedAt));
                WriteNumber(writer, "rmr", message.Rmr is { } rmr ? Math.Round(rmr, 4) : null);
                writer.WriteNumber("ldh", message.LastHop);
                WriteNumber(writer, "mean_hop", message.MeanHop is { } hop ? Math.Round(hop, 3) : null);
                writer.WriteNumber("eccentricity", message.PublisherEccentricity);
                WriteNumber(writer, "time_to_100_ms", Milliseconds(message.TimeTo100));
                writer.WriteNumber("prunes_while_latest", message.PrunesWhileLatest);
                writer.WriteNumber("grafts_while_latest", message.GraftsWhileLatest);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteStartArray("delivery_curve");
        foreach (DeliveryPoint point in DeliveryCurve)
        {
            writer.WriteStartArray();
            writer.WriteNumberValue(Milliseconds(point.Time));
            writer.WriteNumberValue(Math.Round(point.Fraction, 6));
            writer.WriteEndArray();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static double Milliseconds(TimeSpan time) => time.Ticks / (double)TimeSpan.TicksPerMillisecond;

    private static double? Milliseconds(TimeSpan? time) => time is { } t ? Milliseconds(t) : null;

    private static void WriteNumber(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } v)
        {
            writer.WriteNumber(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}

/// <summary>One message's metrics (<see cref="SimulationResult.PerMessage"/>).</summary>
public sealed record MessageMetrics
{
    /// <summary>The message; <see cref="MessageId.Author"/> is its publisher.</summary>
    public MessageId Message { get; init; }

    /// <summary>When it was published; <see langword="null"/> if the run stopped first.</summary>
    public TimeSpan? PublishedAt { get; init; }

    /// <summary>R(m): live nodes at the end connected to the publisher, the publisher excluded.</summary>
    public int Reachable { get; init; }

    /// <summary>How many of them delivered it.</summary>
    public int Reached { get; init; }

    /// <summary>Payloads of this message sent (frames implementing <see cref="IGossipPayloadFrame"/>, lost ones included).</summary>
    public long PayloadsSent { get; init; }

    /// <summary>This message's relative message redundancy, <see cref="PayloadsSent"/> ÷ R(m) − 1 (<see langword="null"/> when R(m) = 0).</summary>
    public double? Rmr => Reachable > 0 ? ((double)PayloadsSent / Reachable) - 1 : null;

    /// <summary>The largest hop count of a first delivery to a reachable node (0 if none).</summary>
    public int LastHop { get; init; }

    /// <summary>The mean hop count of its first deliveries to reachable nodes (<see langword="null"/> if none).</summary>
    public double? MeanHop { get; init; }

    /// <summary>The publisher's eccentricity in the live graph at the end.</summary>
    public int PublisherEccentricity { get; init; }

    /// <summary>The publisher's mean distance to the R(m) nodes (<see langword="null"/> when R(m) = 0).</summary>
    public double? PublisherMeanDistance { get; init; }

    /// <summary>Time from publish to ⌈99 %⌉ of R(m) (<see langword="null"/> if never).</summary>
    public TimeSpan? TimeTo99 { get; init; }

    /// <summary>Time from publish to all of R(m) (<see langword="null"/> if never).</summary>
    public TimeSpan? TimeTo100 { get; init; }

    /// <summary>Prunes sent from its publishing until the next message's (a timeline of the tree's churn).</summary>
    public long PrunesWhileLatest { get; init; }

    /// <summary>Grafts sent from its publishing until the next message's.</summary>
    public long GraftsWhileLatest { get; init; }
}

/// <summary>Control frames sent in a run, by kind (<see cref="SimulationResult.ControlFrames"/>).</summary>
/// <param name="Prunes">Prune frames.</param>
/// <param name="Grafts">Graft frames.</param>
/// <param name="IHaveFrames">Announcement frames.</param>
/// <param name="IHaveIds">Ids announced, over all announcement frames.</param>
/// <param name="Syncs">Frontier frames, full and delta.</param>
/// <param name="Wants">Want frames.</param>
/// <param name="Beacons">Tree beacons (<c>tree</c> frames, docs/PROTOCOL.md §8.8): a flood of one per rooted tree, and one per tree on each new link.</param>
public readonly record struct ControlFrameCounts(long Prunes, long Grafts, long IHaveFrames, long IHaveIds, long Syncs, long Wants, long Beacons = 0);
