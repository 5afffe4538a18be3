using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Node;

public sealed class GossipNodeTests
{
    // The four tests of secure-gossip 0.3.1 (test/test.js), over CreatePeerStream as there.

    [Theory]
    [InlineData(GossipProtocol.V1)]
    [InlineData(GossipProtocol.V2)]
    public async Task Three_peers_in_a_line(GossipProtocol protocol)
    {
        await using GossipNode peer1 = Gossip.Node(protocol: protocol), peer2 = Gossip.Node(protocol: protocol), peer3 = Gossip.Node(protocol: protocol);
        Gossip.Pipe(peer1.CreatePeerStream(), peer2.CreatePeerStream());
        Gossip.Pipe(peer3.CreatePeerStream(), peer2.CreatePeerStream());
        var inbox1 = Gossip.Watch(peer1);
        var inbox2 = Gossip.Watch(peer2);
        var inbox3 = Gossip.Watch(peer3);
        if (protocol == GossipProtocol.V2)
        {
            await Gossip.WaitForV2Async(peer1, peer2, peer3); // no frontier is left to answer with a copy
        }

        peer3.Publish(new { data = "hello warld" });

        var got1 = await inbox1.WaitForAsync(1);
        var got2 = await inbox2.WaitForAsync(1);
        if (protocol == GossipProtocol.V1)
        {
            // The 0.3.1 flood sends each accepted message once over every link: 4 copies here, 2 delivered (above),
            // peer1's echo dropped by peer2 as old and peer2's echo by peer3 as its own. Once all four have their
            // outcome the flood is over, so a second delivery would have shown. (peer3 drops its own copy on its read
            // loop; its actor, which checks the count, sees it at peer3's next round.)
            await peer2.WaitForStatisticsAsync(s => s.DroppedOld >= 1);
            await peer3.WaitForStatisticsAsync(s => s.DroppedOwn >= 1);
        }

        // (A v2 tree pushes each message once along each link, away from its author: the 2 copies were delivered.)
        await Task.WhenAll(peer1.WhenIdleAsync(), peer2.WhenIdleAsync(), peer3.WhenIdleAsync());
        Assert.Equal(peer3.Keys.Public, Assert.Single(inbox1.Messages).Author);
        Assert.Equal(peer3.Keys.Public, Assert.Single(inbox2.Messages).Author);
        Assert.Equal("{\"data\":\"hello warld\"}", got1[0].ToString());
        Assert.Equal("hello warld", got2[0].Payload.GetProperty("data").GetString());
        Assert.Empty(inbox3.Messages);
        if (protocol == GossipProtocol.V1)
        {
            Assert.True(peer3.Statistics.DroppedOwn >= 1); // the flood brings it back; a v2 tree does not
        }
    }

    [Fact]
    public async Task Four_peers_in_a_loop()
    {
        await using GossipNode peer1 = Gossip.Node(), peer2 = Gossip.Node(), peer3 = Gossip.Node(), peer4 = Gossip.Node();
        Gossip.Pipe(peer1.CreatePeerStream(), peer2.CreatePeerStream());
        Gossip.Pipe(peer1.CreatePeerStream(), peer4.CreatePeerStream());
        Gossip.Pipe(peer2.CreatePeerStream(), peer3.CreatePeerStream());
        Gossip.Pipe(peer3.CreatePeerStream(), peer4.CreatePeerStream());
        var inbox1 = Gossip.Watch(peer1);
        var inboxes = new[] { Gossip.Watch(peer2), Gossip.Watch(peer3), Gossip.Watch(peer4) };
        GossipNode[] peers = [peer1, peer2, peer3, peer4];
        await Gossip.WaitForV2Async(peers); // no frontier is left to answer with a copy

        var original = new JsonObject { ["foo"] = "hello warld" };
        peer1.Publish(original);

        foreach (var inbox in inboxes)
        {
            await inbox.WaitForAsync(1);
        }

        // The message rides the tree its author's beacon built (docs/PROTOCOL.md §8.8), announced on the loop's fourth
        // link; once every peer is idle nothing more is in flight, so a second delivery would have shown.
        await Task.WhenAll(peers.Select(p => p.WhenIdleAsync()));
        foreach (var inbox in inboxes)
        {
            GossipMessage message = Assert.Single(inbox.Messages);
            Assert.True(JsonNode.DeepEquals(original, JsonNode.Parse(message.ToString())));
            Assert.Equal(peer1.Keys.Public, message.Author);
        }

        Assert.Empty(inbox1.Messages);
    }

