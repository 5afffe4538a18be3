using SecureGossip.Engine;
using SecureGossip.Protocol.Core;
using SecureGossip.Simulation;

namespace SecureGossip.Tests.Simulation;

/// <summary>
/// Protocol v2's core in the simulator against the targets of docs/PROTOCOL.md §15, seeded; every node is the engine
/// real nodes run (<see cref="GossipEngine.CreateV2"/>), with digest ids.
/// </summary>
public sealed class PlumtreeSimulationTests
{
    [Theory]
    [InlineData("random-regular:4", 200)]
    [InlineData("scale-free:2", 200)]
    public void In_steady_state_each_message_crosses_each_node_about_once_along_breadth_first_trees(string spec, int nodes)
    {
        Topology topology = Topology.Create(spec, nodes, seed: 1);
        int[] publishers = [.. Enumerable.Range(0, 10).Select(i => (i * 7919) % nodes)];
        var recorder = new MessageRecorder();
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = topology,
            Messages = 1000,
            Publishers = publishers,
            ProtocolName = "v2",
            Protocol = recorder.Wrap(V2()),
            QuietTime = TimeSpan.FromSeconds(5),
        });

        Assert.Equal(1.0, result.DeliveredRatio);
        Assert.Equal(1.0, result.VerifiesPerUnique);
        Assert.Equal(0, result.DuplicateDeliveries);

        // After the first 100 messages (trees formed for every publisher):
        MessageId[] steady = [.. recorder.Published.Skip(100)];
        double rmr = (double)steady.Sum(recorder.PayloadSends) / steady.Sum(recorder.Deliveries) - 1;
        double ldh = steady.Average(recorder.LastDeliveryHop);
        double eccentricity = publishers.Average(p => Eccentricity(topology, p));
        Assert.InRange(rmr, 0, 0.1);
        Assert.InRange(ldh, 1, 1.1 * eccentricity);
    }

    [Theory]
    [InlineData("random-regular:4")]
    [InlineData("scale-free:2")]
    public void With_a_fifth_of_the_nodes_dead_and_a_tenth_of_the_frames_lost_every_reachable_node_gets_every_message(string spec)
    {
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Create(spec, 1000, seed: 1),
            Messages = 100,
            Loss = 0.1,
            KillFraction = 0.2,
            ProtocolName = "v2",
            Protocol = V2(),
            QuietTime = TimeSpan.FromSeconds(5),
        });

        Assert.Equal(1.0, result.DeliveredReachableRatio);
        Assert.True(result.DeliveredRatio < 1.0, "some nodes are cut off by the dead ones; they are not counted as reachable");
        Assert.Equal(1.0, result.VerifiesPerUnique);
        Assert.Equal(0, result.DuplicateDeliveries);
    }

    [Fact]
    public void A_healed_partition_converges_with_every_message_delivered_once_where_v1_loses_them()
    {
        Topology topology = Topology.Create("random-regular:4", 200, seed: 2);
        SimulationOptions Scenario(string protocol) => new()
        {
            Topology = topology,
            Messages = 200,
            Publishers = [0, 60, 120, 180],
            PartitionTime = TimeSpan.FromMilliseconds(1500), // mid-publishing (1 s to 3 s)
            HealTime = TimeSpan.FromSeconds(6),
            ProtocolName = protocol,
            Protocol = protocol == "v2" ? V2() : null,
            QuietTime = TimeSpan.FromSeconds(5),
        };

        SimulationResult v1 = Simulator.Run(Scenario("v1"));
        SimulationResult v2 = Simulator.Run(Scenario("v2"));

        Assert.True(v1.DeliveredRatio < 1.0, $"v1 loses what crosses the cut while it is down ({v1.DeliveredRatio})");
        Assert.Equal(1.0, v2.DeliveredRatio);
        Assert.Equal(0, v2.DuplicateDeliveries);
        Assert.Equal(1.0, v2.VerifiesPerUnique);
    }

    [Fact]
    public void A_late_joiner_receives_every_retained_message_once_when_its_links_come_up()
    {
        Topology topology = Topology.Create("random-regular:4", 100, seed: 4);
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = topology,
            Messages = 100,
            Publishers = [1, 2, 3],
            PartitionSide = [0],
            PartitionTime = TimeSpan.Zero, // node 0's links first come up after everything was published
            HealTime = TimeSpan.FromSeconds(10),
            ProtocolName = "v2",
            Protocol = V2(),
            QuietTime = TimeSpan.FromSeconds(5),
        });

        AssertEachMessageDeliveredOnceEverywhere(result);
        // Published between 1 s and 2 s, completed only by the late joiner after the heal at 10 s.
        Assert.True(result.TimeTo100 > TimeSpan.FromSeconds(7), $"the last deliveries are the late joiner's, after the heal ({result.TimeTo100})");
    }

    [Fact]
    public void Links_that_reorder_frames_cost_v2_nothing()
    {
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Create("scale-free:2", 200, seed: 5),
            Messages = 300,
            Publishers = [0, 1, 2],
            PublishSpacing = TimeSpan.FromMilliseconds(1), // an author's messages overtake each other
            Reorder = true,
            ProtocolName = "v2",
            Protocol = V2(),
            QuietTime = TimeSpan.FromSeconds(5),
        });

        AssertEachMessageDeliveredOnceEverywhere(result);
    }

    [Fact]
    public void The_same_seed_gives_the_same_run()
    {
        SimulationOptions Scenario() => new()
        {
            Topology = Topology.Create("random-regular:4", 150, seed: 6),
            Messages = 100,
            Loss = 0.05,
            KillFraction = 0.1,
            Reorder = true,
            ProtocolName = "v2",
            Protocol = V2(),
        };

        SimulationResult first = Simulator.Run(Scenario()), second = Simulator.Run(Scenario());
        Assert.Equal(
            (first.Deliveries, first.FramesSent, first.PayloadsSent, first.BytesSent, first.FramesLost, first.Events, first.VirtualTime),
            (second.Deliveries, second.FramesSent, second.PayloadsSent, second.BytesSent, second.FramesLost, second.Events, second.VirtualTime));
    }

    [Fact]
    public void V2_sends_a_small_fraction_of_the_payloads_v1_floods()
    {
        Topology topology = Topology.Create("random-regular:4", 200, seed: 3);
        SimulationResult v1 = Simulator.Run(new SimulationOptions { Topology = topology, Messages = 200, Publishers = [0, 50, 100] });
        SimulationResult v2 = Simulator.Run(new SimulationOptions
        {
            Topology = topology,
            Messages = 200,
            Publishers = [0, 50, 100],
            ProtocolName = "v2",
            Protocol = V2(),
        });

        Assert.Equal(1.0, v2.DeliveredRatio);
        Assert.True(v1.Rmr > 2.5, $"v1 floods every link (rmr {v1.Rmr})");
        Assert.True(v2.Rmr < v1.Rmr / 5, $"v2 pushes along trees (rmr {v2.Rmr}, warm-up included, against v1's {v1.Rmr})");
        Assert.True(v2.TimeTo99 < v1.TimeTo99, $"v2 forwards on accept, v1 waits for rounds ({v2.TimeTo99} against {v1.TimeTo99} to 99 %)");
    }

    private static Func<int, IGossipProtocol> V2() => _ => GossipEngine.CreateV2();

    private static int Eccentricity(Topology topology, int source)
    {
        var distance = new Dictionary<int, int> { [source] = 0 };
        var queue = new Queue<int>([source]);
        while (queue.TryDequeue(out int v))
        {
            foreach (int w in topology.Neighbours(v))
            {
                if (distance.TryAdd(w, distance[v] + 1))
                {
                    queue.Enqueue(w);
                }
            }
        }

        return distance.Values.Max();
    }

    private static void AssertEachMessageDeliveredOnceEverywhere(SimulationResult result)
    {
        Assert.Equal(1.0, result.DeliveredRatio);
        Assert.Equal(0, result.DuplicateDeliveries);
        Assert.Equal(1.0, result.VerifiesPerUnique);
    }
}
