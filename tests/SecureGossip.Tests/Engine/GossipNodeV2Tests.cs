using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using SecureGossip.Crypto;
using SecureGossip.Storage;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Engine;

/// <summary>
/// Protocol v2 on real links (docs/PROTOCOL.md): the core drives dissemination and anti-entropy between nodes
/// that both announce v2. Clocks are fake and never advanced unless a test says so: nothing here depends on a
/// round or a timer, only on what the links carry.
/// </summary>
public sealed class GossipNodeV2Tests : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly List<GossipNode> _nodes = [];
    private readonly string _directory = Directory.CreateTempSubdirectory("sg-v2-").FullName;

    [Fact]
    public async Task Two_v2_nodes_exchange_nothing_but_v2_frames_once_their_hellos_crossed()
    {
        GossipNode a = V2Node(), b = V2Node();
        var inbox = Gossip.Watch(b);
        Gossip.Link(a, b);
        await Task.WhenAll(a.WaitForPeersAsync(p => p is [{ Version: 2 }]), b.WaitForPeersAsync(p => p is [{ Version: 2 }]));

        a.PublishJson("{\"over\":\"v2\"}");

        Assert.Equal("{\"over\":\"v2\"}", (await inbox.WaitForAsync(1))[0].ToString());
        GossipNodeStatistics atB = b.Statistics;
        Assert.Equal(atB.LinesReceived, atB.V2FramesReceived); // the hello, a sync and the msg frame: no v1 line
        Assert.Equal(0, atB.DroppedMalformed);
    }

    [Fact]
    public async Task In_a_mesh_each_message_reaches_each_node_once_from_the_first_along_the_tree_a_beacon_built()
    {
        // 12 nodes, each linked to its ring neighbours and to the node opposite: 3 links each, 18 links.
        const int count = 12;
        // A real clock: lazy announcements and grafts repair what concurrent prunes cut (a frozen clock cannot).
        GossipNode[] nodes = [.. Enumerable.Range(0, count).Select(_ => V2Node(clock: TimeProvider.System))];
        var links = new HashSet<(int, int)>();
        for (int i = 0; i < count; i++)
        {
            links.Add((Math.Min(i, (i + 1) % count), Math.Max(i, (i + 1) % count)));
            links.Add((Math.Min(i, (i + (count / 2)) % count), Math.Max(i, (i + (count / 2)) % count)));
        }

        foreach ((int x, int y) in links)
        {
            Gossip.Link(nodes[x], nodes[y]);
        }

        await Task.WhenAll(nodes.Select(n => n.WaitForPeersAsync(p => p.Count == 3)));
        await Gossip.WaitForV2Async(nodes);
        Gossip.Inbox[] inboxes = [.. nodes.Skip(1).Select(Gossip.Watch)];

        // The author's first message sends a beacon that builds its tree (docs/PROTOCOL.md §8.8): no message floods.
        for (int n = 1; n <= 30; n++)
        {
            nodes[0].PublishJson($"{{\"n\":{n}}}");
            await Task.WhenAll(inboxes.Select(i => i.WaitForAsync(n)));
        }

        // A flood brings each delivery 1.5 more copies on this graph (about 16 per message, so a tree that the first
        // messages' duplicates had to prune cost more than this bound); the beaconed tree, almost none.
        long duplicates = nodes.Sum(n => n.Statistics.DroppedOld);
        Assert.True(duplicates <= 33, $"{duplicates} duplicate copies for 330 deliveries");
        Assert.All(inboxes, i => Assert.Equal(30, i.Messages.Select(m => m.ToString()).Distinct().Count()));
    }

    [Fact]
    public async Task A_late_joiner_over_tcp_receives_the_retained_history_once()
    {
        GossipNode early = V2Node();
        for (int n = 0; n < 30; n++)
        {
            early.PublishJson($"{{\"n\":{n}}}");
        }

        GossipNode late = V2Node();
        var inbox = Gossip.Watch(late);
        await using var _ = await LinkOverTcpAsync(early, late);

        IReadOnlyList<GossipMessage> got = await inbox.WaitForAsync(30);
        Assert.Equal(Enumerable.Range(0, 30).Select(n => $"{{\"n\":{n}}}").Order(), got.Select(m => m.ToString()).Order());
        await late.WhenIdleAsync();
        Assert.Equal(30, late.Statistics.MessagesAccepted);
        Assert.Equal(0, late.Statistics.DroppedOld);
    }

    [Fact]
    public async Task Retention_by_count_bounds_what_a_late_joiner_gets_to_the_newest_per_author()
    {
        GossipNode early = V2Node(retention: new GossipRetention { MaxPerAuthor = 10 });
        for (int n = 0; n < 25; n++)
        {
            early.PublishJson($"{{\"n\":{n}}}");
        }

        // A message is kept past the count while it may still be spreading (30 s, docs/PROTOCOL.md §9.5); the sweep
        // after that trims the author to its newest 10.
        await early.WhenIdleAsync();
        _clock.Advance(TimeSpan.FromSeconds(31));
        await early.WhenIdleAsync();

        GossipNode late = V2Node();
        var inbox = Gossip.Watch(late);
        Gossip.Link(early, late);

        IReadOnlyList<GossipMessage> got = await inbox.WaitForAsync(10);
        await late.WhenIdleAsync();
        Assert.Equal(Enumerable.Range(15, 10).Select(n => $"{{\"n\":{n}}}").Order(), got.Select(m => m.ToString()).Order());

        // The early node holds the newest 10 and no more, so it has nothing else to send the late joiner.
        int retained = 0;
        await early.InspectAsync(engine => retained = engine.Tree!.RetainedLines().Count());
        Assert.Equal(10, retained);
        Assert.Equal(10, inbox.Messages.Count);
    }

    [Fact]
    public async Task Retention_by_age_stops_serving_messages_once_they_are_older_than_the_limit()
    {
        GossipNode early = V2Node(retention: new GossipRetention { MaxAge = TimeSpan.FromMinutes(1) });
        early.PublishJson("{\"old\":true}");
        await early.WhenIdleAsync(); // the core has it (it hears of a publish on the commit loop)
        _clock.Advance(TimeSpan.FromMinutes(2)); // the core's sweep runs on its sync timer
        await early.WhenIdleAsync();
        early.PublishJson("{\"old\":false}");

        GossipNode late = V2Node();
        var inbox = Gossip.Watch(late);
        Gossip.Link(early, late);

        Assert.Equal("{\"old\":false}", (await inbox.WaitForAsync(1))[0].ToString());
        await late.WaitForPeersAsync(p => p is [{ Version: 2 }]);
        await late.WhenIdleAsync();

        // The early node holds only the new message, so it has nothing else to send the late joiner.
        int retained = 0;
        await early.InspectAsync(engine => retained = engine.Tree!.RetainedLines().Count());
        Assert.Equal(1, retained);
        Assert.Single(inbox.Messages);
    }

    [Fact]
    public async Task A_healed_partition_converges_with_nothing_lost_and_nothing_delivered_twice()
    {
        GossipNode a = V2Node(), b = V2Node(), c = V2Node();
        Gossip.Link(a, b);
        CancellationTokenSource cut = CuttableLink(b, c);
        await b.WaitForPeersAsync(p => p.Count == 2 && p.All(l => l.Version == 2));
        var atA = Gossip.Watch(a);
        var atB = Gossip.Watch(b);
        var atC = Gossip.Watch(c);

        await cut.CancelAsync();
        await Task.WhenAll(b.WaitForPeersAsync(p => p.Count == 1), c.WaitForPeersAsync(p => p.Count == 0));
        for (int n = 0; n < 5; n++)
        {
            a.PublishJson($"{{\"a\":{n}}}");
            c.PublishJson($"{{\"c\":{n}}}");
        }

        await atB.WaitForAsync(5); // A's side got A's messages; C's are stuck on the other side
        CuttableLink(b, c);

        Assert.Equal(5, (await atA.WaitForAsync(5)).Count(m => m.Author == c.Keys.Public));
        Assert.Equal(10, (await atB.WaitForAsync(10)).Count);
        Assert.Equal(5, (await atC.WaitForAsync(5)).Count(m => m.Author == a.Keys.Public));
        await Task.WhenAll(a.WhenIdleAsync(), b.WhenIdleAsync(), c.WhenIdleAsync());
        foreach (Gossip.Inbox inbox in new[] { atA, atB, atC })
        {
            Assert.Equal(inbox.Messages.Count, inbox.Messages.Select(m => (m.Author, m.Sequence)).Distinct().Count());
        }

        Assert.Equal(5, atA.Messages.Count);
        Assert.Equal(5, atC.Messages.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_node_restarted_on_its_store_continues_its_seq_remembers_what_it_saw_and_a_v2_node_serves_its_history(bool v2)
    {
        string path = Path.Combine(_directory, "node.db");
        using GossipKeys keys = GossipKeys.Generate();
        GossipNode stranger = V2Node();
        stranger.PublishJson(Encoding.UTF8.GetBytes("{\"from\":\"stranger\"}"), out byte[] strangerLine);

        await using (GossipNode first = V2Node(keys, path, announceV2: v2))
        {
            first.PublishJson("{\"n\":0}");
            first.PublishJson("{\"n\":1}");
            var inbox = Gossip.Watch(first);
            await first.HandleLineAsync(new ReadOnlySequence<byte>(strangerLine), CancellationToken.None);
            await inbox.WaitForAsync(1);
        }

        GossipNode second = V2Node(keys, path, announceV2: v2);
        var again = Gossip.Watch(second);
        GossipMessage next = second.PublishJson("{\"n\":2}");
        Assert.Equal(2, next.Sequence);

        await second.HandleLineAsync(new ReadOnlySequence<byte>(strangerLine), CancellationToken.None);
        await second.WhenIdleAsync();
        Assert.Empty(again.Messages); // seen before the restart: not delivered twice
        Assert.Equal(1, second.Statistics.DroppedOld);
        if (!v2)
        {
            return; // a v1 node keeps no history for peers
        }

        GossipNode late = V2Node();
        var atLate = Gossip.Watch(late);
        Gossip.Link(second, late);
        IReadOnlyList<GossipMessage> history = await atLate.WaitForAsync(4);
        Assert.Equal(
            ["{\"from\":\"stranger\"}", "{\"n\":0}", "{\"n\":1}", "{\"n\":2}"],
            history.Select(m => m.ToString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Malformed_v2_frames_on_a_v2_link_are_dropped_and_counted_and_the_link_keeps_working()
    {
        GossipNode node = V2Node();
        var inbox = Gossip.Watch(node);
        GossipNode author = V2Node();
        author.PublishJson(Encoding.UTF8.GetBytes("{\"valid\":true}"), out byte[] line);
        GossipConnection mine = await RawV2PeerAsync(node);
        string[] garbage =
        [
            "{\"sg2\":\"ihave\",\"i\":[[\"not base64\",1]]}",
            "{\"sg2\":\"msg\",\"k\":\"x\",\"m\":{}}",
            "{\"sg2\":\"graft\"}",
            "{\"sg2\":\"nonsense\"}",
            "{\"sg2\":\"sync\",\"s\":7}",
            "{\"sg2\":\"msg\",\"k\":\"e\",\"data\":{},\"m\":{}}",

            // The writer's own spelling, read byte for byte, around lines that are not one JSON value: each is dropped
            // where every line is checked, before it is read.
            "{\"sg2\":\"msg\",\"k\":\"e\",\"h\":1,\"m\":{\"data\":{}},\"public\":\"x\"}",
            "{\"sg2\":\"msg\",\"k\":\"e\",\"h\":1,\"m\":{\"data\":[}}",
        ];
        await mine.Output.WriteAsync(Encoding.UTF8.GetBytes(string.Join("\n", garbage) + "\n" + MsgFrame(Encoding.UTF8.GetString(line))));

        Assert.Equal("{\"valid\":true}", (await inbox.WaitForAsync(1))[0].ToString());
        await node.WhenIdleAsync();
        Assert.Equal(garbage.Length, node.Statistics.DroppedMalformed);
        Assert.Equal(1, node.Statistics.MessagesAccepted);
        await mine.DisposeAsync();
    }

    [Fact]
    public async Task A_replayed_msg_frame_with_another_envelope_seq_is_dropped_without_verification()
    {
        GossipNode node = V2Node();
        var inbox = Gossip.Watch(node);
        GossipNode author = V2Node();
        author.PublishJson(Encoding.UTF8.GetBytes("{\"once\":true}"), out byte[] line);
        string replayed = Encoding.UTF8.GetString(line).Replace("\"seq\":0}", "\"seq\":99}", StringComparison.Ordinal);
        GossipConnection mine = await RawV2PeerAsync(node);
        await mine.Output.WriteAsync(Encoding.UTF8.GetBytes(MsgFrame(Encoding.UTF8.GetString(line)) + MsgFrame(replayed)));
        await mine.Output.CompleteAsync(); // the node reads both frames, then the end of the link

        await inbox.WaitForAsync(1);
        await node.WaitForPeersAsync(p => p.Count == 0); // the link is down: every frame on it was handed to the actor
        await node.WhenIdleAsync();
        Assert.Single(inbox.Messages);
        Assert.Equal(1, node.Statistics.DroppedOld);
        Assert.Equal(1, node.Statistics.SignaturesVerified);
        await mine.DisposeAsync();
    }

    [Fact]
    public async Task A_msg_frame_may_exceed_the_line_limit_by_its_own_members_but_the_line_inside_may_not()
    {
        const int limit = 2048;
        var node = new GossipNode(new GossipNodeOptions { TimeProvider = _clock, AnnounceV2 = true, MaxLineLength = limit });
        _nodes.Add(node);
        var inbox = Gossip.Watch(node);
        var author = new GossipNode(new GossipNodeOptions { TimeProvider = _clock, MaxLineLength = limit });
        _nodes.Add(author);
        string filler = new('x', 1700);
        author.PublishJson(Encoding.UTF8.GetBytes($"{{\"fill\":\"{filler}\"}}"), out byte[] line);
        Assert.InRange(line.Length, limit - 300, limit);
        GossipConnection mine = await RawV2PeerAsync(node);
        string padding = new(' ', limit - line.Length + 10); // whitespace inside the frame: legal JSON, over the line limit
        string frame = "{\"sg2\":\"msg\",\"k\":\"e\",\"h\":1," + padding + "\"m\":" + Encoding.UTF8.GetString(line) + "}";
        Assert.True(frame.Length > limit);
        await mine.Output.WriteAsync(Encoding.UTF8.GetBytes(frame + "\n" + new string('y', limit + 10) + "\n"));

        await mine.Output.CompleteAsync(); // the node reads both lines, then the end of the link

        Assert.Equal(filler, (await inbox.WaitForAsync(1))[0].Payload.GetProperty("fill").GetString());
        await node.WaitForPeersAsync(p => p.Count == 0); // the link is down: every line on it was read
        Assert.Equal(1, node.Statistics.DroppedTooLong); // the long v1 line
        await mine.DisposeAsync();
    }

    [Fact]
    public async Task A_node_linked_to_itself_closes_the_link_when_it_hears_its_own_hello()
    {
        GossipNode node = V2Node();
        (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
        Task[] ends = [node.RunConnectionAsync(left), node.RunConnectionAsync(right)];

        await Task.WhenAll(ends).WaitAsync(Gossip.Timeout); // both ends of the link closed by the node itself
        Assert.Empty(node.Peers);
        Assert.True(node.Statistics.V2FramesReceived >= 1); // it heard its own hello
    }

    [Fact]
    public async Task A_relay_that_inflates_the_envelope_seq_silences_nobody_and_a_forged_signed_seq_is_never_recorded()
    {
        GossipNode node = V2Node();
        var inbox = Gossip.Watch(node);
        var author = new GossipNode(new GossipNodeOptions { TimeProvider = _clock, SignSequence = true });
        _nodes.Add(author);
        author.PublishJson(Encoding.UTF8.GetBytes("{\"n\":0}"), out byte[] first);
        author.PublishJson(Encoding.UTF8.GetBytes("{\"n\":1}"), out byte[] second);
        string genuine = Encoding.UTF8.GetString(first);
        string inflated = genuine[..genuine.LastIndexOf("\"seq\":0}", StringComparison.Ordinal)] + "\"seq\":9007199254740991}"; // the envelope's, not $sg's
        string forged = Encoding.UTF8.GetString(second).Replace("\"$sg\":{\"seq\":1}", "\"$sg\":{\"seq\":7}", StringComparison.Ordinal);
        Assert.NotEqual(Encoding.UTF8.GetString(second), forged);
        GossipConnection mine = await RawV2PeerAsync(node);
        await mine.Output.WriteAsync(Encoding.UTF8.GetBytes(MsgFrame(inflated) + MsgFrame(forged) + MsgFrame(Encoding.UTF8.GetString(second))));

        IReadOnlyList<GossipMessage> got = await inbox.WaitForAsync(2);
        Assert.Equal(["{\"n\":0}", "{\"n\":1}"], got.Select(m => m.ToString()));
        Assert.Equal([0L, 1L], got.Select(m => (long)m.Sequence)); // the signed seqs, whatever the envelope said
        Assert.All(got, m => Assert.True(m.SequenceSigned));
        await node.WhenIdleAsync();
        Assert.Equal(1, node.Statistics.DroppedBadSignature);
        await mine.DisposeAsync();
    }

    public void Dispose()
    {
        Task.WhenAll(_nodes.Select(n => n.DisposeAsync().AsTask())).GetAwaiter().GetResult();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private GossipNode V2Node(GossipKeys? keys = null, string? storePath = null, GossipRetention? retention = null, TimeProvider? clock = null, bool announceV2 = true)
    {
        var node = new GossipNode(new GossipNodeOptions
        {
            TimeProvider = clock ?? _clock,
            AnnounceV2 = announceV2,
            Keys = keys,
            Store = storePath is null ? null : new SqliteGossipStore(storePath, _clock),
            OwnsStore = true,
            Retention = retention ?? new GossipRetention(),
        });
        _nodes.Add(node);
        return node;
    }

    /// <summary>A raw link into <paramref name="node"/> on which the test plays a v2 peer: the hello is already written.</summary>
    private static async Task<GossipConnection> RawV2PeerAsync(GossipNode node)
    {
        (GossipConnection mine, GossipConnection theirs) = InMemoryTransport.CreatePair();
        _ = node.RunConnectionAsync(theirs);
        await mine.Output.WriteAsync(SecureGossip.Protocol.V2Hello.Create(GossipKeys.Generate().Public, 1 << 20));
        await mine.Output.WriteAsync("\n"u8.ToArray());
        return mine;
    }

    private static string MsgFrame(string line) => "{\"sg2\":\"msg\",\"k\":\"e\",\"h\":1,\"m\":" + line + "}\n";

    private static CancellationTokenSource CuttableLink(GossipNode a, GossipNode b)
    {
        var cut = new CancellationTokenSource();
        (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
        _ = a.RunConnectionAsync(left, cut.Token);
        _ = b.RunConnectionAsync(right, cut.Token);
        return cut;
    }

    private static async Task<IAsyncDisposable> LinkOverTcpAsync(GossipNode server, GossipNode client)
    {
        TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        var stop = new CancellationTokenSource();
        Task serving = listener.ServeAsync(server, cancellationToken: stop.Token);
        Task connecting = TcpGossipClient.MaintainAsync(client, new IPEndPoint(IPAddress.Loopback, listener.LocalEndPoint.Port), cancellationToken: stop.Token);
        await Task.WhenAll(server.WaitForPeersAsync(p => p.Count == 1), client.WaitForPeersAsync(p => p.Count == 1));
        return new Teardown(async () =>
        {
            await stop.CancelAsync();
            await Task.WhenAll(serving, connecting);
            await listener.DisposeAsync();
            stop.Dispose();
        });
    }

    private sealed class Teardown(Func<Task> teardown) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await teardown();
    }
}
