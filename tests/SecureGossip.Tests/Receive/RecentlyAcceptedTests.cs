using System.Buffers;
using System.Text;
using SecureGossip.Receive;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Receive;

/// <summary>
/// Copies of a message accepted a moment ago are dropped on their link's thread (Receive/RecentlyAccepted): the set
/// is bounded, and a waiter on the node's counters still hears of a copy dropped there.
/// </summary>
public sealed class RecentlyAcceptedTests
{
    [Fact]
    public void Holds_its_capacity_and_forgets_the_oldest_first()
    {
        var recent = new RecentlyAccepted(capacity: 3);
        foreach (UInt128 key in new UInt128[] { 1, 2, 3, 2, 4 })
        {
            recent.Add(key);
        }

        Assert.Equal(3, recent.Count);
        Assert.False(recent.Contains(1)); // the oldest went when the fourth key came; adding 2 again did not renew it
        Assert.True(recent.Contains(2));
        Assert.True(recent.Contains(3));
        Assert.True(recent.Contains(4));
    }

    [Theory]
    [InlineData(GossipProtocol.V1)]
    [InlineData(GossipProtocol.V2)]
    public async Task A_copy_dropped_on_the_read_side_is_counted_and_wakes_a_waiter(GossipProtocol protocol)
    {
        await using GossipNode author = Gossip.Node(Timeout.InfiniteTimeSpan);
        byte[] line = Encoding.UTF8.GetBytes(Gossip.SignedLine(author, "{\"i\":1}"));
        await using GossipNode node = Gossip.Node(Timeout.InfiniteTimeSpan, protocol: protocol);
        await node.HandleLineAsync(new ReadOnlySequence<byte>(line), CancellationToken.None);
        await node.WhenIdleAsync();
        Assert.Equal(1, node.Statistics.MessagesAccepted);

        // The waiter is registered first: only the read side's poke makes the actor look again.
        Task dropped = node.WaitForStatisticsAsync(s => s.DroppedOld == 1);
        await node.HandleLineAsync(new ReadOnlySequence<byte>(line), CancellationToken.None);
        await dropped;
        Assert.Equal(1, node.Statistics.MessagesAccepted);
    }
}
