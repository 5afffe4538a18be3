using System.Text.Json;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Simulation;

/// <summary><c>sgossip sim-overlay</c> as scripts run it: one JSON object on stdout, errors on stderr with exit code 1.</summary>
[Trait(TestCategory.Name, TestCategory.Cli)]
public sealed class SimOverlayCommandTests
{
    private static ChildProcess Sgossip(params string[] arguments) =>
        ChildProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "sgossip.dll"), .. arguments]);

    [Fact]
    public async Task Sim_overlay_prints_one_json_object_with_the_heal_and_delivery_figures()
    {
        await using ChildProcess sim = Sgossip("sim-overlay", "--nodes", "200", "--kill", "0.3", "--messages", "20", "--settle-s", "12", "--per-message");
        string line = await sim.ReadLineAsync();
        Assert.Equal(0, await sim.WaitForExitAsync());

        using JsonDocument json = JsonDocument.Parse(line);
        JsonElement root = json.RootElement;
        Assert.Equal(200, root.GetProperty("nodes").GetInt32());
        Assert.Equal(140, root.GetProperty("nodes_at_end").GetInt32());
        Assert.True(root.GetProperty("connected_before_failures").GetBoolean());
        Assert.True(root.GetProperty("connected_at_end").GetBoolean());
        Assert.Equal(JsonValueKind.Number, root.GetProperty("heal_ms").ValueKind);
        Assert.Equal(1.0, root.GetProperty("delivered_ratio_after_heal").GetDouble());
        Assert.Equal(20, root.GetProperty("per_message").GetArrayLength());
        Assert.Equal(5, root.GetProperty("active_view").GetInt32());
    }

    [Fact]
    public async Task The_membership_options_reach_the_run()
    {
        await using ChildProcess sim = Sgossip("sim-overlay", "--nodes", "100", "--messages", "2", "--settle-s", "5", "--active-view", "4", "--passive-view", "12", "--active-walk", "9", "--passive-walk", "2");
        string line = await sim.ReadLineAsync();
        Assert.Equal(0, await sim.WaitForExitAsync());
        using JsonDocument json = JsonDocument.Parse(line);
        Assert.Equal(4, json.RootElement.GetProperty("active_view").GetInt32());
        Assert.Equal(12, json.RootElement.GetProperty("passive_view").GetInt32());
        Assert.Equal(9, json.RootElement.GetProperty("active_walk").GetInt32());
        Assert.Equal(2, json.RootElement.GetProperty("passive_walk").GetInt32());
        Assert.InRange(json.RootElement.GetProperty("active_degree_max").GetInt32(), 1, 4);
    }

    [Theory]
    [InlineData("--kill", "1", "The fraction killed must be in [0, 1)")]
    [InlineData("--dissemination", "gossipsub", "Dissemination must be 'flood' or 'v2'")]
    [InlineData("--latency-ms", "fast", "--latency-ms must be A-B or one number of ms")]
    [InlineData("--active-view", "0", "ActiveViewSize")]
    [InlineData("--passive-walk", "7", "PassiveRandomWalkLength")]
    public async Task A_bad_option_is_an_error_on_stderr_with_exit_code_1(string option, string value, string message)
    {
        await using ChildProcess sim = Sgossip("sim-overlay", "--nodes", "20", option, value);
        Assert.Equal(1, await sim.WaitForExitAsync());
        Assert.Contains(message, sim.StandardError, StringComparison.Ordinal);
    }
}
