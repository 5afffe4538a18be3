using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Engine;

/// <summary>
/// A burst from one author larger than what the publisher retains per author, to a link that is not yet in the
/// author's tree: every message must still arrive, and the link must stay up (docs/PROTOCOL.md §8.8, §9.5).
/// </summary>
public sealed class BurstBeyondRetentionTests : IAsyncLifetime
{
    private readonly List<GossipNode> _nodes = [];

    [Fact]
    public async Task A_burst_of_twice_the_retention_from_one_author_reaches_a_fresh_link_whole()
    {
        var retention = new global::SecureGossip.Storage.GossipRetention { MaxPerAuthor = 200 };
        GossipNode a = Node(retention), b = Node(retention);
        var inbox = Gossip.Watch(b);
        Gossip.Link(a, b);
        await Gossip.WaitForV2Async(a, b);

        const int Count = 2_000;
        for (int i = 0; i < Count; i++)
        {
            a.PublishJson($"{{\"i\":{i}}}");
        }

        IReadOnlyList<GossipMessage> got = await inbox.WaitForAsync(Count).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(Count, got.Select(m => m.ToString()).Distinct().Count());
        Assert.Equal(0, a.Statistics.PeersCut + b.Statistics.PeersCut);
        Assert.Single(a.Peers);
    }

    [Fact]
    public async Task A_late_joiner_after_a_burst_of_40k_gets_what_one_sync_frame_carries_and_no_frame_too_long()
    {
        // 40,000 ids of one author would make a sync entry of about 1.1 MB, past the 1 MiB a peer accepts: the node keeps
        // its count (1,000) and at most 16,384 more while they spread, and the frontier it sends fits.
        GossipNode a = Node(new global::SecureGossip.Storage.GossipRetention());
        GossipNode c = Node(new global::SecureGossip.Storage.GossipRetention());
        Gossip.Link(a, c); // a node with no link at all keeps its lines for the v1 round that finds one: a has one
        await Gossip.WaitForV2Async(a, c);
        const int Count = 40_000;
        for (int i = 0; i < Count; i++)
        {
            a.PublishJson($"{{\"i\":{i}}}");
        }

        await a.WaitForStatisticsAsync(s => s.MessagesPublished == Count, TimeSpan.FromSeconds(90)); // signed and handed over
        await a.WhenIdleAsync(); // and committed: the retained set is final before the joiner comes
        GossipNode b = Node(new global::SecureGossip.Storage.GossipRetention());
        var inbox = Gossip.Watch(b);
        Gossip.Link(a, b);

        int kept = 1_000 + global::SecureGossip.Protocol.Core.RetainedMessages.MaxSpreadingPerAuthor;
        await inbox.WaitForAsync(kept).WaitAsync(TimeSpan.FromSeconds(90));
        await b.WhenIdleAsync();
        HashSet<string> got = [.. inbox.Messages.Select(m => m.ToString())];
        Assert.All(Enumerable.Range(Count - kept, kept), i => Assert.Contains($"{{\"i\":{i}}}", got)); // the newest, every one
        Assert.Equal(0, b.Statistics.DroppedTooLong); // the frontier that listed them fitted one frame
        Assert.Equal(0, a.Statistics.PeersCut + b.Statistics.PeersCut);
    }

    private GossipNode Node(global::SecureGossip.Storage.GossipRetention retention)
    {
        var node = new GossipNode(new GossipNodeOptions { Retention = retention });
        _nodes.Add(node);
        return node;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await Task.WhenAll(_nodes.Select(n => n.DisposeAsync().AsTask()));
    }
}
