using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Links;

/// <summary>Protocol v2's hello (docs/PROTOCOL.md §5): announced on request, recognised always, never a message.</summary>
public sealed class GossipNodeNegotiationTests
{
    [Fact]
    public async Task Two_announcing_nodes_record_that_their_link_speaks_v2_and_still_gossip()
    {
        await using GossipNode a = Announcing(), b = Announcing();
        var inbox = Gossip.Watch(b);
        Gossip.Link(a, b);

        await Task.WhenAll(a.WaitForPeersAsync(p => p is [{ Version: 2 }]), b.WaitForPeersAsync(p => p is [{ Version: 2 }]));
        a.PublishJson("{\"over\":\"v2 link\"}");

        Assert.Equal("{\"over\":\"v2 link\"}", (await inbox.WaitForAsync(1))[0].ToString());
        Assert.Equal(b.Statistics.LinesReceived, b.Statistics.V2FramesReceived); // hello, sync, msg: all v2
        Assert.Equal(0, a.Statistics.DroppedMalformed + b.Statistics.DroppedMalformed);
    }

    [Fact]
    public async Task A_node_that_does_not_announce_ignores_a_hello_without_counting_it_as_garbage()
    {
        await using GossipNode announcing = Announcing();
        await using GossipNode plain = Gossip.V1Node();
        var inbox = Gossip.Watch(plain);
        Gossip.Link(announcing, plain);

        announcing.PublishJson("{\"n\":1}");

        // The hello is the first line on the link: once the message behind it is delivered, the hello was read.
        Assert.Equal("{\"n\":1}", (await inbox.WaitForAsync(1))[0].ToString());
        Assert.Equal(1, plain.Statistics.V2FramesReceived);
        Assert.Equal(0, plain.Statistics.DroppedMalformed);
        Assert.All(plain.Peers.Concat(announcing.Peers), p => Assert.Equal(1, p.Version));
    }

    [Fact]
    public async Task In_v1_mode_no_hello_is_sent()
    {
        await using GossipNode a = Gossip.V1Node(), b = Gossip.V1Node();
        var inbox = Gossip.Watch(b);
        Gossip.Link(a, b);
        a.PublishJson("{\"n\":1}");
        await inbox.WaitForAsync(1);
        Assert.Equal(0, b.Statistics.V2FramesReceived);
    }

    private static GossipNode Announcing() => new(new GossipNodeOptions { Interval = Gossip.FastInterval, AnnounceV2 = true });
}
