using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Engine;

/// <summary>On links that negotiated v2, an accepted message is forwarded at once, not on the next round.</summary>
public sealed class GossipNodeV2ForwardingTests
{
    [Fact]
    public async Task A_message_crosses_a_200_node_line_of_v2_links_without_a_single_round()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(); // never advanced: no round ever runs
        var nodes = new GossipNode[200];
        for (int i = 0; i < nodes.Length; i++)
        {
            nodes[i] = new GossipNode(new GossipNodeOptions { TimeProvider = clock, AnnounceV2 = true });
        }

        try
        {
            for (int i = 1; i < nodes.Length; i++)
            {
                Gossip.Link(nodes[i - 1], nodes[i]);
            }

            await Task.WhenAll(nodes.Select(n => n.WaitForPeersAsync(p => p.Count == (n == nodes[0] || n == nodes[^1] ? 1 : 2))));
            await Gossip.WaitForV2Async(nodes);
            var last = Gossip.Watch(nodes[^1]);
            var middle = Gossip.Watch(nodes[100]);

            nodes[0].PublishJson("{\"across\":\"the line\"}");

            Assert.Equal("{\"across\":\"the line\"}", (await last.WaitForAsync(1))[0].ToString());
            Assert.Single(await middle.WaitForAsync(1));
            Assert.Equal(0, nodes.Sum(n => n.Statistics.DroppedOld)); // each link carried it once, one way
        }
        finally
        {
            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task Links_to_v1_peers_still_get_the_message_on_the_next_round_only()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        await using var v2a = new GossipNode(new GossipNodeOptions { TimeProvider = clock, AnnounceV2 = true });
        await using var v2b = new GossipNode(new GossipNodeOptions { TimeProvider = clock, AnnounceV2 = true });
        await using var v1 = new GossipNode(new GossipNodeOptions { TimeProvider = clock, Protocol = GossipProtocol.V1 });
        Gossip.Link(v2a, v2b);
        Gossip.Link(v2b, v1);
        await Task.WhenAll(v2b.WaitForPeersAsync(p => p.Count(l => l.Version == 2) == 1), v2a.WaitForPeersAsync(p => p is [{ Version: 2 }]));
        var atB = Gossip.Watch(v2b);
        var atV1 = Gossip.Watch(v1);

        v2a.PublishJson("{\"n\":1}");
        await atB.WaitForAsync(1);
        Assert.Empty(atV1.Messages);
        Assert.Equal(0, v1.Statistics.LinesReceived - v1.Statistics.V2FramesReceived);

        clock.Advance(TimeSpan.FromMilliseconds(100)); // B's round: the v1 peer gets it now, and A is not sent it again
        Assert.Equal("{\"n\":1}", (await atV1.WaitForAsync(1))[0].ToString());
        Assert.Equal(0, await v2a.PendingLinesAsync());
        Assert.Equal(0, await v2b.PendingLinesAsync());
        Assert.Equal(0, v2a.Statistics.DroppedOwn);
    }
}
