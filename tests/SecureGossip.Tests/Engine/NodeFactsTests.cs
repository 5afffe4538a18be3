using System.Text;
using SecureGossip.Crypto;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Core;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Engine;

/// <summary>
/// The facts tests await instead of polling (GossipNode.WhenPeersAsync, WhenSyncedAsync, WhenStatisticsAsync): each
/// completes when what it names happened and not before. The test plays the peer, so it decides when that is.
/// </summary>
public sealed class NodeFactsTests
{
    [Fact]
    public async Task Peers_are_seen_at_link_up_at_hello_and_at_link_down()
    {
        await using GossipNode node = Gossip.Node();
        (GossipConnection mine, GossipConnection theirs) = InMemoryTransport.CreatePair();
        Task speaksV2 = node.WhenPeersAsync(p => p is [{ Version: 2 }]);
        Task down = node.WhenPeersAsync(p => p.Count == 0 && speaksV2.IsCompleted);
        _ = node.RunConnectionAsync(theirs);

        await node.WaitForPeersAsync(p => p is [{ Version: 1 }]);
        await node.WhenIdleAsync();
        Assert.False(speaksV2.IsCompleted, "no hello was sent yet");

        await WriteLineAsync(mine, V2Hello.Create(GossipKeys.Generate().Public, 1 << 20));
        await speaksV2.WaitAsync(Gossip.Timeout);
        Assert.False(down.IsCompleted);

        await mine.Output.CompleteAsync();
        await down.WaitAsync(Gossip.Timeout);
        Assert.Empty(node.Peers);
        await mine.DisposeAsync();
    }

    [Fact]
    public async Task Synced_waits_for_the_peers_first_full_frontier_not_only_its_hello()
    {
        await using GossipNode node = Gossip.Node();
        (GossipConnection mine, GossipConnection theirs) = InMemoryTransport.CreatePair();
        _ = node.RunConnectionAsync(theirs);
        Task synced = node.WhenSyncedAsync();

        await WriteLineAsync(mine, V2Hello.Create(GossipKeys.Generate().Public, 1 << 20));
        await node.WaitForPeersAsync(p => p is [{ Version: 2 }]);
        await node.WhenIdleAsync();
        Assert.False(synced.IsCompleted, "the peer's frontier has not come yet");

        await WriteLineAsync(mine, V2Frames.Encode(new PlumtreeSync(Full: true, []), node.InternedAuthors));
        await synced.WaitAsync(Gossip.Timeout);
        await mine.DisposeAsync();
    }

    [Fact]
    public async Task Statistics_are_seen_when_the_actor_counts_and_a_throwing_condition_fails_only_its_waiter()
    {
        await using GossipNode author = Gossip.Node(Timeout.InfiniteTimeSpan);
        await using GossipNode node = Gossip.Node(Timeout.InfiniteTimeSpan);
        string[] lines = Gossip.SignedLines(author, ["{\"n\":1}", "{\"n\":2}"]);
        Task two = node.WhenStatisticsAsync(s => s.MessagesAccepted == 2);
        Task broken = node.WhenStatisticsAsync(_ => throw new InvalidOperationException("a broken condition"));

        await node.HandleLineAsync(new(Encoding.UTF8.GetBytes(lines[0])), CancellationToken.None);
        await node.WhenIdleAsync();
        Assert.False(two.IsCompleted);
        await node.HandleLineAsync(new(Encoding.UTF8.GetBytes(lines[1])), CancellationToken.None);

        await two.WaitAsync(Gossip.Timeout);
        await Assert.ThrowsAsync<InvalidOperationException>(() => broken);
        Assert.Equal(2, node.Statistics.MessagesAccepted);
    }

    [Fact]
    public async Task A_fact_of_a_disposed_node_fails_at_once()
    {
        GossipNode node = Gossip.Node();
        await node.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => node.WhenPeersAsync(_ => true));
    }

    private static async Task WriteLineAsync(GossipConnection connection, byte[] line)
    {
        await connection.Output.WriteAsync(line);
        await connection.Output.WriteAsync("\n"u8.ToArray());
    }
}
