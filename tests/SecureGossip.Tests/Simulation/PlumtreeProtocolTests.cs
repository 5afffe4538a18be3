using SecureGossip.Engine;
using SecureGossip.Protocol.Core;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Simulation;

/// <summary>
/// The v2 core's rules, one event at a time, through the engine that real nodes and the simulator share (it admits,
/// verifies and commits; the core forwards), against a recording context (no simulator).
/// </summary>
public sealed class PlumtreeProtocolTests
{
    private static readonly MessageId A0 = Id(9, 0);
    private static readonly MessageId A1 = Id(9, 1);

    [Fact]
    public void A_copy_of_an_accepted_message_is_neither_verified_nor_delivered_again_and_its_sender_is_pruned()
    {
        var (node, context) = Node(neighbours: [1, 2, 3]);
        node.FrameReceived(context, 1, Push(A0, hops: 1));
        node.FrameReceived(context, 2, Push(A0, hops: 2));
        node.FrameReceived(context, 2, Push(A0, hops: 2) with { Kind = PlumtreeSendKind.Sync });

        Assert.Equal(1, context.Verifies);
        Assert.Equal([A0], context.Delivered);
        Assert.Single(context.SentTo(2).OfType<PlumtreePrune>()); // the eager duplicate prunes; the sync copy does not
    }

    [Fact]
    public void Messages_arriving_out_of_order_are_all_delivered()
    {
        var (node, context) = Node(neighbours: [1]);
        node.FrameReceived(context, 1, Push(A1, hops: 1));
        node.FrameReceived(context, 1, Push(A0, hops: 1));
        Assert.Equal([A1, A0], context.Delivered);
    }

    [Fact]
    public void An_accepted_message_is_pushed_at_once_to_eager_links_and_announced_to_lazy_ones()
    {
        var (node, context) = Node(neighbours: [1, 2, 3]);
        node.FrameReceived(context, 2, Push(Id(7, 0), hops: 1));
        node.FrameReceived(context, 3, Push(Id(7, 0), hops: 1)); // duplicate: 3 leaves the shared tree
        context.Sent.Clear();

        node.FrameReceived(context, 1, Push(A0, hops: 4));

        PlumtreeMessage pushed = Assert.Single(context.SentTo(2).OfType<PlumtreeMessage>());
        Assert.Equal(5, pushed.Hops);
        Assert.Empty(context.SentTo(1)); // never back to the sender
        Assert.Empty(context.SentTo(3).OfType<PlumtreeMessage>());
        context.FireTimers(node);
        PlumtreeIHave ihave = Assert.Single(context.SentTo(3).OfType<PlumtreeIHave>());
        Assert.Equal([A0], ihave.Ids);
        Assert.Equal([5], ihave.Hops);
    }

    [Fact]
    public void A_missing_message_is_grafted_from_its_announcer_after_the_timeout()
    {
        var (node, context) = Node(neighbours: [1, 2]);
        node.FrameReceived(context, 2, new PlumtreeIHave([A0], [3]));
        Assert.Empty(context.SentTo(2).OfType<PlumtreeGraft>());

        context.FireTimers(node);

        PlumtreeGraft graft = Assert.Single(context.SentTo(2).OfType<PlumtreeGraft>());
        Assert.Equal(A0, graft.Id);
    }

    [Fact]
    public void A_shorter_announced_path_moves_the_node_under_the_announcer_for_that_author()
    {
        var (node, context) = Node(neighbours: [1, 2]);
        node.FrameReceived(context, 1, Push(A0, hops: 5));
        node.FrameReceived(context, 2, new PlumtreeIHave([A0], [2]));

        Assert.Contains(context.SentTo(2), f => f is PlumtreeGraft { Id: null, Author: 9 });
        Assert.Contains(context.SentTo(1), f => f is PlumtreePrune { Author: 9, Optimisation: true });
    }

