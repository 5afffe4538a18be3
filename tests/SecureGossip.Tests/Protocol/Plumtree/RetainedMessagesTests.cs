using SecureGossip.Protocol.Core;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Protocol.Plumtree;

/// <summary>
/// The core's retained messages on their own (docs/PROTOCOL.md §6.5, §9.5): the three bounds, and the owner told
/// exactly when an author's last retained message goes (so its other per-author state can go too).
/// </summary>
public sealed class RetainedMessagesTests
{
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(10);

    private readonly List<int> _emptied = [];

    [Fact]
    public void Past_the_per_author_count_the_authors_oldest_goes_and_the_author_stays()
    {
        RetainedMessages retained = Make(new PlumtreeOptions { RetainCountPerAuthor = 3, RetainWhileSpreading = TimeSpan.Zero });
        for (long seq = 0; seq < 5; seq++)
        {
            retained.Add(Id(1, seq), Message(1));
        }

        Assert.Equal([Id(1, 2), Id(1, 3), Id(1, 4)], retained.OfAuthor(1).ToArray());
        Assert.False(retained.Contains(Id(1, 1)));
        Assert.Empty(_emptied);
    }

    [Fact]
    public void A_burst_past_the_per_author_count_is_kept_while_it_spreads_then_trimmed_by_the_sweep()
    {
        RetainedMessages retained = Make(new PlumtreeOptions { RetainCountPerAuthor = 3, RetainWhileSpreading = TimeSpan.FromSeconds(30) });
        for (long seq = 0; seq < 5; seq++)
        {
            retained.Add(Id(1, seq), Message(1, Start + TimeSpan.FromSeconds(seq)));
        }

        // All five are younger than 30 s: the neighbours they were announced to can still pull every one.
        Assert.Equal(5, retained.OfAuthor(1).Length);

        // At 31 s the first (accepted at 0 s) has spread, the second (1 s) not yet: only the first goes.
        retained.Sweep(Start + TimeSpan.FromSeconds(30.5));
        Assert.Equal([Id(1, 1), Id(1, 2), Id(1, 3), Id(1, 4)], retained.OfAuthor(1).ToArray());

        // Once all have spread, the count holds again, newest kept.
        retained.Sweep(Start + TimeSpan.FromMinutes(5));
        Assert.Equal([Id(1, 2), Id(1, 3), Id(1, 4)], retained.OfAuthor(1).ToArray());
        Assert.Empty(_emptied);
    }

    [Fact]
    public void Past_the_bound_in_all_an_author_over_its_count_loses_its_own_young_messages_before_anyone_elses()
    {
        RetainedMessages retained = Make(new PlumtreeOptions { RetainCountPerAuthor = 2, RetainMaxMessages = 4, RetainWhileSpreading = TimeSpan.FromSeconds(30) });
        retained.Add(Id(1, 0), Message(1));
        retained.Add(Id(2, 0), Message(2));
        for (long seq = 0; seq < 4; seq++)
        {
            retained.Add(Id(3, seq), Message(3));
        }

        // Author 3's burst is young, but the bound in all is reached: author 3, over its count of 2, pays.
        Assert.Equal([Id(1, 0)], retained.OfAuthor(1).ToArray());
        Assert.Equal([Id(2, 0)], retained.OfAuthor(2).ToArray());
        Assert.Equal([Id(3, 2), Id(3, 3)], retained.OfAuthor(3).ToArray());
        Assert.Empty(_emptied);
    }

    [Fact]
    public void Past_the_bound_in_all_an_author_still_over_its_count_pays_even_when_another_authors_message_passes_it()
    {
        RetainedMessages retained = Make(new PlumtreeOptions { RetainCountPerAuthor = 2, RetainMaxMessages = 5, RetainWhileSpreading = TimeSpan.FromSeconds(30) });
        retained.Add(Id(1, 0), Message(1)); // old history of a quiet author
        for (long seq = 0; seq < 4; seq++)
        {
            retained.Add(Id(3, seq), Message(3)); // a young burst, two past its count
        }

        retained.Add(Id(2, 0), Message(2)); // the sixth message passes the bound: author 3 pays, not author 1
        Assert.Equal([Id(1, 0)], retained.OfAuthor(1).ToArray());
        Assert.Equal([Id(2, 0)], retained.OfAuthor(2).ToArray());
        Assert.Equal([Id(3, 1), Id(3, 2), Id(3, 3)], retained.OfAuthor(3).ToArray());
    }

