using SecureGossip.Protocol.Membership;

namespace SecureGossip.Tests.Protocol.Membership;

/// <summary>The HyParView state machine event by event (docs/PROTOCOL.md §19), on a context that records its actions.</summary>
public sealed class HyParViewTests
{
    private static readonly HyParViewOptions Defaults = new();

    [Fact]
    public void A_newcomer_dials_its_contact_joins_and_takes_it_as_a_neighbour()
    {
        var context = new RecordingMembershipContext();
        var node = new HyParView<int>(1, [0]);

        node.Start(context);
        Assert.Equal([0], context.Dials);

        node.LinkUp(context, 0, outbound: true);
        Assert.Single(context.SentTo<JoinFrame<int>>(0));
        Assert.Equal([0], node.Active);
        Assert.Contains(0, context.Up);
    }

    [Fact]
    public void A_contact_takes_the_newcomer_and_walks_the_join_on_through_its_other_neighbours()
    {
        var context = new RecordingMembershipContext();
        var contact = new HyParView<int>(0, []);
        contact.Start(context);
        Join(contact, context, 2);
        Join(contact, context, 3);
        context.Clear();

        Join(contact, context, 1);

        Assert.Equal([2, 3, 1], contact.Active);
        Assert.Empty(context.SentTo<ForwardJoinFrame<int>>(1));
        foreach (int other in new[] { 2, 3 })
        {
            ForwardJoinFrame<int> forward = Assert.Single(context.SentTo<ForwardJoinFrame<int>>(other));
            Assert.Equal(1, forward.Peer);
            Assert.Equal(Defaults.ActiveRandomWalkLength, forward.Ttl);
        }
    }

    [Fact]
    public void A_full_active_view_drops_its_newest_inbound_neighbour_keeps_it_in_reserve_and_never_drops_the_one_it_dialled()
    {
        var context = new RecordingMembershipContext();
        var node = new HyParView<int>(0, [5], new HyParViewOptions { ActiveViewSize = 2 });
        node.Start(context);
        node.LinkUp(context, 5, outbound: true); // joined through 5: an outbound neighbour
        Join(node, context, 1);
        context.Clear();

        Join(node, context, 2); // full: 1, the newest inbound, makes room
        Assert.Equal([5, 2], node.Active);
        Assert.Single(context.SentTo<DisconnectFrame<int>>(1));
        Assert.Contains(1, context.Closed);
        Assert.Equal([1], context.Downs);
        Assert.Contains(1, node.Passive);

        context.Clear();
        Join(node, context, 3);
        Join(node, context, 4);
        Assert.Equal([5, 4], node.Active);
        Assert.DoesNotContain(5, context.Downs);
    }

    [Fact]
    public void A_low_priority_request_is_refused_when_the_view_is_full_and_a_high_priority_one_is_taken()
    {
        var context = new RecordingMembershipContext();
        var node = new HyParView<int>(0, [], new HyParViewOptions { ActiveViewSize = 1 });
        node.Start(context);
        Join(node, context, 1);

        node.LinkUp(context, 7, outbound: false);
        node.FrameReceived(context, 7, new NeighbourFrame<int>(High: false));
        Assert.False(Assert.Single(context.SentTo<NeighbourReplyFrame<int>>(7)).Accepted);
        Assert.Equal([1], node.Active);

        node.LinkUp(context, 8, outbound: false);
        node.FrameReceived(context, 8, new NeighbourFrame<int>(High: true));
        Assert.True(Assert.Single(context.SentTo<NeighbourReplyFrame<int>>(8)).Accepted);
        Assert.Equal([8], node.Active);
    }

    [Fact]
    public void A_failed_neighbour_is_replaced_from_the_passive_view_at_once_and_not_kept_in_reserve()
    {
        var context = new RecordingMembershipContext();
        var node = new HyParView<int>(0, [], new HyParViewOptions { ActiveViewSize = 1 });
        node.Remember([10, 11], context.Random);
        node.Start(context);
        int first = Assert.Single(context.Dials);
        node.LinkUp(context, first, outbound: true);
        Assert.True(Assert.Single(context.SentTo<NeighbourFrame<int>>(first)).High); // it has no neighbour: high priority
        node.FrameReceived(context, first, new NeighbourReplyFrame<int>(Accepted: true));
        Assert.Equal([first], node.Active);
        context.Clear();

        node.LinkDown(context, first);

        Assert.Equal([first], context.Downs);
        Assert.Empty(node.Active);
        Assert.DoesNotContain(first, node.Passive);
        int second = Assert.Single(context.Dials);
        Assert.Equal(first == 10 ? 11 : 10, second);
    }

