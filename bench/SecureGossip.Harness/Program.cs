using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SecureGossip.Harness;

// sgossip-bench: runs each scenario on the .NET implementation and on the real secure-gossip 0.3.1 under node,
// in one run, and prints both figures and their ratio. See BENCHMARKS.md.
//   dotnet run -c Release --project bench/SecureGossip.Harness -- [--quick] [--out DIR] [--no-js] [--seed S] [--only pair|network|tcp|sim|sim-many|store] [--reps R]
//   network only: [--nodes N[,N...]] [--topology T] [--no-dense] (no 200-node random-regular:8 graph)
bool quick = args.Contains("--quick");
bool withJs = !args.Contains("--no-js");
string only = ArgValue("--only") ?? "all"; // pair | network | tcp | all, or sim (v1 and v2 in the simulator), sim-many (200 random publishers on 1,000 nodes), store (durable delivery) or secure (secured against plain links); none of these is part of all
int seed = int.Parse(ArgValue("--seed") ?? (only == "sim-many" ? "2" : "1"), CultureInfo.InvariantCulture);
string outDir = ArgValue("--out") ?? Path.Combine(JsRunner.RepoRoot, "bench", "results", only is "sim" or "sim-many" or "store" or "secure" ? only : string.Empty);
Directory.CreateDirectory(outDir);

if (only == "store")
{
    // What a store costs: no JS (the JS package has no store), no verify-rate measurement.
    return await StoreBench.RunAsync(outDir, quick, int.Parse(ArgValue("--reps") ?? (quick ? "2" : "5"), CultureInfo.InvariantCulture));
}

if (only == "sim")
{
    // No JS and no verify-rate measurement: the simulator counts verifications, it does not perform them.
    return await SimBench.RunAsync(outDir, seed);
}

if (only == "secure")
{
    // Secured (secret handshake + box-stream) against plain links over loopback TCP; no JS, no verify-rate measurement.
    return await SecuredLinkBench.RunAsync(outDir, quick);
}

if (only == "sim-many")
{
    // No JS, no verify-rate measurement; seed 2 unless --seed is given.
    return await SimManyBench.RunAsync(outDir, seed);
}

string? node = withJs ? JsRunner.NodeVersion() : null;
if (withJs && node is null)
{
    Console.Error.WriteLine("error: node not found; install node and run `npm ci --prefix tests/interop`, or pass --no-js");
    return 1;
}

var report = new StringBuilder();
void Line(string text = "")
{
    Console.WriteLine(text);
    report.AppendLine(text);
}

Line($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.ProcessArchitecture}, {RuntimeInformation.OSDescription}");
Line($"versions: .NET {Environment.Version}, SecureGossip {typeof(SecureGossip.GossipNode).Assembly.GetName().Version}, node {node ?? "-"}, secure-gossip 0.3.1, seed {seed}{(quick ? ", quick" : string.Empty)}");

// --profile skips the verify-rate measurement so a profiler sees only the scenarios.
bool profiling = args.Contains("--profile");
double perCore = profiling ? double.NaN : Scenarios.VerifyRatePerCore(TimeSpan.FromSeconds(quick ? 1 : 3));
double limit = perCore * Environment.ProcessorCount;
double allCores = profiling ? double.NaN : Scenarios.VerifyRateAllCores(TimeSpan.FromSeconds(quick ? 1 : 3));
Line($"physical limit: ed25519 verify {perCore:N0}/s on one core ({1e6 / perCore:F1} µs) → limit {limit:N0}/s for {Environment.ProcessorCount} cores; measured with all cores verifying at once: {allCores:N0}/s");
Line();

var results = new JsonObject
{
    ["cores"] = Environment.ProcessorCount,
    ["dotnet"] = Environment.Version.ToString(),
    ["node"] = node,
    ["seed"] = seed,
    // --profile measures no rates: JSON has no NaN, so those are null.
    ["verify_per_core_per_s"] = profiling ? null : perCore,
    ["verify_limit_per_s"] = profiling ? null : limit,
    ["verify_all_cores_per_s"] = profiling ? null : allCores,
};

