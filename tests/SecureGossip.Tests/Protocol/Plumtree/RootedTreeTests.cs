using SecureGossip.Engine;
using SecureGossip.Protocol.Core;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Protocol.Plumtree;

/// <summary>
/// Rooted trees (docs/PROTOCOL.md §8.8), one node driven an event at a time: beacons build the tree, messages ride it
/// to tree links only, duplicates never cut a parent or child, and a lost parent is replaced by a neighbour nearer the
/// root. The node under test is 0; the root in most tests is author 50.
/// </summary>
public sealed class RootedTreeTests
{
    private const int Root = 50;

    [Fact]
    public void A_first_beacon_makes_its_sender_the_parent_answered_by_a_rooted_graft_and_goes_on_to_every_other_link()
    {
        var (node, context) = RecordingGossipContext.StartNode([1, 2, 3]);

        node.FrameReceived(context, 1, new PlumtreeBeacon(Root, Hops: 2));

        Assert.Equal(1, node.Tree!.RootedTreeCount);
        var graft = Assert.IsType<PlumtreeGraft>(Assert.Single(context.SentTo(1)));
        Assert.True(graft.Rooted);
        Assert.Null(graft.Id);
        Assert.Equal(Root, graft.Author);
        foreach (int other in new[] { 2, 3 })
        {
            Assert.Equal(new PlumtreeBeacon(Root, 3), Assert.Single(context.SentTo(other)));
        }

        // A second beacon of the same tree is not forwarded: it only tells where its sender stands.
        context.Sent.Clear();
        node.FrameReceived(context, 2, new PlumtreeBeacon(Root, Hops: 3));
        Assert.Empty(context.Sent);
    }

    [Fact]
    public void A_message_riding_the_tree_is_pushed_to_the_parent_and_children_only_and_announced_to_the_rest()
    {
        var (node, context) = TreeWithParent1Child2();

        node.FrameReceived(context, 1, Push(Id(7, 0)));

        Assert.Contains(context.SentTo(2), f => f is PlumtreeMessage { Root: Root } m && m.Message == Id(7, 0));
        Assert.DoesNotContain(context.SentTo(3), f => f is PlumtreeMessage);
        context.FireTimers(node);
        Assert.Contains(context.SentTo(3), f => f is PlumtreeIHave ihave && ihave.Ids.Contains(Id(7, 0)));
    }

    [Fact]
    public void A_neighbour_that_moves_under_this_node_after_a_message_went_by_is_pushed_what_it_was_only_announced()
    {
        // 3 answered the beacon long ago and has its own parent, so it is neither pending nor a child when the message
        // goes by: it is only announced the message. When it then takes this node as its parent (a shorter path, or its
        // parent lost), its old parent no longer pushes to it, and without the push here it would wait GraftTimeout1
        // and graft (the 100 ms tail of a burst, issue #10).
        var (node, context) = TreeWithParent1Child2();
        node.FrameReceived(context, 1, Push(Id(7, 0)));
        context.FireTimers(node);
        Assert.Contains(context.SentTo(3), f => f is PlumtreeIHave ihave && ihave.Ids.Contains(Id(7, 0)));
        Assert.DoesNotContain(context.SentTo(3), f => f is PlumtreeMessage);

        node.FrameReceived(context, 3, new PlumtreeGraft(null, Root) { Rooted = true });

        var pushed = Assert.IsType<PlumtreeMessage>(Assert.Single(context.SentTo(3).OfType<PlumtreeMessage>()));
        Assert.Equal(Id(7, 0), pushed.Message);
        Assert.Equal(Root, pushed.Root);

        // The child it came from (2 got the push) and the parent it came from are not sent it again.
        context.Sent.Clear();
        node.FrameReceived(context, 2, new PlumtreeGraft(null, Root) { Rooted = true });
        Assert.DoesNotContain(context.Sent, s => s.Frame is PlumtreeMessage);
    }