    [Fact]
    public async Task Two_peers_with_stream_breaks_every_5_bytes()
    {
        await using GossipNode peer1 = Gossip.Node(), peer2 = Gossip.Node();
        Gossip.Pipe(peer1.CreatePeerStream(), peer2.CreatePeerStream(), chunkSize: 5);
        var inbox1 = Gossip.Watch(peer1);
        var inbox2 = Gossip.Watch(peer2);
        var original = new { data = "gosh I really hope this packet arrives in one piece!" };
        await Gossip.WaitForV2Async(peer1, peer2); // no frontier is left to answer with a copy

        peer1.Publish(original);

        GossipMessage message = Assert.Single(await inbox2.WaitForAsync(1));
        Assert.Equal(original.data, message.Payload.GetProperty("data").GetString());
        Assert.Equal(peer1.Keys.Public, message.Author);
        // A v2 link carries the message once, away from its author: that copy was delivered, and nothing more is sent.
        await Task.WhenAll(peer1.WhenIdleAsync(), peer2.WhenIdleAsync());
        Assert.Single(inbox2.Messages);
        Assert.Empty(inbox1.Messages);
    }

    [Fact]
    public async Task A_stream_ended_mid_way_leaves_both_peers_working()
    {
        await using GossipNode peer1 = Gossip.Node(), peer2 = Gossip.Node(), peer3 = Gossip.Node();
        Stream p1 = peer1.CreatePeerStream();
        Stream p2 = peer2.CreatePeerStream();
        Gossip.Pipe(p1, p2);
        var inbox2 = Gossip.Watch(peer2);
        var ended = new TaskCompletionSource();
        peer2.MessageReceived += (_, _) =>
        {
            p2.Dispose(); // p2.end()
            ended.TrySetResult();
        };

        peer1.Publish(new { data = "bust" });
        await ended.Task.WaitAsync(Gossip.Timeout);

        // Both nodes go on: peer1 publishes again to a new neighbour.
        var inbox3 = Gossip.Watch(peer3); // before the link: the catch-up can bring "bust" at once
        Gossip.Pipe(peer1.CreatePeerStream(), peer3.CreatePeerStream());
        peer1.Publish(new { data = "still here" });
        var got = await inbox3.WaitForAsync(2); // protocol v2 catches the new neighbour up on "bust" too
        Assert.Contains(got, m => m.ToString() == "{\"data\":\"still here\"}");
        Assert.Contains(got, m => m.ToString() == "{\"data\":\"bust\"}");
        Assert.Single(inbox2.Messages);
    }

    // Rounds and the store.