// 1. Two peers in one process.
if (only is "all" or "pair")
{
Line("## 2 peers in one process (interval 100 ms): A publishes N messages, B receives them (best of 3 runs)");
Line();
Line("| messages | .NET msgs/s (end to end) | JS msgs/s (end to end) | ratio | .NET ingest msgs/s | JS ingest msgs/s | ratio | .NET ingest / limit |");
Line("|---:|---:|---:|---:|---:|---:|---:|---:|");
var pairs = new JsonArray();
foreach (int n in quick ? new[] { 1000 } : new[] { 1000, 10000 })
{
    // Best of three runs each (by ingest rate): the machine is shared and noisy.
    JsonObject dn = null!;
    JsonObject? js = null;
    for (int run = 0; run < 3; run++)
    {
        JsonObject d = await Scenarios.PairAsync(n, 100);
        pairs.Add(d);
        if (run == 0 || Num(d, "ingest_msgs_per_s") > Num(dn, "ingest_msgs_per_s"))
        {
            dn = d;
        }

        if (withJs)
        {
            JsonObject j = await JsRunner.RunAsync("pair.js", "--messages", n.ToString(CultureInfo.InvariantCulture));
            pairs.Add(j);
            if (js is null || IngestRate(j, n) > IngestRate(js, n))
            {
                js = j;
            }
        }
    }

    double dnRate = Num(dn, "msgs_per_s");
    double dnIngest = Num(dn, "ingest_msgs_per_s");
    double? jsRate = js is null ? null : Num(js, "msgs_per_s");
    double? jsIngest = js is null ? null : IngestRate(js, n);
    Line($"| {n:N0} | {dnRate:N0} | {Fmt(jsRate)} | {Ratio(dnRate, jsRate)} | {dnIngest:N0} | {Fmt(jsIngest)} | {Ratio(dnIngest, jsIngest)} | {dnIngest / limit:P0} |");
}

results["pair"] = pairs;
Line();
}


// 2. N peers in one process.
if (only is "all" or "network")
{
const int WarmUp = 20;
Line($"## N peers in one process (interval 100 ms): time until every peer has 1 message, then 100 messages from random publishers (cold); warm: a fresh network, {WarmUp} warm-up messages from the same publishers, one at a time (each delivered everywhere before the next), then the same 100");
Line();
Line("*RMR* = copies of messages received / messages accepted − 1, summed over nodes, from the publish until no copy has moved for an interval (JS: lines received / deliveries − 1). *Bytes per delivery* counts every byte written on every link (v2 control frames included) / deliveries. .NET v2 starts once every link has negotiated v2.");
Line();
// The js-libp2p GossipSub column (bench/js/gossipsub.js) runs only where its pinned packages are installed.
bool withGossipSub = withJs && Directory.Exists(Path.Combine(JsRunner.RepoRoot, "bench", "gossipsub", "node_modules"));
if (withGossipSub)
{
    Line("*js-libp2p GossipSub* (@chainsafe/libp2p-gossipsub 14.1.2 on libp2p 2.9.0, bench/js/gossipsub.js): the same graph and publishers, one libp2p node per peer in one node process, joined over loopback TCP (noise, yamux) along the same edges, one topic, GossipSub's defaults (D=6, D_lo=4, D_hi=12, D_lazy=6, heartbeat 1 s, StrictSign, flood publish). Its RMR counts every message copy in the RPCs a node receives; its bytes are every TCP byte on every link (noise, yamux, GossipSub control), phase start to settled, the last phase at least 4 heartbeats so the IHAVE gossip about its messages is in; its verifications are the ed25519 verifications counted in the process. *GS/this* = GossipSub's time / this row's.");
    Line();
}

Line("| nodes | topology | impl | 1 msg: ms | JS/this (1) | 100 cold: ms | JS/this (100 cold) | 100 warm: ms | JS/this (100 warm) | RMR cold | RMR warm | bytes/delivery cold | bytes/delivery warm | verifies per delivery | MB sent (100 cold) | GS/this (100 cold) | GS/this (100 warm) |");
Line("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
var networks = new JsonArray();
var curves = new Dictionary<(int, string), List<(string, JsonArray)>>();
var distinctAuthors = new SortedDictionary<int, int>();
int[] sizes = ArgValue("--nodes") is { } nodesArg ? [.. nodesArg.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture))] : quick ? [10, 50] : [10, 50, 200];
string? topologyOption = ArgValue("--topology");
string[] topologies = topologyOption is { } topologyArg ? [topologyArg] : ["line", "ring", "random-regular:4"];
List<(int Nodes, string Topology)> graphs = [.. sizes.SelectMany(n => topologies.Select(t => (n, t)))];
if (topologyOption is null && !args.Contains("--no-dense"))
{
    // A denser graph, so GossipSub's mesh degree (D=6 of 8 neighbours) and its IHAVE gossip are exercised.
    graphs.Add((200, "random-regular:8"));
}

