using System.CommandLine;
using System.Text.Json;
using SecureGossip.Protocol.Membership;
using SecureGossip.Simulation;

namespace SecureGossip.Cli;

/// <summary>
/// <c>sgossip sim-overlay</c>: nodes that know only node 0 build their overlay with HyParView on a virtual clock;
/// some fail at once (<c>--kill</c>) or churn (<c>--churn</c>) while messages are published; prints the run's figures
/// as ONE JSON object on stdout (<see cref="OverlaySimulationResult.ToJson"/>); errors go to stderr with exit code 1.
/// </summary>
internal static class SimOverlayCommand
{
    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "Nodes at the start; node 0 is the bootstrap node, the others join through it one after another.", Required = true };
        var seed = new Option<int>("--seed") { Description = "Seed of every random choice.", DefaultValueFactory = _ => 1 };
        var latency = new Option<string>("--latency-ms") { Description = "One-way latency of a link in ms: A-B (each pair of nodes has its own, uniform in [A, B]) or one number.", DefaultValueFactory = _ => "10-50" };
        var spacing = new Option<double>("--join-spacing-ms") { Description = "Time between two nodes' joins.", DefaultValueFactory = _ => 5 };
        var settle = new Option<double>("--settle-s") { Description = "Time after the last join before failures, churn and messages begin.", DefaultValueFactory = _ => 30 };
        var kill = new Option<double>("--kill") { Description = "Fraction of the nodes that fail at once when the settle time is over, in [0, 1)." };
        var churn = new Option<double>("--churn") { Description = "Fraction of the live nodes that fail every second, each replaced by a new node joining through a random live node, in [0, 1)." };
        var churnSeconds = new Option<double>("--churn-s") { Description = "How long churn goes on.", DefaultValueFactory = _ => 30 };
        var messages = new Option<int>("--messages") { Description = "Messages published by random live nodes, from the end of the settle time.", DefaultValueFactory = _ => 100 };
        var interval = new Option<double>("--message-interval-ms") { Description = "Time between two messages.", DefaultValueFactory = _ => 100 };
        var dissemination = new Option<string>("--dissemination") { Description = "flood (first copies forwarded on every active link) or v2 (protocol v2's Plumtree core over the active views).", DefaultValueFactory = _ => "flood" };
        var active = new Option<int>("--active-view") { Description = "HyParView active view size.", DefaultValueFactory = _ => new HyParViewOptions().ActiveViewSize };
        var passive = new Option<int>("--passive-view") { Description = "HyParView passive view size.", DefaultValueFactory = _ => new HyParViewOptions().PassiveViewSize };
        var activeWalk = new Option<int>("--active-walk") { Description = "HyParView active random walk length (a join's walk).", DefaultValueFactory = _ => new HyParViewOptions().ActiveRandomWalkLength };
        var passiveWalk = new Option<int>("--passive-walk") { Description = "HyParView passive random walk length.", DefaultValueFactory = _ => new HyParViewOptions().PassiveRandomWalkLength };
        var shuffle = new Option<double>("--shuffle-ms") { Description = "HyParView shuffle period.", DefaultValueFactory = _ => new HyParViewOptions().ShuffleInterval.TotalMilliseconds };
        var perMessage = new Option<bool>("--per-message") { Description = "Add per_message: each message's delivered ratio, rmr, last hop and time to its last delivery." };
        var command = new Command("sim-overlay", "Simulate a self-organising network (HyParView membership) on a virtual clock: joins through one node, failures or churn, messages; print the figures as one JSON object.")
        {
            nodes, seed, latency, spacing, settle, kill, churn, churnSeconds, messages, interval, dissemination, active, passive, activeWalk, passiveWalk, shuffle, perMessage,
        };

        command.SetAction(parseResult =>
        {
            if (!SimCommand.TryParseLatency(parseResult.GetValue(latency)!, out TimeSpan minLatency, out TimeSpan maxLatency))
            {
                Console.Error.WriteLine($"error: --latency-ms must be A-B or one number of ms, got '{parseResult.GetValue(latency)}'.");
                return 1;
            }

            try
            {
                var options = new OverlaySimulationOptions
                {
                    Nodes = parseResult.GetValue(nodes),
                    Seed = parseResult.GetValue(seed),
                    MinLatency = minLatency,
                    MaxLatency = maxLatency,
                    JoinSpacing = TimeSpan.FromMilliseconds(parseResult.GetValue(spacing)),
                    Settle = TimeSpan.FromSeconds(parseResult.GetValue(settle)),
                    Kill = parseResult.GetValue(kill),
                    Churn = parseResult.GetValue(churn),
                    ChurnDuration = TimeSpan.FromSeconds(parseResult.GetValue(churnSeconds)),
                    Messages = parseResult.GetValue(messages),
                    MessageInterval = TimeSpan.FromMilliseconds(parseResult.GetValue(interval)),
                    Dissemination = parseResult.GetValue(dissemination)!,
                    Membership = new HyParViewOptions
                    {
                        ActiveViewSize = parseResult.GetValue(active),
                        PassiveViewSize = parseResult.GetValue(passive),
                        ActiveRandomWalkLength = parseResult.GetValue(activeWalk),
                        PassiveRandomWalkLength = parseResult.GetValue(passiveWalk),
                        ShuffleInterval = TimeSpan.FromMilliseconds(parseResult.GetValue(shuffle)),
                    },
                };
                OverlaySimulationResult result = new OverlaySimulation(options).Run();
                Console.Out.WriteLine(result.ToJson(parseResult.GetValue(perMessage)).ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
                return 0;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
