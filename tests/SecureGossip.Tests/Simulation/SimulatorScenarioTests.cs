using SecureGossip.Protocol.Flood;
using System.Text.Json.Nodes;
using SecureGossip.Simulation;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Tests.Simulation;

/// <summary>
/// The simulator's scenario options for measuring protocol v2 (docs/PROTOCOL.md §15): per-message RMR and the
/// warm-up, fixed publishers, publisher distances, partitions, non-FIFO links and the protocol registry.
/// </summary>
public sealed class SimulatorScenarioTests
{
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void Without_warm_up_rmr_steady_equals_rmr_for_v1_lines_and_charges_every_payload_to_its_message()
    {
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.RandomRegular(200, 4, seed: 3),
            Messages = 10,
            Loss = 0.05,
            KillFraction = 0.1,
            KillTime = 1050 * Ms,
            Seed = 3,
        });

        Assert.Equal(0, result.PayloadsUnattributed);
        Assert.Equal(result.PayloadsSent, result.PerMessage.Sum(m => m.PayloadsSent));
        Assert.NotNull(result.Rmr);
        Assert.Equal(result.Rmr, result.RmrSteady); // the same sums, bit for bit
        Assert.Equal(result.Ldh, result.LdhSteady);
        Assert.Equal(result.TimeTo100, result.TimeTo100Steady);

        // rmr is the R(m)-weighted mean of the per-message ones.
        double weighted = result.PerMessage.Sum(m => (m.Rmr!.Value + 1) * m.Reachable) / result.PerMessage.Sum(m => m.Reachable);
        Assert.Equal(result.Rmr!.Value, weighted - 1, 12);
        Assert.All(result.PerMessage, m => Assert.InRange(m.Rmr!.Value, 1.0, 3.1)); // about K - 1 where the flood went all the way
    }

    [Fact]
    public void Payload_frames_give_per_message_rmr_and_the_warm_up_leaves_its_messages_out()
    {
        // A flood that sends each payload once per link, but the first 3 messages three times over.
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(6),
            Messages = 8,
            Publishers = [0],
            WarmupMessages = 3,
            Protocol = _ => new PayloadFlood(copies: message => message.Sequence < 3 ? 3 : 1),
        });

        Assert.Equal(1.0, result.DeliveredReachableRatio);
        Assert.Equal(new double?[] { 2, 2, 2, 0, 0, 0, 0, 0 }, result.PerMessage.Select(m => m.Rmr));
        Assert.Equal(0.0, result.RmrSteady);
        Assert.Equal(((3 * 15) + (5 * 5)) / 40.0 - 1, result.Rmr!.Value, 12);
        Assert.Equal(0, result.PayloadsUnattributed);
        Assert.Equal(0, result.DuplicateDeliveries);

        SimulationResult noWarmup = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(6),
            Messages = 8,
            Publishers = [0],
            Protocol = _ => new PayloadFlood(copies: message => message.Sequence < 3 ? 3 : 1),
        });
        Assert.Equal(noWarmup.Rmr, noWarmup.RmrSteady);
    }

    [Fact]
    public void Payloads_in_frames_that_name_no_message_count_in_rmr_but_make_rmr_steady_unknown()
    {
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(2),
            Publishers = [0],
            Protocol = _ => new ProbeProtocol
            {
                OnPublish = (context, _) => context.Send(1, new ProbeFrame(0, PayloadCount: 1)),
            },
        });

        Assert.Equal(1, result.PayloadsUnattributed);
        Assert.Equal(0.0, result.Rmr);
        Assert.Null(result.RmrSteady);
    }

    [Fact]
    public void The_warm_up_leaves_its_messages_out_of_ldh_time_and_distance_metrics()
    {
        // Line of 11: node 0 has eccentricity 10 and mean distance 5.5, node 5 has 5 and 3.
        static SimulationResult Run(int warmup) => Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(11),
            Messages = 2,
            Publishers = [0, 5],
            WarmupMessages = warmup,
            MinLatency = 10 * Ms,
            MaxLatency = 10 * Ms,
        });

        SimulationResult all = Run(0), steady = Run(1);

        Assert.Equal([10, 5], all.PerMessage.Select(m => m.PublisherEccentricity));
        Assert.Equal([5.5, 3.0], all.PerMessage.Select(m => m.PublisherMeanDistance));
        Assert.Equal(7.5, all.MeanPublisherEccentricity);
        Assert.Equal(4.25, all.MeanPublisherDistance);

        // On a line the v1 flood delivers along the only path: hops = distance, ldh = eccentricity.
        Assert.Equal(5.0, steady.MeanPublisherEccentricity);
        Assert.Equal(3.0, steady.MeanPublisherDistance);
        Assert.Equal(3.0, steady.MeanDeliveryHop);
        Assert.Equal(5.0, steady.LdhSteady);
        Assert.Equal(7.5, steady.Ldh); // the overall metric still covers both messages
        Assert.Equal(1.0, steady.LdhOverEccentricity);
        Assert.Equal(1.0, steady.MeanHopOverDistance);
        Assert.Equal(steady.PerMessage[1].TimeTo100, steady.TimeTo100Steady);
        Assert.NotEqual(steady.TimeTo100, steady.TimeTo100Steady);
        Assert.Equal(5.0 / (12.0 / 3), steady.LdhOverMeanShortestPath!.Value, 12); // mean path of a line of N: (N+1)/3
    }

    [Fact]
    public void Fixed_publishers_are_exactly_K_distinct_survivors_taking_turns()
    {
        var published = new List<int>();
        var probes = new ProbeProtocol?[100];
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Ring(100),
            Messages = 50,
            KillFraction = 0.3,
            KillTime = 500 * Ms, // the victims are alive when publishers are drawn, but not chosen
            PublisherCount = 7,
            Seed = 4,
            Protocol = v => probes[v] = new ProbeProtocol { OnPublish = (context, _) => published.Add(context.Self) },
        });

        Assert.Equal(50, published.Count);
        Assert.Equal(7, published.Distinct().Count());
        Assert.Equal(7, result.DistinctPublishers);
        Assert.All(published.Select((author, i) => (author, i)), p => Assert.Equal(published[p.i % 7], p.author));
        Assert.Equal(70, result.LiveNodes);
        Assert.All(published.Distinct(), author => // a survivor: neither ring neighbour was told it went down
        {
            Assert.DoesNotContain((500 * Ms, $"down {author}"), probes[(author + 1) % 100]!.Log);
            Assert.DoesNotContain((500 * Ms, $"down {author}"), probes[(author + 99) % 100]!.Log);
        });
        Assert.Contains(probes, p => p!.Log.Any(e => e.Event.StartsWith("down", StringComparison.Ordinal))); // failures did happen

        Assert.Throws<ArgumentException>(() => Simulator.Run(new SimulationOptions { Topology = Topology.Ring(10), KillFraction = 0.5, PublisherCount = 6 }));
        Assert.Throws<ArgumentException>(() => Simulator.Run(new SimulationOptions { Topology = Topology.Ring(10), Publishers = [1], PublisherCount = 1 }));
    }

    [Fact]
    public void A_partition_tells_both_ends_of_each_cut_link_loses_frames_across_it_and_the_heal_brings_the_links_back()
    {
        var probes = new ProbeProtocol[4];
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(4),
            PartitionSide = [0, 1],
            PartitionTime = 500 * Ms,
            HealTime = 2000 * Ms,
            MinLatency = 200 * Ms,
            MaxLatency = 200 * Ms,
            Publishers = [0],
            Protocol = v => probes[v] = new ProbeProtocol
            {
                OnStart = context =>
                {
                    context.SetTimer(400 * Ms, 1); // in flight at the cut: lost
                    context.SetTimer(1000 * Ms, 2); // sent over the cut link: lost
                    context.SetTimer(2100 * Ms, 3); // after the heal: arrives
                },
                OnTimer = (context, id) =>
                {
                    if (context.Self == 1)
                    {
                        context.Send(2, new ProbeFrame((int)id));
                        context.Send(0, new ProbeFrame((int)id)); // same side: always arrives
                    }
                },
            },
        });

        Assert.Equal([(500 * Ms, "down 2"), (2000 * Ms, "up 2")], LinkChanges(probes[1]));
        Assert.Equal([(500 * Ms, "down 1"), (2000 * Ms, "up 1")], LinkChanges(probes[2]));
        Assert.Empty(LinkChanges(probes[0]));
        Assert.Empty(LinkChanges(probes[3]));
        Assert.Equal([(2300 * Ms, "frame 1 #3")], probes[2].Log.Where(e => e.Event.StartsWith("frame", StringComparison.Ordinal)));
        Assert.Equal(3, probes[0].Log.Count(e => e.Event.StartsWith("frame", StringComparison.Ordinal)));
        Assert.Equal(2, result.FramesLost);
        Assert.Equal(500 * Ms, result.PartitionTime);
        Assert.Equal(2000 * Ms, result.HealTime);
        Assert.True(result.VirtualTime >= 2300 * Ms);
    }

    [Fact]
    public void A_partition_from_time_0_keeps_the_cut_links_down_until_the_heal_and_a_node_killed_meanwhile_never_comes_back()
    {
        var probes = new ProbeProtocol[4];
        Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(4),
            PartitionSide = [0, 1],
            PartitionTime = TimeSpan.Zero,
            HealTime = 2000 * Ms,
            Publishers = [0],
            Protocol = v => probes[v] = new ProbeProtocol(),
        });
        Assert.Equal(["start", "up 0", "up 2"], probes[1].Log.Select(e => e.Event));
        Assert.Equal((2000 * Ms, "up 2"), probes[1].Log[^1]);
        Assert.Equal(["start", "up 3", "up 1"], probes[2].Log.Select(e => e.Event));

        probes = new ProbeProtocol[4];
        Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(4),
            PartitionSide = [0, 1],
            PartitionTime = 500 * Ms,
            HealTime = 2000 * Ms,
            KilledNodes = [2],
            KillTime = 1000 * Ms,
            Publishers = [0],
            Protocol = v => probes[v] = new ProbeProtocol(),
        });
        Assert.Equal(["start", "up 0", "up 2", "down 2"], probes[1].Log.Select(e => e.Event)); // told once, never up again
        Assert.Equal([(1000 * Ms, "down 2")], probes[3].Log.Where(e => e.Event.StartsWith("down", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_default_partition_splits_a_ring_into_two_arcs_cutting_two_links()
    {
        var probes = new ProbeProtocol[20];
        Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Ring(20),
            PartitionTime = 500 * Ms,
            HealTime = 600 * Ms,
            Seed = 7,
            Protocol = v => probes[v] = new ProbeProtocol(),
        });

        string[] downs = [.. probes.SelectMany((p, v) => p.Log.Where(e => e.Event.StartsWith("down", StringComparison.Ordinal)).Select(e => $"{v} {e.Event}"))];
        Assert.Equal(4, downs.Length); // both ends of two links
        Assert.Equal(4, probes.Sum(p => p.Log.Count(e => e.Time == 600 * Ms && e.Event.StartsWith("up", StringComparison.Ordinal))));
    }

    [Fact]
    public void V1_loses_what_is_published_during_a_partition_and_the_reachable_ratio_counts_the_healed_graph()
    {
        static SimulationResult Run(int partitionMs, int healMs) => Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(10),
            Messages = 2,
            Publishers = [0],
            PartitionSide = [0, 1, 2, 3, 4],
            PartitionTime = partitionMs * Ms,
            HealTime = healMs * Ms,
        });

        SimulationResult during = Run(500, 3000);
        Assert.Equal(4.0 / 9, during.DeliveredReachableRatio); // nodes 1-4 of the 9 the healed line connects
        Assert.Equal(4.0 / 9, during.DeliveredRatio);
        Assert.Equal(0, during.MessagesFullyDelivered);
        Assert.Equal(0, during.DuplicateDeliveries);
        Assert.Equal("quiet", during.StopReason); // v1's stores were flushed long before the heal
        Assert.True(during.VirtualTime > 3000 * Ms); // but the run waited for it

        SimulationResult before = Run(5000, 6000);
        Assert.Equal(1.0, before.DeliveredReachableRatio);
        Assert.True(before.VirtualTime >= 6000 * Ms);
        Assert.Equal("delivered", before.StopReason);
    }

    [Fact]
    public void Reordering_links_let_frames_overtake_and_each_frame_keeps_its_own_latency()
    {
        var probes = new ProbeProtocol[2];
        Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(2),
            Reorder = true,
            Publishers = [0],
            Protocol = v => probes[v] = new ProbeProtocol
            {
                OnTimer = (context, id) => context.Send(1 - context.Self, new ProbeFrame((int)id)),
                OnStart = context =>
                {
                    for (int i = 0; i < 200; i++)
                    {
                        context.SetTimer(i * Ms, i);
                    }
                },
            },
        });

        (TimeSpan Time, string Event)[] received = [.. probes[1].Log.Where(e => e.Event.StartsWith("frame", StringComparison.Ordinal))];
        Assert.Equal(200, received.Length);
        int[] order = [.. received.Select(e => int.Parse(e.Event["frame 0 #".Length..], System.Globalization.CultureInfo.InvariantCulture))];
        Assert.NotEqual(Enumerable.Range(0, 200), order); // overtaken
        Assert.Equal(Enumerable.Range(0, 200), order.Order());
        Assert.All(received, e =>
        {
            TimeSpan sent = int.Parse(e.Event["frame 0 #".Length..], System.Globalization.CultureInfo.InvariantCulture) * Ms;
            Assert.InRange(e.Time - sent, 10 * Ms, 50 * Ms); // never held back behind an earlier frame
        });
    }

    [Fact]
    public void V1_drops_lines_of_one_author_that_arrive_out_of_order_so_reordering_links_cost_it_deliveries()
    {
        static SimulationResult Run(bool reorder) => Simulator.Run(new SimulationOptions
        {
            Topology = Topology.RandomRegular(100, 4, seed: 1),
            Messages = 20,
            Publishers = [0],
            Reorder = reorder,
        });

        Assert.Equal(1.0, Run(reorder: false).DeliveredReachableRatio);
        SimulationResult reordered = Run(reorder: true);
        Assert.True(reordered.DeliveredReachableRatio < 1.0);
        Assert.Equal(0, reordered.DuplicateDeliveries);
        Assert.True(reordered.Reorder);
    }

    [Fact]
    public void Partition_and_warm_up_options_out_of_range_are_refused()
    {
        Topology line = Topology.Line(4);
        Assert.Throws<ArgumentException>(() => Simulator.Run(new SimulationOptions { Topology = line, PartitionTime = 5 * Ms }));
        Assert.Throws<ArgumentException>(() => Simulator.Run(new SimulationOptions { Topology = line, HealTime = 5 * Ms }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Simulator.Run(new SimulationOptions { Topology = line, PartitionTime = 5 * Ms, HealTime = 5 * Ms }));
        Assert.Throws<ArgumentException>(() => Simulator.Run(new SimulationOptions { Topology = line, PartitionTime = Ms, HealTime = 5 * Ms, PartitionSide = [0, 1, 2, 3] }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Simulator.Run(new SimulationOptions { Topology = line, Messages = 3, WarmupMessages = 3 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Simulator.Run(new SimulationOptions { Topology = line, PublisherCount = 0 }));
    }

    [Fact]
    public void The_registry_knows_v1_and_makes_a_registered_protocol_from_its_setup()
    {
        Assert.Contains("v1", ProtocolRegistry.Names);
        ArgumentException unknown = Assert.Throws<ArgumentException>(() => Simulator.Run(new SimulationOptions { Topology = Topology.Line(3), ProtocolName = "nope" }));
        Assert.Contains("unknown protocol 'nope' (known: ", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("v1", unknown.Message, StringComparison.Ordinal);

        var setups = new List<ProtocolSetup>();
        string name = "test-setup-" + Guid.NewGuid().ToString("N");
        ProtocolRegistry.Register(name, setup =>
        {
            lock (setups)
            {
                setups.Add(setup);
            }

            return new ProbeProtocol();
        }, "records its setups");
        Assert.Throws<ArgumentException>(() => ProtocolRegistry.Register(name, _ => new ProbeProtocol()));
        Assert.Throws<ArgumentException>(() => ProtocolRegistry.Register("has space", _ => new ProbeProtocol()));
        Assert.Equal("records its setups", ProtocolRegistry.Description(name));

        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Ring(5),
            KilledNodes = [3],
            ProtocolName = name,
            ProtocolInterval = 250 * Ms,
            Seed = 9,
        });

        Assert.Equal(name, result.Protocol);
        Assert.Equal([0, 1, 2, 4], setups.Select(s => s.Node)); // live nodes, in order
        Assert.All(setups, s =>
        {
            Assert.Equal(5, s.NodeCount);
            Assert.Equal(250 * Ms, s.Interval);
            Assert.Equal(9, s.Seed);
            Assert.Equal("ring", s.Topology.Name);
            Assert.Same(setups[0].Random, s.Random);
        });
    }

    [Fact]
    public void V1_from_the_registry_runs_exactly_as_the_explicit_factory()
    {
        static string Run(SimulationOptions options)
        {
            JsonObject json = JsonNode.Parse(Simulator.Run(options).ToJson())!.AsObject();
            json.Remove("wall_ms");
            json.Remove("peak_memory_mb");
            json.Remove("memory_per_node_bytes");
            return json.ToJsonString();
        }

        var topology = Topology.RandomRegular(100, 4, seed: 2);
        Assert.Equal(
            Run(new SimulationOptions { Topology = topology, Messages = 5, Protocol = V1FloodProtocol.Factory(50 * Ms) }),
            Run(new SimulationOptions { Topology = topology, Messages = 5, ProtocolName = "v1", ProtocolInterval = 50 * Ms }));
        Assert.Equal(
            Run(new SimulationOptions { Topology = topology, Messages = 5, Protocol = V1FloodProtocol.Factory(V1FloodProtocol.DefaultInterval) }),
            Run(new SimulationOptions { Topology = topology, Messages = 5 }));
    }

    /// <summary>The link changes a node was told of after the start.</summary>
    private static (TimeSpan Time, string Event)[] LinkChanges(ProbeProtocol probe) =>
        [.. probe.Log.Where(e => e.Time > TimeSpan.Zero && (e.Event.StartsWith("up", StringComparison.Ordinal) || e.Event.StartsWith("down", StringComparison.Ordinal)))];

    /// <summary>A payload frame as protocol v2's <c>msg</c> is: one message, its hop count.</summary>
    private sealed record PayloadFrame(MessageId Message, int Hops) : IGossipPayloadFrame
    {
        public int SizeBytes => 300;

        public int PayloadCount => 1;
    }

    /// <summary>
    /// Floods each message once: the author sends it to every neighbour, a first receiver delivers it and sends it to
    /// every neighbour but the sender; each send is repeated <c>copies(message)</c> times.
    /// </summary>
    private sealed class PayloadFlood(Func<MessageId, int> copies) : IGossipProtocol
    {
        private readonly List<int> _neighbours = [];
        private readonly HashSet<MessageId> _seen = [];

        public void Start(IGossipContext context)
        {
        }

        public void Publish(IGossipContext context, MessageId message, int payloadBytes)
        {
            _seen.Add(message);
            Forward(context, new PayloadFrame(message, 1), except: -1);
        }

        public void FrameReceived(IGossipContext context, int fromNeighbour, IGossipFrame frame)
        {
            var payload = (PayloadFrame)frame;
            if (_seen.Add(payload.Message))
            {
                context.Deliver(payload.Message, payload.Hops);
                Forward(context, payload with { Hops = payload.Hops + 1 }, fromNeighbour);
            }
        }

        public void Timer(IGossipContext context, long timerId)
        {
        }

        public void NeighbourUp(IGossipContext context, int neighbour) => _neighbours.Add(neighbour);

        public void NeighbourDown(IGossipContext context, int neighbour) => _neighbours.Remove(neighbour);

        private void Forward(IGossipContext context, PayloadFrame frame, int except)
        {
            foreach (int neighbour in _neighbours)
            {
                for (int i = 0; i < copies(frame.Message) && neighbour != except; i++)
                {
                    context.Send(neighbour, frame);
                }
            }
        }
    }
}
