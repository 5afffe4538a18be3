using System.Text.Json;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Simulation;

/// <summary><c>sgossip sim</c> as scripts run it: one JSON object on stdout, errors on stderr with exit code 1.</summary>
[Trait(TestCategory.Name, TestCategory.Cli)]
public sealed class SimCommandTests
{
    private static readonly string[] RequiredKeys =
    [
        "nodes", "topology", "protocol", "messages", "delivered_ratio", "delivered_reachable_ratio", "rmr", "ldh",
        "time_to_99_ms", "time_to_100_ms", "verifies_per_unique", "wall_ms", "peak_memory_mb", "memory_per_node_bytes",
        "seed", "latency_ms", "loss", "kill", "events", "mean_shortest_path", "delivery_curve",
    ];

    private static readonly string[] NewKeys =
    [
        "reorder", "partition_at_ms", "heal_at_ms", "warmup", "distinct_publishers", "payloads_unattributed", "rmr_steady",
        "ldh_steady", "time_to_100_steady_ms", "mean_publisher_eccentricity", "mean_publisher_distance", "mean_delivery_hop",
        "ldh_over_eccentricity", "mean_hop_over_distance", "ldh_over_mean_shortest_path", "duplicate_deliveries",
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
        Assert.True(root.GetProperty("memory_per_node_bytes").GetInt64() > 0, "a process of its own measures what the run retained");
        Assert.Equal(9, root.GetProperty("seed").GetInt32());
        Assert.Equal([20.0, 20.0], root.GetProperty("latency_ms").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal(1.0, root.GetProperty("delivery_curve").EnumerateArray().Last()[1].GetDouble());
    }

    [Fact]
    public async Task Sim_takes_the_scenario_options_and_prints_the_steady_state_and_distance_metrics()
    {
        await using ChildProcess sim = Sgossip(
            "sim", "--nodes", "60", "--topology", "random-regular:4", "--messages", "12", "--publishers", "3", "--warmup", "2",
            "--reorder", "--partition-at-ms", "500", "--heal-at-ms", "1500", "--interval-ms", "50", "--seed", "2");
        string line = await sim.ReadLineAsync();
        Assert.Equal(0, await sim.WaitForExitAsync());

        using JsonDocument json = JsonDocument.Parse(line);
        JsonElement root = json.RootElement;
        Assert.All(RequiredKeys.Concat(NewKeys), key => Assert.True(root.TryGetProperty(key, out _), $"missing {key}"));
        Assert.Equal(3, root.GetProperty("distinct_publishers").GetInt32());
        Assert.Equal(2, root.GetProperty("warmup").GetInt32());
        Assert.True(root.GetProperty("reorder").GetBoolean());
        Assert.Equal(500, root.GetProperty("partition_at_ms").GetDouble());
        Assert.Equal(1500, root.GetProperty("heal_at_ms").GetDouble());
        Assert.Equal(0, root.GetProperty("payloads_unattributed").GetInt64());
        Assert.Equal(0, root.GetProperty("duplicate_deliveries").GetInt64());
        Assert.Equal(JsonValueKind.Number, root.GetProperty("rmr_steady").ValueKind);
        Assert.True(root.GetProperty("virtual_time_ms").GetDouble() >= 1500);
    }

    [Fact]
    public async Task Without_the_new_options_the_new_keys_say_so()
    {
        await using ChildProcess sim = Sgossip("sim", "--nodes", "20", "--topology", "ring", "--messages", "2");
        string line = await sim.ReadLineAsync();
        Assert.Equal(0, await sim.WaitForExitAsync());

        using JsonDocument json = JsonDocument.Parse(line);
        JsonElement root = json.RootElement;
        Assert.False(root.GetProperty("reorder").GetBoolean());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("partition_at_ms").ValueKind);
        Assert.Equal(0, root.GetProperty("warmup").GetInt32());
        Assert.Equal(root.GetProperty("rmr").GetDouble(), root.GetProperty("rmr_steady").GetDouble());
        Assert.Equal(root.GetProperty("ldh").GetDouble(), root.GetProperty("ldh_steady").GetDouble());
    }

    [Theory]
    [InlineData("--protocol", "v9", "unknown protocol 'v9' (known: ")]
    [InlineData("--publishers", "21", "--publishers must be between 1 and --nodes")]
    [InlineData("--warmup", "2", "--warmup must be at least 0 and less than --messages")]
    [InlineData("--partition-at-ms", "5", "--partition-at-ms and --heal-at-ms go together")]
    public async Task A_bad_scenario_option_is_an_error_on_stderr_with_exit_code_1(string option, string value, string message)
    {
        await using ChildProcess sim = Sgossip("sim", "--nodes", "20", "--topology", "ring", "--messages", "2", option, value);
        Assert.Equal(1, await sim.WaitForExitAsync());
        Assert.Contains(message, sim.StandardError, StringComparison.Ordinal);
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
