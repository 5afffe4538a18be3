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
