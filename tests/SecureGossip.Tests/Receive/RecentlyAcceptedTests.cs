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
    public void Holds_the_last_keys_it_was_given_up_to_its_capacity()
    {
        var recent = new RecentlyAccepted(capacity: 3);
        UInt128[] keys = [20, 21, 22, 23]; // four slots, one key each
        foreach (UInt128 key in keys)
        {
            recent.Add(key);
        }

        // 20 still has its slot to itself: it is forgotten for its age (four keys ago), not for its slot.
        Assert.Equal([false, true, true, true], keys.Select(recent.Contains));
        Assert.False(recent.Contains(24));
    }

    [Fact]
    public void A_later_key_in_the_same_slot_replaces_the_earlier_and_a_key_is_matched_whole()
    {
        var recent = new RecentlyAccepted(capacity: 4);
        recent.Add(new UInt128(7, 1));
        recent.Add(new UInt128(8, 1)); // the same low bits: the same slot
        Assert.False(recent.Contains(new UInt128(7, 1)));
        Assert.True(recent.Contains(new UInt128(8, 1)));
        Assert.False(recent.Contains(new UInt128(9, 1))); // its slot, another key
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