    [Fact]
    public async Task Rounds_follow_the_injected_clock()
    {
        var clock = new FakeTimeProvider();
        await using var node = new GossipNode(new GossipNodeOptions { Interval = TimeSpan.FromMilliseconds(100), TimeProvider = clock, Protocol = GossipProtocol.V1 });
        (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
        _ = node.RunConnectionAsync(left);

        node.PublishJson("{\"n\":1}");
        clock.Advance(TimeSpan.FromMilliseconds(99));
        Assert.Equal(1, await node.PendingLinesAsync());
        Assert.Equal(0, node.Statistics.LinesSent);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        string line = await ReadLineAsync(right.Input);
        Assert.StartsWith("{\"data\":{\"n\":1,\"signature\":\"", line, StringComparison.Ordinal);
        Assert.EndsWith($"\"public\":\"{node.Keys.Public}\",\"seq\":0}}", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_alone_keeps_at_most_its_retention_count_of_lines_for_the_next_round_the_newest()
    {
        // A node that publishes while it has no link kept every line for the round that finds one: offline for a week,
        // it grew without bound. It now keeps as many as it retains (Retention.MaxMessages), and a quarter more at most.
        var clock = new FakeTimeProvider();
        await using var lonely = new GossipNode(new GossipNodeOptions
        {
            TimeProvider = clock,
            Retention = new global::SecureGossip.Storage.GossipRetention { MaxMessages = 100, MaxPerAuthor = 100 },
        });
        for (int n = 0; n < 1_000; n++)
        {
            lonely.PublishJson($"{{\"n\":{n}}}");
        }

        int pending = await lonely.PendingLinesAsync();
        Assert.InRange(pending, 100, 125);

        await using GossipNode later = Gossip.Node();
        var inbox = Gossip.Watch(later);
        Gossip.Link(lonely, later);
        clock.Advance(TimeSpan.FromMilliseconds(100));
        await inbox.WaitForAsync(100);
        Assert.Contains(inbox.Messages, m => m.ToString() == "{\"n\":999}"); // the newest were kept
    }

    [Fact]
    public async Task A_node_alone_keeps_no_more_lines_than_its_first_link_can_queue_and_the_link_survives_the_round()
    {
        // A round hands every v1 link the whole store at once. A node that published 80,000 messages alone handed its
        // first link ~26 MB in one round, past the 16 MiB a peer may have queued, and cut the link as if the peer were
        // not reading (issue #10's session). The store now keeps at most half that queue, the newest lines.
        var clock = new FakeTimeProvider();
        const long Queue = 1024 * 1024;
        await using var lonely = new GossipNode(new GossipNodeOptions { TimeProvider = clock, Protocol = GossipProtocol.V1, MaxQueuedBytesPerPeer = Queue, MaxLineLength = 64 * 1024 });
        string pad = new('x', 200);
        const int Published = 8_000; // about 3.7 MB of lines, 3.5 times the queue
        for (int n = 0; n < Published; n++)
        {
            lonely.PublishJson($"{{\"n\":{n},\"pad\":\"{pad}\"}}");
        }

        long pendingBytes = 0;
        int pending = 0;
        await lonely.InspectAsync(engine => (pending, pendingBytes) = (engine.Flood!.PendingLines, engine.Flood.PendingBytes));
        Assert.InRange(pendingBytes, 1, Queue / 2 * 5 / 4);
        Assert.InRange(pending, 1, Published - 1);

        await using GossipNode later = Gossip.V1Node();
        var inbox = Gossip.Watch(later);
        Gossip.Link(lonely, later);
        await lonely.WhenPeersAsync(peers => peers.Count == 1).WaitAsync(Gossip.Timeout);
        clock.Advance(TimeSpan.FromMilliseconds(100)); // the round that finds the link

        // The round trims the store to half the queue exactly (it let a quarter more in between rounds), and every
        // line it then holds arrives: the kept lines are all as long (their n has four digits).
        int sent = (int)(Queue / 2 / (pendingBytes / pending));
        IReadOnlyList<GossipMessage> got = await inbox.WaitForAsync(sent);
        Assert.Contains(got, m => m.ToString().StartsWith($"{{\"n\":{Published - 1},", StringComparison.Ordinal)); // the newest were kept
        Assert.Single(lonely.Peers); // not cut
        Assert.Single(later.Peers);
    }

    [Fact]
    public async Task Messages_published_while_alone_are_sent_when_a_neighbour_connects()
    {
        var clock = new FakeTimeProvider();
        await using var lonely = new GossipNode(new GossipNodeOptions { TimeProvider = clock });
        await using GossipNode later = Gossip.Node();
        lonely.PublishJson("{\"n\":1}");
        lonely.PublishJson("{\"n\":2}");
        clock.Advance(TimeSpan.FromSeconds(10)); // a hundred rounds with nobody to send to
        Assert.Equal(2, await lonely.PendingLinesAsync()); // kept: asked before any link exists, so no round can race it

        var inbox = Gossip.Watch(later);
        Gossip.Link(lonely, later);
        clock.Advance(TimeSpan.FromMilliseconds(100));

        var got = await inbox.WaitForAsync(2);
        Assert.Equal(["{\"n\":1}", "{\"n\":2}"], got.Select(m => m.ToString()));
        Assert.Equal([0d, 1d], got.Select(m => m.Sequence));
    }

    [Fact]
    public async Task Manual_rounds_with_infinite_interval()
    {
        await using GossipNode a = Gossip.Node(Timeout.InfiniteTimeSpan), b = Gossip.Node(Timeout.InfiniteTimeSpan);
        var inbox = Gossip.Watch(b);
        Gossip.Link(a, b);

        a.PublishJson("{\"manual\":true}");
        a.Gossip();

        Assert.Equal("{\"manual\":true}", (await inbox.WaitForAsync(1))[0].ToString());
    }

    [Fact]
    public async Task Messages_are_readable_as_an_async_stream()
    {
        await using GossipNode a = Gossip.Node(), b = Gossip.Node();
        await using GossipSubscription subscription = b.Subscribe();
        Gossip.Link(a, b);
        for (int i = 0; i < 5; i++)
        {
            a.Publish(new { i });
        }

        var seen = new List<int>();
        using var timeout = new CancellationTokenSource(Gossip.Timeout);
        await foreach (GossipMessage message in subscription.ReadAllAsync(timeout.Token))
        {
            seen.Add(message.Deserialize<JsonElement>().GetProperty("i").GetInt32());
            if (seen.Count == 5)
            {
                break;
            }
        }

        Assert.Equal([0, 1, 2, 3, 4], seen);
    }

    // Publishing: anything that is not a JSON object is refused with a message that says so.

    [Theory]
    [InlineData("[1,2]", "it is an array")]
    [InlineData("\"hi\"", "it is a string")]
    [InlineData("42", "it is a number")]
    [InlineData("null", "it is null")]
    [InlineData("{\"a\":1,\"signature\":\"x\"}", "\"signature\"")]
    [InlineData("{\"__proto__\":{}}", "\"__proto__\"")]
    [InlineData("{\"a\":", "not valid JSON")]
    public async Task Publishing_a_non_object_is_an_ArgumentException_that_says_why(string json, string expected)
    {
        await using GossipNode node = Gossip.Node(Timeout.InfiniteTimeSpan);
        ArgumentException error = Assert.Throws<ArgumentException>(() => node.PublishJson(json));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, node.Statistics.MessagesPublished);
    }

    [Fact]
    public async Task Publish_takes_objects_nodes_elements_and_rejects_too_deep_payloads()
    {
        await using GossipNode node = Gossip.Node(Timeout.InfiniteTimeSpan);
        Assert.Equal("{\"a\":1}", node.Publish(new { a = 1 }).ToString());
        Assert.Equal("{\"1\":2,\"b\":1}", node.Publish(JsonNode.Parse("{\"b\":1,\"1\":2}")).ToString());
        Assert.Equal("{\"c\":[]}", node.Publish(JsonDocument.Parse("{\"c\":[]}").RootElement).ToString());
        Assert.Throws<ArgumentException>(() => node.Publish(new[] { 1, 2 }));
        Assert.Throws<ArgumentNullException>(() => node.Publish<object>(null!));
        string deep = "{\"a\":" + string.Concat(Enumerable.Repeat("[", 70)) + string.Concat(Enumerable.Repeat("]", 70)) + "}";
        Assert.Throws<ArgumentException>(() => node.PublishJson(deep));
        Assert.Equal(3, node.Statistics.MessagesPublished);
    }

    // Bad input from the network: dropped, counted, and the link keeps working.

    [Fact]
    public async Task Garbage_truncated_huge_and_deep_lines_are_dropped_and_the_link_keeps_working()
    {
        await using GossipNode sender = Gossip.Node(Timeout.InfiniteTimeSpan);
        await using var receiver = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, MaxLineLength = 4096 });
        var inbox = Gossip.Watch(receiver);
        (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
        _ = receiver.RunConnectionAsync(left);

        string valid = Gossip.SignedLine(sender, "{\"ok\":1}");
        string[] bad =
        [
            "garbage",
            valid[..(valid.Length / 2)],
            "{\"data\":" + new string(' ', 5000) + "}",
            new string('[', 200) + new string(']', 200),
            "{\"data\":{\"signature\":1},\"public\":2,\"seq\":\"x\"}",
            valid.Replace("\"ok\":1", "\"ok\":2", StringComparison.Ordinal),
            "\uFEFF" + valid,
            string.Empty,
        ];
        foreach (string line in bad)
        {
            await right.Output.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"));
        }

        await right.Output.WriteAsync(Encoding.UTF8.GetBytes(valid + "\n"));

        Assert.Equal("{\"ok\":1}", (await inbox.WaitForAsync(1))[0].ToString());
        GossipNodeStatistics stats = receiver.Statistics;
        Assert.Equal(bad.Length + 1, stats.LinesReceived);
        Assert.Equal(1, stats.DroppedTooLong);
        Assert.Equal(1, stats.DroppedBadSignature);
        Assert.Equal(bad.Length - 2, stats.DroppedMalformed);
        Assert.Equal(1, stats.MessagesAccepted);
    }

    [Fact]
    public async Task An_endless_line_is_discarded_as_it_arrives_and_the_next_line_still_counts()
    {
        await using GossipNode sender = Gossip.Node(Timeout.InfiniteTimeSpan);
        await using var receiver = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, MaxLineLength = 64 * 1024 });
        var inbox = Gossip.Watch(receiver);
        var toReceiver = new Pipe(new PipeOptions(pauseWriterThreshold: 256 * 1024, resumeWriterThreshold: 128 * 1024));
        var fromReceiver = new Pipe();
        _ = receiver.RunConnectionAsync(new DuplexPipeConnection(toReceiver.Reader, fromReceiver.Writer));

