using System.Diagnostics;
using SecureGossip.Tests.TestSupport;
using Xunit.Abstractions;

namespace SecureGossip.Tests.Faults;

/// <summary>A peer frozen with SIGSTOP (sockets open, reading nothing) must neither hold up the others nor lose anything.</summary>
[Collection(FaultsCollection.Name)]
[Trait(TestCategory.Name, TestCategory.Faults)]
public sealed class StoppedPeerTests(ITestOutputHelper output)
{
    private const int Messages = 200;
    private const int Marker = 1_000_000;
    private static readonly TimeSpan StopFor = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_peer_stopped_for_15_s_gets_everything_once_after_SIGCONT_while_the_other_peer_keeps_receiving()
    {
        await using var run = new FaultRun(output, "sigstop");
        await run.RunAsync(async () =>
        {
            // A is connected to B and C; B freezes while A publishes 200 messages of ~4 KB (800 KB: more than the
            // socket buffers towards B hold, so A really has a peer that stopped reading).
            NodeProcess a = await run.StartNodeAsync("A (publisher)", ["--listen", "127.0.0.1:0"]);
            NodeProcess b = await run.StartNodeAsync("B (stopped)", ["--connect", $"127.0.0.1:{a.Port}"]);
            NodeProcess c = await run.StartNodeAsync("C", ["--connect", $"127.0.0.1:{a.Port}"]);
            await a.PublishAsync(0);
            await Task.WhenAll(
                b.WaitForLinesAsync(l => l.Any(m => m.N == 0), Timeout, "B: the first message (links up)"),
                c.WaitForLinesAsync(l => l.Any(m => m.N == 0), Timeout, "C: the first message (links up)"));

            await b.StopAsync();
            var stopped = Stopwatch.StartNew();
            run.Log("B stopped (SIGSTOP)");
            await FaultRun.StreamAsync(a, Enumerable.Range(1, Messages), run.Random.Next(), new string('x', 4000));
            await c.WaitForLinesAsync(l => l.Select(m => m.N).Distinct().Count() >= Messages + 1, Timeout, $"C: all {Messages + 1} messages while B is stopped");
            run.Log($"C has all {Messages + 1} after {stopped.Elapsed.TotalSeconds:0.0} s of B stopped");
            Assert.True(stopped.Elapsed < StopFor, "C took longer than B's whole stop to receive: the stop was not in force while C received");

            await Task.Delay(StopFor > stopped.Elapsed ? StopFor - stopped.Elapsed : TimeSpan.Zero); // the fault's duration, not a synchronisation
            await b.ContinueAsync();
            run.Log("B continued (SIGCONT)");
            bool all = await run.CompletesAsync(b.WaitForLinesAsync(l => l.Select(m => m.N).Distinct().Count() >= Messages + 1, Timeout, $"B: all {Messages + 1} messages after SIGCONT"));

            await a.PublishAsync(Marker);
            bool markers = await run.CompletesAsync(Task.WhenAll(
                b.WaitForLinesAsync(l => l.Any(m => m.N == Marker), Timeout, "B: the end marker"),
                c.WaitForLinesAsync(l => l.Any(m => m.N == Marker), Timeout, "C: the end marker")));
            FaultRun.AssertExactlyOnce(b.Lines, Enumerable.Range(0, Messages + 1), a.PublicKey, "B (stopped for 15 s)", Marker);
            FaultRun.AssertExactlyOnce(c.Lines, Enumerable.Range(0, Messages + 1), a.PublicKey, "C", Marker);
            Assert.True(all && markers, "the end marker did not reach both peers");
        });
    }
}
