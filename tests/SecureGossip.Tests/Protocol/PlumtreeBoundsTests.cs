using SecureGossip.Engine;
using SecureGossip.Protocol.Core;
using SecureGossip.Simulation;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Protocol;

/// <summary>
/// The v2 core's per-neighbour bounds and budgets (docs/PROTOCOL.md §16a), one event at a time through the node's
/// engine against a recording context with a virtual clock: what a neighbour can make the node keep, send and answer,
/// and when it is reported.
/// </summary>
public sealed class PlumtreeBoundsTests
{
    [Fact]
    public void Unknown_ids_past_the_announcement_budget_are_ignored_and_a_flood_of_four_times_it_is_reported_once()
    {
        var (node, context) = Node([1, 2], new PlumtreeOptions { IHaveRate = 100 });
        node.FrameReceived(context, 1, IHave(Ids(0, 1000)));
        node.FrameReceived(context, 1, IHave(Ids(1000, 10)));

        Assert.Equal(100, node.Tree!.Statistics.MissingIds);
        Assert.Equal(910, node.Tree!.Statistics.IdsIgnoredOverBudget);
        Assert.Equal([(1, "ihave flood")], context.Reports);

        node.FrameReceived(context, 2, IHave(Ids(5000, 100))); // another neighbour's budget is its own
        Assert.Equal(200, node.Tree!.Statistics.MissingIds);
        Assert.Single(context.Reports);
    }

    [Fact]
    public void Announcements_of_ids_the_node_has_cost_no_budget()
    {
        var (node, context) = Node([1, 2], new PlumtreeOptions { IHaveRate = 10 });
        MessageId[] ids = Ids(0, 500);
        foreach (MessageId id in ids)
        {
            node.FrameReceived(context, 1, Push(id));
        }

        node.FrameReceived(context, 2, IHave(ids));

        Assert.Equal(0, node.Tree!.Statistics.IdsIgnoredOverBudget);
        Assert.Empty(context.Reports);
    }

    [Fact]
    public void The_budget_refills_with_the_clock()
    {
        var (node, context) = Node([1], new PlumtreeOptions { IHaveRate = 100 });
        node.FrameReceived(context, 1, IHave(Ids(0, 150)));
        Assert.Equal(100, node.Tree!.Statistics.MissingIds);

        context.Now += TimeSpan.FromMilliseconds(500);
        node.FrameReceived(context, 1, IHave(Ids(150, 100)));

        Assert.Equal(150, node.Tree!.Statistics.MissingIds); // half a second: 50 more
        Assert.Empty(context.Reports); // 250 asked in the window: under four times the budget
    }

    [Fact]
    public void One_neighbour_fills_only_its_share_of_the_missing_table()
    {
        var (node, context) = Node([1, 2], new PlumtreeOptions { MaxMissingPerNeighbour = 10 });
        node.FrameReceived(context, 1, IHave(Ids(0, 50)));
        node.FrameReceived(context, 2, IHave(Ids(1000, 5)));

        Assert.Equal(15, node.Tree!.Statistics.MissingIds);
        Assert.Equal(40, node.Tree!.Statistics.IdsIgnoredOverBudget);
    }

    [Fact]
    public void Grafts_to_one_neighbour_are_bounded_by_its_outstanding_wants_and_paced_by_its_want_rate()
    {
        var (node, context) = Node([1], new PlumtreeOptions { WantRate = 20, MaxWantsPerNeighbour = 1000, MaxMissingPerNeighbour = 1000, IHaveRate = 1000 });
        node.FrameReceived(context, 1, IHave(Ids(0, 100)));

        context.FireTimersUntil(node, context.Now + TimeSpan.FromMilliseconds(150)); // the first graft round
        Assert.Equal(20, context.SentTo(1).OfType<PlumtreeGraft>().Count());

        var (bounded, boundedContext) = Node([1], new PlumtreeOptions { MaxWantsPerNeighbour = 8, IHaveRate = 1000 });
        bounded.FrameReceived(boundedContext, 1, IHave(Ids(0, 100)));
        boundedContext.FireTimersUntil(bounded, boundedContext.Now + TimeSpan.FromMilliseconds(150));
        Assert.Equal(8, boundedContext.SentTo(1).OfType<PlumtreeGraft>().Count());
        Assert.Equal(8, bounded.Tree!.Statistics.WantsSent);
    }