    [Fact]
    public void A_new_link_gets_exactly_the_retained_messages_its_frontier_lacks()
    {
        var (node, context) = Node(neighbours: [1]);
        node.FrameReceived(context, 1, Push(A0, hops: 1));
        node.FrameReceived(context, 1, Push(A1, hops: 1));
        node.FrameReceived(context, 1, Push(Id(4, 0), hops: 1));
        context.Neighbours.Add(2);
        node.NeighbourUp(context, 2);
        Assert.IsType<PlumtreeSync>(Assert.Single(context.SentTo(2)));
        context.Sent.Clear();

        // The new neighbour has author 9's first message and nothing of author 4.
        node.FrameReceived(context, 2, new PlumtreeSync(Full: true, [PlumtreeFrontierEntry.ForDigests(9, [A0.Digest])]));

        Assert.Equal(
            new HashSet<MessageId> { A1, Id(4, 0) },
            context.SentTo(2).OfType<PlumtreeMessage>().Select(m => m.Message).ToHashSet());
        Assert.Equal(2, context.SentTo(2).Count());
        Assert.All(context.SentTo(2).OfType<PlumtreeMessage>(), m => Assert.Equal(PlumtreeSendKind.Sync, m.Kind));
    }

    [Fact]
    public void Announcements_past_the_missing_bound_are_left_to_anti_entropy()
    {
        var (node, context) = Node(neighbours: [1], new PlumtreeOptions { MaxMissing = 2 });
        node.FrameReceived(context, 1, new PlumtreeIHave([A0, A1, Id(9, 2)], [1, 1, 1]));

        context.FireTimers(node);

        Assert.Equal([A0, A1], context.SentTo(1).OfType<PlumtreeGraft>().Select(g => g.Id!.Value));
    }

    [Fact]
    public void A_repeated_full_frontier_is_answered_once_per_link_session()
    {
        var (node, context) = Node(neighbours: [1]);
        node.Publish(context, Id(0, 0), 100);
        context.Sent.Clear();
        var empty = new PlumtreeSync(Full: true, []);

        node.FrameReceived(context, 1, empty);
        node.FrameReceived(context, 1, empty);
        Assert.Single(context.SentTo(1).OfType<PlumtreeMessage>());

        node.NeighbourDown(context, 1);
        node.NeighbourUp(context, 1);
        context.Sent.Clear();
        node.FrameReceived(context, 1, empty);
        Assert.Single(context.SentTo(1).OfType<PlumtreeMessage>()); // a new session: answered again
    }

