using SecureGossip.Protocol.Core;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Protocol.Plumtree;

/// <summary>
/// Plumtree's lazy push on its own (docs/PROTOCOL.md §7): one flush timer for any number of queued ids, batches of
/// at most 512 ids, and ids a link has meanwhile shown it has left out.
/// </summary>
public sealed class LazyAnnouncementsTests
{
    [Fact]
    public void Queued_ids_go_out_in_batches_of_512_on_one_timer_without_those_the_link_has()
    {
        var options = new PlumtreeOptions();
        var context = new RecordingGossipContext { Neighbours = [1, 2] };
        var links = new NeighbourTable(options);
        var retained = new RetainedMessages(options, _ => { });
        var lazy = new LazyAnnouncements(options, links, retained);
        int one = links.SlotOf(1);
        int two = links.SlotOf(2);

        var has = Id(9, 0);
        var held = new Retained(9, 100, 1, two, PlumtreeSendKind.Eager, context.Now);
        held.HaveAdd(one); // slot one showed it has this one
        retained.Add(has, held);
        lazy.Enqueue(context, one, has, 2);
        for (long seq = 1; seq <= 600; seq++)
        {
            lazy.Enqueue(context, one, Id(9, seq), 2);
        }

        lazy.Enqueue(context, two, has, 3);

        Assert.Equal([TimerIds.IHave], context.Timers.Select(t => t.Id));
        lazy.Flush(context);

        PlumtreeIHave[] toOne = [.. context.SentTo(1).Cast<PlumtreeIHave>()];
        Assert.Equal([512, 88], toOne.Select(f => f.Ids.Length));
        Assert.DoesNotContain(has, toOne.SelectMany(f => f.Ids));
        PlumtreeIHave toTwo = Assert.IsType<PlumtreeIHave>(Assert.Single(context.SentTo(2)));
        Assert.Equal([has], toTwo.Ids);
        Assert.Equal([3], toTwo.Hops);

        context.Sent.Clear();
        lazy.Flush(context); // nothing left
        Assert.Empty(context.Sent);
        lazy.Enqueue(context, two, Id(9, 700), 3);
        Assert.Equal(2, context.Timers.Count); // the next batch sets its own timer
    }

    private static MessageId Id(int author, long seq) => RecordingGossipContext.Id(author, seq);
}