List<(string Impl, string Label)> impls = [("dotnet", ".NET v1"), ("dotnet-v2", ".NET v2"), ("js", "JS 0.3.1")];
if (withGossipSub)
{
    impls.Add(("js-gossipsub", "js-libp2p GossipSub"));
}

// --impls dotnet,dotnet-v2,js,js-gossipsub keeps only those columns (for profiling one implementation).
if (ArgValue("--impls") is { } implsArg)
{
    HashSet<string> keep = [.. implsArg.Split(',')];
    impls.RemoveAll(i => !keep.Contains(i.Impl));
}

// The process is warmed first: a small network of each .NET implementation runs the whole scenario once and its
// figures are thrown away, so the JIT has compiled the code both protocols run before anything is measured. "Cold"
// in the tables is a network that has carried nothing yet, not a process that has run nothing yet: without this, the
// first 100-message burst of v2 spent about 0.3 s more compiling than v1's (the JIT time of the phase, jit_ms).
if (graphs.Count > 0)
{
    foreach ((string impl, _) in impls.Where(i => i.Impl is "dotnet" or "dotnet-v2"))
    {
        _ = await Scenarios.NetworkAsync(NetworkSpec.Create("random-regular:4", graphs.Max(g => g.Nodes), seed + 1000, 100), v2: impl == "dotnet-v2");
    }
}

foreach ((int n, string topology) in graphs)
{
    var cold = NetworkSpec.Create(topology, n, seed, 100);
    int authors = cold.Phases.First(p => p.Name == "hundred").Publishers.Distinct().Count();
    distinctAuthors[n] = authors;
    var runs = new Dictionary<(string Impl, string Run), JsonObject>();
    foreach ((string run, NetworkSpec spec) in new[] { ("cold", cold), ("warm", cold.WithWarmUp("hundred", WarmUp)) })
    {
        foreach ((string impl, _) in impls)
        {
            JsonObject result;
            if (impl is "js" or "js-gossipsub")
            {
                if (!withJs)
                {
                    continue;
                }

                string specPath = Path.Combine(outDir, $"spec-{n}-{topology.Replace(':', '-')}-{run}.json");
                await File.WriteAllTextAsync(specPath, spec.ToJson().ToJsonString());
                result = await JsRunner.RunAsync(impl == "js" ? "network.js" : "gossipsub.js", "--spec", specPath, "--timeout-s", "600");
                File.Delete(specPath);
                AddJsFigures(result);
            }
            else
            {
                result = await Scenarios.NetworkAsync(spec, v2: impl == "dotnet-v2");
            }

            result["topology"] = topology;
            result["run"] = run;
            result["main_distinct_publishers"] = authors;
            result["warmup_messages"] = run == "warm" ? WarmUp : 0;
            result["warmup_distinct_publishers"] = run == "warm" ? Math.Min(WarmUp, authors) : 0;
            networks.Add(result);
            runs[(impl, run)] = result;
        }
    }

    JsonObject? jsCold = runs.GetValueOrDefault(("js", "cold"));
    JsonObject? jsWarm = runs.GetValueOrDefault(("js", "warm"));
    JsonObject? gsCold = runs.GetValueOrDefault(("js-gossipsub", "cold"));
    JsonObject? gsWarm = runs.GetValueOrDefault(("js-gossipsub", "warm"));
    foreach ((string impl, string label) in impls)
    {
        if (!runs.TryGetValue((impl, "cold"), out JsonObject? coldResult))
        {
            continue;
        }

        JsonObject warmResult = runs[(impl, "warm")];
        JsonObject one = Phase(coldResult, "one");
        JsonObject hundred = Phase(coldResult, "hundred");
        JsonObject warm = Phase(warmResult, "hundred");
        string Versus(JsonObject? other, string otherImpl, string phase, JsonObject mine) =>
            impl == otherImpl || other is null ? string.Empty : Ratio(Num(Phase(other, phase), "elapsed_ms"), Num(mine, "elapsed_ms"));
        Line($"| {n} | {topology} | {label} | {Ms(one)} | {Versus(jsCold, "js", "one", one)} | {Ms(hundred)} | {Versus(jsCold, "js", "hundred", hundred)} | {Ms(warm)} | {Versus(jsWarm, "js", "hundred", warm)} | {Opt(hundred, "rmr", "F3")} | {Opt(warm, "rmr", "F3")} | {Fmt(Num(hundred, "bytes_per_delivery"))} | {Fmt(Num(warm, "bytes_per_delivery"))} | {Opt(hundred, "verifies_per_delivery")} | {Num(hundred, "bytes_sent") / 1e6:F1} | {Versus(gsCold, "js-gossipsub", "hundred", hundred)} | {Versus(gsWarm, "js-gossipsub", "hundred", warm)} |");
        foreach ((string run, JsonObject phase) in new[] { ("cold", hundred), ("warm", warm) })
        {
            if (!curves.TryGetValue((n, run), out var list))
            {
                curves[(n, run)] = list = [];
            }

            list.Add(($"{label} {topology}", phase["delivery_curve"]!.AsArray()));
        }
    }
}