    [Fact]
    public void A_duplicate_from_a_parent_or_child_prunes_nothing_and_one_pushed_on_any_other_link_prunes_that_link()
    {
        var (node, context) = TreeWithParent1Child2();
        node.FrameReceived(context, 1, Push(Id(7, 0)));
        context.Sent.Clear();

        node.FrameReceived(context, 2, Push(Id(7, 0)));
        node.FrameReceived(context, 1, Push(Id(7, 0)));
        Assert.DoesNotContain(context.Sent, s => s.Frame is PlumtreePrune);

        node.FrameReceived(context, 3, Push(Id(7, 0)));
        var prune = Assert.IsType<PlumtreePrune>(Assert.Single(context.SentTo(3)));
        Assert.True(prune.Rooted);
        Assert.Equal(Root, prune.Author);
    }

    [Fact]
    public void A_lost_parent_is_replaced_by_the_neighbour_nearest_the_root_and_never_by_one_as_far()
    {
        var (node, context) = RecordingGossipContext.StartNode([1, 2, 3]);
        node.FrameReceived(context, 1, new PlumtreeBeacon(Root, Hops: 3)); // depth 3 under 1 (at depth 2)
        node.FrameReceived(context, 2, new PlumtreeBeacon(Root, Hops: 4)); // 2 is at depth 3: as far as this node
        node.FrameReceived(context, 3, new PlumtreeBeacon(Root, Hops: 3)); // 3 is at depth 2
        context.Sent.Clear();

        node.NeighbourDown(context, 1);

        Assert.Contains(context.SentTo(3), f => f is PlumtreeGraft { Rooted: true, Author: Root });
        Assert.DoesNotContain(context.SentTo(2), f => f is PlumtreeGraft);
    }

    [Fact]
    public void A_node_left_with_no_way_to_the_root_leaves_the_tree_and_tells_its_children()
    {
        // Depth 1 under the root itself (1), with 2 as its child and 3 as far from the root as it is.
        var (node, context) = RecordingGossipContext.StartNode([1, 2, 3]);
        node.FrameReceived(context, 1, new PlumtreeBeacon(Root, Hops: 1));
        node.FrameReceived(context, 2, new PlumtreeGraft(null, Root) { Rooted = true });
        node.FrameReceived(context, 3, new PlumtreeBeacon(Root, Hops: 2));
        context.Sent.Clear();

        node.NeighbourDown(context, 1); // the root failed: nobody here is nearer it

        Assert.Equal(0, node.Tree!.RootedTreeCount); // left, and no longer counted against the bound
        Assert.Contains(context.SentTo(2), f => f is PlumtreePrune { Rooted: true, Author: Root });
        Assert.DoesNotContain(context.Sent, s => s.Frame is PlumtreeGraft);

        // A late graft from a former child is answered with a prune, so it looks elsewhere.
        context.Sent.Clear();
        node.FrameReceived(context, 3, new PlumtreeGraft(null, Root) { Rooted = true });
        Assert.Contains(context.SentTo(3), f => f is PlumtreePrune { Rooted: true, Author: Root });
    }

    [Fact]
    public void A_prune_from_the_parent_moves_the_node_under_another_neighbour_nearer_the_root_and_not_back()
    {
        var (node, context) = RecordingGossipContext.StartNode([1, 2, 3]);
        node.FrameReceived(context, 1, new PlumtreeBeacon(Root, Hops: 2)); // depth 2 under 1
        node.FrameReceived(context, 3, new PlumtreeBeacon(Root, Hops: 2)); // 3 is as near the root as 1
        context.Sent.Clear();

        node.FrameReceived(context, 1, new PlumtreePrune(Root, Optimisation: false) { Rooted = true }); // 1 left the tree

        Assert.Contains(context.SentTo(3), f => f is PlumtreeGraft { Rooted: true, Author: Root });
        Assert.DoesNotContain(context.SentTo(1), f => f is PlumtreeGraft);
        Assert.Equal(1, node.Tree!.RootedTreeCount);
    }

