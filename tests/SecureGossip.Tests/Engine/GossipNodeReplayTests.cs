using System.Buffers;
using System.Text;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Engine;

/// <summary><see cref="GossipNodeOptions.DeduplicateById"/>: replay-proof, order-free acceptance, against the v1 rule.</summary>
public sealed class GossipNodeReplayTests
{
    [Theory]
    [InlineData(false, new[] { true, true })]
    [InlineData(true, new[] { true, false })]
    public async Task A_line_replayed_under_a_higher_seq(bool byId, bool[] expected)
    {
        await using GossipNode author = Gossip.Node(Timeout.InfiniteTimeSpan);
        string line = Gossip.SignedLine(author, "{\"pay\":100}");
        string replay = line.Replace("\"seq\":0}", "\"seq\":99}", StringComparison.Ordinal);

        (bool[] accepted, GossipNodeStatistics stats) = await ReceiveAsync(byId, line, replay);

        Assert.Equal(expected, accepted);
        Assert.Equal(byId ? 1 : 2, stats.SignaturesVerified); // the replay is dropped before it is verified
    }

    [Theory]
    [InlineData(false, new[] { true, false, false })]
    [InlineData(true, new[] { true, true, true })]
    public async Task Lines_arriving_out_of_order(bool byId, bool[] expected)
    {
        await using GossipNode author = Gossip.Node(Timeout.InfiniteTimeSpan);
        string[] lines = Gossip.SignedLines(author, ["{\"i\":0}", "{\"i\":1}", "{\"i\":2}"]);

        (bool[] accepted, _) = await ReceiveAsync(byId, lines[2], lines[0], lines[1]);

        Assert.Equal(expected, accepted);
    }

    [Theory]
    [InlineData(false, new[] { true, false })]
    [InlineData(true, new[] { true, true })]
    public async Task A_relay_inflating_seq_cannot_silence_the_author(bool byId, bool[] expected)
    {
        await using GossipNode author = Gossip.Node(Timeout.InfiniteTimeSpan);
        string[] lines = Gossip.SignedLines(author, ["{\"i\":0}", "{\"i\":1}"]);
        string inflated = lines[0].Replace("\"seq\":0}", "\"seq\":9007199254740991}", StringComparison.Ordinal);

        (bool[] accepted, _) = await ReceiveAsync(byId, inflated, lines[1]);

        Assert.Equal(expected, accepted);
    }

    [Fact]
    public async Task With_default_options_a_replayed_huge_seq_silences_nobody()
    {
        // The issue #8 evidence: with no flags, a replayed line with seq 999999999999 used to silence its author.
        await using GossipNode author = Gossip.Node(Timeout.InfiniteTimeSpan);
        string[] lines = Gossip.SignedLines(author, ["{\"i\":0}", "{\"i\":1}", "{\"i\":2}"]);
        string replayed = lines[0].Replace("\"seq\":0}", "\"seq\":999999999999}", StringComparison.Ordinal);
        await using var node = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan });
        var accepted = new List<bool>();
        foreach (string line in new[] { replayed, lines[1], lines[2], lines[0] })
        {
            long before = node.Statistics.MessagesAccepted;
            await node.HandleLineAsync(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(line)), CancellationToken.None);
            await node.WhenIdleAsync();
            accepted.Add(node.Statistics.MessagesAccepted > before);
        }

        Assert.Equal([true, true, true, false], accepted); // the replay counts once, as the message it is
    }

    [Fact]
    public async Task Remembered_ids_are_bounded_and_the_oldest_are_forgotten_first()
    {
        await using GossipNode author = Gossip.Node(Timeout.InfiniteTimeSpan);
        string[] lines = Gossip.SignedLines(author, ["{\"i\":0}", "{\"i\":1}", "{\"i\":2}"]);

        (bool[] accepted, _) = await ReceiveAsync(byId: true, maxIds: 2, lines[0], lines[1], lines[2], lines[2], lines[0]);

        Assert.Equal([true, true, true, false, true], accepted);
    }

    private static Task<(bool[] Accepted, GossipNodeStatistics Stats)> ReceiveAsync(bool byId, params string[] lines) =>
        ReceiveAsync(byId, 1_000_000, lines);

    private static async Task<(bool[] Accepted, GossipNodeStatistics Stats)> ReceiveAsync(bool byId, int maxIds, params string[] lines)
    {
        await using var node = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, Protocol = GossipProtocol.V1, DeduplicateById = byId, MaxRememberedIds = maxIds });
        var accepted = new List<bool>();
        foreach (string line in lines)
        {
            long before = node.Statistics.MessagesAccepted;
            await node.HandleLineAsync(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(line)), CancellationToken.None);
            await node.WhenIdleAsync();
            accepted.Add(node.Statistics.MessagesAccepted > before);
        }

        return ([.. accepted], node.Statistics);
    }
}