    [Fact]
    public void A_refused_request_is_tried_with_another_reserve_peer()
    {
        var context = new RecordingMembershipContext();
        var node = new HyParView<int>(0, [], new HyParViewOptions { ActiveViewSize = 2 });
        Join(node, context, 1); // one neighbour: further requests are low priority
        node.Remember([10, 11], context.Random);
        node.Start(context);
        int asked = Assert.Single(context.Dials);
        node.LinkUp(context, asked, outbound: true);
        Assert.False(Assert.Single(context.SentTo<NeighbourFrame<int>>(asked)).High);
        context.Clear();

        node.FrameReceived(context, asked, new NeighbourReplyFrame<int>(Accepted: false));

        Assert.Contains(asked, context.Closed);
        Assert.Equal([asked == 10 ? 11 : 10], context.Dials);
        Assert.Contains(asked, node.Passive);
    }

    [Fact]
    public void A_join_walk_that_ends_here_invites_the_joiner_and_one_passing_at_the_passive_length_is_kept_in_reserve()
    {
        var context = new RecordingMembershipContext();
        var node = new HyParView<int>(0, []);
        node.Start(context);
        Join(node, context, 1);
        Join(node, context, 2);
        Join(node, context, 3);
        context.Clear();

        node.FrameReceived(context, 1, new ForwardJoinFrame<int>(9, Defaults.PassiveRandomWalkLength));
        Assert.Contains(9, node.Passive);
        Assert.Empty(context.Dials);
        (int next, MembershipFrame<int> frame) = Assert.Single(context.Sent);
        Assert.NotEqual(1, next);
        Assert.Equal(Defaults.PassiveRandomWalkLength - 1, ((ForwardJoinFrame<int>)frame).Ttl);

        context.Clear();
        node.FrameReceived(context, 2, new ForwardJoinFrame<int>(8, 0));
        Assert.Equal([8], context.Dials);
        node.LinkUp(context, 8, outbound: true);
        Assert.True(Assert.Single(context.SentTo<NeighbourFrame<int>>(8)).High); // the joiner must take us: it is new
    }

    [Fact]
    public void Walks_ended_here_by_a_neighbour_make_the_node_dial_at_most_a_views_worth_at_once()
    {
        var context = new RecordingMembershipContext();
        var node = new HyParView<int>(0, []);
        node.Start(context);
        Join(node, context, 1);
        context.Clear();

        for (int joiner = 100; joiner < 120; joiner++)
        {
            node.FrameReceived(context, 1, new ForwardJoinFrame<int>(joiner, 0));
        }

        Assert.Equal(Defaults.ActiveViewSize, context.Dials.Count);
    }

    [Fact]
    public void Names_pushed_by_shuffles_do_not_crowd_proven_peers_out_of_the_passive_view()
    {
        var context = new RecordingMembershipContext();
        var node = new HyParView<int>(0, [], new HyParViewOptions { PassiveViewSize = 3 });
        node.Start(context);
        Join(node, context, 1);
        node.Remember([20, 21, 22], context.Random);

        node.FrameReceived(context, 1, new ShuffleFrame<int>(100, [.. Enumerable.Range(101, 20)], Ttl: 0));

        Assert.Equal([20, 21, 22], node.Passive.Order());
        Assert.Single(context.Dials, d => d == 100); // the answer goes to the shuffle's origin
    }