    [Fact]
    public void A_shorter_path_announced_later_becomes_the_parent_and_the_old_one_is_pruned()
    {
        var (node, context) = RecordingGossipContext.StartNode([1, 2, 3]);
        node.FrameReceived(context, 1, new PlumtreeBeacon(Root, Hops: 4));
        context.Sent.Clear();

        node.FrameReceived(context, 2, new PlumtreeBeacon(Root, Hops: 2));

        Assert.Contains(context.SentTo(2), f => f is PlumtreeGraft { Rooted: true, Author: Root });
        Assert.Contains(context.SentTo(1), f => f is PlumtreePrune { Rooted: true, Author: Root });
        Assert.Contains(context.SentTo(3), f => f is PlumtreeBeacon { Root: Root, Hops: 3 }); // the shorter path, passed on
    }

    [Fact]
    public void A_shorter_path_is_not_passed_to_a_neighbour_already_as_near_the_root_as_it_offers()
    {
        var (node, context) = RecordingGossipContext.StartNode([1, 2, 3, 4]);
        node.FrameReceived(context, 1, new PlumtreeBeacon(Root, Hops: 5));
        node.FrameReceived(context, 3, new PlumtreeBeacon(Root, Hops: 3)); // 3 is at depth 2: shorter, so it becomes the parent
        node.FrameReceived(context, 4, new PlumtreeBeacon(Root, Hops: 4)); // 4 is at depth 3
        context.Sent.Clear();

        node.FrameReceived(context, 2, new PlumtreeBeacon(Root, Hops: 2)); // depth 2 now: the beacon offers depth 3

        Assert.Contains(context.SentTo(1), f => f is PlumtreeBeacon { Root: Root, Hops: 3 }); // 1 was at depth 4
        Assert.DoesNotContain(context.SentTo(3), f => f is PlumtreeBeacon); // at depth 2 already
        Assert.DoesNotContain(context.SentTo(4), f => f is PlumtreeBeacon); // at depth 3 already: nothing to gain
    }

    [Fact]
    public void Repeated_misses_move_the_node_under_the_neighbour_that_served_them()
    {
        var (node, context) = RecordingGossipContext.StartNode([1, 2, 3]);
        node.FrameReceived(context, 1, new PlumtreeBeacon(Root, Hops: 3));
        node.FrameReceived(context, 3, new PlumtreeBeacon(Root, Hops: 3)); // 3 is as near the root as the parent
        context.Sent.Clear();

        // Two messages in a row reach this node by repair from 3, not by push from its parent 1.
        node.FrameReceived(context, 3, Push(Id(7, 0), PlumtreeSendKind.Graft));
        Assert.DoesNotContain(context.Sent, s => s.Frame is PlumtreeGraft { Rooted: true });
        node.FrameReceived(context, 3, Push(Id(7, 1), PlumtreeSendKind.Graft));

        Assert.Contains(context.SentTo(3), f => f is PlumtreeGraft { Rooted: true, Author: Root });
        Assert.Contains(context.SentTo(1), f => f is PlumtreePrune { Rooted: true, Author: Root });
    }

    [Fact]
    public void An_author_far_from_every_root_starts_a_tree_and_its_first_message_reaches_each_neighbour_that_joins_it()
    {
        var (node, context) = RecordingGossipContext.StartNode([1, 2]);

        node.Publish(context, Id(0, 0), 100);

        Assert.Equal(new PlumtreeBeacon(0, 1), Assert.Single(context.SentTo(1).OfType<PlumtreeBeacon>()));
        Assert.DoesNotContain(context.Sent, s => s.Frame is PlumtreeMessage); // no child yet: nothing floods

        node.FrameReceived(context, 1, new PlumtreeGraft(null, 0) { Rooted = true });
        var pushed = Assert.IsType<PlumtreeMessage>(Assert.Single(context.SentTo(1).OfType<PlumtreeMessage>()));
        Assert.Equal(Id(0, 0), pushed.Message);
        Assert.Equal(0, pushed.Root);
    }

