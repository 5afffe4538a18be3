using SecureGossip.Protocol.Core;

namespace SecureGossip.Tests.Protocol.Plumtree;

/// <summary>
/// What the core counts as seen (docs/PROTOCOL.md §6): seqs as a floor and the seqs above it, digests bounded
/// oldest-first, and a retained message seen whatever the digest bound forgot.
/// </summary>
public sealed class SeenMessagesTests
{
    [Fact]
    public void Seqs_seen_out_of_order_raise_the_floor_once_the_gap_is_filled()
    {
        var seen = new SeenMessages(new PlumtreeOptions(), new RetainedMessages(new PlumtreeOptions(), _ => { }));
        seen.Add(new MessageId(4, 0));
        seen.Add(new MessageId(4, 2));
        Assert.Equal(1, seen.Of(4)!.Floor);
        Assert.False(seen.Contains(new MessageId(4, 1)));

        seen.Add(new MessageId(4, 1));

        Assert.Equal(3, seen.Of(4)!.Floor);
        Assert.True(seen.Contains(new MessageId(4, 1)));
        Assert.Null(seen.Of(5)); // looked up, never created
    }

    [Fact]
    public void Past_the_digest_bound_the_oldest_is_forgotten_unless_it_is_still_retained()
    {
        var options = new PlumtreeOptions { MaxSeenDigests = 2 };
        var retained = new RetainedMessages(options, _ => { });
        var seen = new SeenMessages(options, retained);
        MessageId first = MessageId.FromDigest(1, 1);
        MessageId second = MessageId.FromDigest(1, 2);
        MessageId third = MessageId.FromDigest(1, 3);
        seen.Add(first);
        seen.Add(second);
        seen.Add(third);

        Assert.False(seen.Contains(first));
        Assert.True(seen.Contains(second));
        Assert.True(seen.Contains(third));

        retained.Add(first, new Retained(1, 10, 1, 0, PlumtreeSendKind.Eager, TimeSpan.Zero));
        Assert.True(seen.Contains(MessageId.FromDigest(MessageId.UnknownAuthor, 1))); // by digest alone, as an ihave names it
    }
}
