using System.Buffers;
using System.Text;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Publishing;

/// <summary><see cref="GossipNodeOptions.SignSequence"/>: the seq inside the signed payload (docs/PROTOCOL.md §3.2).</summary>
public sealed class GossipNodeSignedSeqTests
{
    [Fact]
    public async Task A_signed_seq_travels_inside_the_payload_and_is_reported_as_signed_without_it()
    {
        await using var author = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, SignSequence = true });
        GossipMessage published = author.PublishJson("{\"text\":\"hi\"}");
        string[] lines = Gossip.SignedLines(author, ["{}"]);
        author.PublishJson(Encoding.UTF8.GetBytes("{\"text\":\"again\"}"), out byte[] third);

        Assert.True(published.SequenceSigned);
        Assert.Equal("{\"text\":\"hi\"}", published.ToString());
        Assert.Contains("{\"data\":{\"$sg\":{\"seq\":1},\"signature\":", lines[0], StringComparison.Ordinal);
        Assert.Contains("\"text\":\"again\",\"$sg\":{\"seq\":2},\"signature\":", Encoding.UTF8.GetString(third), StringComparison.Ordinal);

        await using GossipNode receiver = Gossip.Node(Timeout.InfiniteTimeSpan);
        var inbox = Gossip.Watch(receiver);
        await receiver.HandleLineAsync(new ReadOnlySequence<byte>(third), CancellationToken.None);
        await receiver.WhenIdleAsync();
        GossipMessage received = Assert.Single(inbox.Messages);
        Assert.True(received.SequenceSigned);
        Assert.Equal(2, received.Sequence);
        Assert.Equal("{\"text\":\"again\"}", received.ToString());
    }

    [Fact]
    public async Task A_relay_that_rewrites_the_envelope_seq_cannot_change_the_reported_seq()
    {
        await using var author = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, SignSequence = true });
        string line = Gossip.SignedLine(author, "{\"n\":1}");
        Assert.EndsWith(",\"seq\":0}", line, StringComparison.Ordinal);
        string rewritten = line[..^2] + "77}"; // the envelope's seq, the last member of the line
        string forged = line.Replace("{\"seq\":0}", "{\"seq\":5}", StringComparison.Ordinal);

        await using GossipNode receiver = Gossip.Node(Timeout.InfiniteTimeSpan);
        var inbox = Gossip.Watch(receiver);
        foreach (string copy in new[] { forged, rewritten })
        {
            await receiver.HandleLineAsync(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(copy)), CancellationToken.None);
        }

        await receiver.WhenIdleAsync();
        GossipMessage received = Assert.Single(inbox.Messages); // the forged signed seq fails verification
        Assert.Equal(0, received.Sequence);
        Assert.Equal(1, receiver.Statistics.DroppedBadSignature);
    }

    [Fact]
    public async Task A_payload_of_its_own_with_a_top_level_sg_member_is_refused()
    {
        await using var author = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, SignSequence = true });
        ArgumentException error = Assert.Throws<ArgumentException>(() => author.PublishJson("{\"$sg\":1}"));
        Assert.Contains("SignSequence", error.Message, StringComparison.Ordinal);

        await using GossipNode plain = Gossip.Node(Timeout.InfiniteTimeSpan);
        Assert.False(plain.PublishJson("{\"$sg\":1}").SequenceSigned); // without the option it is just a field
    }
}