    [Fact]
    public void A_burst_is_kept_past_the_count_only_up_to_what_one_sync_entry_carries_then_trimmed_to_the_count()
    {
        RetainedMessages retained = Make(new PlumtreeOptions { RetainCountPerAuthor = 1_000, RetainMaxMessages = 1_000_000, RetainWhileSpreading = TimeSpan.FromHours(1) });
        const int Burst = 200_000;
        for (long seq = 0; seq < Burst; seq++)
        {
            retained.Add(Id(1, seq), Message(1)); // all young
        }

        // The count plus the allowance for spreading, the newest kept.
        int kept = 1_000 + RetainedMessages.MaxSpreadingPerAuthor;
        Assert.Equal(kept, retained.OfAuthor(1).Length);
        Assert.Equal(Id(1, Burst - kept), retained.OfAuthor(1)[0]);
        Assert.Equal(kept, retained.Count);

        // Once spread, the sweep trims to the count and the author's array shrinks with it.
        retained.Sweep(Start + TimeSpan.FromHours(2));
        Assert.Equal(1_000, retained.OfAuthor(1).Length);
        Assert.Equal(Id(1, Burst - 1), retained.OfAuthor(1)[^1]);
    }

    [Fact]
    public void Past_the_bound_in_all_the_oldest_of_any_author_goes_and_an_author_left_with_none_is_reported_once()
    {
        RetainedMessages retained = Make(new PlumtreeOptions { RetainMaxMessages = 3 });
        retained.Add(Id(1, 0), Message(1));
        retained.Add(Id(2, 0), Message(2));
        retained.Add(Id(2, 1), Message(2));
        retained.Add(Id(2, 2), Message(2));

        Assert.False(retained.HasAuthor(1));
        Assert.Equal([1], _emptied);

        retained.Add(Id(3, 0), Message(3)); // author 2's oldest goes; it still has two
        Assert.Equal([Id(2, 1), Id(2, 2)], retained.OfAuthor(2).ToArray());
        Assert.Equal([1], _emptied);
    }

    [Fact]
    public void The_sweep_counts_the_age_a_message_was_accepted_with()
    {
        RetainedMessages retained = Make(new PlumtreeOptions { RetainAge = TimeSpan.FromHours(1) });
        MessageId old = MessageId.FromDigest(1, 1);
        MessageId fresh = MessageId.FromDigest(1, 2);
        retained.Add(old, Line(1, ageMs: (long)TimeSpan.FromMinutes(59).TotalMilliseconds));
        retained.Add(fresh, Line(1, ageMs: 0));

        retained.Sweep(Start + TimeSpan.FromMinutes(2));
        Assert.Equal([fresh], retained.OfAuthor(1).ToArray());
        Assert.Empty(_emptied);

        retained.Sweep(Start + TimeSpan.FromMinutes(61));
        Assert.False(retained.Contains(fresh));
        Assert.Equal([1], _emptied);
    }

    [Fact]
    public void Lines_are_those_of_real_links_each_authors_in_the_order_accepted()
    {
        RetainedMessages retained = Make(new PlumtreeOptions());
        retained.Add(MessageId.FromDigest(1, 1), Line(1, ageMs: 0, content: 11));
        retained.Add(Id(2, 0), Message(2)); // simulated: no line
        retained.Add(MessageId.FromDigest(1, 2), Line(1, ageMs: 0, content: 12));
        retained.Add(MessageId.FromDigest(3, 3), Line(3, ageMs: 0, content: 31));

        Assert.Equal([(1, 11), (1, 12), (3, 31)], retained.Lines().Select(l => (l.Author, (int)l.Line[0])));
    }

    private RetainedMessages Make(PlumtreeOptions options) => new(options, _emptied.Add);

    private static Retained Message(int author) => Message(author, Start);

    private static Retained Message(int author, TimeSpan acceptedAt) => new(author, 100, 1, 0, PlumtreeSendKind.Eager, acceptedAt);

    private static RetainedLine Line(int author, long ageMs, byte content = 0) =>
        new(author, 1, 1, 0, PlumtreeSendKind.Eager, Start) { Line = [content], AgeAtAcceptanceMs = ageMs };

    private static MessageId Id(int author, long seq) => RecordingGossipContext.Id(author, seq);
}
