using System.Diagnostics;
using System.Net;
using SecureGossip.Crypto;
using Xunit.Abstractions;

namespace SecureGossip.Tests.Attacks;

/// <summary>
/// Keys are free: a peer can send genuinely signed messages from as many fresh authors as it likes (issue 8, part 4,
/// <see cref="GossipDefenceOptions.MaxAuthors"/>). Over real TCP, a v1 relay delivers one valid message from each of
/// 200,000 fresh keys to a v2 victim whose author table is capped at 1,000: the table stays bounded
/// (<see cref="GossipNodeStatistics.AuthorsForgotten"/>), every message is delivered once, honest traffic flows.
/// </summary>
[Collection(AttacksCollection.Name)]
public sealed class AuthorFloodTests(ITestOutputHelper output)
{
    private const int Authors = 200_000, MaxAuthors = 1_000, PerBatch = 250;

    [Fact]
    public async Task Messages_from_200k_fresh_keys_are_each_delivered_once_while_the_author_table_stays_bounded()
    {
        var clock = Stopwatch.StartNew();
        byte[][] batches = MakeBatches(Authors);
        TimeSpan signing = clock.Elapsed;
        await using DefenceRig rig = DefenceRig.Start(o => o.Defences.MaxAuthors = MaxAuthors);
        DefenceRig.HonestPeer a = await rig.ConnectHonestAsync(DefenceRig.HonestAddress(1));
        DefenceRig.HonestPeer b = await rig.ConnectHonestAsync(DefenceRig.HonestAddress(2));
        await rig.ExchangeAsync(a);
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        int largestTable = 0;

        clock.Restart();
        await using (RawTcpPeer relay = await RawTcpPeer.ConnectAsync(rig.EndPoint, IPAddress.Parse("127.0.0.30")))
        {
            Task<long> sending = relay.FloodAsync(
                batch =>
                {
                    largestTable = Math.Max(largestTable, AuthorTableSize(rig.Victim));
                    return batches[batch];
                },
                PerBatch,
                maxLines: Authors);
            await rig.VictimInbox.WaitForAsync("{\"n\":100000}"); // halfway
            await rig.ExchangeAsync(b);
            Assert.Equal(Authors, await sending);
            await rig.VictimInbox.WaitForCountAsync(Authors + 2, TimeSpan.FromMinutes(5));
            await rig.Victim.WhenIdleAsync();
            Assert.False(relay.Closed.Task.IsCompleted, "the relay was cut");
        }

        TimeSpan delivering = clock.Elapsed;
        await rig.ExchangeAsync(a);
        GossipNodeStatistics stats = rig.Victim.Statistics;
        int table = AuthorTableSize(rig.Victim);
        long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine(
            $"{Authors:N0} fresh authors (signed in {signing.TotalSeconds:0.0} s, delivered in {delivering.TotalSeconds:0.0} s): author table {table:N0} now, " +
            $"at most {largestTable:N0} seen, {stats.AuthorsForgotten:N0} forgotten; v2 author names interned {V2AuthorCount(rig.Victim):N0}, " +
            $"core tracks {stats.Core?.TrackedAuthors:N0} authors; heap {heapBefore / 1048576.0:0.0} -> {heapAfter / 1048576.0:0.0} MB (the retained messages included)");
        Assert.Equal(Authors + 3, rig.VictimInbox.Total);
        Assert.Equal(0, rig.VictimInbox.Duplicates);
        Assert.InRange(table, 1, MaxAuthors);
        Assert.InRange(largestTable, 0, MaxAuthors);
        Assert.True(stats.AuthorsForgotten >= Authors - MaxAuthors, $"forgotten {stats.AuthorsForgotten}");
        Assert.Equal(0, stats.PeersCut);
        await b.Inbox.WaitForAsync($"{{\"n\":{Authors - 1}}}", TimeSpan.FromMinutes(5)); // and on through the victim
        Assert.False(a.Link.IsCompleted || b.Link.IsCompleted, "an honest link was dropped");
    }

    /// <summary>
    /// The same flood, smaller, with retention bounded in all (GossipRetention.MaxMessages): the decoded-key table and
    /// the core's per-author state stay within their bounds whatever the number of fresh keys. The v2 name table keeps
    /// one name per verified author for the life of the process (about 100 bytes each): asserted exactly, so a change
    /// that made it grow faster fails here. Before the global retention bound, 200,000 authors grew two nodes from 48 to
    /// 704 MB of heap.
    /// </summary>
    [Fact]
    public async Task Fresh_authors_leave_the_v2_author_tables_bounded_by_MaxAuthors()
    {
        const int Fresh = 5_000;
        byte[][] batches = MakeBatches(Fresh);
        await using DefenceRig rig = DefenceRig.Start(o =>
        {
            o.Defences.MaxAuthors = MaxAuthors;
            o.Retention = o.Retention with { MaxMessages = MaxAuthors };
        });
        DefenceRig.HonestPeer a = await rig.ConnectHonestAsync(DefenceRig.HonestAddress(1));
        DefenceRig.HonestPeer b = await rig.ConnectHonestAsync(DefenceRig.HonestAddress(2));
        await using (RawTcpPeer relay = await RawTcpPeer.ConnectAsync(rig.EndPoint, IPAddress.Parse("127.0.0.30")))
        {
            Assert.Equal(Fresh, await relay.FloodAsync(batch => batches[batch], PerBatch, maxLines: Fresh));
            await rig.VictimInbox.WaitForCountAsync(Fresh);
            await rig.ExchangeAsync(a);
            await rig.Victim.WhenIdleAsync();
        }

        GossipNodeStatistics stats = rig.Victim.Statistics;
        int interned = V2AuthorCount(rig.Victim);
        output.WriteLine($"{Fresh:N0} fresh authors: decoded keys {AuthorTableSize(rig.Victim):N0}, v2 names interned {interned:N0}, core tracks {stats.Core?.TrackedAuthors:N0}");
        Assert.InRange(AuthorTableSize(rig.Victim), 1, MaxAuthors);
        Assert.InRange(stats.Core?.TrackedAuthors ?? 0, 0, MaxAuthors + 8); // retention's bound, the honest authors aside
        Assert.InRange(interned, Fresh, Fresh + 8); // one name per verified author and no more (see the summary)
        Assert.False(a.Link.IsCompleted || b.Link.IsCompleted, "an honest link was dropped");
    }

    /// <summary>One genuine line per fresh key, {"n":i} at seq 0, in batches (signed on every core).</summary>
    private static byte[][] MakeBatches(int authors)
    {
        var batches = new byte[authors / PerBatch][];
        Parallel.For(0, batches.Length, batch =>
        {
            var lines = new byte[PerBatch][];
            for (int i = 0; i < PerBatch; i++)
            {
                using GossipKeys keys = GossipKeys.Generate();
                lines[i] = AttackLines.Signed(keys, ((long)batch * PerBatch) + i, "0");
            }

            batches[batch] = AttackLines.Join(lines);
        });
        return batches;
    }

    private static int AuthorTableSize(GossipNode node) => node.AuthorTableCount;

    private static int V2AuthorCount(GossipNode node) => node.InternedAuthors.Count;
}
