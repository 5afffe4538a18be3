using System.Buffers;
using System.Text;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests;

/// <summary>Parallel verification must not change what is accepted, in what order, or how often it is verified.</summary>
public sealed class GossipNodeReceivePipelineTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Copies_arriving_at_once_on_four_links_are_verified_once_and_delivered_in_seq_order(bool byId)
    {
        const int Messages = 300;
        await using GossipNode author = Gossip.Node(Timeout.InfiniteTimeSpan);
        string[] lines = GossipNodeTests.SignedLines(author, [.. Enumerable.Range(0, Messages).Select(i => $"{{\"i\":{i}}}")]);
        byte[] stream = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));
        await using var receiver = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, DeduplicateById = byId });
        var inbox = Gossip.Watch(receiver);

        var writers = new List<Task>();
        for (int link = 0; link < 4; link++)
        {
            (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
            _ = receiver.RunConnectionAsync(left);
            writers.Add(Task.Run(async () =>
            {
                for (int offset = 0; offset < stream.Length; offset += 1000)
                {
                    await right.Output.WriteAsync(stream.AsMemory(offset, Math.Min(1000, stream.Length - offset)));
                }
            }));
        }

        await Task.WhenAll(writers);
        var got = await inbox.WaitForAsync(Messages);
        // Every line is counted once it is read, before it is checked: wait until each has an outcome.
        await Gossip.WaitUntilAsync(() => receiver.Statistics is var s && s.MessagesAccepted + s.DroppedOld == 4 * Messages);
        await receiver.WhenIdleAsync();

        Assert.Equal(Enumerable.Range(0, Messages).Select(i => (double)i), got.Select(m => m.Sequence));
        GossipNodeStatistics stats = receiver.Statistics;
        Assert.Equal(Messages, stats.MessagesAccepted);
        Assert.Equal(Messages, stats.SignaturesVerified);
        Assert.Equal(3 * Messages, stats.DroppedOld);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_forged_first_copy_does_not_shadow_the_genuine_one_behind_it(bool byId)
    {
        await using GossipNode author = Gossip.Node(Timeout.InfiniteTimeSpan);
        string genuine = GossipNodeTests.SignedLine(author, "{\"v\":\"real\"}");
        string forged = genuine.Replace("\"real\"", "\"fake\"", StringComparison.Ordinal);
        await using var receiver = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, DeduplicateById = byId });
        var inbox = Gossip.Watch(receiver);

        await receiver.HandleLineAsync(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(forged)), CancellationToken.None);
        await receiver.HandleLineAsync(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(genuine)), CancellationToken.None);
        await receiver.WhenIdleAsync();

        Assert.Equal("{\"v\":\"real\"}", Assert.Single(inbox.Messages).ToString());
        GossipNodeStatistics stats = receiver.Statistics;
        Assert.Equal(2, stats.SignaturesVerified);
        Assert.Equal(1, stats.DroppedBadSignature);
    }
}
