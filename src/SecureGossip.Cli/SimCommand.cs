using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SecureGossip.Simulation;

namespace SecureGossip.Cli;

/// <summary>
/// <c>sgossip sim</c>: simulates many nodes on a virtual clock and prints the run's metrics as ONE JSON object on
/// stdout (see <see cref="SimulationResult"/> for every key); errors go to stderr with exit code 1.
/// </summary>
internal static class SimCommand
{
    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "Number of nodes.", Required = true };
        var topology = new Option<string>("--topology") { Description = "line, ring, random-regular:K (random K-regular graph) or scale-free:M (Barabási–Albert, M links per new node).", Required = true };
        var messages = new Option<int>("--messages") { Description = "Messages to publish, one every 10 ms from t = 1 s, each by a random live node (or round-robin over --publishers).", Required = true };
        var latency = new Option<string>("--latency-ms") { Description = "Per-frame latency in ms: A-B (uniform in [A, B]) or one number (fixed). Links stay FIFO unless --reorder.", DefaultValueFactory = _ => "10-50" };
        var loss = new Option<double>("--loss") { Description = "Probability that a frame is lost, per frame, in [0, 1)." };
        var kill = new Option<double>("--kill") { Description = "Fraction of the nodes that fail, floor(FRACTION x N), at time 0 unless --kill-at-ms; in [0, 1). Publishers are drawn from the survivors, so never fail." };
        var killAt = new Option<double>("--kill-at-ms") { Description = "Virtual time at which the --kill nodes fail; 0: dead from the start." };
        var seed = new Option<int>("--seed") { Description = "Seed of every random choice; the same seed gives the same JSON but for wall_ms and memory.", DefaultValueFactory = _ => 1 };
        var protocol = new Option<string>("--protocol") { Description = $"Protocol: {ProtocolList()}.", DefaultValueFactory = _ => "v1" };
        var interval = new Option<double?>("--interval-ms") { Description = "Round or tick interval in ms handed to the protocol; default: the protocol's own (v1: 100)." };
        var payload = new Option<int>("--payload-bytes") { Description = "Payload size of each message in bytes (a v1 line adds ~200).", DefaultValueFactory = _ => 100 };
        var perMessage = new Option<bool>("--per-message") { Description = "Add per_message: each message's rmr, ldh, mean hop, time to 100 % and the prunes and grafts sent while it was the latest." };
        var maxTime = new Option<double>("--max-time-ms") { Description = "Hard cap on virtual time in ms (at most 24 hours).", DefaultValueFactory = _ => 600_000 };
        var quiet = new Option<double>("--quiet-ms") { Description = "Keep running this long after full delivery, or stop after this long without a send or delivery.", DefaultValueFactory = _ => 1000 };
        var publishers = new Option<int?>("--publishers") { Description = "K fixed publishers drawn at random from the survivors; message i comes from the (i mod K)-th. Default: a random live node per message." };
        var warmup = new Option<int>("--warmup") { Description = "Leave the first W messages out of the steady-state metrics (rmr_steady, ldh_steady, time_to_100_steady_ms, mean_publisher_eccentricity, mean_publisher_distance, mean_delivery_hop and their ratios); less than --messages." };
        var partitionAt = new Option<double?>("--partition-at-ms") { Description = "Split the network in two at this virtual time: floor(N/2) nodes grown breadth-first from a seeded random node, and the rest. Links between the halves go down (both ends told) and lose every frame in flight or sent until --heal-at-ms; 0: apart from the start. Needs --heal-at-ms." };
        var healAt = new Option<double?>("--heal-at-ms") { Description = "Bring the cut links back up at this virtual time (after --partition-at-ms). The run does not stop before it; reachability (delivered_reachable_ratio) is that of the healed graph." };
        var reorder = new Option<bool>("--reorder") { Description = "Non-FIFO links: each frame's latency is drawn independently, so a frame may overtake an earlier one on the same link." };
        var command = new Command("sim", "Simulate N gossip nodes over in-memory links on a virtual clock; print the metrics as one JSON object.")
        {
            nodes, topology, messages, latency, loss, kill, killAt, seed, protocol, interval, payload, maxTime, quiet,
            publishers, warmup, partitionAt, healAt, reorder, perMessage,
        };

        command.Validators.Add(result =>
        {
            // An option left out is not in the result yet when a command validator runs (GetValue would say
            // 0 or null), so each check looks only at what was given; every default is valid.
            bool Given<T>(Option<T> option, out T value)
            {
                if (result.GetResult(option) is { Implicit: false } given)
                {
                    value = given.GetValueOrDefault<T>()!;
                    return true;
                }

                value = default!;
                return false;
            }

            if (Given(nodes, out int n) && n < 2)
            {
                result.AddError($"--nodes must be at least 2, got {n}.");
            }
            else if (n >= 2 && Given(topology, out string? spec) && Topology.Validate(spec!, n) is { } error)
            {
                result.AddError(error);
            }

            if (Given(messages, out int m) && m < 1)
            {
                result.AddError($"--messages must be at least 1, got {m}.");
            }

            if (Given(latency, out string? range) && !TryParseLatency(range ?? "", out _, out _))
            {
                result.AddError($"--latency-ms must be A-B with 0 <= A <= B, or one number of milliseconds; got '{range}'.");
            }

            if (Given(loss, out double p) && !(p >= 0 && p < 1))
            {
                result.AddError($"--loss must be in [0, 1), got {p.ToString(CultureInfo.InvariantCulture)}.");
            }

            if (Given(kill, out double k) && !(k >= 0 && k < 1))
            {
                result.AddError($"--kill must be in [0, 1), got {k.ToString(CultureInfo.InvariantCulture)}.");
            }

            if (Given(protocol, out string? name) && !ProtocolRegistry.IsRegistered(name ?? ""))
            {
                result.AddError($"--protocol: {ProtocolRegistry.UnknownProtocolMessage(name ?? "")}");
            }

            if (Given(interval, out double? ms) && !(ms > 0))
            {
                result.AddError("--interval-ms must be positive.");
            }

            if (Given(payload, out int bytes) && bytes < 0)
            {
                result.AddError("--payload-bytes must not be negative.");
            }

            if ((Given(killAt, out double at) && !(at >= 0)) || (Given(quiet, out double q) && !(q >= 0)))
            {
                result.AddError("--kill-at-ms and --quiet-ms must not be negative.");
            }

            if (Given(maxTime, out double cap) && !(cap > 0))
            {
                result.AddError("--max-time-ms must be positive.");
            }

            if (Given(publishers, out int? count) && !(count >= 1 && (n < 2 || count <= n)))
            {
                result.AddError($"--publishers must be between 1 and --nodes, got {count}.");
            }

            if (Given(warmup, out int w) && !(w >= 0 && (m < 1 || w < m)))
            {
                result.AddError($"--warmup must be at least 0 and less than --messages, got {w}.");
            }

            bool partitioned = Given(partitionAt, out double? cut), healed = Given(healAt, out double? heal);
            if (partitioned != healed)
            {
                result.AddError("--partition-at-ms and --heal-at-ms go together.");
            }
            else if (partitioned && !(cut >= 0 && heal > cut))
            {
                result.AddError("--partition-at-ms must not be negative and --heal-at-ms must be later.");
            }
        });

        command.SetAction(parseResult =>
        {
            long started = Stopwatch.GetTimestamp();
            int n = parseResult.GetValue(nodes);
            int s = parseResult.GetValue(seed);
            TryParseLatency(parseResult.GetValue(latency)!, out TimeSpan minLatency, out TimeSpan maxLatency);
            try
            {
                var options = new SimulationOptions
                {
                    Topology = Topology.Create(parseResult.GetValue(topology)!, n, s),
                    Messages = parseResult.GetValue(messages),
                    Seed = s,
                    ProtocolName = parseResult.GetValue(protocol)!,
                    ProtocolInterval = Milliseconds(parseResult.GetValue(interval)),
                    MinLatency = minLatency,
                    MaxLatency = maxLatency,
                    Loss = parseResult.GetValue(loss),
                    KillFraction = parseResult.GetValue(kill),
                    KillTime = TimeSpan.FromMilliseconds(parseResult.GetValue(killAt)),
                    PayloadBytes = parseResult.GetValue(payload),
                    QuietTime = TimeSpan.FromMilliseconds(parseResult.GetValue(quiet)),
                    MaxTime = TimeSpan.FromMilliseconds(parseResult.GetValue(maxTime)),
                    PublisherCount = parseResult.GetValue(publishers),
                    WarmupMessages = parseResult.GetValue(warmup),
                    PartitionTime = Milliseconds(parseResult.GetValue(partitionAt)),
                    HealTime = Milliseconds(parseResult.GetValue(healAt)),
                    Reorder = parseResult.GetValue(reorder),
                };
                SimulationResult result = Simulator.Run(options);
                result = result with { WallTime = Stopwatch.GetElapsedTime(started), IncludePerMessage = parseResult.GetValue(perMessage) }; // wall: topology construction included
                using Stream stdout = Console.OpenStandardOutput();
                using (var writer = new Utf8JsonWriter(stdout))
                {
                    result.WriteJson(writer);
                }

                stdout.Write("\n"u8);
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>"v1 (description), v2 (…)": the registered protocols.</summary>
    private static string ProtocolList() =>
        string.Join(", ", ProtocolRegistry.Names.Select(name => ProtocolRegistry.Description(name) is { Length: > 0 } text ? $"{name} ({text})" : name));

    private static TimeSpan? Milliseconds(double? ms) => ms is { } value ? TimeSpan.FromMilliseconds(value) : null;

    /// <summary><c>A-B</c> or <c>A</c>, in milliseconds, 0 ≤ A ≤ B.</summary>
    internal static bool TryParseLatency(string text, out TimeSpan min, out TimeSpan max)
    {
        min = max = TimeSpan.Zero;
        string[] parts = text.Split('-');
        if (parts.Length > 2
            || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double a)
            || !double.TryParse(parts[^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double b)
            || !(a >= 0) || !(b >= a) || double.IsInfinity(b))
        {
            return false;
        }

        min = TimeSpan.FromMilliseconds(a);
        max = TimeSpan.FromMilliseconds(b);
        return true;
    }
}
