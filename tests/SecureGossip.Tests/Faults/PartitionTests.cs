using System.Diagnostics;
using SecureGossip.Tests.TestSupport;
using Xunit.Abstractions;

namespace SecureGossip.Tests.Faults;

/// <summary>Two nodes in two network namespaces; the veth between them goes down silently for 30 s, then heals.</summary>
[Collection(FaultsCollection.Name)]
[Trait(TestCategory.Name, TestCategory.Faults)]
public sealed class PartitionTests(ITestOutputHelper output)
{
    private const int Messages = 60;
    private const int Marker = 1_000_000;
    private static readonly TimeSpan Partition = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan AfterHeal = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task After_a_30_s_silent_partition_heals_all_60_messages_published_meanwhile_arrive_within_20_s_each_once()
    {
        await using var run = new FaultRun(output, "netns-partition");
        await run.RunAsync(async () =>
        {
            NetworkNamespacePair net = run.Own(await NetworkNamespacePair.CreateAsync());
            run.Log($"namespaces {net.NameA} ({net.AddressA}) and {net.NameB} ({net.AddressB})");
            NodeProcess b = await run.StartNodeAsync("B (listens)", ["--listen", $"{net.AddressB}:7000"], net.NameB);
            NodeProcess a = await run.StartNodeAsync("A (publishes)", ["--connect", $"{net.AddressB}:7000"], net.NameA);
            await a.PublishAsync(0);
            await b.WaitForLinesAsync(l => l.Any(m => m.N == 0), Timeout, "the first message (link up)");

            await net.PartitionAsync();
            var partitioned = Stopwatch.StartNew();
            run.Log("partitioned (both veth ends down)");
            for (int n = 1; n <= Messages; n++)
            {
                await a.PublishAsync(n);
                await Task.Delay(Partition / (Messages + 10)); // spread over the partition, as a live publisher would
            }

            await Task.Delay(Partition > partitioned.Elapsed ? Partition - partitioned.Elapsed : TimeSpan.Zero); // the fault's duration, not a synchronisation
            await net.HealAsync();
            var healed = Stopwatch.StartNew();
            run.Log($"healed after {partitioned.Elapsed.TotalSeconds:0.0} s; B has {b.Lines.Count} lines");

            bool intime = await run.CompletesAsync(b.WaitForLinesAsync(l => l.Select(m => m.N).Distinct().Count() >= Messages + 1, AfterHeal, $"all {Messages} partition-time messages within {AfterHeal.TotalSeconds:0} s of the heal"));
            run.Log($"{b.Lines.Select(m => m.N).Where(n => n is > 0 and <= Messages).Distinct().Count()} of {Messages} arrived {healed.Elapsed.TotalSeconds:0.0} s after the heal");
            await a.PublishAsync(Marker);
            bool marker = await run.CompletesAsync(b.WaitForLinesAsync(l => l.Any(m => m.N == Marker), intime ? Timeout : TimeSpan.FromSeconds(5), "the end marker"));
            run.Log($"{b.Lines.Select(m => m.N).Where(n => n is > 0 and <= Messages).Distinct().Count()} of {Messages} arrived {healed.Elapsed.TotalSeconds:0.0} s after the heal");
            FaultRun.AssertExactlyOnce(b.Lines, Enumerable.Range(0, Messages + 1), a.PublicKey, $"B, {healed.Elapsed.TotalSeconds:0.0} s after the heal", Marker);
            Assert.True(intime && marker, "the messages or the end marker did not arrive in time");
        });
    }
}
