using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SecureGossip.Protocol.Core;
using SecureGossip.Simulation;

namespace SecureGossip.Harness;

/// <summary>
/// <c>--only sim</c>: protocol v1 and v2 side by side in the simulator (steady state, failures, random
/// publishers), each run the same as one <c>sgossip sim</c> command; writes report.md, results.json and plots.
/// </summary>
internal static class SimBench
{
    private static readonly string[] Protocols = ["v1", "v2"];
    private static readonly int[] Sizes = [200, 1000];
    private static readonly string[] Topologies = ["random-regular:4", "scale-free:2"];

    /// <summary>Runs every scenario for v1 and v2 and writes the report into <paramref name="outDir"/>.</summary>
    public static async Task<int> RunAsync(string outDir, int seed, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(outDir);
        var report = new StringBuilder();
        void Line(string text = "")
        {
            Console.WriteLine(text);
            report.AppendLine(text);
        }

        Line("# Protocol v1 and v2 in the simulator");
        Line();
        Line($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.ProcessArchitecture}, {RuntimeInformation.OSDescription}; .NET {Environment.Version}");
        Line($"Each row is one `sgossip sim --nodes N --topology T --protocol P --seed {seed}` with the group's flags (latency 10-50 ms, FIFO links, 100-byte payloads); wall includes building the topology, as there.");
        Line("Times, ldh and hop ratios are means over the post-warm-up messages (all messages where there is no warm-up); `never`: some message did not reach every live node connected to its publisher.");
        Line();

        var runs = new JsonArray();
        var steady = new Dictionary<(int Nodes, string Topology, string Protocol), (SimulationResult Result, double[] Latencies, long Needed)>();

        Header(Line, "Steady state: 10 fixed publishers", "--publishers 10 --messages 1000 --warmup 100", "rmr_steady");
        foreach (int n in Sizes)
        {
            foreach (string topology in Topologies)
            {
                foreach (string protocol in Protocols)
                {
                    var scenario = new Scenario("steady", n, topology, Messages: 1000, Publishers: 10, Warmup: 100, Kill: 0, Loss: 0);
                    SimulationResult result = Run(scenario, protocol, seed);
                    (double[] latencies, long needed, string? mismatch) = Latencies(scenario, protocol, seed, result);
                    steady[(n, topology, protocol)] = (result, latencies, needed);
                    Row(Line, scenario, protocol, result);
                    runs.Add(Json(scenario, protocol, seed, result, latencies, needed));
                    if (mismatch is not null)
                    {
                        Line($"**warning**: the recorded rerun of this row differs from it ({mismatch}); its delivery curve is not this run's.");
                    }
                }
            }
        }

        Line();
        Plot(Line, outDir, steady);

        Header(Line, "Failures: 20 % of nodes dead from the start, 10 % of frames lost, random publishers", "--messages 100 --kill 0.2 --loss 0.1", "rmr");
        foreach (int n in Sizes)
        {
            foreach (string topology in Topologies)
            {
                foreach (string protocol in Protocols)
                {
                    var scenario = new Scenario("failures", n, topology, Messages: 100, Publishers: null, Warmup: 0, Kill: 0.2, Loss: 0.1);
                    SimulationResult result = Run(scenario, protocol, seed);
                    Row(Line, scenario, protocol, result);
                    runs.Add(Json(scenario, protocol, seed, result, null, 0));
                }
            }
        }

        Line();
        Header(Line, "Random publishers, no failures: a random node publishes each message", "--messages 300 --warmup 200", "rmr_steady");
        foreach (string protocol in Protocols)
        {
            var scenario = new Scenario("random-publishers", 200, "random-regular:4", Messages: 300, Publishers: null, Warmup: 200, Kill: 0, Loss: 0);
            SimulationResult result = Run(scenario, protocol, seed);
            Row(Line, scenario, protocol, result);
            runs.Add(Json(scenario, protocol, seed, result, null, 0));
        }

        Line();
        await WriteResultsAsync(outDir, seed, runs, report, cancellationToken);
        return 0;
    }

