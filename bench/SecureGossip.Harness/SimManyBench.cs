using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SecureGossip.Simulation;

namespace SecureGossip.Harness;

/// <summary>
/// <c>--only sim-many</c>: many publishers on 1,000 nodes, a random node publishing each of 200 messages, for v1,
/// v2 (rooted trees), v2-author-trees (v2 before them) and v2-shared (plain Plumtree), each run the same as one <c>sgossip sim</c> command; writes report.md, results.json (with
/// each message's figures) and a plot of per-message rmr and ldh against the message's index.
/// </summary>
internal static class SimManyBench
{
    private const int Nodes = 1000;
    private const int Messages = 200;
    private const int Window = 25;
    private const int Smoothing = 10;
    private static readonly string[] Protocols = ["v1", "v2", "v2-author-trees", "v2-shared"];
    private static readonly string[] Topologies = ["random-regular:4", "scale-free:2"];
    private static readonly (string Topology, string Protocol)[] Runs = [.. Topologies.SelectMany(t => Protocols.Select(p => (t, p)))];

    /// <summary>Runs every topology and protocol and writes the report into <paramref name="outDir"/>.</summary>
    public static async Task<int> RunAsync(string outDir, int seed, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(outDir);
        var report = new StringBuilder();
        void Line(string text = "")
        {
            Console.WriteLine(text);
            report.AppendLine(text);
        }

        var results = new Dictionary<(string Topology, string Protocol), SimulationResult>();
        foreach ((string topology, string protocol) in Runs)
        {
            long started = Stopwatch.GetTimestamp();
            SimulationResult result = Simulator.Run(new SimulationOptions
            {
                Topology = Topology.Create(topology, Nodes, seed),
                Messages = Messages,
                Seed = seed,
                ProtocolName = protocol,
                PublisherCount = null, // a random node publishes each message
                WarmupMessages = 0,
            });
            results[(topology, protocol)] = result with { WallTime = Stopwatch.GetElapsedTime(started), IncludePerMessage = true }; // wall: topology construction included, as in sgossip sim
            Console.Error.WriteLine($"{topology} {protocol}: {results[(topology, protocol)].WallTime.TotalSeconds:F1} s");
        }

        Line($"# Many publishers: {Nodes:N0} nodes, {Messages} messages, each from a random node");
        Line();
        Line($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.ProcessArchitecture}, {RuntimeInformation.OSDescription}; .NET {Environment.Version}");
        Line($"Each row is one `sgossip sim` command (below; add `--per-message` for each message's figures, in results.json): latency 10-50 ms, FIFO links, 100-byte payloads, no warm-up, no failures, seed {seed}.");
        Line("ldh ÷ v1: this run's ldh ÷ the v1 flood's on the same graph. Times are means over all messages; `never`: some message did not reach every node. Control frames: prune, graft, ihave (frames), sync, want, tree (beacons).");
        Line();
        Line("| topology | protocol | rmr | ldh | ldh ÷ v1 | time to 99 % | time to 100 % | delivered_reachable_ratio | verifies per unique | payloads sent | prune | graft | ihave | sync | want | tree |");
        Line("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach ((string topology, string protocol) in Runs)
        {
            SimulationResult r = results[(topology, protocol)];
            double ldhOverV1 = r.Ldh / results[(topology, "v1")].Ldh;
            ControlFrameCounts c = r.ControlFrames;
            Line($"| {topology} | {protocol} | {SimBench.F(r.Rmr, "F3")} | {r.Ldh:F2} | {ldhOverV1:F3} | {SimBench.Ms(SimBench.MeanTime(r, 0, m => m.TimeTo99))} | {SimBench.Ms(SimBench.MeanTime(r, 0, m => m.TimeTo100))} | {SimBench.F(r.DeliveredReachableRatio, "F4")} | {SimBench.F(r.VerifiesPerUnique, "F2")} | {r.PayloadsSent:N0} | {c.Prunes:N0} | {c.Grafts:N0} | {c.IHaveFrames:N0} | {c.Syncs:N0} | {c.Wants:N0} | {c.Beacons:N0} |");
        }

        Line();
        foreach ((string topology, string protocol) in Runs)
        {
            Line($"- `{Command(topology, protocol, seed)}`");
        }

        Line();
        Line($"## By windows of {Window} messages: rmr (Σ payloads sent ÷ Σ R(m) − 1) / mean ldh");
        Line();
        Line($"| messages | {string.Join(" | ", Runs.Select(k => $"{k.Topology} {k.Protocol}"))} |");
        Line($"| --- |{string.Concat(Runs.Select(_ => " ---: |"))}");
        for (int first = 0; first < Messages; first += Window)
        {
            int start = first;
            Line($"| {first + 1}-{Math.Min(first + Window, Messages)} | {string.Join(" | ", Runs.Select(k => WindowFigures(results[k], start)).Select(w => $"{SimBench.F(w.Rmr, "F3")} / {w.Ldh:F2}"))} |");
        }

        Line();
        string png = Path.Combine(outDir, $"many-publishers-{Nodes}.png");
        Plot(png, results);
        Line($"plot: {Path.GetRelativePath(JsRunner.RepoRoot, png)} (per-message rmr and ldh against the message's index, each a moving average over the last {Smoothing} messages)");
        Line();

        var runs = new JsonArray();
        foreach ((string topology, string protocol) in Runs)
        {
            SimulationResult r = results[(topology, protocol)];
            var windows = new JsonArray();
            for (int first = 0; first < Messages; first += Window)
            {
                (double? rmr, double ldh) = WindowFigures(r, first);
                windows.Add(new JsonObject { ["first"] = first + 1, ["last"] = Math.Min(first + Window, Messages), ["rmr"] = rmr, ["ldh"] = ldh });
            }

            // The CLI's JSON (with --per-message), each per_message entry given its 1-based index.
            JsonObject result = JsonNode.Parse(r.ToJson())!.AsObject();
            JsonArray perMessage = result["per_message"]!.AsArray();
            for (int m = 0; m < perMessage.Count; m++)
            {
                perMessage[m]!.AsObject().Insert(0, "index", m + 1);
            }

            runs.Add(new JsonObject
            {
                ["command"] = Command(topology, protocol, seed),
                ["topology"] = topology,
                ["protocol"] = protocol,
                ["ldh_over_v1"] = r.Ldh / results[(topology, "v1")].Ldh,
                ["time_to_99_ms"] = SimBench.MeanTime(r, 0, m => m.TimeTo99),
                ["time_to_100_ms"] = SimBench.MeanTime(r, 0, m => m.TimeTo100),
                ["windows"] = windows,
                ["result"] = result,
            });
        }

        await SimBench.WriteResultsAsync(outDir, seed, runs, report, cancellationToken);
        return 0;
    }

    private static string Command(string topology, string protocol, int seed) =>
        $"sgossip sim --nodes {Nodes} --topology {topology} --messages {Messages} --latency-ms 10-50 --seed {seed} --protocol {protocol}";

    /// <summary>Messages <paramref name="first"/> to <paramref name="first"/> + <see cref="Window"/> − 1 (0-based): their rmr taken together and their mean last hop.</summary>
    private static (double? Rmr, double Ldh) WindowFigures(SimulationResult r, int first)
    {
        MessageMetrics[] window = [.. r.PerMessage.Skip(first).Take(Window)];
        long reachable = window.Sum(m => (long)m.Reachable);
        double? rmr = reachable > 0 ? ((double)window.Sum(m => m.PayloadsSent) / reachable) - 1 : null;
        return (rmr, window.Average(m => m.LastHop));
    }

    private static void Plot(string png, Dictionary<(string Topology, string Protocol), SimulationResult> results)
    {
        var panels = new List<(string Title, string XLabel, string YLabel, bool LogY, IEnumerable<(string Label, double[] Xs, double[] Ys)> Series)>();
        foreach (string topology in Topologies)
        {
            // rmr on a log axis: the flood's 3 and the trees' 0.01-0.1 in one panel.
            foreach ((string figure, bool log, Func<MessageMetrics, double> value) in new (string, bool, Func<MessageMetrics, double>)[] { ("rmr", true, m => m.Rmr ?? double.NaN), ("ldh (last hop)", false, m => m.LastHop) })
            {
                var series = Protocols.Select(p =>
                {
                    double[] ys = [.. results[(topology, p)].PerMessage.Select(value)];
                    return (p, (double[])[.. Enumerable.Range(1, ys.Length).Select(i => (double)i)], MovingAverage(ys, Smoothing));
                }).ToList();
                string title = $"{topology}: {figure}, moving average of {Smoothing} messages{(log ? " (log y)" : string.Empty)}";
                panels.Add((title, $"message index ({Nodes:N0} nodes, a random publisher each)", figure, log, series));
            }
        }

        Plots.LineGrid(png, 2, panels);
    }

    /// <summary>Each point the mean of itself and up to <paramref name="width"/> − 1 points before it.</summary>
    private static double[] MovingAverage(double[] values, int width)
    {
        var averages = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            int from = Math.Max(0, i - width + 1);
            averages[i] = values[from..(i + 1)].Average();
        }

        return averages;
    }
}
