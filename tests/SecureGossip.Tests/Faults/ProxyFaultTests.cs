using SecureGossip.Tests.TestSupport;
using Xunit.Abstractions;

namespace SecureGossip.Tests.Faults;

/// <summary>
/// Two real nodes with a <see cref="FaultProxy"/> between them (publisher --connect proxy -> receiver): resets
/// mid-write, a stall and a blackhole longer than the keepalive, a slow path. The receiver prints every message
/// exactly once.
/// </summary>
[Collection(FaultsCollection.Name)]
[Trait(TestCategory.Name, TestCategory.Faults)]
public sealed class ProxyFaultTests(ITestOutputHelper output)
{
    private const int Marker = 1_000_000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Long enough for a 10 s dead-link timeout, a 5 s connect timeout and the backoff, with room for a busy machine.</summary>
    private static readonly TimeSpan RedialTimeout = TimeSpan.FromSeconds(35);

    [Fact]
    public async Task Links_reset_mid_burst_at_chosen_bytes_are_redialled_and_nothing_is_lost_or_repeated()
    {
        const int Resets = 3, Burst = 500;
        await using var run = new FaultRun(output, "proxy-reset");
        await run.RunAsync(async () =>
        {
            (NodeProcess publisher, NodeProcess receiver, FaultProxy proxy) = await StartPairAsync(run);
            int published = 1;
            for (int round = 0; round < Resets; round++)
            {
                // Each round's link is a fresh one: the publisher re-dialled after the previous reset.
                ProxyConnection link = await proxy.WaitForConnectionAsync(round, RedialTimeout);
                long at = link.BytesForwarded(ProxyDirection.ToUpstream) + run.Random.Next(2_000, 60_000);
                link.ResetAfter(ProxyDirection.ToUpstream, at);
                int first = 1 + (round * Burst); // n 0 was the link-up message
                run.Log($"round {round}: link #{link.Index}, reset armed at byte {at} towards the receiver; bursting {Burst}");
                Task<int> bursting = PublishBurstAsync(publisher, first, Burst);
                await link.Closed.WaitAsync(Timeout);
                Assert.True(link.WasReset, $"round {round}: the link closed before the reset ({link.BytesForwarded(ProxyDirection.ToUpstream)} bytes)");
                published += await bursting;
                bool all = await run.CompletesAsync(receiver.WaitForLinesAsync(
                    l => l.Select(m => m.N).Where(n => n >= first && n < first + Burst).Distinct().Count() >= Burst,
                    RedialTimeout,
                    $"round {round}: all {Burst} of the burst after a reset at byte {at}"));
                if (!all)
                {
                    break; // the report below says what was lost
                }
            }

            await EndAsync(run, publisher, receiver, published, proxy);
        });
    }

    [Fact]
    public async Task A_stalled_link_is_noticed_by_keepalive_and_traffic_resumes_over_a_fresh_connection()
    {
        await SilentLinkAsync("proxy-stall", (link, direction) => link.Stall(direction));
    }

    [Fact]
    public async Task A_blackholed_link_is_noticed_by_keepalive_and_traffic_resumes_over_a_fresh_connection()
    {
        await SilentLinkAsync("proxy-blackhole", (link, direction) => link.Blackhole(direction));
    }

    [Fact]
    public async Task A_slow_path_delivers_everything_once()
    {
        const int Messages = 300;
        await using var run = new FaultRun(output, "proxy-delay");
        await run.RunAsync(async () =>
        {
            (NodeProcess publisher, NodeProcess receiver, FaultProxy proxy) = await StartPairAsync(run);
            proxy.Delay = TimeSpan.FromMilliseconds(40);
            await FaultRun.StreamAsync(publisher, Enumerable.Range(1, Messages), run.Random.Next());
            await receiver.WaitForLinesAsync(l => l.Select(m => m.N).Distinct().Count() >= Messages + 1, Timeout, $"all {Messages + 1} messages over a slow path");
            await EndAsync(run, publisher, receiver, Messages + 1, proxy);
        });
    }

    private async Task SilentLinkAsync(string name, Action<ProxyConnection, ProxyDirection> silence)
    {
        const int Messages = 50;
        await using var run = new FaultRun(output, name);
        await run.RunAsync(async () =>
        {
            (NodeProcess publisher, NodeProcess receiver, FaultProxy proxy) = await StartPairAsync(run);
            ProxyConnection silent = await proxy.WaitForConnectionAsync(0, Timeout);
            silence(silent, ProxyDirection.ToUpstream);
            silence(silent, ProxyDirection.ToClient);
            run.Log($"{name}: link #0 silenced both ways with its sockets open");
            await FaultRun.StreamAsync(publisher, Enumerable.Range(1, Messages), run.Random.Next());

            // Only a keepalive can tell: the nodes must drop the silent link and the publisher must dial again.
            ProxyConnection fresh = await proxy.WaitForConnectionAsync(1, RedialTimeout);
            run.Log($"{name}: fresh link #{fresh.Index}; the silent one is {(silent.IsClosed ? "closed" : "still open")}");
            await receiver.WaitForLinesAsync(l => l.Select(m => m.N).Distinct().Count() >= Messages + 1, Timeout, $"all {Messages + 1} messages after the fresh link");
            Assert.True(fresh.BytesForwarded(ProxyDirection.ToUpstream) > 0, "the messages did not cross the fresh connection");

            // Let whatever the silent link held through now: it is a duplicate and must not be printed again.
            silent.Resume(ProxyDirection.ToUpstream);
            silent.Resume(ProxyDirection.ToClient);
            await EndAsync(run, publisher, receiver, Messages + 1, proxy);
        });
    }

    private static async Task<(NodeProcess Publisher, NodeProcess Receiver, FaultProxy Proxy)> StartPairAsync(FaultRun run)
    {
        NodeProcess receiver = await run.StartNodeAsync("receiver", ["--listen", "127.0.0.1:0"]);
        FaultProxy proxy = run.Own(FaultProxy.Start(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, receiver.Port)));
        NodeProcess publisher = await run.StartNodeAsync("publisher", ["--connect", $"127.0.0.1:{proxy.EndPoint.Port}"]);
        await publisher.PublishAsync(0);
        await receiver.WaitForLinesAsync(l => l.Any(m => m.N == 0), Timeout, "the first message (link up)");
        return (publisher, receiver, proxy);
    }

    private static async Task<int> PublishBurstAsync(NodeProcess publisher, int first, int count)
    {
        for (int n = first; n < first + count; n++)
        {
            await publisher.PublishAsync(n);
        }

        return count;
    }

    private static async Task EndAsync(FaultRun run, NodeProcess publisher, NodeProcess receiver, int count, FaultProxy proxy)
    {
        await publisher.PublishAsync(Marker);
        bool marker = await run.CompletesAsync(receiver.WaitForLinesAsync(l => l.Any(m => m.N == Marker), RedialTimeout, "the end marker"));
        run.Log($"proxy: {proxy.Connections.Count} connections, {proxy.BytesForwarded(ProxyDirection.ToUpstream)} bytes to the receiver, {proxy.BytesForwarded(ProxyDirection.ToClient)} back");
        FaultRun.AssertExactlyOnce(receiver.Lines, Enumerable.Range(0, count), publisher.PublicKey, "receiver", Marker);
        Assert.True(marker, "the end marker did not arrive");
    }
}