    [Fact]
    public void A_shuffle_answer_swaps_reserve_entries_and_the_short_lived_link_is_closed()
    {
        var context = new RecordingMembershipContext();
        var node = new HyParView<int>(0, [], new HyParViewOptions { PassiveViewSize = 4, ShufflePassiveCount = 2, ShuffleActiveCount = 0 });
        node.Start(context);
        Join(node, context, 1);
        node.FrameReceived(context, 1, new ShuffleFrame<int>(50, [51, 52, 53], Ttl: 0)); // unproven reserve: 50-53
        context.Clear();

        node.Timer(context, 1); // the shuffle timer
        (int target, MembershipFrame<int> sent) = Assert.Single(context.Sent);
        Assert.Equal(1, target);
        var shuffle = (ShuffleFrame<int>)sent;
        Assert.Equal(0, shuffle.Origin);
        Assert.Equal(2, shuffle.Peers.Length);

        node.LinkUp(context, 60, outbound: false);
        node.FrameReceived(context, 60, new ShuffleReplyFrame<int>([61, 62]));

        Assert.Contains(61, node.Passive);
        Assert.Contains(62, node.Passive);
        Assert.All(shuffle.Peers, p => Assert.DoesNotContain(p, node.Passive)); // what was sent away made the room
        Assert.Contains(60, context.Closed);
    }

    [Fact]
    public void An_inbound_link_that_says_nothing_is_closed_after_the_request_timeout()
    {
        var context = new RecordingMembershipContext();
        var node = new HyParView<int>(0, []);
        node.Start(context);

        node.LinkUp(context, 4, outbound: false);
        (TimeSpan delay, long id) = context.Timers[^1];
        Assert.Equal(Defaults.RequestTimeout, delay);
        context.Now += delay;
        node.Timer(context, id);

        Assert.Equal([4], context.Closed);
    }

    [Fact]
    public void A_node_with_no_neighbour_and_no_reserve_goes_back_to_its_bootstrap_addresses()
    {
        var context = new RecordingMembershipContext();
        var node = new HyParView<int>(1, [0, 2]);
        node.Start(context);
        Assert.Equal([0], context.Dials);
        node.DialFailed(context, 0);
        context.Clear();

        node.Timer(context, 2); // the repair timer

        Assert.Equal([2], context.Dials);
    }

    [Fact]
    public void A_node_short_of_neighbours_with_nothing_in_reserve_rejoins_once_a_shuffle_period()
    {
        var context = new RecordingMembershipContext();
        var node = new HyParView<int>(1, [0, 5]);
        node.Start(context);
        Assert.Equal([0], context.Dials);
        node.LinkUp(context, 0, outbound: true); // joined: one neighbour, an empty reserve
        context.Clear();

        context.Now += TimeSpan.FromSeconds(1);
        node.Timer(context, 2);
        Assert.Empty(context.Dials); // the join just made counts: not again before a shuffle period

        context.Now += Defaults.ShuffleInterval;
        node.Timer(context, 2);
        Assert.Equal([5], context.Dials); // through the bootstrap address it is not linked to
        node.LinkUp(context, 5, outbound: true);
        Assert.Single(context.SentTo<JoinFrame<int>>(5));
    }

    [Theory]
    [InlineData(nameof(HyParViewOptions.ActiveViewSize))]
    [InlineData(nameof(HyParViewOptions.PassiveViewSize))]
    [InlineData(nameof(HyParViewOptions.PassiveRandomWalkLength))]
    [InlineData(nameof(HyParViewOptions.ShuffleInterval))]
    public void Options_out_of_range_are_refused_by_name(string name)
    {
        HyParViewOptions options = name switch
        {
            nameof(HyParViewOptions.ActiveViewSize) => new() { ActiveViewSize = 0 },
            nameof(HyParViewOptions.PassiveViewSize) => new() { PassiveViewSize = 0 },
            nameof(HyParViewOptions.PassiveRandomWalkLength) => new() { PassiveRandomWalkLength = 7 },
            _ => new() { ShuffleInterval = TimeSpan.Zero },
        };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new HyParView<int>(0, [], options));
        Assert.Equal(name, error.ParamName);
    }

    private static void Join(HyParView<int> node, RecordingMembershipContext context, int peer)
    {
        node.LinkUp(context, peer, outbound: false);
        node.FrameReceived(context, peer, new JoinFrame<int>());
    }
}