    /// <summary>Writes a simulator report's results.json (machine, seed and <paramref name="runs"/>) and report.md into <paramref name="outDir"/>.</summary>
    internal static async Task WriteResultsAsync(string outDir, int seed, JsonArray runs, StringBuilder report, CancellationToken cancellationToken)
    {
        var results = new JsonObject
        {
            ["cores"] = Environment.ProcessorCount,
            ["dotnet"] = Environment.Version.ToString(),
            ["seed"] = seed,
            ["runs"] = runs,
        };
        await File.WriteAllTextAsync(Path.Combine(outDir, "results.json"), results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(outDir, "report.md"), report.ToString(), cancellationToken);
        Console.WriteLine($"results: {Path.GetRelativePath(JsRunner.RepoRoot, Path.Combine(outDir, "results.json"))}, report.md beside it");
    }

    private static void Header(Action<string> line, string title, string flags, string rmr)
    {
        line($"## {title} (`{flags}`)");
        line(string.Empty);
        line($"| nodes | topology | protocol | {rmr} | ldh / eccentricity | mean hop / mean distance | ldh / mean shortest path | time to 99 % | time to 100 % | fully delivered | delivered_ratio / delivered_reachable_ratio | verifies per unique | duplicate deliveries | wall |");
        line("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    }

    private static void Row(Action<string> line, Scenario scenario, string protocol, SimulationResult r)
    {
        double? rmr = scenario.Warmup > 0 ? r.RmrSteady : r.Rmr;
        line($"| {scenario.Nodes:N0} | {scenario.Topology} | {protocol} | {F(rmr, "F3")} | {F(r.LdhOverEccentricity, "F3")} | {F(r.MeanHopOverDistance, "F3")} | {F(r.LdhOverMeanShortestPath, "F2")} | {Ms(MeanTime(r, scenario.Warmup, m => m.TimeTo99))} | {Ms(MeanTime(r, scenario.Warmup, m => m.TimeTo100))} | {r.MessagesFullyDelivered:N0} / {r.Messages:N0} | {F(r.DeliveredRatio, "F4")} / {F(r.DeliveredReachableRatio, "F4")} | {F(r.VerifiesPerUnique, "F2")} | {r.DuplicateDeliveries:N0} | {Wall(r.WallTime)} |");
    }

    /// <summary>One run, timed the way <c>sgossip sim</c> times it (the topology's construction included).</summary>
    private static SimulationResult Run(Scenario scenario, string protocol, int seed)
    {
        long started = Stopwatch.GetTimestamp();
        SimulationResult result = Simulator.Run(scenario.Options(protocol, seed));
        return result with { WallTime = Stopwatch.GetElapsedTime(started) };
    }

    /// <summary>
    /// Reruns the scenario with its deliveries recorded and returns each post-warm-up delivery's time since its
    /// message's publish (sorted) and how many such deliveries were possible (Σ R(m)); mismatch names a counter
    /// in which the rerun differs from <paramref name="plain"/> (it should not: only a recording layer was added).
    /// </summary>
    private static (double[] Latencies, long Needed, string? Mismatch) Latencies(Scenario scenario, string protocol, int seed, SimulationResult plain)
    {
        (SimulationResult recorded, IReadOnlyList<(MessageId Message, TimeSpan At)> deliveries) = DeliveryRecorder.Run(protocol, name => scenario.Options(name, seed));
        string? mismatch =
            recorded.Events != plain.Events ? "events"
            : recorded.FramesSent != plain.FramesSent ? "frames_sent"
            : recorded.PayloadsSent != plain.PayloadsSent ? "payloads_sent"
            : recorded.Deliveries != plain.Deliveries || deliveries.Count != plain.Deliveries ? "deliveries"
            : recorded.Verifies != plain.Verifies ? "verifies"
            : null;

        var published = new Dictionary<MessageId, (int Index, TimeSpan At)>();
        long needed = 0;
        for (int m = 0; m < recorded.PerMessage.Count; m++)
        {
            MessageMetrics message = recorded.PerMessage[m];
            if (message.PublishedAt is { } at)
            {
                published[message.Message] = (m, at);
            }

            if (m >= scenario.Warmup)
            {
                needed += message.Reachable;
            }
        }

        // With no failures every node is live and reachable, so every delivery counts towards Σ R(m).
        var latencies = new List<double>();
        foreach ((MessageId message, TimeSpan at) in deliveries)
        {
            if (published.TryGetValue(message, out var publish) && publish.Index >= scenario.Warmup)
            {
                latencies.Add((at - publish.At).TotalMilliseconds);
            }
        }

        latencies.Sort();
        return ([.. latencies], needed, mismatch);
    }

    /// <summary>The share of the possible deliveries done by each time since publish: 301 points up to the last one.</summary>
    private static (double[] Ms, double[] Fraction) Curve(double[] sortedLatencies, long needed)
    {
        const int Steps = 300;
        double end = sortedLatencies.Length > 0 ? sortedLatencies[^1] : 0;
        var xs = new double[Steps + 1];
        var ys = new double[Steps + 1];
        int seen = 0;
        for (int k = 0; k <= Steps; k++)
        {
            double x = end * k / Steps;
            while (seen < sortedLatencies.Length && sortedLatencies[seen] <= x)
            {
                seen++;
            }

            xs[k] = x;
            ys[k] = needed > 0 ? (double)seen / needed : 0;
        }

        return (xs, ys);
    }

    /// <summary>The time since publish by which <paramref name="share"/> of the possible deliveries were done (null if never).</summary>
    private static double? Within(double[] sortedLatencies, long needed, double share)
    {
        long count = (long)Math.Ceiling(share * needed);
        return count <= sortedLatencies.Length && count > 0 ? sortedLatencies[count - 1] : null;
    }

    private static void Plot(Action<string> line, string outDir, Dictionary<(int Nodes, string Topology, string Protocol), (SimulationResult Result, double[] Latencies, long Needed)> steady)
    {
        line("Deliveries of the post-warm-up messages against the time since each one's publish (recorded in a rerun of each row):");
        line(string.Empty);
        line("| nodes | topology | protocol | 50 % of deliveries within | 99 % within | 100 % within |");
        line("| ---: | --- | --- | ---: | ---: | ---: |");
        var panels = new List<(string Title, IEnumerable<(string Label, double[] Ms, double[] Percent)> Series)>();
        foreach (string topology in Topologies)
        {
            foreach (int n in Sizes)
            {
                var series = new List<(string Label, double[] Ms, double[] Percent)>();
                foreach (string protocol in Protocols)
                {
                    (_, double[] latencies, long needed) = steady[(n, topology, protocol)];
                    line($"| {n:N0} | {topology} | {protocol} | {Ms(Within(latencies, needed, 0.5))} | {Ms(Within(latencies, needed, 0.99))} | {Ms(Within(latencies, needed, 1))} |");
                    (double[] xs, double[] fractions) = Curve(latencies, needed);
                    series.Add((protocol, xs, [.. fractions.Select(f => f * 100)]));
                }

                string title = $"{n:N0} nodes, {topology}, 10 publishers: deliveries vs time since publish";
                string png = Path.Combine(outDir, $"delivery-{n}-{topology.Replace(':', '-')}.png");
                Plots.Curves(png, title, series);
                panels.Add(($"{n:N0} nodes, {topology}", series));
            }
        }

        line(string.Empty);
        string grid = Path.Combine(outDir, "delivery-steady.png");
        Plots.CurveGrid(grid, 2, panels);
        string[] categories = [.. Topologies.SelectMany(t => Sizes.Select(n => $"{n:N0} nodes, {t}"))];
        var bars = Protocols
            .Select(p => (p, (double[])[.. Topologies.SelectMany(t => Sizes.Select(n => steady[(n, t, p)].Result.RmrSteady ?? double.NaN))]))
            .ToList();
        string rmrPng = Path.Combine(outDir, "rmr-steady.png");
        Plots.Bars(rmrPng, "rmr_steady, 10 publishers, 1,000 messages after 100 warm-up (0: each node got one copy)", "rmr_steady", categories, bars, "F3");
        foreach (string png in new[] { grid, rmrPng }.Concat(Topologies.SelectMany(t => Sizes.Select(n => Path.Combine(outDir, $"delivery-{n}-{t.Replace(':', '-')}.png")))))
        {
            line($"plot: {Path.GetRelativePath(JsRunner.RepoRoot, png)}");
        }

        line(string.Empty);
    }

    private static JsonObject Json(Scenario scenario, string protocol, int seed, SimulationResult result, double[]? latencies, long needed)
    {
        var run = new JsonObject
        {
            ["group"] = scenario.Group,
            ["command"] = scenario.Command(protocol, seed),
            ["steady_time_to_99_ms"] = Ms(MeanTime(result, scenario.Warmup, m => m.TimeTo99)),
            ["steady_time_to_100_ms"] = Ms(MeanTime(result, scenario.Warmup, m => m.TimeTo100)),
            ["result"] = JsonNode.Parse(result.ToJson()),
        };
        if (latencies is not null)
        {
            (double[] xs, double[] fractions) = Curve(latencies, needed);
            var curve = new JsonArray();
            for (int k = 0; k < xs.Length; k++)
            {
                curve.Add(new JsonArray(Math.Round(xs[k], 3), Math.Round(fractions[k], 6)));
            }

            run["latency_curve"] = curve; // [ms since each message's publish, share of Σ R(m) of post-warm-up messages done]
        }

        return run;
    }

    /// <summary>Mean over the messages from <paramref name="warmup"/> on; null if one of them never got there.</summary>
    internal static double? MeanTime(SimulationResult result, int warmup, Func<MessageMetrics, TimeSpan?> time)
    {
        double sum = 0;
        int count = 0;
        for (int m = warmup; m < result.PerMessage.Count; m++)
        {
            if (time(result.PerMessage[m]) is not { } t)
            {
                return null;
            }

            sum += t.TotalMilliseconds;
            count++;
        }

        return count > 0 ? sum / count : null;
    }

    internal static string F(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string Wall(TimeSpan wall) =>
        wall < TimeSpan.FromSeconds(1) ? $"{wall.TotalMilliseconds:N0} ms" : $"{wall.TotalSeconds:F1} s";

    internal static string Ms(double? ms) => ms is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) + " ms" : "never";

    /// <summary>One row's run: what <c>sgossip sim</c> builds from the same flags.</summary>
    private sealed record Scenario(string Group, int Nodes, string Topology, int Messages, int? Publishers, int Warmup, double Kill, double Loss)
    {
        public SimulationOptions Options(string protocol, int seed) => new()
        {
            Topology = Simulation.Topology.Create(Topology, Nodes, seed),
            Messages = Messages,
            Seed = seed,
            ProtocolName = protocol,
            PublisherCount = Publishers,
            WarmupMessages = Warmup,
            KillFraction = Kill,
            Loss = Loss,
        };

        public string Command(string protocol, int seed)
        {
            var command = new StringBuilder().Append(CultureInfo.InvariantCulture, $"sgossip sim --nodes {Nodes} --topology {Topology} --messages {Messages} --protocol {protocol} --seed {seed}");
            if (Publishers is { } k)
            {
                command.Append(CultureInfo.InvariantCulture, $" --publishers {k}");
            }

            if (Warmup > 0)
            {
                command.Append(CultureInfo.InvariantCulture, $" --warmup {Warmup}");
            }

            if (Kill > 0)
            {
                command.Append(CultureInfo.InvariantCulture, $" --kill {Kill}");
            }

            if (Loss > 0)
            {
                command.Append(CultureInfo.InvariantCulture, $" --loss {Loss}");
            }

            return command.ToString();
        }
    }
}