        // 32 MiB without a newline: with a 256 KiB pipe, writing it all proves the node keeps consuming
        // (discarding) instead of buffering the line.
        byte[] chunk = Encoding.ASCII.GetBytes(new string('x', 64 * 1024));
        for (int i = 0; i < 512; i++)
        {
            await toReceiver.Writer.WriteAsync(chunk).AsTask().WaitAsync(Gossip.Timeout);
        }

        await toReceiver.Writer.WriteAsync(Encoding.UTF8.GetBytes("\n" + Gossip.SignedLine(sender, "{\"after\":true}") + "\n"));

        Assert.Equal("{\"after\":true}", (await inbox.WaitForAsync(1))[0].ToString());
        Assert.Equal(1, receiver.Statistics.DroppedTooLong);
    }

    [Fact]
    public async Task A_final_line_without_newline_is_read_when_the_stream_ends()
    {
        await using GossipNode sender = Gossip.Node(Timeout.InfiniteTimeSpan);
        await using GossipNode receiver = Gossip.Node(Timeout.InfiniteTimeSpan);
        var inbox = Gossip.Watch(receiver);
        (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
        _ = receiver.RunConnectionAsync(left);

        await right.Output.WriteAsync(Encoding.UTF8.GetBytes(Gossip.SignedLine(sender, "{\"tail\":1}")));
        await right.Output.CompleteAsync();

        Assert.Equal("{\"tail\":1}", (await inbox.WaitForAsync(1))[0].ToString());
    }

    [Fact]
    public async Task A_replayed_or_duplicate_line_is_dropped_before_its_signature_is_checked()
    {
        await using GossipNode sender = Gossip.Node(Timeout.InfiniteTimeSpan);
        await using GossipNode receiver = Gossip.Node(Timeout.InfiniteTimeSpan);
        byte[] line = Encoding.UTF8.GetBytes(Gossip.SignedLine(sender, "{\"x\":1}"));

        for (int i = 0; i < 4; i++)
        {
            await receiver.HandleLineAsync(new ReadOnlySequence<byte>(line), CancellationToken.None);
            await receiver.WhenIdleAsync();
        }

        GossipNodeStatistics stats = receiver.Statistics;
        Assert.Equal(1, stats.MessagesAccepted);
        Assert.Equal(3, stats.DroppedOld);
        Assert.Equal(1, stats.SignaturesVerified);
    }

    [Fact]
    public async Task A_throwing_handler_does_not_stop_delivery()
    {
        await using GossipNode a = Gossip.Node(), b = Gossip.Node();
        b.MessageReceived += (_, _) => throw new InvalidOperationException("handler bug");
        var inbox = Gossip.Watch(b);
        Gossip.Link(a, b);
        a.PublishJson("{\"n\":1}");
        a.PublishJson("{\"n\":2}");
        Assert.Equal(2, (await inbox.WaitForAsync(2)).Count);
    }

    [Fact]
    public void Options_out_of_range_are_refused_with_the_option_name()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new GossipNode(new GossipNodeOptions { Interval = TimeSpan.Zero }));
        Assert.Equal("Interval", error.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new GossipNode(new GossipNodeOptions { MaxLineLength = 10 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GossipNode(new GossipNodeOptions { MaxJsonDepth = 1 }));
    }

    private static async Task<string> ReadLineAsync(PipeReader reader)
    {
        while (true)
        {
            ReadResult result = await reader.ReadAsync().AsTask().WaitAsync(Gossip.Timeout);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.PositionOf((byte)'\n') is SequencePosition newline)
            {
                string line = Encoding.UTF8.GetString(buffer.Slice(0, newline));
                reader.AdvanceTo(buffer.GetPosition(1, newline));
                return line;
            }

            Assert.False(result.IsCompleted, "the stream ended before a full line");
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
