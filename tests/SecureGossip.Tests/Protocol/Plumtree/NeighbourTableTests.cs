using SecureGossip.Protocol.Core;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Protocol.Plumtree;

/// <summary>
/// The core's neighbour table on its own (docs/PROTOCOL.md §16a): slots that outlive link sessions, authors that
/// neighbours' unsigned frames introduce, and reports once per reason and session.
/// </summary>
public sealed class NeighbourTableTests
{
    [Fact]
    public void A_neighbour_keeps_its_slot_across_sessions_but_its_budget_starts_afresh()
    {
        var links = new NeighbourTable(new PlumtreeOptions());
        int slot = links.SlotOf(7);
        Assert.Equal(1, links.SlotOf(8));
        NeighbourBudget first = links.Budget(slot);

        links.EndSession(slot);

        Assert.Equal(slot, links.SlotOf(7));
        Assert.NotSame(first, links.Budget(slot));
        Assert.Equal(-1, links.SlotOfBudget(first));
    }

    [Fact]
    public void Introduced_authors_are_bounded_per_neighbour_and_released_when_no_neighbour_introduces_them()
    {
        var links = new NeighbourTable(new PlumtreeOptions { MaxAuthorsPerNeighbour = 2 });
        int a = links.SlotOf(1);
        int b = links.SlotOf(2);
        Assert.True(links.Introduce(a, 100, verified: false));
        Assert.True(links.Introduce(a, 101, verified: false));
        Assert.False(links.Introduce(a, 102, verified: false)); // past its share
        Assert.True(links.Introduce(a, 103, verified: true)); // a verified author is nobody's to introduce
        Assert.True(links.Introduce(b, 101, verified: false));
        Assert.Equal(1, links.FramesIgnored);
        Assert.Equal(2, links.IntroducedAuthors);

        Assert.Equal([100], links.EndSession(a)); // 101 is still b's
        Assert.True(links.IsIntroduced(101));
        Assert.Equal([101], links.EndSession(b));
        Assert.Equal(0, links.IntroducedAuthors);
    }

    [Fact]
    public void A_neighbour_is_reported_once_per_reason_and_session()
    {
        var context = new RecordingGossipContext { Neighbours = [5] };
        var links = new NeighbourTable(new PlumtreeOptions());
        int slot = links.SlotOf(5);

        links.Report(context, slot, "ihave flood");
        links.Report(context, slot, "ihave flood");
        links.Report(context, slot, "want flood");
        links.EndSession(slot);
        links.Report(context, slot, "ihave flood");

        Assert.Equal([(5, "ihave flood"), (5, "want flood"), (5, "ihave flood")], context.Reports);
        Assert.Equal(3, links.Reported);
    }
}
