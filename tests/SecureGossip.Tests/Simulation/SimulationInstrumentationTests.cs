using System.Text.Json;
using SecureGossip.Simulation;

namespace SecureGossip.Tests.Simulation;

/// <summary>
/// What the simulator reports about the tree's work (issue #10): control frames by kind, and per message its rmr, ldh
/// and the prunes and grafts sent while it was the latest published.
/// </summary>
public sealed class SimulationInstrumentationTests
{
    [Fact]
    public void Control_frames_and_the_per_message_timeline_add_up()
    {
        SimulationResult result = Run("v2", perMessage: true);

        ControlFrameCounts control = result.ControlFrames;
        Assert.True(control.Prunes > 0, "trees are reshaped toward breadth-first by prunes");
        Assert.True(control.IHaveIds >= control.IHaveFrames && control.IHaveFrames > 0);
        Assert.Equal(40, result.PerMessage.Count);

        // Each prune or graft sent after the first publish is counted against exactly one message.
        Assert.InRange(result.PerMessage.Sum(m => m.PrunesWhileLatest), 1, control.Prunes);
        Assert.InRange(result.PerMessage.Sum(m => m.GraftsWhileLatest), 0, control.Grafts);

        // The run's rmr is the per-message payloads over the per-message receivers.
        double rmr = ((double)result.PerMessage.Sum(m => m.PayloadsSent) / result.PerMessage.Sum(m => m.Reachable)) - 1;
        Assert.Equal(result.Rmr!.Value, rmr, 9);
        Assert.Equal(result.Ldh, result.PerMessage.Average(m => m.LastHop), 9);

        using JsonDocument json = JsonDocument.Parse(result.ToJson());
        JsonElement root = json.RootElement;
        Assert.Equal(control.Prunes, root.GetProperty("control_frames").GetProperty("prune").GetInt64());
        JsonElement first = root.GetProperty("per_message")[0];
        Assert.Equal(result.PerMessage[0].LastHop, first.GetProperty("ldh").GetInt32());
        Assert.Equal(result.PerMessage[0].PrunesWhileLatest, first.GetProperty("prunes_while_latest").GetInt64());
    }

    [Fact]
    public void The_flood_sends_no_control_frames_and_per_message_is_left_out_unless_asked()
    {
        SimulationResult result = Run("v1", perMessage: false);

        Assert.Equal(new ControlFrameCounts(), result.ControlFrames);
        using JsonDocument json = JsonDocument.Parse(result.ToJson());
        Assert.False(json.RootElement.TryGetProperty("per_message", out _));
        Assert.Equal(0, json.RootElement.GetProperty("control_frames").GetProperty("graft").GetInt64());
    }

    private static SimulationResult Run(string protocol, bool perMessage) =>
        Simulator.Run(new SimulationOptions
        {
            Topology = Topology.RandomRegular(100, 4, seed: 3),
            Messages = 40,
            Seed = 3,
            ProtocolName = protocol,
        }) with { IncludePerMessage = perMessage };
}
