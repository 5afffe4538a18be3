using SecureGossip.Protocol.Membership;
using SecureGossip.Simulation;

namespace SecureGossip.Tests.Simulation;

/// <summary>
/// Networks that build and heal themselves (issue #12, part 4): nodes that know only node 0 run the shipped HyParView on
/// the simulator's virtual clock, then fail at once or churn; the overlay must stay (or become again) one component and
/// every message published once it has must reach every live node.
/// </summary>
public sealed class OverlaySimulationTests
{
    [Fact]
    public void Nodes_that_know_only_one_node_build_one_overlay_of_bounded_views_that_carries_every_message()
    {
        OverlaySimulationResult result = Run(new OverlaySimulationOptions { Nodes = 300, Messages = 20, Settle = TimeSpan.FromSeconds(15) });

        Assert.True(result.ConnectedBeforeFailures);
        Assert.True(result.ConnectedAtEnd);
        Assert.InRange(result.ActiveDegreeMin, 1, 5);
        Assert.InRange(result.ActiveDegreeMax, 1, 5);
        Assert.True(result.ActiveDegreeMean > 4, $"mean active view {result.ActiveDegreeMean:F2}: the views did not fill");
        Assert.True(result.PassiveMean > 20, $"mean passive view {result.PassiveMean:F1}: joins and shuffles did not fill it");
        Assert.All(result.Messages, m => Assert.Equal(1.0, m.DeliveredRatio));
    }

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.5)]
    public void After_a_share_of_the_nodes_fail_at_once_the_overlay_heals_and_every_later_message_reaches_every_live_node(double kill)
    {
        OverlaySimulationResult result = Run(new OverlaySimulationOptions { Nodes = 500, Kill = kill, Messages = 40, Settle = TimeSpan.FromSeconds(15) });

        Assert.True(result.ConnectedBeforeFailures);
        Assert.NotNull(result.HealMs);
        Assert.True(result.HealMs < 5_000, $"healed after {result.HealMs} ms");
        Assert.True(result.ConnectedAtEnd);
        Assert.Equal(1.0, result.MinDeliveredRatioFrom(result.HealMs!.Value));
        Assert.Equal(500 - (int)(kill * 500), result.NodesAtEnd);
    }

    [Fact]
    public void Under_churn_the_overlay_stays_connected_and_messages_reach_the_nodes_that_stay()
    {
        OverlaySimulationResult result = Run(new OverlaySimulationOptions
        {
            Nodes = 300,
            Churn = 0.02,
            ChurnDuration = TimeSpan.FromSeconds(15),
            Messages = 150,
            Settle = TimeSpan.FromSeconds(15),
        });

        Assert.True(result.NodesStarted > 300, "no node joined during churn");
        Assert.True(result.ConnectedAtEnd);
        Assert.True(result.ConnectedShareAfterFailures > 0.95, $"connected in {result.ConnectedShareAfterFailures:P1} of the checks");
        Assert.True(result.Messages.Average(m => m.DeliveredRatio) > 0.999, $"mean delivered ratio {result.Messages.Average(m => m.DeliveredRatio):F5}");
    }

    [Fact]
    public void Protocol_v2_over_the_overlay_delivers_every_message_after_failures_with_about_one_copy_per_node()
    {
        OverlaySimulationResult result = Run(new OverlaySimulationOptions
        {
            Nodes = 300,
            Kill = 0.2,
            Messages = 60,
            Dissemination = "v2",
            Settle = TimeSpan.FromSeconds(15),
        });

        Assert.NotNull(result.HealMs);
        var afterHeal = result.Messages.Where(m => m.PublishedMs >= result.HealMs).ToList();
        Assert.NotEmpty(afterHeal);
        Assert.All(afterHeal, m => Assert.Equal(1.0, m.DeliveredRatio));
        double rmr = afterHeal.Average(m => m.Rmr);
        Assert.True(rmr <= 0.2, $"rmr {rmr:F3} after healing");
    }

    [Fact]
    public void A_seed_gives_the_same_run()
    {
        var options = new OverlaySimulationOptions { Nodes = 200, Kill = 0.3, Messages = 10, Settle = TimeSpan.FromSeconds(12), Seed = 5 };
        string first = Without(Run(options).ToJson(perMessage: true));
        string second = Without(Run(options).ToJson(perMessage: true));
        Assert.Equal(first, second);

        static string Without(System.Text.Json.Nodes.JsonObject json)
        {
            json.Remove("wall_ms");
            return json.ToJsonString();
        }
    }

    [Fact]
    public void Bad_options_are_refused_with_the_option_named()
    {
        Assert.Equal("Kill", Assert.Throws<ArgumentOutOfRangeException>(() => new OverlaySimulation(new OverlaySimulationOptions { Kill = 1 })).ParamName);
        Assert.Equal("Dissemination", Assert.Throws<ArgumentException>(() => new OverlaySimulation(new OverlaySimulationOptions { Dissemination = "gossipsub" })).ParamName);
        Assert.Equal("ActiveViewSize", Assert.Throws<ArgumentOutOfRangeException>(() => new OverlaySimulation(new OverlaySimulationOptions { Membership = new HyParViewOptions { ActiveViewSize = 0 } })).ParamName);
    }

    private static OverlaySimulationResult Run(OverlaySimulationOptions options) => new OverlaySimulation(options).Run();
}
