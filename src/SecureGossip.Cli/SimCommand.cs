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
    private const string Protocols = "v1";

    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "Number of nodes.", Required = true };
        var topology = new Option<string>("--topology") { Description = "line, ring, random-regular:K (random K-regular graph) or scale-free:M (Barabási–Albert, M links per new node).", Required = true };
        var messages = new Option<int>("--messages") { Description = "Messages to publish, each by a random live node, one every 10 ms from t = 1 s.", Required = true };
        var latency = new Option<string>("--latency-ms") { Description = "Per-frame latency in ms: A-B (uniform in [A, B]) or one number (fixed). Links stay FIFO.", DefaultValueFactory = _ => "10-50" };
        var loss = new Option<double>("--loss") { Description = "Probability that a frame is lost, per frame, in [0, 1)." };
        var kill = new Option<double>("--kill") { Description = "Fraction of the nodes that fail, floor(FRACTION x N), at time 0 unless --kill-at-ms; in [0, 1). Publishers are drawn from the survivors, so never fail." };
        var killAt = new Option<double>("--kill-at-ms") { Description = "Virtual time at which the --kill nodes fail; 0: dead from the start." };
        var seed = new Option<int>("--seed") { Description = "Seed of every random choice; the same seed gives the same JSON but for wall_ms and memory.", DefaultValueFactory = _ => 1 };
        var protocol = new Option<string>("--protocol") { Description = $"Protocol: {Protocols} (secure-gossip 0.3.1 flood).", DefaultValueFactory = _ => "v1" };
        var interval = new Option<double>("--interval-ms") { Description = "v1 round interval in ms.", DefaultValueFactory = _ => 100 };
        var payload = new Option<int>("--payload-bytes") { Description = "Payload size of each message in bytes (a v1 line adds ~200).", DefaultValueFactory = _ => 100 };
        var maxTime = new Option<double>("--max-time-ms") { Description = "Hard cap on virtual time in ms.", DefaultValueFactory = _ => 600_000 };
        var quiet = new Option<double>("--quiet-ms") { Description = "Keep running this long after full delivery, or stop after this long without a send or delivery.", DefaultValueFactory = _ => 1000 };
        var command = new Command("sim", "Simulate N gossip nodes over in-memory links on a virtual clock; print the metrics as one JSON object.")
        {
            nodes, topology, messages, latency, loss, kill, killAt, seed, protocol, interval, payload, maxTime, quiet,
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

            if (Given(protocol, out string? name) && name != "v1")
            {
                result.AddError($"--protocol: unknown protocol '{name}' (known: {Protocols}).");
            }

            if (Given(interval, out double ms) && !(ms > 0))
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
                    ProtocolName = "v1",
                    Protocol = V1FloodProtocol.Factory(TimeSpan.FromMilliseconds(parseResult.GetValue(interval))),
                    MinLatency = minLatency,
                    MaxLatency = maxLatency,
                    Loss = parseResult.GetValue(loss),
                    KillFraction = parseResult.GetValue(kill),
                    KillTime = TimeSpan.FromMilliseconds(parseResult.GetValue(killAt)),
                    PayloadBytes = parseResult.GetValue(payload),
                    QuietTime = TimeSpan.FromMilliseconds(parseResult.GetValue(quiet)),
                    MaxTime = TimeSpan.FromMilliseconds(parseResult.GetValue(maxTime)),
                };
                SimulationResult result = Simulator.Run(options);
                result = result with { WallTime = Stopwatch.GetElapsedTime(started) }; // topology construction included
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