    [Fact]
    public void A_neighbour_that_leaves_its_announcements_unanswered_is_reported_grafted_no_more_and_its_ids_forgotten()
    {
        var (node, context) = Node([1], new PlumtreeOptions { MaxWantsPerNeighbour = 40, IHaveRate = 1000 });
        node.FrameReceived(context, 1, IHave(Ids(0, 40)));

        context.FireTimersUntil(node, context.Now + TimeSpan.FromSeconds(40));

        Assert.Equal([(1, "broken promises")], context.Reports);
        Assert.InRange(context.SentTo(1).OfType<PlumtreeGraft>().Count(), 40, 50); // one round, not one per backoff step
        Assert.Equal(0, node.Tree!.Statistics.MissingIds);
        node.FrameReceived(context, 1, IHave(Ids(100, 10)));
        Assert.Equal(0, node.Tree!.Statistics.MissingIds); // its announcements are ignored for the rest of the session
    }

    [Fact]
    public void A_lost_graft_now_and_then_is_not_a_broken_promise_worth_reporting()
    {
        var (node, context) = Node([1, 2]);
        for (int i = 0; i < 50; i++)
        {
            MessageId id = Id(9, i);
            node.FrameReceived(context, 1, IHave([id]));
            context.FireTimersUntil(node, context.Now + TimeSpan.FromMilliseconds(250)); // grafted, lost, grafted again
            node.FrameReceived(context, 1, Push(id) with { Kind = PlumtreeSendKind.Graft });
        }

        Assert.Empty(context.Reports);
        Assert.Equal(50, context.Delivered.Count);
    }

    [Fact]
    public void Wants_after_a_delta_are_bounded_per_neighbour_whatever_the_delta_lists()
    {
        var (node, context) = Node([1], new PlumtreeOptions { MaxWantsPerNeighbour = 10 });
        node.FrameReceived(context, 1, new PlumtreeSync(Full: false, [PlumtreeFrontierEntry.ForDigests(9, [.. Ids(0, 100).Select(id => id.Digest)])]));
        Assert.Equal(10, node.Tree!.Statistics.PendingWants);
        Assert.Equal(90, node.Tree!.Statistics.IdsIgnoredOverBudget);

        context.FireTimersUntil(node, context.Now + TimeSpan.FromMilliseconds(1100));

        Assert.Equal(10, context.SentTo(1).OfType<PlumtreeWant>().Sum(w => w.Ids.Length));
    }

    [Fact]
    public void Answers_to_wants_are_paced_by_the_response_budget_and_a_want_flood_is_reported()
    {
        var (node, context) = Node([1, 2], new PlumtreeOptions { ResponseRate = 10 });
        MessageId[] ids = Ids(0, 50);
        foreach (MessageId id in ids)
        {
            node.FrameReceived(context, 2, Push(id));
        }

        context.Sent.Clear();
        node.FrameReceived(context, 1, new PlumtreeWant(ids));

        Assert.Equal(10, context.SentTo(1).OfType<PlumtreeMessage>().Count());
        Assert.Equal(40, node.Tree!.Statistics.DeferredResponses);
        Assert.Equal([(1, "want flood")], context.Reports); // 50 asked: five times the budget

        context.FireTimersUntil(node, context.Now + TimeSpan.FromMilliseconds(2000));
        Assert.Equal(30, context.SentTo(1).OfType<PlumtreeMessage>().Count()); // ten a second
        context.FireTimersUntil(node, context.Now + TimeSpan.FromSeconds(5));
        Assert.Equal(ids.ToHashSet(), context.SentTo(1).OfType<PlumtreeMessage>().Select(m => m.Message).ToHashSet());
        Assert.Equal(0, node.Tree!.Statistics.DeferredResponses);
    }

    [Fact]
    public void Unsigned_frames_naming_new_authors_are_capped_per_neighbour_and_what_they_introduced_goes_with_the_link()
    {
        var (node, context) = Node([1, 2], new PlumtreeOptions { MaxAuthorsPerNeighbour = 3 });
        node.FrameReceived(context, 2, Push(Id(7, 0))); // a verified author
        for (int author = 100; author < 110; author++)
        {
            node.FrameReceived(context, 1, new PlumtreeGraft(null, author));
            node.FrameReceived(context, 1, new PlumtreePrune(author + 1000, Optimisation: true));
        }

        node.FrameReceived(context, 1, new PlumtreeGraft(null, 7));
        PlumtreeStatistics during = node.Tree!.Statistics;
        Assert.Equal(1 + 3, during.TrackedAuthors);
        Assert.Equal(3, during.IntroducedAuthors);
        Assert.Equal(17, during.FramesIgnored);

        node.NeighbourDown(context, 1);

        Assert.Equal(1, node.Tree!.Statistics.TrackedAuthors); // author 7 stays: it is known from a verified message
        Assert.Equal(0, node.Tree!.Statistics.IntroducedAuthors);
    }