    [Fact]
    public void A_digest_frontier_gets_exactly_the_retained_messages_it_does_not_list_and_retention_caps_them_per_author()
    {
        var (node, context) = Node(neighbours: [1, 2], new PlumtreeOptions { RetainCountPerAuthor = 3, RetainWhileSpreading = TimeSpan.Zero });
        MessageId[] ids = [.. Enumerable.Range(1, 5).Select(i => MessageId.FromDigest(7, (UInt128)i))];
        foreach (MessageId id in ids)
        {
            node.FrameReceived(context, 1, new PlumtreeMessage(id, 10, PlumtreeSendKind.Eager, 1, false) { Line = [(byte)'{', (byte)'}'] });
        }

        context.Sent.Clear();
        node.FrameReceived(context, 2, new PlumtreeSync(Full: true, [PlumtreeFrontierEntry.ForDigests(7, [(UInt128)4])]));

        // Only the newest three are retained (3, 4, 5); the peer lists 4.
        Assert.Equal(
            [(UInt128)3, (UInt128)5],
            context.SentTo(2).OfType<PlumtreeMessage>().Where(m => m.Kind == PlumtreeSendKind.Sync).Select(m => m.Message.Digest).Order());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Delta_frontiers_go_out_on_the_sync_timer_only_when_asked_for(bool sendDeltas)
    {
        var context = new RecordingGossipContext { Neighbours = [1, 2] };
        GossipEngine node = GossipEngine.CreateV2(new PlumtreeOptions { SendDeltas = sendDeltas });
        node.Start(context);
        node.NeighbourUp(context, 1);
        node.NeighbourUp(context, 2);
        node.FrameReceived(context, 1, Push(A0, hops: 1));
        context.Sent.Clear();

        context.FireTimers(node); // the ihave flush and the first sync interval

        Assert.Equal(sendDeltas ? 2 : 0, context.Sent.Count(s => s.Frame is PlumtreeSync { Full: false }));
    }

    [Fact]
    public void Only_the_engine_accepts_a_message_a_msg_frame_of_an_unknown_message_given_to_the_core_is_ignored()
    {
        var (node, context) = Node(neighbours: [1, 2]);
        PlumtreeProtocol core = node.Tree!;

        core.FrameReceived(context, 1, Push(A0, hops: 1));

        Assert.Empty(context.Delivered);
        Assert.Equal(0, context.Verifies);
        Assert.Empty(context.Sent);
        Assert.False(core.IsKnown(A0));
        Assert.Equal(1, core.Statistics.FramesIgnored);

        node.FrameReceived(context, 1, Push(A0, hops: 1)); // the engine admits, verifies once and commits

        Assert.Equal([A0], context.Delivered);
        Assert.Equal(1, context.Verifies);
        Assert.Single(context.SentTo(2).OfType<PlumtreeMessage>());
        Assert.True(core.IsKnown(A0));
    }

    [Fact]
    public void The_core_takes_message_ids_only_with_a_digest()
    {
        var (node, context) = Node(neighbours: [1]);
        var bySeq = new MessageId(0, 0);

        Assert.Throws<ArgumentException>(() => node.Tree!.Publish(context, bySeq, 100));
        Assert.Throws<ArgumentException>(() => node.Tree!.AcceptVerified(context, 1, Push(new MessageId(9, 0), hops: 1)));
        Assert.Throws<ArgumentException>(() => node.Tree!.MarkSeen(bySeq));
        Assert.Empty(context.Sent);
    }

    [Fact]
    public void Seq_entries_and_seq_wants_read_from_the_wire_are_wanted_answered_and_kept_for_nothing()
    {
        var (node, context) = Node(neighbours: [1, 2]);
        node.FrameReceived(context, 1, Push(A0, hops: 1));
        node.FrameReceived(context, 1, Push(A1, hops: 1));
        context.Sent.Clear();

        // Another implementation's signed-seq frontier (docs/PROTOCOL.md §4.2 `s`): this node lacks 9/5 and 8/0-8/3 in
        // its terms, but knows messages by digest only, so it wants none of them.
        node.FrameReceived(context, 2, new PlumtreeSync(Full: false, [new PlumtreeFrontierEntry(9, 0, [5, 6]), new PlumtreeFrontierEntry(8, 4, [])]));
        node.FrameReceived(context, 2, new PlumtreeWant([new MessageId(9, 0), new MessageId(9, 1)]));
        // A full frontier naming author 9 by seq mentions it: none of its messages is pushed for it at the end.
        node.FrameReceived(context, 2, new PlumtreeSync(Full: true, [new PlumtreeFrontierEntry(9, 0, [])]));
        context.FireTimersUntil(node, context.Now + TimeSpan.FromSeconds(5));

        PlumtreeStatistics statistics = node.Tree!.Statistics;
        Assert.Equal((0, 0L, 0L), (statistics.PendingWants, statistics.WantsSent, statistics.IdsIgnoredOverBudget));
        Assert.Equal(1, statistics.TrackedAuthors); // author 9, from its verified messages; 8 added nothing
        Assert.DoesNotContain(context.SentTo(2), f => f is PlumtreeWant or PlumtreeMessage);
    }

    private static PlumtreeMessage Push(MessageId id, int hops) => new(id, 100, PlumtreeSendKind.Eager, hops, AuthorTree: false);

    private static MessageId Id(int author, long seq) => RecordingGossipContext.Id(author, seq);

    private static (GossipEngine Node, RecordingGossipContext Context) Node(int[] neighbours, PlumtreeOptions? options = null) =>
        RecordingGossipContext.StartNode(neighbours, options);
}