    [Fact]
    public void An_author_near_a_root_rides_its_tree_and_starts_none()
    {
        var (node, context) = RecordingGossipContext.StartNode([1, 2]);
        node.FrameReceived(context, 1, new PlumtreeBeacon(Root, Hops: 1)); // this node is a child of the root
        context.Sent.Clear();

        node.Publish(context, Id(0, 0), 100);

        Assert.DoesNotContain(context.Sent, s => s.Frame is PlumtreeBeacon);
        var pushed = Assert.IsType<PlumtreeMessage>(Assert.Single(context.SentTo(1).OfType<PlumtreeMessage>()));
        Assert.Equal(Root, pushed.Root);
    }

    [Fact]
    public void On_long_paths_the_radius_grows_with_the_depths_seen_so_a_root_a_few_links_away_is_ridden()
    {
        var (node, context) = RecordingGossipContext.StartNode([1, 2]);
        node.FrameReceived(context, 1, new PlumtreeBeacon(Root, Hops: 3));      // 3 links from this root
        node.FrameReceived(context, 2, new PlumtreeBeacon(Root + 1, Hops: 16)); // 16 from another: radius 16 / 4 = 4
        context.Sent.Clear();

        node.Publish(context, Id(0, 0), 100);

        Assert.DoesNotContain(context.Sent, s => s.Frame is PlumtreeBeacon);
        Assert.Equal(Root, Assert.IsType<PlumtreeMessage>(Assert.Single(context.SentTo(1).OfType<PlumtreeMessage>())).Root);
    }

    [Fact]
    public void An_author_that_keeps_publishing_earns_a_tree_of_its_own()
    {
        var options = new PlumtreeOptions { EarnTreeAfter = 3 };
        var (node, context) = RecordingGossipContext.StartNode([1, 2], options);
        node.FrameReceived(context, 1, new PlumtreeBeacon(Root, Hops: 1));

        node.Publish(context, Id(0, 0), 100);
        node.Publish(context, Id(0, 1), 100);
        Assert.DoesNotContain(context.Sent, s => s.Frame is PlumtreeBeacon { Root: 0 });
        node.Publish(context, Id(0, 2), 100);

        Assert.Contains(context.SentTo(2), f => f is PlumtreeBeacon { Root: 0, Hops: 1 });
    }

    [Fact]
    public void Beacons_of_more_roots_than_the_bound_are_ignored()
    {
        var (node, context) = RecordingGossipContext.StartNode([1, 2], new PlumtreeOptions { MaxRootedTrees = 4 });

        for (int root = 100; root < 110; root++)
        {
            node.FrameReceived(context, 1, new PlumtreeBeacon(root, Hops: 1));
        }

        Assert.Equal(4, node.Tree!.RootedTreeCount);
        Assert.Equal(4, context.SentTo(2).OfType<PlumtreeBeacon>().Count());
    }

    /// <summary>A node in the tree of <see cref="Root"/> under 1 (depth 2), with 2 as its child and 3 a plain neighbour.</summary>
    private static (GossipEngine Node, RecordingGossipContext Context) TreeWithParent1Child2()
    {
        var (node, context) = RecordingGossipContext.StartNode([1, 2, 3]);
        node.FrameReceived(context, 1, new PlumtreeBeacon(Root, Hops: 2));
        node.FrameReceived(context, 2, new PlumtreeGraft(null, Root) { Rooted = true });
        node.FrameReceived(context, 3, new PlumtreeBeacon(Root, Hops: 2));
        context.Sent.Clear();
        return (node, context);
    }

    private static MessageId Id(int author, long seq) => RecordingGossipContext.Id(author, seq);

    private static PlumtreeMessage Push(MessageId id, PlumtreeSendKind kind = PlumtreeSendKind.Eager) =>
        new(id, 100, kind, 3, AuthorTree: false) { Root = Root };
}