results["network"] = networks;
if (withJs && !withGossipSub)
{
    Line();
    Line("GossipSub column skipped: run npm ci --prefix bench/gossipsub");
}

Line();
Line($"Distinct publishers among the 100 (each with its own v2 tree): {string.Join(", ", distinctAuthors.Select(d => $"{d.Value} of {d.Key} nodes"))}; the {WarmUp} warm-up messages come from the first {WarmUp} of them (cycling through all of them where there are fewer).");
Line();
foreach (((int n, string run), var series) in curves)
{
    string png = Path.Combine(outDir, run == "cold" ? $"delivery-{n}-nodes.png" : $"delivery-{n}-nodes-warm.png");
    string title = run == "cold"
        ? $"{n} peers, 100 messages from random publishers (cold): deliveries over time"
        : $"{n} peers, 100 messages after {WarmUp} warm-up messages from the same publishers: deliveries over time";
    Plots.DeliveryCurves(png, title, series);
    Line($"plot: {Path.GetRelativePath(JsRunner.RepoRoot, png)}");
}

Line();
}


// 3. Two processes over loopback TCP.
if (only is "all" or "tcp")
{
Line("## 2 processes over loopback TCP (sgossip node / js-node.js, interval 100 ms)");
Line();
Line("| impl | burst msgs/s | ingest / limit | latency p50 ms | latency p99 ms |");
Line("|---|---:|---:|---:|---:|");
var tcps = new JsonArray();
int burst = quick ? 2000 : 10000;
foreach (string impl in withJs ? new[] { "dotnet", "js" } : ["dotnet"])
{
    JsonObject tcp = await TcpScenario.RunAsync(impl, burst, pacedCount: quick ? 200 : 1000, pacedRate: 200);
    tcps.Add(tcp);
    Line($"| {(impl == "js" ? "JS 0.3.1" : ".NET v1")} | {Num(tcp, "msgs_per_s"):N0} | {Num(tcp, "msgs_per_s") / limit:P0} | {Opt(tcp, "latency_p50_ms")} | {Opt(tcp, "latency_p99_ms")} |");
}

if (tcps.Count == 2)
{
    Line($"| ratio .NET/JS | {Ratio(Num(tcps[0]!.AsObject(), "msgs_per_s"), Num(tcps[1]!.AsObject(), "msgs_per_s"))} | | | |");
}

Line();
Line("TCP ingest: lines signed beforehand, written into one listening node process as fast as the socket takes them (no sender competing for the cores), after 2 × 5,000 warm-up lines with a pause after each (so the runtime's tiered compilation has promoted the receive path):");
Line();
Line("*Limit beside it*: the one-core verify rate is measured again for 1 s right before each run (× cores), and each run is divided by that limit: the core's speed on this shared machine drifts by a third within minutes, so a limit measured at the start alone can make the same run look 70 % or 100 %.");
Line();
Line("| impl | messages | runs | median msgs/s | best msgs/s | best / limit | best / all-core rate | median run / limit beside it | median CPU µs/msg | median context switches/msg |");
Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
byte[][] warmupLines = Scenarios.SignedLines(10_000); // two halves, a pause after each (TcpScenario.IngestAsync)
byte[][] signedLines = Scenarios.SignedLines(burst);
const int IngestRuns = 3; // this machine is shared and noisy: report the median and the best of a few runs
var bestIngest = new Dictionary<string, double>();
foreach (string impl in withJs ? new[] { "dotnet", "js" } : ["dotnet"])
{
    var rates = new List<double>();
    var cpus = new List<double>();
    var switches = new List<double>();
    var besideLimit = new List<double>();
    for (int run = 0; run < IngestRuns; run++)
    {
        double beside = profiling ? double.NaN : Scenarios.VerifyRatePerCore(TimeSpan.FromSeconds(1)) * Environment.ProcessorCount;
        JsonObject ingest = await TcpScenario.IngestAsync(impl, warmupLines, signedLines);
        ingest["limit_beside_per_s"] = profiling ? null : beside;
        besideLimit.Add(Num(ingest, "msgs_per_s") / beside);
        tcps.Add(ingest);
        rates.Add(Num(ingest, "msgs_per_s"));
        cpus.Add(Num(ingest, "cpu_us_per_msg"));
        switches.Add(ingest["context_switches_per_msg"] is null ? double.NaN : Num(ingest, "context_switches_per_msg"));
    }

    rates.Sort();
    cpus.Sort();
    switches.Sort();
    besideLimit.Sort();
    bestIngest[impl] = rates[^1];
    Line($"| {(impl == "js" ? "JS 0.3.1" : ".NET v1")} | {burst:N0} | {IngestRuns} | {rates[IngestRuns / 2]:N0} | {rates[^1]:N0} | {rates[^1] / limit:P0} | {rates[^1] / allCores:P0} | {besideLimit[IngestRuns / 2]:P0} | {cpus[IngestRuns / 2]:N1} | {switches[IngestRuns / 2]:N2} |");
}

if (bestIngest.Count == 2)
{
    Line($"| ratio .NET/JS (best) | | | | {Ratio(bestIngest["dotnet"], bestIngest["js"])} | | | | |");
}

results["tcp"] = tcps;
}

