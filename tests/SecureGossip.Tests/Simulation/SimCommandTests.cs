using System.Text.Json;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Simulation;

/// <summary><c>sgossip sim</c> as scripts run it: one JSON object on stdout, errors on stderr with exit code 1.</summary>
public sealed class SimCommandTests
{
    private static readonly string[] RequiredKeys =
    [
        "nodes", "topology", "protocol", "messages", "delivered_ratio", "delivered_reachable_ratio", "rmr", "ldh",
        "time_to_99_ms", "time_to_100_ms", "verifies_per_unique", "wall_ms", "peak_memory_mb", "memory_per_node_bytes",
        "seed", "latency_ms", "loss", "kill", "events", "mean_shortest_path", "delivery_curve",
    ];

    private static ChildProcess Sgossip(params string[] arguments) =>
        ChildProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "sgossip.dll"), .. arguments]);

    [Fact]
    public async Task Sim_prints_one_json_object_with_every_metric()
    {
        await using ChildProcess sim = Sgossip("sim", "--nodes", "100", "--topology", "ring", "--messages", "3", "--latency-ms", "20", "--seed", "9");
        string line = await sim.ReadLineAsync();
        Assert.Equal(0, await sim.WaitForExitAsync());

        using JsonDocument json = JsonDocument.Parse(line);
        JsonElement root = json.RootElement;
        Assert.All(RequiredKeys, key => Assert.True(root.TryGetProperty(key, out _), $"missing {key}"));
        Assert.Equal(100, root.GetProperty("nodes").GetInt32());
        Assert.Equal("ring", root.GetProperty("topology").GetString());
        Assert.Equal("v1", root.GetProperty("protocol").GetString());
        Assert.Equal(1.0, root.GetProperty("delivered_ratio").GetDouble());
        Assert.Equal(9, root.GetProperty("seed").GetInt32());
        Assert.Equal([20.0, 20.0], root.GetProperty("latency_ms").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal(1.0, root.GetProperty("delivery_curve").EnumerateArray().Last()[1].GetDouble());
    }

    [Theory]
    [InlineData("random-regular:10", "K must be less than the number of nodes (10)")]
    [InlineData("hypercube", "unknown topology 'hypercube'")]
    public async Task A_bad_topology_is_an_error_on_stderr_with_exit_code_1(string topology, string message)
    {
        await using ChildProcess sim = Sgossip("sim", "--nodes", "10", "--topology", topology, "--messages", "1");
        Assert.Equal(1, await sim.WaitForExitAsync());
        Assert.Contains(message, sim.StandardError, StringComparison.Ordinal);
    }
}