    [Fact]
    public void Frontiers_naming_authors_never_seen_add_no_author_state()
    {
        var (node, context) = Node([1]);
        PlumtreeFrontierEntry[] fakes = [.. Enumerable.Range(1000, 5000).Select(a => PlumtreeFrontierEntry.ForDigests(a, [Id(a, 4).Digest]))];
        node.FrameReceived(context, 1, new PlumtreeSync(Full: false, fakes));
        node.FrameReceived(context, 1, new PlumtreeSync(Full: true, fakes) { End = false });

        Assert.Equal(0, node.Tree!.Statistics.TrackedAuthors);
        Assert.Equal(new PlumtreeOptions().MaxWantsPerNeighbour, node.Tree!.Statistics.PendingWants);
    }

    [Fact]
    public void A_neighbour_going_down_takes_its_wants_deferred_answers_and_missing_share_with_it()
    {
        var (node, context) = Node([1, 2], new PlumtreeOptions { ResponseRate = 1 });
        node.FrameReceived(context, 2, Push(Id(9, 0)));
        node.FrameReceived(context, 2, Push(Id(9, 1)));
        node.FrameReceived(context, 1, new PlumtreeWant([Id(9, 0), Id(9, 1)]));
        node.FrameReceived(context, 1, new PlumtreeSync(Full: false, [PlumtreeFrontierEntry.ForDigests(8, [Id(8, 0).Digest, Id(8, 1).Digest, Id(8, 2).Digest])]));
        node.FrameReceived(context, 1, IHave(Ids(0, 5))); // 9/0 and 9/1 are here: three missing
        PlumtreeStatistics during = node.Tree!.Statistics;
        Assert.Equal((1, 3, 3), (during.DeferredResponses, during.PendingWants, during.MissingIds));

        context.Sent.Clear();
        node.NeighbourDown(context, 1);
        context.FireTimersUntil(node, context.Now + TimeSpan.FromSeconds(40));

        PlumtreeStatistics after = node.Tree!.Statistics;
        Assert.Equal((0, 0, 0), (after.DeferredResponses, after.PendingWants, after.MissingIds));
        Assert.Empty(context.SentTo(1)); // no deferred answer and no want outlives the link
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.1, 0.2)]
    public void Honest_simulated_networks_with_bursts_and_late_joiners_never_trigger_a_report(double loss, double kill)
    {
        var cores = new List<GossipEngine>();
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Create("random-regular:4", 12, seed: 3),
            Messages = 3000,
            PublisherCount = 3,
            PublishSpacing = TimeSpan.FromMilliseconds(1), // bursts of 1,000 messages a second
            Loss = loss,
            KillFraction = kill,
            PartitionTime = TimeSpan.FromSeconds(1.5),
            HealTime = TimeSpan.FromSeconds(3), // half the network joins late, thousands behind
            ProtocolName = "v2",
            Protocol = _ =>
            {
                GossipEngine engine = GossipEngine.CreateV2();
                cores.Add(engine);
                return engine;
            },
            QuietTime = TimeSpan.FromSeconds(5),
        });

        Assert.Equal(1.0, result.DeliveredReachableRatio);
        Assert.Equal(0, result.DuplicateDeliveries);
        Assert.Equal(0, cores.Sum(c => c.Tree!.Statistics.NeighboursReported));
    }

    private static MessageId Id(int author, long seq) => RecordingGossipContext.Id(author, seq);

    private static MessageId[] Ids(int from, int count) => [.. Enumerable.Range(from, count).Select(i => Id(9, i))];

    private static PlumtreeIHave IHave(MessageId[] ids) => new(ids, [.. ids.Select(_ => 2)]);

    private static PlumtreeMessage Push(MessageId id) => new(id, 100, PlumtreeSendKind.Eager, 1, AuthorTree: false);

    private static (GossipEngine Node, RecordingGossipContext Context) Node(int[] neighbours, PlumtreeOptions? options = null) =>
        RecordingGossipContext.StartNode(neighbours, options);
}