await File.WriteAllTextAsync(Path.Combine(outDir, "results.json"), results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
await File.WriteAllTextAsync(Path.Combine(outDir, "report.md"), report.ToString());
Console.WriteLine();
Console.WriteLine($"results: {Path.GetRelativePath(JsRunner.RepoRoot, Path.Combine(outDir, "results.json"))}, report.md beside it");
return 0;

string? ArgValue(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static double Num(JsonObject o, string key) => o[key] is JsonNode v ? double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture) : double.NaN;

static string Opt(JsonObject o, string key, string format = "F2") => o[key] is JsonNode ? Num(o, key).ToString(format, CultureInfo.InvariantCulture) : "-";

static string Fmt(double? v) => v is double d && !double.IsNaN(d) ? d.ToString("N0", CultureInfo.InvariantCulture) : "-";

static string Ms(JsonObject phase) => (phase["timed_out"]?.GetValue<bool>() == true ? "timeout " : string.Empty) + Fmt(Num(phase, "elapsed_ms"));

// The JS script counts every line on every link (each one a copy of a message) and every byte: RMR and bytes per
// delivery follow from its phase figures the way the .NET side computes them from node statistics.
static void AddJsFigures(JsonObject js)
{
    foreach (JsonObject phase in js["phases"]!.AsArray().Select(p => p!.AsObject()))
    {
        double received = Num(phase, "deliveries") + (phase["late_deliveries"] is JsonNode ? Num(phase, "late_deliveries") : 0);
        phase["rmr"] = received > 0 ? Num(phase, "lines_sent") / received - 1 : null;
        phase["bytes_per_delivery"] = received > 0 ? Num(phase, "bytes_sent") / received : null;
    }

    JsonObject[] phases = [.. js["phases"]!.AsArray().Select(p => p!.AsObject())];
    double accepted = phases.Sum(p => Num(p, "deliveries") + (p["late_deliveries"] is JsonNode ? Num(p, "late_deliveries") : 0));
    double lines = phases.Sum(p => Num(p, "lines_sent"));
    double bytes = phases.Sum(p => Num(p, "bytes_sent"));
    js["run_total"] = new JsonObject
    {
        ["accepted"] = accepted,
        ["copies_received"] = lines,
        ["rmr"] = accepted > 0 ? lines / accepted - 1 : null,
        ["lines_sent"] = lines,
        ["bytes_sent"] = bytes,
        ["bytes_per_delivery"] = accepted > 0 ? bytes / accepted : null,
    };
}

static string Ratio(double a, double? b) => b is double d && d > 0 ? (a / d).ToString("F2", CultureInfo.InvariantCulture) + "×" : "-";

static JsonObject Phase(JsonObject result, string name) =>
    result["phases"]!.AsArray().Select(p => p!.AsObject()).First(p => p["name"]!.GetValue<string>() == name);

static double? IngestRate(JsonObject js, int n) =>
    js["drain_ms"] is JsonNode drain && drain.GetValue<double>() > 0 ? (n - 1) / (drain.GetValue<double>() / 1000) : null;
