using System.Text.Json.Nodes;
using SecureGossip.Simulation;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Simulation;

/// <summary>Whole v1 networks on the virtual clock: what the 0.3.1 flood does on lines, regular and scale-free graphs.</summary>
[Collection(HeapMeasuredCollection.Name)]
public sealed class V1SimulationTests
{
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void A_50_node_line_delivers_everything_in_49_hops_of_about_half_a_round_plus_latency_each()
    {
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(50),
            Publishers = [0],
            MinLatency = 10 * Ms,
            MaxLatency = 10 * Ms,
        });

        Assert.Equal(1.0, result.DeliveredRatio);
        Assert.Equal(1.0, result.DeliveredReachableRatio);
        Assert.Equal(49, result.Ldh);
        Assert.Equal(1.0, result.VerifiesPerUnique);
        Assert.Equal(0, result.DuplicateDeliveries);
        Assert.Equal("delivered", result.StopReason);

        // Each hop waits for the holder's next round, uniform in [0, 100 ms), then 10 ms on the link.
        double expected = 49 * (50 + 10);
        Assert.InRange(result.TimeTo100!.Value.TotalMilliseconds, 0.75 * expected, 1.25 * expected);
        Assert.True(result.TimeTo99 <= result.TimeTo100);

        // The ends send to one neighbour, the 48 in between to two, the one it came from included: 98 sends for 49 receivers.
        Assert.Equal(98, result.PayloadsSent);
        Assert.Equal(1.0, result.Rmr!.Value, 12);
        Assert.Equal(98 * 300, result.BytesSent);
        Assert.Equal(50.0 * 49 * 51 / 3 / (50 * 49), result.MeanShortestPath!.Value, 9); // (N+1)/3 for a path
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    public void On_a_K_regular_graph_every_node_sends_every_message_to_all_K_neighbours_so_rmr_is_about_K_minus_1(int k)
    {
        const int N = 300, M = 5;
        SimulationResult result = Simulator.Run(new SimulationOptions { Topology = Topology.RandomRegular(N, k, seed: 2), Messages = M });

        Assert.Equal(1.0, result.DeliveredRatio);
        Assert.Equal((long)N * k * M, result.PayloadsSent);
        Assert.Equal(((double)N * k / (N - 1)) - 1, result.Rmr!.Value, 9);
        Assert.True(result.Rmr >= k - 1);
        Assert.Equal(1.0, result.VerifiesPerUnique);
    }

    [Fact]
    public void The_same_seed_gives_the_same_json_but_for_wall_time_and_memory_and_another_seed_does_not()
    {
        static string Run(int seed)
        {
            SimulationResult result = Simulator.Run(new SimulationOptions
            {
                Topology = Topology.Create("random-regular:4", 200, seed),
                Messages = 10,
                Loss = 0.1,
                KillFraction = 0.1,
                Seed = seed,
            });
            JsonObject json = JsonNode.Parse(result.ToJson())!.AsObject();
            json.Remove("wall_ms");
            json.Remove("peak_memory_mb");
            json.Remove("memory_per_node_bytes");
            return json.ToJsonString();
        }

        Assert.Equal(Run(5), Run(5));
        Assert.NotEqual(Run(5), Run(6));
    }

    [Fact]
    public void Loss_lowers_the_delivered_ratio_and_the_run_stops_once_quiet()
    {
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.RandomRegular(200, 4, seed: 1),
            Messages = 20,
            Loss = 0.3,
        });

        Assert.True(result.FramesLost > 0);
        Assert.InRange(result.DeliveredRatio!.Value, 0.5, 0.9999);
        Assert.Equal(result.DeliveredRatio, result.DeliveredReachableRatio); // nobody failed: every live node is reachable
        Assert.Null(result.TimeTo100); // some message never reached everyone
        Assert.True(result.MessagesFullyDelivered < 20);
        Assert.Equal("quiet", result.StopReason);
        Assert.Equal(1.0, result.VerifiesPerUnique);
    }

    [Fact]
    public void A_failed_cut_vertex_makes_the_far_side_unreachable_and_the_reachable_ratio_leaves_it_out()
    {
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(50),
            Publishers = [0],
            KilledNodes = [25],
        });

        Assert.Equal(49, result.LiveNodes);
        Assert.Equal(24.0 / 48, result.DeliveredRatio); // nodes 26..49 are alive but cut off
        Assert.Equal(1.0, result.DeliveredReachableRatio);
        Assert.Equal(24, result.Ldh);
        Assert.NotNull(result.TimeTo100);
        Assert.Equal(48, result.PayloadsSent); // node 24 no longer sends to 25
        Assert.Equal(1.0, result.Rmr!.Value, 12);
        Assert.Equal("delivered", result.StopReason);
    }

    [Fact]
    public void A_cut_vertex_that_fails_before_the_publish_gives_the_same_deliveries_as_one_dead_from_the_start()
    {
        SimulationResult atStart = Simulator.Run(new SimulationOptions { Topology = Topology.Line(50), Publishers = [0], KilledNodes = [25] });
        SimulationResult later = Simulator.Run(new SimulationOptions { Topology = Topology.Line(50), Publishers = [0], KilledNodes = [25], KillTime = 500 * Ms });

        Assert.Equal(atStart.DeliveredRatio, later.DeliveredRatio);
        Assert.Equal(1.0, later.DeliveredReachableRatio);
        Assert.Equal(24, later.Ldh);
        Assert.Equal(48, later.PayloadsSent); // node 24 heard that 25 went down
    }

    [Fact]
    public void Failed_nodes_lower_the_delivered_ratio_but_every_reachable_node_still_gets_everything()
    {
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.RandomRegular(200, 4, seed: 1),
            Messages = 20,
            KillFraction = 0.3,
        });

        Assert.Equal(140, result.LiveNodes);
        Assert.Equal(1.0, result.DeliveredReachableRatio);
        Assert.True(result.DeliveredRatio < 1.0); // 30 % gone splits off some survivors
        Assert.Equal(20, result.MessagesFullyDelivered); // publishers never fail
        Assert.True(result.Rmr < 4 - 1); // dead neighbours are not sent to
    }

    [Fact]
    public void A_thousand_node_random_regular_network_with_ten_messages_delivers_everywhere()
    {
        SimulationResult result = Simulator.Run(new SimulationOptions { Topology = Topology.RandomRegular(1000, 4, seed: 1), Messages = 10 });

        Assert.Equal(1.0, result.DeliveredRatio);
        Assert.Equal(10, result.MessagesFullyDelivered);
        Assert.Equal("delivered", result.StopReason);
        Assert.InRange(result.Ldh, result.MeanShortestPath!.Value, 30);
        // The heap is the whole test process's: what earlier tests release late can outweigh the run's own memory, so
        // the figure is only checked for sense here (never negative); sgossip sim, a process of its own, checks it is
        // measured (SimCommandTests).
        Assert.True(result.MemoryPerNodeBytes >= 0);
    }

    [Fact]
    public void A_scale_free_network_delivers_everywhere_and_the_curve_rises_to_one()
    {
        SimulationResult result = Simulator.Run(new SimulationOptions { Topology = Topology.ScaleFree(500, 2, seed: 1), Messages = 10 });

        Assert.Equal(1.0, result.DeliveredRatio);
        Assert.Equal(101, result.DeliveryCurve.Count);
        Assert.Equal(0.0, result.DeliveryCurve[0].Fraction);
        Assert.Equal(1.0, result.DeliveryCurve[^1].Fraction);
        Assert.Equal(TimeSpan.FromSeconds(1), result.DeliveryCurve[0].Time);
        Assert.All(result.DeliveryCurve.Zip(result.DeliveryCurve.Skip(1)), pair =>
        {
            Assert.True(pair.Second.Time > pair.First.Time);
            Assert.True(pair.Second.Fraction >= pair.First.Fraction);
        });
    }
}
