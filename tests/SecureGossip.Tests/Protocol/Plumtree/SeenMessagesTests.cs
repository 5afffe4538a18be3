using SecureGossip.Protocol.Core;

namespace SecureGossip.Tests.Protocol.Plumtree;

/// <summary>
/// What the core counts as seen (docs/PROTOCOL.md §6): digests, bounded oldest-first, and a retained message seen
/// whatever the digest bound forgot.
/// </summary>
public sealed class SeenMessagesTests
{
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
