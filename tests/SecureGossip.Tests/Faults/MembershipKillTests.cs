using System.Diagnostics;
using System.Text.RegularExpressions;
using SecureGossip.Tests.TestSupport;
using Xunit.Abstractions;

namespace SecureGossip.Tests.Faults;

/// <summary>
/// A network that builds and heals itself, with real processes (issue #12, part 5, in small): every <c>sgossip node</c>
/// is started with only <c>--bootstrap</c> of the first; a share of them is killed with SIGKILL at once; every survivor
/// must receive every later message. (BENCHMARKS.md has the 30-process run and the command.)
/// </summary>
[Collection(FaultsCollection.Name)]
[Trait(TestCategory.Name, TestCategory.Faults)]
public sealed partial class MembershipKillTests(ITestOutputHelper output)
{
    private const int Nodes = 10;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Nodes_started_with_only_a_bootstrap_address_survive_a_third_of_them_killed_at_once()
    {
        await using var run = new FaultRun(output, "membership-kill");
        await run.RunAsync(async () =>
        {
            var nodes = new List<NodeProcess> { await run.StartNodeAsync("node 0", ["--listen", "127.0.0.1:0", "--bootstrap"]) };
            string bootstrap = $"127.0.0.1:{nodes[0].Port}";
            for (int i = 1; i < Nodes; i++)
            {
                NodeProcess node = await run.StartNodeAsync($"node {i}", ["--listen", "127.0.0.1:0", "--bootstrap", bootstrap]);
                await node.WaitForStderrAsync(NeighbourUp(), Timeout);
                nodes.Add(node);
            }

            await EveryoneGetsAsync(run, nodes, nodes[^1], 1, "before the failures");

            // SIGKILL a third of them at once (never the first: it is the one address the others were given).
            NodeProcess[] killed = [.. nodes.Skip(1).OrderBy(_ => run.Random.Next()).Take(Nodes / 3)];
            await Task.WhenAll(killed.Select(k => k.KillAsync(Timeout)));
            var healing = Stopwatch.StartNew();
            List<NodeProcess> survivors = [.. nodes.Except(killed)];
            run.Log($"killed {string.Join(", ", killed.Select(k => k.Name))}");

            // The first message after the failures is published at once, while the survivors are still replacing
            // their dead neighbours: it must still reach every survivor (repair by pull), and the time it took is the
            // time to heal as a user sees it.
            await EveryoneGetsAsync(run, survivors, survivors[^1], 2, "right after the failures");
            run.Log($"every survivor had the first message after the failures {healing.ElapsedMilliseconds} ms after the kill");
            for (int n = 3; n < 8; n++)
            {
                await EveryoneGetsAsync(run, survivors, survivors[n % survivors.Count], n, "after the failures");
            }
        });
    }

    private static async Task EveryoneGetsAsync(FaultRun run, List<NodeProcess> nodes, NodeProcess publisher, int n, string when)
    {
        await publisher.PublishAsync(n);
        foreach (NodeProcess node in nodes.Where(x => x != publisher))
        {
            Assert.True(
                await run.CompletesAsync(node.WaitForLinesAsync(lines => lines.Any(l => l.N == n), Timeout, $"message {n} ({when}) from {publisher.Name}")),
                $"{node.Name} did not receive message {n} ({when})");
        }
    }

    [GeneratedRegex("Neighbour up: ")]
    private static partial Regex NeighbourUp();
}
